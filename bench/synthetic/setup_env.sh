#!/usr/bin/env bash
# The synthetic-table benchmark's own environment, bench/synthetic/.venv:
#   1. torch==2.13.0 first and pinned (the CPU build on these machines; an unpinned torch pulls GBs of CUDA wheels),
#   2. vaelab itself, editable, from the repository root,
#   3. requirements.txt: ctgan (TVAE; BSL-licensed, allowed only here), sdmetrics, pandas, scipy.
# Every step runs under the repository's constraints.txt, so ctgan/sdmetrics cannot replace torch.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
pip=("$here/.venv/bin/pip" install -q -c "$repo/constraints.txt")
python3 -m venv "$here/.venv"
"${pip[@]}" "torch==2.13.0"
"${pip[@]}" -e "$repo"
"${pip[@]}" -r "$here/requirements.txt"
"$here/.venv/bin/python" -c "import torch, ctgan, sdmetrics, vaelab; assert torch.__version__.startswith('2.13.0'), torch.__version__; print('torch', torch.__version__, 'ctgan', ctgan.__version__)"
