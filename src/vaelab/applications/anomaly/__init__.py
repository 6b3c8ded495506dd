"""Anomaly detection with VAEs: a scikit-learn style detector scored by the ELBO or log p(x).

The names below are imported on first use (``vaelab.lazy``), so that light modules of this package (such
as ``defaults``, which the command line reads) load without scikit-learn, which the detector needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vaelab.lazy import lazy_exports

if TYPE_CHECKING:
    from vaelab.applications.anomaly.detector import VAEDetector
    from vaelab.applications.anomaly.diagnostics import PosteriorCollapseWarning
    from vaelab.applications.anomaly.scores import SCORES

__all__ = ["SCORES", "PosteriorCollapseWarning", "VAEDetector"]

__getattr__ = lazy_exports(
    __name__,
    {
        name: f"{__name__}.{module}"
        for name, module in {
            "VAEDetector": "detector",
            "PosteriorCollapseWarning": "diagnostics",
            "SCORES": "scores",
        }.items()
    },
)
