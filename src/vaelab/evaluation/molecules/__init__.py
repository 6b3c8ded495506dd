"""The MOSES benchmark metrics of generated molecules (SMILES), vaelab's own implementation.

``molecule_metrics(generated, reference, train)`` returns every figure of MOSES's table (validity,
unique@k, FCD, SNN, Frag, Scaf, IntDiv, IntDiv2, Filters, the logP/SA/QED/weight distances, novelty) for
a list of SMILES; ``reference_statistics`` computes the test set's side once and ``save_reference`` /
``load_reference`` cache it in a safetensors file. :mod:`.benchmark` lists the figures and the module
that defines each.

They need RDKit and fcd_torch (``pip install 'vaelab[molecules]'``). The names below are imported on
first use (PEP 562): without those packages this package still imports, and asking for one of them
raises the one-line ``UserError`` that says what to install.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from vaelab.evaluation.molecules.requirements import require_molecules

if TYPE_CHECKING:
    from vaelab.evaluation.molecules.benchmark import molecule_metrics
    from vaelab.evaluation.molecules.reference import (
        ReferenceStatistics,
        load_reference,
        reference_statistics,
        save_reference,
    )

_EXPORTS = {
    "molecule_metrics": "benchmark",
    "ReferenceStatistics": "reference",
    "reference_statistics": "reference",
    "save_reference": "reference",
    "load_reference": "reference",
}
__all__ = ["ReferenceStatistics", "load_reference", "molecule_metrics", "reference_statistics", "save_reference"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    require_molecules()
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
