"""vaelab: composable variational autoencoders on PyTorch and torch.distributions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vaelab.config.load import load
from vaelab.errors import UserError
from vaelab.models import VAE

if TYPE_CHECKING:
    from vaelab.applications.anomaly import VAEDetector

__version__ = "0.1.0"

__all__ = ["VAE", "UserError", "VAEDetector", "__version__", "load"]


def __getattr__(name: str) -> Any:
    """``vaelab.VAEDetector`` is imported on first use: it pulls in scikit-learn, which the command line
    does not need to start."""
    if name == "VAEDetector":
        from vaelab.applications.anomaly import VAEDetector

        return VAEDetector
    raise AttributeError(f"module 'vaelab' has no attribute {name!r}")
