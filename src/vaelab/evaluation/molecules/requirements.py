"""The molecule metrics need RDKit and fcd_torch, the optional extra ``vaelab[molecules]``; without them
vaelab imports as usual and asking for a molecule metric is one line saying what to install."""

from __future__ import annotations

import importlib.util

from vaelab.errors import UserError

REQUIRED = ("rdkit", "fcd_torch")


def require_molecules() -> None:
    """Raise the one-line ``UserError`` when a package of ``vaelab[molecules]`` is not installed."""
    missing = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise UserError(
            f"the molecule metrics need {' and '.join(missing)}, which {verb} not installed; "
            "pip install 'vaelab[molecules]'"
        )
