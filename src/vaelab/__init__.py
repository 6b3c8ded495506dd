"""vaelab: composable variational autoencoders on PyTorch and torch.distributions."""

from vaelab.config.load import load
from vaelab.errors import UserError
from vaelab.models import VAE

__version__ = "0.1.0"

__all__ = ["VAE", "UserError", "__version__", "load"]
