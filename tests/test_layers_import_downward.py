"""Imports point one way (DESIGN.md §2): a module may import its own layer or the layers below it, never one
above. Read from the source with ``ast``, so the check covers every module, imported at run time or not."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "vaelab"

LAYERS: list[set[str]] = [
    {"errors", "atomic", "lazy"},
    {"data"},
    {"nn", "distributions"},
    {"posteriors", "priors", "likelihoods", "conditions"},
    {"models"},
    {"objectives"},
    {"training"},
    {"evaluation", "applications"},
    {"config", "report"},
    {"cli"},
]
"""Bottom first: cli -> config/report -> evaluation/applications -> training -> objectives -> models -> parts ->
nn/distributions -> data."""
FACADES = {"__init__", "__main__"}
"""``vaelab/__init__.py`` (the public names, ``vaelab.load``) and ``python -m vaelab`` sit above everything."""


def layer_of(top: str) -> int:
    for rank, names in enumerate(LAYERS):
        if top in names:
            return rank
    raise AssertionError(f"vaelab.{top} is in no layer: add it to LAYERS (and to DESIGN.md's layout)")


def imported_tops(path: Path) -> set[str]:
    """The top-level vaelab packages a module imports (``from vaelab.x.y import z`` -> ``x``)."""
    tops = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module]
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
            else []
        )
        for name in names:
            parts = name.split(".")
            if parts[0] == "vaelab" and len(parts) > 1:
                tops.add(parts[1])
    return tops


def test_every_import_points_to_the_same_layer_or_below() -> None:
    upward = []
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 100
    for path in modules:
        top = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if top in FACADES:
            continue
        for imported in imported_tops(path):
            if layer_of(imported) > layer_of(top):
                upward.append(f"{path.relative_to(PACKAGE)} imports vaelab.{imported}")
    assert not upward, "imports pointing up a layer:\n" + "\n".join(upward)


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from vaelab.training import fit\nimport vaelab.cli.main\n", encoding="utf-8")
    assert imported_tops(module) == {"training", "cli"}
    assert layer_of("training") > layer_of("models")
