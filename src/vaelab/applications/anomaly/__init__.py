"""Anomaly detection with VAEs: a scikit-learn style detector scored by the ELBO or log p(x).

The names below are imported on first use (PEP 562), so that light modules of this package (such as
``defaults``, which the command line reads) load without scikit-learn, which the detector needs.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"VAEDetector": "detector", "PosteriorCollapseWarning": "diagnostics", "SCORES": "scores"}
__all__ = ["SCORES", "PosteriorCollapseWarning", "VAEDetector"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
