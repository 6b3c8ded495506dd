"""The ELBO of a model with relaxed one-hot latents (Gumbel-softmax), with the relaxation's temperature as
a hyperparameter that a schedule anneals."""

from __future__ import annotations

from dataclasses import dataclass

from vaelab.data.batch import Batch
from vaelab.errors import UserError
from vaelab.models import VAE
from vaelab.objectives.base import ObjectiveOutput
from vaelab.objectives.elbo import ELBO
from vaelab.posteriors.categorical import set_temperature


@dataclass(frozen=True)
class Relaxation:
    """The temperature tau of the one-hot parts' training relaxation (Jang et al. 2017, eq. 2).

    ``temperature`` is the value of the current step: the training schedule (``config.build.build_schedules``)
    anneals it as ``tau = max(min_temperature, temperature * exp(-anneal_rate * step))`` (Jang et al. 2017, §4:
    from 1 down to 0.5), and ``anneal_rate`` None takes the rate that reaches ``min_temperature`` half way
    through the run. ``min_temperature`` equal to ``temperature`` keeps it constant. Only the relaxed
    (training) distributions read it: in evaluation the one-hot groups are exact.
    """

    temperature: float = 1.0
    min_temperature: float = 0.5
    anneal_rate: float | None = None

    def __post_init__(self) -> None:
        if not 0 < self.min_temperature <= self.temperature:
            raise UserError(
                f"objective.temperature ({self.temperature}) and objective.min_temperature "
                f"({self.min_temperature}) must satisfy 0 < min_temperature <= temperature"
            )
        if self.anneal_rate is not None and self.anneal_rate < 0:
            raise UserError(f"objective.anneal_rate must be at least 0, not {self.anneal_rate}")


@dataclass(frozen=True)
class RelaxedELBO(ELBO, Relaxation):
    """The ELBO (with ``ELBO``'s beta, free bits or capacity) of a model whose one-hot parts are relaxed at
    ``temperature`` in training: the reconstruction term decodes relaxed samples and the KL is the closed form
    of the underlying categoricals (Jang et al. 2017, §3.1). Evaluation scores the exact discrete model."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.free_bits > 0:
            raise UserError("free bits count the KL per latent dimension, which one-hot groups lack: leave it out")

    def __call__(self, model: VAE, batch: Batch) -> ObjectiveOutput:
        set_temperature(model, self.temperature)
        return super().__call__(model, batch)
