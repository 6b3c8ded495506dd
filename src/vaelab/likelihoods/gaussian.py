"""Gaussian likelihood with a fixed scale, a learned per-element scale, or a scale from the decoder."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn
from torch.distributions import Normal
from torch.nn import functional as F

from vaelab.likelihoods.base import Likelihood

GaussianScale = Literal["learned", "decoder"] | float


def positive_scale(raw: torch.Tensor, min_scale: float | torch.Tensor) -> torch.Tensor:
    """``softplus(raw) + min_scale``: a scale that cannot reach zero or overflow (DESIGN §1); ``min_scale`` a
    number, or a tensor of floors that broadcasts against ``raw``."""
    return F.softplus(raw) + min_scale


def element_floors(floors: Sequence[float] | None, data_shape: tuple[int, ...]) -> torch.Tensor | None:
    """A floor per data element, ``(*data_shape,)``, as a buffer's value; None stays None (one ``min_scale``)."""
    if floors is None:
        return None
    floor = torch.tensor(floors, dtype=torch.get_default_dtype())
    if floor.numel() != math.prod(data_shape) or not bool((floor > 0).all()):
        raise ValueError(f"floors must be {math.prod(data_shape)} positive numbers, one per element")
    return floor.reshape(data_shape)


class GaussianLikelihood(Likelihood):
    """``scale`` is a float (fixed), ``"learned"`` (one parameter per data element, shared over
    examples) or ``"decoder"`` (heteroscedastic: the decoder outputs a second map per element)."""

    name = "gaussian"

    floors: torch.Tensor | None  # (*data_shape,): each element's floor, or None: min_scale for all

    def __init__(
        self,
        data_shape: tuple[int, ...],
        scale: GaussianScale = "learned",
        min_scale: float = 1e-3,
        floors: Sequence[float] | None = None,
    ) -> None:
        super().__init__(data_shape)
        self.scale_mode = scale
        self.min_scale = min_scale
        self.register_buffer("floors", element_floors(floors, self.data_shape), persistent=False)
        self.params_per_element = 2 if scale == "decoder" else 1
        if scale == "learned":
            # softplus(0.5413) + 0 = 1: start at unit scale.
            self.raw_scale = nn.Parameter(torch.full(self.data_shape, 0.5413))
        elif not isinstance(scale, float | int) and scale != "decoder":
            raise ValueError(f"scale must be a float, 'learned' or 'decoder', not {scale!r}")

    def element_distribution(self, eta: torch.Tensor) -> Normal:
        params = self.split(eta)
        loc = params[0]
        floor = self.min_scale if self.floors is None else self.floors
        if self.scale_mode == "decoder":
            scale = positive_scale(params[1], floor)
        elif self.scale_mode == "learned":
            scale = positive_scale(self.raw_scale, floor).expand_as(loc)
        else:
            scale = torch.full_like(loc, float(self.scale_mode))
        return Normal(loc, scale, validate_args=False)

    def support_problem(self, x: torch.Tensor) -> str | None:
        if not bool(torch.isfinite(x).all()):
            return "NaN or infinite values found; remove or impute them first"
        return None
