"""Hyperparameter schedules over optimisation steps: each maps a step to a value.

The trainer replaces an objective's field (``beta``, ``capacity``) by ``schedule(step)`` before every step,
so objectives stay pure functions of (hyperparameters, model, batch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol


class Schedule(Protocol):
    def __call__(self, step: int) -> float: ...


@dataclass(frozen=True)
class Constant:
    value: float

    def __call__(self, step: int) -> float:
        return self.value


@dataclass(frozen=True)
class LinearRamp:
    """From ``start`` to ``end`` linearly over ``steps`` steps, then ``end``: KL warm-up (Bowman et al. 2016,
    §3.1; Sønderby et al. 2016) for beta, or the capacity ramp C of Burgess et al. 2018 (§4)."""

    end: float
    steps: int
    start: float = 0.0

    def __call__(self, step: int) -> float:
        fraction = 1.0 if self.steps <= 0 else min(1.0, step / self.steps)
        return self.start + (self.end - self.start) * fraction


@dataclass(frozen=True)
class Cyclical:
    """Cyclical annealing (Fu et al. 2019, "Cyclical annealing schedule", eq. 7): the ``total_steps`` are cut
    into ``num_cycles`` cycles; in each, the value rises linearly from ``start`` to ``end`` over the first
    ``ratio`` of the cycle and stays at ``end`` for the rest."""

    end: float
    total_steps: int
    num_cycles: int = 4
    ratio: float = 0.5
    start: float = 0.0

    def __call__(self, step: int) -> float:
        cycle_length = max(1, self.total_steps // self.num_cycles)
        tau = (step % cycle_length) / cycle_length
        return self.start + (self.end - self.start) * min(1.0, tau / self.ratio)


@dataclass(frozen=True)
class ExponentialDecay:
    """``max(floor, start * exp(-rate * step))``: the temperature annealing of the Gumbel-softmax (Jang et al.
    2017, §4: tau = max(0.5, exp(-r t)))."""

    start: float
    floor: float
    rate: float

    def __call__(self, step: int) -> float:
        return max(self.floor, self.start * math.exp(-self.rate * step))
