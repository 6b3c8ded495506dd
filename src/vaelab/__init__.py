"""vaelab: composable variational autoencoders on PyTorch and torch.distributions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vaelab.errors import UserError
from vaelab.models import VAE
from vaelab.models.load import load

if TYPE_CHECKING:
    from vaelab.applications.anomaly import VAEDetector
    from vaelab.applications.imputation import VAEImputer
    from vaelab.applications.synthetic.tabular_vae import TabularVAE

__version__ = "0.1.0"

__all__ = ["VAE", "TabularVAE", "UserError", "VAEDetector", "VAEImputer", "__version__", "load"]


def __getattr__(name: str) -> Any:
    """``vaelab.VAEDetector``, ``vaelab.VAEImputer`` and ``vaelab.TabularVAE`` are imported on first use: they
    pull in scikit-learn and pandas, which the command line does not need to start."""
    if name == "VAEDetector":
        from vaelab.applications.anomaly import VAEDetector

        return VAEDetector
    if name == "VAEImputer":
        from vaelab.applications.imputation import VAEImputer

        return VAEImputer
    if name == "TabularVAE":
        from vaelab.applications.synthetic.tabular_vae import TabularVAE

        return TabularVAE
    raise AttributeError(f"module 'vaelab' has no attribute {name!r}")
