#!/usr/bin/env bash
# Commit the records that are new under results/ (BUDGET's, and any other budget's lying there uncommitted: the
# generated files are made from every file in results/, so a record left out would make them disagree with a clean
# clone), with the generated files refreshed from them: README's steps table, its headline figure (docs/headline.png)
# and the book's page of every run (docs/results.md). Records kept apart in pending-results/ (runs whose notebook
# is not yet re-executed on them) are committed alone. Run from any worktree:
#   scripts/commit_records.sh overnight        (CIFAR_RESULTS_DIR: the results/ folder of the checkout to commit in)
set -uo pipefail
cd "$(dirname "$0")/.."
budget=${1:?usage: scripts/commit_records.sh BUDGET}
python=${PYTHON:-.venv/bin/python}
results=${CIFAR_RESULTS_DIR:-$PWD/results}
root=$(git -C "$results" rev-parse --show-toplevel) || exit 0

folder=$(realpath --relative-to="$root" "$results")  # results, or pending-results (scripts/step3_runs.sh)
git -C "$root" add -- "$folder" 2>/dev/null || exit 0
mapfile -t staged < <(git -C "$root" diff --cached --name-only -- "$folder")
[ "${#staged[@]}" -gt 0 ] || exit 0
new=$(printf '%s\n' "${staged[@]}" | xargs -n1 basename | sed 's/\.json$//' | paste -sd, -)
generated=()
if [ "$folder" = results ]; then  # records the notebooks read: the generated files follow them
    generated=(README.md docs/headline.png docs/results.md)
    (cd "$root" && PYTHONPATH="$root" CIFAR_RESULTS_DIR="$root/results" "$python" -m cifar_helpers results --readme >/dev/null) \
        && git -C "$root" add -- "${generated[@]}"
fi
git -C "$root" commit -q -m "$budget records: $new" -- "${staged[@]}" "${generated[@]}" && echo "$(date +%T) committed $new"
