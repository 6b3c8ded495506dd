"""Builders: configuration -> objects. Explicit registries map names to builders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from torch import nn

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
from vaelab.nn import MLP, ConvDecoder, ConvEncoder
from vaelab.objectives import ELBO, IWAE, Objective
from vaelab.posteriors import DiagonalGaussianPosterior
from vaelab.priors import StandardNormalPrior
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


PriorBuilder = Callable[[ModelConfig, nn.Module, nn.Module], nn.Module]  # (config, encoder, posterior) -> prior
PRIORS: dict[str, PriorBuilder] = {
    "standard-normal": lambda cfg, encoder, posterior: StandardNormalPrior(cfg.latent_dim),
}

PosteriorBuilder = Callable[[ModelConfig, int], nn.Module]  # (config, in_features) -> posterior head
POSTERIORS: dict[str, PosteriorBuilder] = {
    "gaussian": lambda cfg, in_features: DiagonalGaussianPosterior(in_features, cfg.latent_dim, cfg.min_scale),
}


def _elbo(config: ObjectiveConfig, chosen: Preset, beta: float) -> Objective:
    return ELBO(beta=beta, free_bits=config.free_bits, capacity=config.capacity, **chosen.objective_options)


def _iwae(config: ObjectiveConfig, chosen: Preset, beta: float) -> Objective:
    if config.free_bits or config.capacity is not None:
        raise UserError("free bits and capacity apply to the ELBO objective, not to IWAE")
    return IWAE(num_samples=config.num_samples or max(chosen.num_samples, 5), beta=beta, **chosen.objective_options)


ObjectiveBuilder = Callable[[ObjectiveConfig, Preset, float], Objective]  # (config, preset, beta) -> objective
OBJECTIVE_BUILDERS: dict[str, ObjectiveBuilder] = {"elbo": _elbo, "iwae": _iwae}


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
    x = data.x
    return "continuous-bernoulli" if float(np.min(x)) >= 0 and float(np.max(x)) <= 1 else "gaussian"


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
    encoder: nn.Module
    decoder: nn.Module
    if config.network == "conv":
        encoder = ConvEncoder(data_shape, config.conv_channels, config.conv_hidden)
        decoder = ConvDecoder(config.latent_dim + condition_dim, config.conv_channels, config.conv_hidden, out_shape)
        features = config.conv_hidden
    else:
        *hidden, features = config.hidden_dims
        encoder = MLP(data_shape, hidden, (features,), final_activation=True)
        decoder = MLP((config.latent_dim + condition_dim,), config.hidden_dims[::-1], out_shape)
    assert config.prior is not None and config.posterior is not None  # resolved by model_spec
    posterior = POSTERIORS[config.posterior](config, features + condition_dim)
    return VAE(
        encoder,
        posterior,
        PRIORS[config.prior](config, encoder, posterior),
        decoder,
        likelihood,
        data_shape=data_shape,
        latent_dim=config.latent_dim,
        num_classes=spec["num_classes"],
        condition_dim=spec["condition_dim"],
        spec=spec,
    )


def build_objective(config: ObjectiveConfig, preset_name: str) -> Objective:
    chosen = preset(preset_name)
    name = config.name or chosen.objective
    if name not in OBJECTIVE_BUILDERS:
        raise UserError(f"unknown objective {name!r}; choose one of: {', '.join(OBJECTIVE_BUILDERS)}")
    beta = chosen.beta if config.beta is None else config.beta
    return OBJECTIVE_BUILDERS[name](config, chosen, beta)


def build_schedules(
    config: ScheduleConfig, objective: Objective, steps_per_epoch: int, epochs: int
) -> dict[str, Schedule]:
    """Schedules for the objective's ``beta`` (warm-up or cyclical) and ``capacity`` (ramp)."""
    schedules: dict[str, Schedule] = {}
    beta = float(getattr(objective, "beta", 1.0))
    if config.kl == "linear":
        schedules["beta"] = LinearRamp(end=beta, steps=round(config.warmup_epochs * steps_per_epoch))
    elif config.kl == "cyclical":
        schedules["beta"] = Cyclical(
            end=beta, total_steps=epochs * steps_per_epoch, num_cycles=config.cycles, ratio=config.ratio
        )
    capacity = getattr(objective, "capacity", None)
    if capacity is not None and config.capacity_epochs > 0:
        schedules["capacity"] = LinearRamp(end=float(capacity), steps=round(config.capacity_epochs * steps_per_epoch))
    elif config.capacity_epochs > 0:
        raise UserError("schedule.capacity_epochs needs a capacity target: set --capacity C")
    return schedules
