"""Builders: configuration -> objects. Explicit registries map names to builders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.distributions import Distribution

from vaelab.config.presets import PRESETS, Preset
from vaelab.config.schema import ModelConfig, ObjectiveConfig, ScheduleConfig
from vaelab.data.dataset import ArrayDataset
from vaelab.errors import UserError
from vaelab.likelihoods import (
    BernoulliLikelihood,
    CategoricalLikelihood,
    ContinuousBernoulliLikelihood,
    DiscretizedLogisticLikelihood,
    GaussianLikelihood,
    Likelihood,
)
from vaelab.models import VAE
from vaelab.nn import conv_pair, mlp_pair
from vaelab.objectives import (
    CIWAE,
    DIPVAE,
    ELBO,
    IWAE,
    MIWAE,
    AdversarialAutoencoder,
    BetaTCVAE,
    FactorVAE,
    InfoVAE,
    Objective,
)
from vaelab.posteriors import DiagonalGaussianPosterior, FlowPosterior, IAFPosterior, LadderPosterior, PlanarPosterior
from vaelab.priors import HierarchicalPrior, MixtureOfGaussiansPrior, StandardNormalPrior, VampPrior
from vaelab.training import Cyclical, LinearRamp, Schedule

LIKELIHOODS: dict[str, Callable[[tuple[int, ...], ModelConfig, int | None], Likelihood]] = {
    "bernoulli": lambda shape, cfg, levels: BernoulliLikelihood(shape),
    "continuous-bernoulli": lambda shape, cfg, levels: ContinuousBernoulliLikelihood(shape),
    "gaussian": lambda shape, cfg, levels: GaussianLikelihood(shape, cfg.gaussian_scale),
    "logistic": lambda shape, cfg, levels: DiscretizedLogisticLikelihood(
        shape, _need_levels(levels, "logistic"), cfg.logistic_components
    ),
    "categorical": lambda shape, cfg, levels: CategoricalLikelihood(shape, _need_levels(levels, "categorical")),
}


@dataclass(frozen=True)
class PriorParts:
    """What a prior builder may use. ``latent_dim`` is the size of the variable the prior is over and
    ``posterior`` maps encoder features to q of that variable: z itself, or the top layer z_L under a
    hierarchical posterior (``build_model`` then adds the layers below it)."""

    encoder: nn.Module
    posterior: Callable[[torch.Tensor], Distribution]
    latent_dim: int
    data_shape: tuple[int, ...]
    condition_dim: int


def _vamp_prior(config: ModelConfig, parts: PriorParts) -> nn.Module:
    if parts.condition_dim:
        raise UserError("the VampPrior's pseudo-inputs carry no condition: use another prior with a conditional model")
    if isinstance(parts.posterior, FlowPosterior):
        raise UserError(
            "the VampPrior needs a posterior density at any point, which flow posteriors (planar, iaf) lack: "
            "use --set model.posterior=gaussian (or ladder)"
        )
    return VampPrior(parts.encoder, parts.posterior, parts.data_shape, config.prior_components)


PriorBuilder = Callable[[ModelConfig, PriorParts], nn.Module]  # (config, parts) -> prior
PRIORS: dict[str, PriorBuilder] = {
    "standard-normal": lambda cfg, parts: StandardNormalPrior(parts.latent_dim),
    "mog": lambda cfg, parts: MixtureOfGaussiansPrior(parts.latent_dim, cfg.prior_components, cfg.min_scale),
    "vamp": _vamp_prior,
}


def _ladder_sizes(config: ModelConfig) -> list[int]:
    """``model.hierarchy``, or two layers splitting latent_dim (the bottom one gets the odd unit)."""
    if config.hierarchy is not None:
        return config.hierarchy
    if config.latent_dim < 2:
        raise UserError("a hierarchical VAE needs latent_dim >= 2 (one unit per layer at least)")
    return [config.latent_dim - config.latent_dim // 2, config.latent_dim // 2]


PosteriorBuilder = Callable[[ModelConfig, int], nn.Module]  # (config, in_features) -> posterior head
POSTERIORS: dict[str, PosteriorBuilder] = {
    "gaussian": lambda cfg, in_features: DiagonalGaussianPosterior(in_features, cfg.latent_dim, cfg.min_scale),
    "planar": lambda cfg, in_features: PlanarPosterior(in_features, cfg.latent_dim, cfg.flow_steps, cfg.min_scale),
    "iaf": lambda cfg, in_features: IAFPosterior(in_features, cfg.latent_dim, cfg.flow_steps, cfg.min_scale),
    "ladder": lambda cfg, in_features: LadderPosterior(in_features, _ladder_sizes(cfg), cfg.min_scale),
}


ObjectiveBuilder = Callable[[ObjectiveConfig, Preset, float], Objective]  # (config, preset, beta) -> objective
_DISCRIMINATOR_FIELDS = {"discriminator_hidden": "discriminator_hidden", "discriminator_lr": "discriminator_lr"}


def _hyperparameters(config: ObjectiveConfig, chosen: Preset, name: str, **fields: str) -> dict[str, Any]:
    """Keyword arguments of objective ``name``: the preset's (when it is the preset's objective), overridden by
    the config fields it reads, given as ``config_field="objective_field"``. A field set for another
    objective, or free bits or a capacity outside the ELBO, is a one-line error."""
    if name != "elbo" and (config.free_bits or config.capacity is not None):
        raise UserError(f"free bits and capacity apply to the ELBO objective, not to {name}")
    own = name == chosen.objective
    options = dict(chosen.objective_options) if own else {}
    if own and "num_samples" in fields and chosen.num_samples > 1:
        options["num_samples"] = chosen.num_samples
    for key, value in config.model_dump(exclude={"name", "beta", "free_bits", "capacity"}).items():
        if value is None:
            continue
        if key not in fields:
            raise UserError(f"objective.{key} does not apply to the {name} objective; leave it out")
        options[fields[key]] = tuple(value) if isinstance(value, list) else value
    return options


def _elbo(config: ObjectiveConfig, chosen: Preset, beta: float) -> Objective:
    options = _hyperparameters(config, chosen, "elbo")
    if config.free_bits:
        options["free_bits"] = config.free_bits
    if config.capacity is not None:
        options["capacity"] = config.capacity
    return ELBO(beta=beta, **options)


def _variant(objective: Callable[..., Objective], name: str, **fields: str) -> ObjectiveBuilder:
    """The builder of an objective whose ``beta`` is the preset's or config's, plus ``fields``."""

    def build(config: ObjectiveConfig, chosen: Preset, beta: float) -> Objective:
        return objective(beta=beta, **_hyperparameters(config, chosen, name, **fields))

    return build


def _aae(config: ObjectiveConfig, chosen: Preset, beta: float) -> Objective:
    if config.beta is not None:
        raise UserError("the aae objective has no KL term to weight: set objective.adversarial_weight, not beta")
    fields = {"adversarial_weight": "adversarial_weight", **_DISCRIMINATOR_FIELDS}
    return AdversarialAutoencoder(**_hyperparameters(config, chosen, "aae", **fields))


OBJECTIVE_BUILDERS: dict[str, ObjectiveBuilder] = {
    "elbo": _elbo,
    "iwae": _variant(IWAE, "iwae", num_samples="num_samples", gradient="gradient"),
    "miwae": _variant(MIWAE, "miwae", num_samples="num_samples", num_bounds="num_bounds", gradient="gradient"),
    "ciwae": _variant(CIWAE, "ciwae", num_samples="num_samples", elbo_weight="elbo_weight"),
    "beta-tcvae": _variant(BetaTCVAE, "beta-tcvae", alpha="alpha", gamma="gamma", tc_estimator="estimator"),
    "factor-vae": _variant(FactorVAE, "factor-vae", gamma="gamma", **_DISCRIMINATOR_FIELDS),
    "dip-vae": _variant(
        DIPVAE, "dip-vae", dip_variant="variant", lambda_offdiag="lambda_offdiag", lambda_diag="lambda_diag"
    ),
    "info-vae": _variant(InfoVAE, "info-vae", mmd_weight="mmd_weight", mmd_kernel="kernel"),
    "aae": _aae,
}


def _need_levels(levels: int | None, name: str) -> int:
    if levels is None:
        raise UserError(f"the {name} likelihood needs discrete data (integer values); use --likelihood gaussian")
    return levels


def preset(name: str) -> Preset:
    if name not in PRESETS:
        raise UserError(f"unknown model {name!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[name]


def auto_likelihood(data: ArrayDataset) -> str:
    """Binary data -> Bernoulli; data in [0, 1] -> continuous Bernoulli; anything else -> Gaussian."""
    if data.levels == 2:
        return "bernoulli"
    if data.levels is not None:
        return "continuous-bernoulli"
    in_unit_interval = all(chunk.min() >= 0 and chunk.max() <= 1 for chunk in data.row_chunks())
    return "continuous-bernoulli" if in_unit_interval else "gaussian"


def model_spec(config: ModelConfig, data: ArrayDataset) -> dict[str, Any]:
    """Everything needed to rebuild the model without data: the config with 'auto' choices resolved."""
    chosen = preset(config.preset)
    likelihood = auto_likelihood(data) if config.likelihood == "auto" else config.likelihood
    if likelihood not in LIKELIHOODS:
        raise UserError(f"unknown likelihood {likelihood!r}; choose one of: {', '.join(LIKELIHOODS)}")
    network = config.network
    if network == "auto":
        network = "conv" if data.is_image and min(data.data_shape[1:]) >= 32 else "mlp"
    if network == "conv" and not data.is_image:
        raise UserError(f"--network conv needs images (N, C, H, W); the data have shape {data.data_shape}")
    num_classes, condition_dim = None, 0
    if chosen.conditional:
        if data.y is None:
            raise UserError(f"--model {config.preset} needs labels: use a labelled dataset or pass --labels")
        if data.num_classes:
            num_classes = data.num_classes
        else:
            condition_dim = int(data.y.shape[1])
    prior = config.prior or chosen.prior
    posterior = config.posterior or chosen.posterior
    for kind, name, registry in (("prior", prior, PRIORS), ("posterior", posterior, POSTERIORS)):
        if name not in registry:
            raise UserError(f"unknown {kind} {name!r}; choose one of: {', '.join(registry)}")
    resolved = config.model_copy(
        update={"likelihood": likelihood, "network": network, "prior": prior, "posterior": posterior}
    )
    return {
        "model": resolved.model_dump(),
        "data_shape": list(data.data_shape),
        "levels": data.levels,
        "num_classes": num_classes,
        "condition_dim": condition_dim,
    }


def build_model(spec: dict[str, Any]) -> VAE:
    config = ModelConfig.model_validate(spec["model"])
    data_shape = tuple(spec["data_shape"])
    likelihood = LIKELIHOODS[config.likelihood](data_shape, config, spec["levels"])
    out_shape = (likelihood.params_per_element, *data_shape)
    condition_dim = spec["num_classes"] or spec["condition_dim"]
    decoder_in = config.latent_dim + condition_dim
    encoder, decoder, features = (
        conv_pair(data_shape, config.conv_channels, config.conv_hidden, decoder_in, out_shape)
        if config.network == "conv"
        else mlp_pair(data_shape, config.hidden_dims, decoder_in, out_shape)
    )
    assert config.prior is not None and config.posterior is not None  # resolved by model_spec
    posterior = POSTERIORS[config.posterior](config, features + condition_dim)
    return VAE(
        encoder,
        posterior,
        _build_prior(config, encoder, posterior, data_shape, condition_dim),
        decoder,
        likelihood,
        data_shape=data_shape,
        latent_dim=config.latent_dim,
        num_classes=spec["num_classes"],
        condition_dim=spec["condition_dim"],
        spec=spec,
    )


def _build_prior(
    config: ModelConfig, encoder: nn.Module, posterior: nn.Module, data_shape: tuple[int, ...], condition_dim: int
) -> nn.Module:
    """The configured prior. Under a ladder posterior it is the prior of the top layer z_L, completed by the
    posterior's shared top-down conditionals: p(z) = p(z_L) prod_l p(z_l | z_{l+1})."""
    assert config.prior is not None  # resolved by model_spec
    if isinstance(posterior, LadderPosterior):
        parts = PriorParts(encoder, posterior.top_posterior, posterior.sizes[-1], data_shape, condition_dim)
        return HierarchicalPrior(PRIORS[config.prior](config, parts), posterior.top_down, posterior.sizes)
    return PRIORS[config.prior](config, PriorParts(encoder, posterior, config.latent_dim, data_shape, condition_dim))


def build_objective(config: ObjectiveConfig, preset_name: str) -> Objective:
    chosen = preset(preset_name)
    name = config.name or chosen.objective
    if name not in OBJECTIVE_BUILDERS:
        raise UserError(f"unknown objective {name!r}; choose one of: {', '.join(OBJECTIVE_BUILDERS)}")
    beta = chosen.beta if config.beta is None else config.beta
    return OBJECTIVE_BUILDERS[name](config, chosen, beta)


def build_schedules(
    config: ScheduleConfig, objective: Objective, steps_per_epoch: int, epochs: int, preset_name: str | None = None
) -> dict[str, Schedule]:
    """Schedules for the objective's ``beta`` (warm-up or cyclical) and ``capacity`` (ramp). The capacity
    ramps over ``schedule.capacity_epochs``, or when that is 0 over the preset's ``capacity_ramp`` fraction
    of the run."""
    schedules: dict[str, Schedule] = {}
    beta = float(getattr(objective, "beta", 1.0))
    if config.kl == "linear":
        schedules["beta"] = LinearRamp(end=beta, steps=round(config.warmup_epochs * steps_per_epoch))
    elif config.kl == "cyclical":
        schedules["beta"] = Cyclical(
            end=beta, total_steps=epochs * steps_per_epoch, num_cycles=config.cycles, ratio=config.ratio
        )
    capacity = getattr(objective, "capacity", None)
    ramp_epochs = config.capacity_epochs or (preset(preset_name).capacity_ramp * epochs if preset_name else 0.0)
    if capacity is not None and ramp_epochs > 0:
        schedules["capacity"] = LinearRamp(end=float(capacity), steps=round(ramp_epochs * steps_per_epoch))
    elif config.capacity_epochs > 0:
        raise UserError("schedule.capacity_epochs needs a capacity target: set --capacity C")
    return schedules
