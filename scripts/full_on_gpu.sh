#!/usr/bin/env bash
# Execute notebooks under the full budget on an offline GPU machine (JAX), then pack what they recorded.
#
# Usage, from the project root:   bash scripts/full_on_gpu.sh MINUTES NOTEBOOK...
#   e.g.  bash scripts/full_on_gpu.sh 8 05 06
# Needs beside the project (both ignored by git; see "A GPU machine without internet" in docs/offline-gpu.md):
#   .wheels/                     bash ../shared/offline-wheels/build.sh .wheels
#   data/cifar10-jpeg.tar.xz     a copy of the CIFAR-10 archive
# Notebooks run one by one, in the order given, into runs/<budget>/ (the committed ones stay as they
# are: their prose quotes the quick runs); one that fails (e.g. it needs an earlier notebook's
# records) does not stop the next. Training stops after MINUTES: runs recorded by then are kept, and
# a later call reuses them (each run is recorded as soon as it finishes). Everything recorded or
# executed goes into one archive, $OUT/full.tgz (./gpu-out/full.tgz when OUT is unset), with the
# log: unpack it in the project root.
# BUDGET=smoke PYTHON=/path/to/python3.12 rehearses the whole script on a CPU.
set -uo pipefail

[ $# -ge 2 ] || { echo "usage: $0 MINUTES NOTEBOOK...   (e.g. $0 8 05 06)" >&2; exit 2; }
minutes="$1"; shift
budget="${BUDGET:-full}"
python="${PYTHON:-python3}"
out="${OUT:-gpu-out}"
mkdir -p "$out"
log="$out/log.txt"
stamp="$(mktemp)"

if [ -d .wheels ]; then
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .wheels/*.whl \
    || { echo "error: installing .wheels failed; rebuild them with ../shared/offline-wheels/build.sh .wheels" >&2; exit 1; }
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"   # this checkout's cifar_helpers (and its results/), not an installed one
if [ -z "${CIFAR10_DATA:-}" ]; then
  [ -f data/cifar10-jpeg.tar.xz ] || { echo "error: put the CIFAR-10 archive at data/cifar10-jpeg.tar.xz (or set CIFAR10_DATA)" >&2; exit 1; }
  mkdir -p /tmp/cifar10 && tar -xJf data/cifar10-jpeg.tar.xz -C /tmp/cifar10 || exit 1
  export CIFAR10_DATA=/tmp/cifar10
fi
export KERAS_BACKEND="${KERAS_BACKEND:-jax}" PYTHONUNBUFFERED=1
export KERAS_HOME="${KERAS_HOME:-/tmp/keras-home}"   # decoded images, run weights, JAX's compilation cache

{
  echo "== $(date -u +%FT%TZ) budget $budget, notebooks $*, stop after $minutes min"
  nvidia-smi -L 2>/dev/null || echo "no nvidia-smi"
  "$python" -c 'import sys, jax, keras; print("python", sys.version.split()[0], "| jax", jax.__version__, jax.devices(), "| keras", keras.__version__)'
  start=$(date +%s); deadline=$(( start + minutes * 60 ))
  for notebook in "$@"; do   # one at a time: a notebook that fails (e.g. needs an earlier one's records) stops only itself
    left=$(( deadline - $(date +%s) ))
    [ "$left" -gt 30 ] || { echo "== time is up: $notebook and later not started"; break; }
    timeout -k 30 "$left" "$python" -m cifar_helpers run --budget "$budget" --no-progress "$notebook"
    status=$?; [ "$status" = 124 ] && note=" (stopped by the time limit)" || note=""
    echo "== $notebook: exit status $status at $(( $(date +%s) - start )) s$note"
  done
} 2>&1 | tee "$log"

# What this call recorded or executed, and the log: unpack with `tar -xzf full.tgz` in the project root.
mapfile -t made < <(find "results/$budget" "runs/$budget" -newer "$stamp" -type f \( -name '*.json' -o -name '*.ipynb' \) 2>/dev/null)
tar -czf "$out/full.tgz" -C "$out" log.txt -C "$PWD" "${made[@]}"
echo "packed $out/full.tgz: ${#made[@]} files"
rm -f "$stamp"
