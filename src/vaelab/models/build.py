"""Building a VAE from its description: one registry per kind of part, every builder ``(config, context)``.

``build_model(spec)`` assembles the parts in order, each builder reading the ``ModelConfig`` and a
``BuildContext`` that grows as parts exist: the data's description first, then the likelihood's parameter
layout (which sizes the decoder's output), the networks (whose feature width sizes the posterior), and
the posterior (which a VampPrior shares). Adding a part is one class in its folder plus one line in its
registry here; every command, the help texts and the registry-driven tests pick it up.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
from torch import nn
from torch.distributions import Distribution

from vaelab.conditions import ClassCondition, VectorCondition
from vaelab.data.dataset import ArrayDataset
from vaelab.data.schema import detect_kind
from vaelab.errors import UserError
from vaelab.likelihoods import (
    BernoulliLikelihood,
    CategoricalLikelihood,
    ContinuousBernoulliLikelihood,
    DiscretizedLogisticLikelihood,
    GaussianLikelihood,
    Likelihood,
)
from vaelab.models.spec import ModelConfig
from vaelab.models.vae import VAE
from vaelab.nn import conv_pair, mlp_pair
from vaelab.posteriors import DiagonalGaussianPosterior, FlowPosterior, IAFPosterior, LadderPosterior, PlanarPosterior
from vaelab.priors import HierarchicalPrior, MixtureOfGaussiansPrior, StandardNormalPrior, VampPrior

IMAGE_KIND = "image"
CONV_MIN_SIDE = 32  # network "auto": conv nets for images at least this large, MLPs below


@dataclass(frozen=True)
class BuildContext:
    """What a part's builder may use besides the config; later fields are filled in as parts are built."""

    data_shape: tuple[int, ...]
    kind: str  # the kind of data ("image", "table", ...)
    levels: int | None  # discrete data: the number of values on the grid, else None
    condition_dim: int = 0  # width of the condition's features (0: unconditional)
    param_shape: tuple[int, ...] = ()  # the likelihood's decoder output per example
    features: int = 0  # the encoder's output width
    encoder: nn.Module | None = None
    posterior: Callable[[torch.Tensor], Distribution] | None = None  # q of the variable the prior is over
    latent_dim: int = 0  # size of the variable the prior is over


@dataclass(frozen=True)
class Networks:
    """An encoder ``x -> h (features,)`` and a decoder ``z -> eta (*param_shape)``, built as a pair."""

    encoder: nn.Module
    decoder: nn.Module
    features: int


Part = TypeVar("Part")
Builder = Callable[[ModelConfig, BuildContext], Part]


def _need_levels(context: BuildContext, name: str) -> int:
    if context.levels is None:
        raise UserError(f"the {name} likelihood needs discrete data (integer values); use --likelihood gaussian")
    return context.levels


LIKELIHOODS: dict[str, Builder[Likelihood]] = {
    "bernoulli": lambda cfg, ctx: BernoulliLikelihood(ctx.data_shape),
    "continuous-bernoulli": lambda cfg, ctx: ContinuousBernoulliLikelihood(ctx.data_shape),
    "gaussian": lambda cfg, ctx: GaussianLikelihood(ctx.data_shape, cfg.gaussian_scale, cfg.gaussian_min_scale),
    "logistic": lambda cfg, ctx: DiscretizedLogisticLikelihood(
        ctx.data_shape, _need_levels(ctx, "logistic"), cfg.logistic_components
    ),
    "categorical": lambda cfg, ctx: CategoricalLikelihood(ctx.data_shape, _need_levels(ctx, "categorical")),
}


def _conv(config: ModelConfig, context: BuildContext) -> Networks:
    if context.kind != IMAGE_KIND:
        raise UserError(f"--network conv needs images (N, C, H, W); the data have shape {context.data_shape}")
    decoder_in = config.latent_dim + context.condition_dim
    return Networks(
        *conv_pair(context.data_shape, config.conv_channels, config.conv_hidden, decoder_in, context.param_shape)
    )


NETWORKS: dict[str, Builder[Networks]] = {
    "mlp": lambda cfg, ctx: Networks(
        *mlp_pair(ctx.data_shape, cfg.hidden_dims, cfg.latent_dim + ctx.condition_dim, ctx.param_shape)
    ),
    "conv": _conv,
}


def _ladder_sizes(config: ModelConfig) -> list[int]:
    """``model.hierarchy``, or two layers splitting latent_dim (the bottom one gets the odd unit)."""
    if config.hierarchy is not None:
        return config.hierarchy
    if config.latent_dim < 2:
        raise UserError("a hierarchical VAE needs latent_dim >= 2 (one unit per layer at least)")
    return [config.latent_dim - config.latent_dim // 2, config.latent_dim // 2]


def _posterior_input(context: BuildContext) -> int:
    return context.features + context.condition_dim


POSTERIORS: dict[str, Builder[nn.Module]] = {
    "gaussian": lambda cfg, ctx: DiagonalGaussianPosterior(_posterior_input(ctx), cfg.latent_dim, cfg.min_scale),
    "planar": lambda cfg, ctx: PlanarPosterior(_posterior_input(ctx), cfg.latent_dim, cfg.flow_steps, cfg.min_scale),
    "iaf": lambda cfg, ctx: IAFPosterior(_posterior_input(ctx), cfg.latent_dim, cfg.flow_steps, cfg.min_scale),
    "ladder": lambda cfg, ctx: LadderPosterior(_posterior_input(ctx), _ladder_sizes(cfg), cfg.min_scale),
}


def _vamp_prior(config: ModelConfig, context: BuildContext) -> nn.Module:
    if context.condition_dim:
        raise UserError("the VampPrior's pseudo-inputs carry no condition: use another prior with a conditional model")
    if isinstance(context.posterior, FlowPosterior):
        raise UserError(
            "the VampPrior needs a posterior density at any point, which flow posteriors (planar, iaf) lack: "
            "use --set model.posterior=gaussian (or ladder)"
        )
    assert context.encoder is not None and context.posterior is not None
    return VampPrior(context.encoder, context.posterior, context.data_shape, config.prior_components)


PRIORS: dict[str, Builder[nn.Module]] = {
    "standard-normal": lambda cfg, ctx: StandardNormalPrior(ctx.latent_dim),
    "mog": lambda cfg, ctx: MixtureOfGaussiansPrior(ctx.latent_dim, cfg.prior_components, cfg.min_scale),
    "vamp": _vamp_prior,
}

REGISTRIES: dict[str, dict[str, Any]] = {
    "likelihood": LIKELIHOODS,
    "network": NETWORKS,
    "posterior": POSTERIORS,
    "prior": PRIORS,
}
"""Config field -> the registry its value names."""


def choices(registry: str) -> str:
    """The names a config field accepts, for help texts and errors: ``"bernoulli | gaussian | …"``."""
    return " | ".join(REGISTRIES[registry])


def auto_likelihood(data: ArrayDataset) -> str:
    """Binary data -> Bernoulli; data in [0, 1] -> continuous Bernoulli; anything else -> Gaussian."""
    if data.levels == 2:
        return "bernoulli"
    if data.levels is not None:
        return "continuous-bernoulli"
    in_unit_interval = all(chunk.min() >= 0 and chunk.max() <= 1 for chunk in data.row_chunks())
    return "continuous-bernoulli" if in_unit_interval else "gaussian"


def resolve_spec(config: ModelConfig, data: ArrayDataset, conditional: bool = False) -> dict[str, Any]:
    """Everything needed to rebuild the model without data: ``config`` (with ``prior`` and ``posterior``
    set) with its 'auto' choices resolved against ``data``, and what the data tell (shape, kind, levels,
    the condition). ``conditional`` conditions the model on the data's labels."""
    kind = data.schema.kind
    likelihood = auto_likelihood(data) if config.likelihood == "auto" else config.likelihood
    network = config.network
    if network == "auto":
        network = "conv" if kind == IMAGE_KIND and min(data.data_shape[1:]) >= CONV_MIN_SIDE else "mlp"
    resolved = config.model_copy(update={"likelihood": likelihood, "network": network})
    for field in REGISTRIES:
        name = getattr(resolved, field)
        if name not in REGISTRIES[field]:
            raise UserError(f"unknown {field} {name!r}; choose one of: {', '.join(REGISTRIES[field])}")
    num_classes, condition_dim = None, 0
    if conditional:
        if data.y is None:
            raise UserError(f"--model {config.preset} needs labels: use a labelled dataset or pass --labels")
        if data.num_classes:
            num_classes = data.num_classes
        else:
            condition_dim = int(data.y.shape[1])
    return {
        "model": resolved.model_dump(),
        "data_shape": list(data.data_shape),
        "kind": kind,
        "levels": data.levels,
        "num_classes": num_classes,
        "condition_dim": condition_dim,
    }


def build_model(spec: dict[str, Any]) -> VAE:
    """The VAE a spec (from ``resolve_spec``, or a saved ``model.json``) describes."""
    config = ModelConfig.model_validate(spec["model"])
    assert config.prior is not None and config.posterior is not None  # set before resolve_spec
    data_shape = tuple(spec["data_shape"])
    condition = (
        ClassCondition(spec["num_classes"])
        if spec["num_classes"]
        else VectorCondition(spec["condition_dim"])
        if spec["condition_dim"]
        else None
    )
    context = BuildContext(
        data_shape,
        spec.get("kind") or detect_kind(data_shape),  # specs saved before kinds existed
        spec["levels"],
        condition_dim=0 if condition is None else condition.dim,
    )
    likelihood = LIKELIHOODS[config.likelihood](config, context)
    context = dataclasses.replace(context, param_shape=likelihood.param_shape)
    networks = NETWORKS[config.network](config, context)
    context = dataclasses.replace(context, features=networks.features, encoder=networks.encoder)
    posterior = POSTERIORS[config.posterior](config, context)
    return VAE(
        networks.encoder,
        posterior,
        _build_prior(config, context, posterior),
        networks.decoder,
        likelihood,
        data_shape=data_shape,
        latent_dim=config.latent_dim,
        condition=condition,
        spec=spec,
    )


def _build_prior(config: ModelConfig, context: BuildContext, posterior: nn.Module) -> nn.Module:
    """The configured prior. Under a ladder posterior it is the prior of the top layer z_L, completed by the
    posterior's shared top-down conditionals: p(z) = p(z_L) prod_l p(z_l | z_{l+1})."""
    assert config.prior is not None
    build = PRIORS[config.prior]
    if isinstance(posterior, LadderPosterior):
        top = dataclasses.replace(context, posterior=posterior.top_posterior, latent_dim=posterior.sizes[-1])
        return HierarchicalPrior(build(config, top), posterior.top_down, posterior.sizes)
    return build(config, dataclasses.replace(context, posterior=posterior, latent_dim=config.latent_dim))
