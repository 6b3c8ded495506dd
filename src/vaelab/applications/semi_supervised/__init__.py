"""Semi-supervised classification: :class:`VAEClassifier`, a scikit-learn classifier over Kingma et al. 2014's M2.

The name is imported on first use (``vaelab.lazy``), so importing the package loads neither torch nor
scikit-learn."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vaelab.lazy import lazy_exports

if TYPE_CHECKING:
    from vaelab.applications.semi_supervised.classifier import VAEClassifier

__all__ = ["VAEClassifier"]

__getattr__ = lazy_exports(__name__, {"VAEClassifier": f"{__name__}.classifier"})
