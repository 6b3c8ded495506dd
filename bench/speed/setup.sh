#!/usr/bin/env bash
# The speed benchmark's own environment: vaelab (editable) plus pythae for the side-by-side comparison.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python3 -m venv "$here/.venv"
"$here/.venv/bin/pip" install -q -c "$repo/constraints.txt" -e "$repo" "pythae==0.1.2"
