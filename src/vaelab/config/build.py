"""Builders: run configuration -> objects. The model's parts come from ``vaelab.models.build``; objectives
and schedules are built here from explicit registries."""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Callable
from typing import Any

import pydantic

from vaelab.config.presets import PRESETS, Preset
from vaelab.config.schema import ModelConfig, ObjectiveConfig, ScheduleConfig
from vaelab.data.dataset import ArrayDataset
from vaelab.errors import UserError, validation_message
from vaelab.models.build import automatic_choices, build_model, resolve_spec
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
from vaelab.objectives.denoising import DenoisingELBO
from vaelab.objectives.hamiltonian_vae import HamiltonianELBO
from vaelab.objectives.joint_vae import JointVAE
from vaelab.objectives.m2 import M2
from vaelab.objectives.msssim_vae import MSSSIMVAE
from vaelab.objectives.rae import RegularisedAutoencoder
from vaelab.objectives.relaxed_elbo import Relaxation, RelaxedELBO
from vaelab.objectives.swae import SlicedWassersteinAutoencoder
from vaelab.objectives.vae_gan import VAEGAN
from vaelab.objectives.vq_vae import VQVAE
from vaelab.training import Cyclical, LinearRamp, Schedule
from vaelab.training.schedules import ExponentialDecay

__all__ = ["OBJECTIVES", "build_model", "build_objective", "build_schedules", "model_spec", "preset"]


OBJECTIVES: dict[str, Callable[..., Objective]] = {
    "elbo": ELBO,
    "iwae": IWAE,
    "miwae": MIWAE,
    "ciwae": CIWAE,
    "beta-tcvae": BetaTCVAE,
    "factor-vae": FactorVAE,
    "dip-vae": DIPVAE,
    "info-vae": InfoVAE,
    "aae": AdversarialAutoencoder,
    "denoising": DenoisingELBO,
    "relaxed-elbo": RelaxedELBO,  # the ELBO with an annealed Gumbel-softmax temperature
    "joint-vae": JointVAE,
    "hamiltonian-vae": HamiltonianELBO,
    "vae-gan": VAEGAN,
    "msssim-vae": MSSSIMVAE,
    "swae": SlicedWassersteinAutoencoder,
    "rae": RegularisedAutoencoder,
    "vq-vae": VQVAE,
    "m2": M2,
}
"""Objective name -> its class (a dataclass); ``objective.<field>`` sets the field of the same name."""


def _objective_options(name: str, config: ObjectiveConfig, chosen: Preset) -> dict[str, Any]:
    """Keyword arguments of objective ``name``: the preset's options when it is the preset's objective,
    overridden by every config field set that is a field of the objective (config and objective use the
    same names). A field the objective does not have, or a value of the wrong type, is a one-line error."""
    objective = OBJECTIVES[name]
    hints = typing.get_type_hints(objective)
    own_fields = {f.name for f in dataclasses.fields(objective)}  # type: ignore[arg-type]
    options: dict[str, Any] = dict(chosen.objective_options) if name == chosen.objective else {}
    if name == chosen.objective and "num_samples" in own_fields and chosen.num_samples > 1:
        options["num_samples"] = chosen.num_samples
    if "beta" in own_fields:
        options["beta"] = chosen.beta if config.beta is None else config.beta
    elif config.beta is not None:
        raise UserError(f"the {name} objective has no KL term to weight: leave objective.beta out")
    for key, value in config.model_dump(exclude={"name", "beta"}).items():
        if value is None or (key == "free_bits" and value == 0):
            continue
        if key not in own_fields:
            raise UserError(f"objective.{key} does not apply to the {name} objective; leave it out")
        try:  # the declared fields are checked by ObjectiveConfig; others by the objective's own annotation
            options[key] = pydantic.TypeAdapter(hints[key]).validate_python(value)
        except pydantic.ValidationError as error:
            raise UserError(validation_message(error, f"objective.{key}")) from None
    return options


def preset(name: str) -> Preset:
    if name not in PRESETS:
        raise UserError(f"unknown model {name!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[name]


def _preset_parts(config: ModelConfig) -> dict[str, str]:
    chosen = preset(config.preset)
    return {"prior": chosen.prior, "posterior": chosen.posterior}


def model_spec(config: ModelConfig, data: ArrayDataset) -> dict[str, Any]:
    """The model's spec (``vaelab.models.build.resolve_spec``) with the preset's prior, posterior and
    conditioning where the config leaves them ``auto``."""
    chosen = preset(config.preset)
    if chosen.classifier:
        config = config.model_copy(update={"classifier": True})
    return resolve_spec(config, data, conditional=chosen.conditional, defaults=_preset_parts(config))


def automatic_data_parts(config: ModelConfig, data: ArrayDataset) -> dict[str, tuple[str, str]]:
    """The likelihood and network ``model_spec`` picks from the data where the config leaves them ``auto``,
    each with why (``vaelab.models.build.automatic_choices``); the preset's parts are left out."""
    chosen = automatic_choices(config, data, _preset_parts(config))
    return {field: choice for field, choice in chosen.items() if field in {"likelihood", "network"}}


def build_objective(config: ObjectiveConfig, preset_name: str) -> Objective:
    chosen = preset(preset_name)
    name = config.name or chosen.objective
    if name not in OBJECTIVES:
        raise UserError(f"unknown objective {name!r}; choose one of: {', '.join(OBJECTIVES)}")
    return OBJECTIVES[name](**_objective_options(name, config, chosen))


def build_schedules(
    config: ScheduleConfig, objective: Objective, steps_per_epoch: int, epochs: int, preset_name: str | None = None
) -> dict[str, Schedule]:
    """Schedules for the objective's ``beta`` (warm-up or cyclical), ``capacity`` (ramp; JointVAE's
    ``discrete_capacity`` ramps alongside) and a relaxation's ``temperature`` (exponential decay). The capacity
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
        discrete_capacity = getattr(objective, "discrete_capacity", None)  # JointVAE's C_c ramps alongside C_z
        if discrete_capacity is not None:
            schedules["discrete_capacity"] = LinearRamp(float(discrete_capacity), round(ramp_epochs * steps_per_epoch))
    elif config.capacity_epochs > 0:
        raise UserError("schedule.capacity_epochs needs a capacity target: set --capacity C")
    if isinstance(objective, Relaxation) and objective.min_temperature < objective.temperature:
        schedules["temperature"] = _temperature_schedule(objective, epochs * steps_per_epoch)
    return schedules


def _temperature_schedule(relaxation: Relaxation, total_steps: int) -> Schedule:
    """The relaxation's annealing from ``temperature`` to ``min_temperature``: at ``anneal_rate``, or at the
    rate that reaches ``min_temperature`` half way through the run."""
    rate = relaxation.anneal_rate
    if rate is None:
        rate = math.log(relaxation.temperature / relaxation.min_temperature) / max(1.0, total_steps / 2)
    return ExponentialDecay(relaxation.temperature, relaxation.min_temperature, rate)
