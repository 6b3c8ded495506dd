"""vaelab: composable variational autoencoders on PyTorch and torch.distributions.

The exported names are imported on first use (``vaelab.lazy``): ``import vaelab`` and the command line's
start-up do not import torch, scikit-learn or pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vaelab.lazy import lazy_exports

if TYPE_CHECKING:
    from vaelab.applications.anomaly.detector import VAEDetector
    from vaelab.applications.imputation import VAEImputer
    from vaelab.applications.semi_supervised import VAEClassifier, VAEEncoder
    from vaelab.applications.synthetic.tabular_vae import TabularVAE
    from vaelab.errors import UserError
    from vaelab.models.load import load
    from vaelab.models.vae import VAE

__version__ = "0.1.0"

__all__ = [
    "VAE",
    "TabularVAE",
    "UserError",
    "VAEClassifier",
    "VAEDetector",
    "VAEEncoder",
    "VAEImputer",
    "__version__",
    "load",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "VAE": "vaelab.models.vae",
        "load": "vaelab.models.load",
        "UserError": "vaelab.errors",
        "VAEDetector": "vaelab.applications.anomaly.detector",
        "VAEImputer": "vaelab.applications.imputation",
        "VAEClassifier": "vaelab.applications.semi_supervised",
        "VAEEncoder": "vaelab.applications.semi_supervised",
        "TabularVAE": "vaelab.applications.synthetic.tabular_vae",
    },
)
