"""The VAE container and its wiring; no losses here. ``VAE``, ``ModelPass`` and ``elbo_terms`` are imported
on first use (``vaelab.lazy``), so the light modules of this package (the spec) load without torch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vaelab.lazy import lazy_exports

if TYPE_CHECKING:
    from vaelab.models.vae import VAE, ModelPass, elbo_terms

__all__ = ["VAE", "ModelPass", "elbo_terms"]

__getattr__ = lazy_exports(__name__, dict.fromkeys(__all__, "vaelab.models.vae"))
