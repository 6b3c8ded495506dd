"""The VAE container and its wiring; no losses here."""

from vaelab.models.vae import VAE, ModelPass

__all__ = ["VAE", "ModelPass"]
