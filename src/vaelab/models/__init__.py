"""The VAE container and its wiring; no losses here."""

from vaelab.models.vae import VAE, ModelPass, elbo_terms

__all__ = ["VAE", "ModelPass", "elbo_terms"]
