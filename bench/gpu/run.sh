#!/usr/bin/env bash
# The classic binarized-MNIST VAE on a GPU, end to end, in one table (bench/gpu/README.md):
#
#   bench/gpu/run.sh            # CUDA: bf16, batch 128 x 10 epochs + batch 1024 x 50 epochs, K=5000 on the test set
#   bench/gpu/run.sh --quick    # the small budget on whatever device (a smoke test)
#
# Without CUDA it says so and runs the same steps on the CPU in fp32 with the small budget.
# Environment (all optional): PYTHON (.venv/bin/python), OUT (a new temp dir), DATA_DIR (../shared/data beside the repo),
# DEVICE (auto | cuda | cuda:N | cpu), PRECISION, EPOCHS, BIG_BATCH, BIG_EPOCHS, MAX_STEPS (cap on the
# optimisation steps of each run; empty: none), K (importance samples), EVAL_LIMIT (test examples; empty: all).
set -euo pipefail

usage() { sed -n '2,10s/^# \{0,1\}//p' "$0"; }
QUICK=0
for arg in "$@"; do
    case $arg in
        --quick) QUICK=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "run.sh: unknown argument $arg" >&2; usage >&2; exit 2 ;;
    esac
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${OUT:-$(mktemp -d)}
DATA_DIR=${DATA_DIR:-$REPO/../shared/data}  # a relative OUT or DATA_DIR is taken from the current folder
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)  # absolute: the commands below run in the repository root
[[ -d $DATA_DIR ]] || { echo "run.sh: no data folder $DATA_DIR (set DATA_DIR)" >&2; exit 1; }
DATA_DIR=$(cd "$DATA_DIR" && pwd)
cd "$REPO"
PYTHON=${PYTHON:-.venv/bin/python}  # relative to the repository root
HELPER=bench/gpu/summary.py

# 1. The machine, and the budget that fits it.
DEVICE=${DEVICE:-auto}
if [[ $DEVICE == auto ]]; then
    CUDA=$("$PYTHON" -c 'import torch; print(torch.cuda.is_available())')
    if [[ $CUDA == True ]]; then
        DEVICE=cuda
    else
        DEVICE=cpu
        echo "fallback: no CUDA (torch.cuda.is_available() is False): the same steps on the CPU, fp32, small budget"
    fi
elif [[ $DEVICE == cpu ]]; then
    echo "fallback: DEVICE=cpu: the same steps on the CPU, fp32, small budget"
fi
"$PYTHON" "$HELPER" machine "$DEVICE"

if [[ $DEVICE == cpu || $QUICK == 1 ]]; then  # well under a minute on 2 CPU cores
    PRECISION=${PRECISION:-$([[ $DEVICE == cpu ]] && echo fp32 || echo bf16)}
    EPOCHS=${EPOCHS:-1} BIG_BATCH=${BIG_BATCH:-1024} BIG_EPOCHS=${BIG_EPOCHS:-1}
    MAX_STEPS=${MAX_STEPS-100} K=${K:-100} EVAL_LIMIT=${EVAL_LIMIT-1000}
else                                           # the benchmark proper: a few minutes at most on one GPU
    PRECISION=${PRECISION:-bf16}
    EPOCHS=${EPOCHS:-10} BIG_BATCH=${BIG_BATCH:-1024} BIG_EPOCHS=${BIG_EPOCHS:-50}
    MAX_STEPS=${MAX_STEPS-} K=${K:-5000} EVAL_LIMIT=${EVAL_LIMIT-}
fi
echo "budget: $DEVICE $PRECISION; classic batch 128 x $EPOCHS epochs, large batch $BIG_BATCH x $BIG_EPOCHS epochs;" \
    "max steps ${MAX_STEPS:-none}; test NLL with K=$K on ${EVAL_LIMIT:-all} test examples; output in $OUT"

# Wall time of a command, appended to $OUT/times.tsv as: run, phase, seconds.
timed() {
    local run=$1 phase=$2 start end
    shift 2
    start=$(date +%s.%N)
    "$@"
    end=$(date +%s.%N)
    awk -v r="$run" -v p="$phase" -v a="$start" -v b="$end" 'BEGIN { printf "%s\t%s\t%.2f\n", r, p, b - a }' \
        >>"$OUT/times.tsv"
}

# 2. Training: the whole dataset stays on the device (train.in_memory: InMemoryBatches), no pictures.
train() {  # NAME BATCH EPOCHS
    local steps=()
    [[ -n $MAX_STEPS ]] && steps=(--set "train.max_steps=$MAX_STEPS")
    echo "== $1: train, batch $2, $3 epochs"
    timed "$1" train "$PYTHON" -m vaelab train --config configs/mnist-classic.yaml --data-dir "$DATA_DIR" \
        --device "$DEVICE" --precision "$PRECISION" --batch-size "$2" --epochs "$3" --set train.in_memory=true \
        "${steps[@]}" --out "$OUT/$1" --no-progress --no-report
}

# 3. Importance-sampled NLL of the test split: `vaelab eval RUN --split test --metrics likelihood` with the
# model on $DEVICE (summary.py eval; `vaelab eval` itself loads models on the CPU).
evaluate() {  # NAME
    local limit=()
    [[ -n $EVAL_LIMIT ]] && limit=(--limit "$EVAL_LIMIT")
    echo "== $1: eval, test split, K=$K"
    timed "$1" eval "$PYTHON" "$HELPER" eval "$OUT/$1" --device "$DEVICE" --split test --num-samples "$K" \
        "${limit[@]}"
}

: >"$OUT/times.tsv"
train classic 128 "$EPOCHS"
train large-batch "$BIG_BATCH" "$BIG_EPOCHS"
evaluate classic
evaluate large-batch

# 4. One table of both runs (also written to $OUT/table.md).
echo
"$PYTHON" "$HELPER" table "$OUT"
echo "total: ${SECONDS} s"
