"""Anomaly detection with VAEs: a scikit-learn style detector scored by the ELBO or log p(x)."""

from vaelab.applications.anomaly.detector import VAEDetector
from vaelab.applications.anomaly.diagnostics import PosteriorCollapseWarning
from vaelab.applications.anomaly.scores import SCORES

__all__ = ["SCORES", "PosteriorCollapseWarning", "VAEDetector"]
