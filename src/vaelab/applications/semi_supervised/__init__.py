"""Semi-supervised classification: :class:`VAEClassifier`, a scikit-learn classifier over Kingma et al. 2014's M2,
and :class:`VAEEncoder`, a plain VAE as a transformer (their M1, and M1+M2 as a pipeline).

The names are imported on first use (``vaelab.lazy``), so importing the package loads neither torch nor
scikit-learn."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vaelab.lazy import lazy_exports

if TYPE_CHECKING:
    from vaelab.applications.semi_supervised.classifier import VAEClassifier
    from vaelab.applications.semi_supervised.encoder import VAEEncoder

__all__ = ["VAEClassifier", "VAEEncoder"]

__getattr__ = lazy_exports(__name__, {"VAEClassifier": f"{__name__}.classifier", "VAEEncoder": f"{__name__}.encoder"})
