"""DESIGN.md §2: imports point downward only (cli -> config/report -> evaluation/applications -> training ->
objectives -> models -> parts -> nn/distributions -> data)."""

from __future__ import annotations

import re
from pathlib import Path

import vaelab

RANK = {
    "cli": 0,
    "config": 1,
    "report": 1,
    "evaluation": 2,
    "applications": 2,
    "training": 3,
    "objectives": 4,
    "models": 5,
    "posteriors": 6,
    "priors": 6,
    "likelihoods": 6,
    "nn": 7,
    "distributions": 7,
    "data": 8,
}
IMPORT = re.compile(r"^\s*(?:from|import) vaelab\.(\w+)", re.MULTILINE)


def test_imports_point_downward_only() -> None:
    root = Path(vaelab.__file__).parent
    upward = set()
    for path in root.rglob("*.py"):
        relative = path.relative_to(root)
        layer = relative.parts[0]
        if len(relative.parts) < 2 or layer not in RANK:
            continue
        for target in IMPORT.findall(path.read_text(encoding="utf-8")):
            if target in RANK and RANK[target] < RANK[layer]:
                upward.add((relative.as_posix(), target))
    assert not upward, f"imports that point upward (DESIGN.md §2): {sorted(upward)}"
