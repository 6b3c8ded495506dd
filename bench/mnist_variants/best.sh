#!/bin/sh
# The best binarized-MNIST configuration under a 60-minute wall-clock training budget (issue 4):
# a two-layer hierarchical VAE (z_1, z_2: 40 + 40) with a VampPrior of 500 pseudo-inputs on its top layer,
# 784-300-300 ReLU MLPs, Bernoulli likelihood, KL warm-up over 20 epochs, Adam 1e-3, batch 128, one thread.
# The budget counts training and validation time; the weights kept are those of the best validation ELBO.
#   sh bench/mnist_variants/best.sh ../shared/data bench/mnist_variants/out/best
set -eu
DATA_DIR=${1:-../shared/data}
OUT=${2:-bench/mnist_variants/out/best}
.venv/bin/vaelab train --data binarized-mnist --data-dir "$DATA_DIR" --model hvae-vamp --network mlp \
  --hidden-dims 300,300 --latent-dim 80 --likelihood bernoulli --kl-schedule linear --warmup-epochs 20 \
  --lr 1e-3 --batch-size 128 --epochs 100000 --set train.max_minutes=60 --set train.threads=1 \
  --out "$OUT" --no-progress --no-report
.venv/bin/vaelab eval "$OUT" --data-dir "$DATA_DIR" --split test --num-samples 5000 --metrics likelihood --json
