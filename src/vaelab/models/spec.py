"""The model's description: the plain data a saved model is rebuilt from, and what ``--set model.…`` sets.

It lives with the model (not in ``vaelab.config``) because it is part of the saved-model format: ``vaelab.load``
and the anomaly detector build from it without any run configuration. Names in ``likelihood``, ``network``,
``prior`` and ``posterior`` are keys of the registries in ``vaelab.models.build``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator


class ModelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    preset: str = "vae"  # see vaelab.config.presets.PRESETS
    network: str = "auto"  # "auto" or a key of NETWORKS (auto: conv for images of 32 x 32 and more, else mlp)
    latent_dim: int = Field(20, ge=1)
    hidden_dims: list[int] = Field(default_factory=lambda: [400], min_length=1)
    conv_channels: list[int] = Field(default_factory=lambda: [32, 32, 64, 64], min_length=1)
    conv_hidden: int = Field(256, ge=1)
    likelihood: str = "auto"  # "auto" or a key of LIKELIHOODS
    prior: str | None = None  # None: the preset's; a key of PRIORS
    posterior: str | None = None  # None: the preset's; a key of POSTERIORS
    gaussian_scale: Literal["learned", "decoder"] | float = "learned"
    gaussian_min_scale: float = Field(1e-3, gt=0)  # floor of a learned or decoder Gaussian scale
    logistic_components: int = Field(1, ge=1)
    min_scale: float = Field(1e-4, gt=0)  # floor of the posterior's and a learned prior's scales
    prior_components: int = Field(500, ge=1)  # mixture components / VampPrior pseudo-inputs (Tomczak & Welling: 500)
    flow_steps: int = Field(4, ge=1)  # planar / IAF flow steps
    # hierarchical VAE: sizes of z_1 (next to x) .. z_L, summing to latent_dim; None: two halves of latent_dim
    hierarchy: Annotated[list[PositiveInt], Field(min_length=2)] | None = None

    @model_validator(mode="after")
    def _hierarchy_fills_latent_dim(self) -> ModelConfig:
        if self.hierarchy is not None and sum(self.hierarchy) != self.latent_dim:
            raise ValueError(
                f"model.hierarchy {self.hierarchy} sums to {sum(self.hierarchy)} but model.latent_dim is "
                f"{self.latent_dim}; set latent_dim to the sum (the decoder sees all layers)"
            )
        return self
