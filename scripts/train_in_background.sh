#!/usr/bin/env bash
# Train notebooks one after another under one budget, and commit each run's record as soon as it is written
# (scripts/commit_records.sh: with the generated README table, headline figure and results page refreshed),
# so a machine that stops loses at most the epoch in progress (the run's backup under KERAS_HOME resumes it).
#   nohup scripts/train_in_background.sh overnight 01 02 03 > logs/train.log 2>&1 &
#   tail -f logs/train.log; tail ~/.keras/cifar_runs/overnight/<notebook>/<run>/log.csv
# nice only ranks processes against each other when the kernel does not group them per session: as root,
# `echo 0 > /proc/sys/kernel/sched_autogroup_enabled` lets other work on the machine yield to the training.
# Executed copies go to runs/<budget>/ (the committed notebooks are refreshed later with `run --update`); the records
# go to results/ (CIFAR_RESULTS_DIR), where `run` without --update would keep them beside the executed copies.
# To keep editing the project while it trains, run this from a second worktree of the project (a stable copy of
# the code) and point CIFAR_RESULTS_DIR at the results/ folder of the checkout whose git should get the records.
set -uo pipefail
cd "$(dirname "$0")/.."
budget=${1:?usage: scripts/train_in_background.sh BUDGET NOTEBOOK...}
shift
python=${PYTHON:-.venv/bin/python}
results=${CIFAR_RESULTS_DIR:-$PWD/results}

commit_new_records() {
    CIFAR_RESULTS_DIR="$results" PYTHON="$python" scripts/commit_records.sh "$budget"
}

failed=0
for notebook in "$@"; do  # a notebook that fails after its training leaves the next ones to train: go on, report at the end
    echo "$(date +%T) $notebook: start ($budget)"
    CIFAR_RESULTS_DIR="$results" nice -n 5 "$python" -m cifar_helpers run --budget "$budget" --no-progress "$notebook" &
    runner=$!
    while kill -0 "$runner" 2>/dev/null; do sleep 60; commit_new_records; done
    wait "$runner"; status=$?
    commit_new_records
    echo "$(date +%T) $notebook: exit $status"
    [ "$status" -eq 0 ] || failed=$status
done
exit "$failed"
