#!/usr/bin/env bash
# The anomaly benchmark's own environment: vaelab (editable) plus PyOD (its VAE, AutoEncoder and ECOD)
# and pandas, side by side with scikit-learn's IsolationForest. torch stays pinned by constraints.txt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python3 -m venv "$here/.venv"
"$here/.venv/bin/pip" install -q -c "$repo/constraints.txt" -e "$repo" "pyod==3.6.7" pandas
