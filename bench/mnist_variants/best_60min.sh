#!/bin/sh
# The recipe of configs/mnist-best-60min.yaml, trained within 60 minutes on the 50,000 training + 10,000
# validation images (the recipe was chosen on the validation split by budget_study.py; the last epoch is
# kept), then its test NLL: importance-sampled, K = 5000, all 10,000 test images (touched only here).
#   sh bench/mnist_variants/best_60min.sh ../shared/data bench/mnist_variants/out/best-60min
set -eu
DATA_DIR=${1:-../shared/data}
OUT=${2:-bench/mnist_variants/out/best-60min}
mkdir -p "$(dirname "$OUT")"
.venv/bin/python bench/mnist_variants/train_plus_valid.py "$DATA_DIR" "$OUT.npz"
.venv/bin/vaelab train --config configs/mnist-best-60min.yaml --data "$OUT.npz" --out "$OUT" --no-progress --no-report
.venv/bin/vaelab eval "$OUT" --split test --num-samples 5000 --metrics likelihood --json
