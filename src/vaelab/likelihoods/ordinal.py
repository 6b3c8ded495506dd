"""Ordinal columns: the cumulative-logit (proportional-odds) model, each column with its own levels."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from vaelab.distributions import IndexCategorical
from vaelab.likelihoods.base import Likelihood

TINY = 1e-12  # floor of a level's probability before its log


class OrdinalLikelihood(Likelihood):
    """``P(x <= k | z) = sigmoid(theta_k - eta)`` for levels ``k = 0..L_c-1`` of column c (McCullagh 1980,
    "Regression models for ordinal data", eq. 2.4): the decoder gives one location ``eta`` per column, the
    increasing cut points ``theta`` are learned per column (``theta_1`` free, then softplus steps).
    A level's probability is the difference of neighbouring cumulative probabilities."""

    name = "ordinal"
    params_per_element = 1
    beyond: torch.Tensor  # (C, L_max) bool: the levels past each column's last

    def __init__(self, levels: Sequence[int]) -> None:
        super().__init__((len(levels),))
        if not levels or min(levels) < 2:
            raise ValueError("every ordinal column needs at least two levels")
        self.levels = tuple(int(k) for k in levels)
        widest = max(self.levels)
        start = torch.linspace(-1.0, 1.0, widest - 1) if widest > 2 else torch.zeros(1)
        raw = torch.cat([start[:1], torch.full((widest - 2,), 0.5413)]) if widest > 2 else start  # softplus -> 1
        self.raw_cuts = nn.Parameter(raw.repeat(len(self.levels), 1))  # (C, L_max - 1)
        position = torch.arange(widest)
        self.register_buffer("beyond", position >= torch.tensor(self.levels).unsqueeze(1), persistent=False)

    def cut_points(self) -> torch.Tensor:
        """``(C, L_max - 1)`` increasing cut points."""
        steps = F.softplus(self.raw_cuts[:, 1:])
        return torch.cat([self.raw_cuts[:, :1], self.raw_cuts[:, :1] + steps.cumsum(-1)], dim=-1)

    def element_distribution(self, eta: torch.Tensor) -> IndexCategorical:
        (location,) = self.split(eta)  # (..., C)
        cdf = torch.sigmoid(self.cut_points() - location.unsqueeze(-1))  # (..., C, L_max - 1)
        zeros, ones = torch.zeros_like(cdf[..., :1]), torch.ones_like(cdf[..., :1])
        cdf = torch.cat([zeros, cdf, ones], dim=-1)  # (..., C, L_max + 1)
        cdf = torch.where(torch.cat([self.beyond[:, :1], self.beyond], dim=-1), 1.0, cdf)  # past L_c: all mass
        probs = cdf[..., 1:] - cdf[..., :-1]  # (..., C, L_max)
        logits = torch.where(self.beyond, float("-inf"), probs.clamp_min(TINY).log())
        return IndexCategorical(logits=logits, validate_args=False)

    def support_problem(self, x: torch.Tensor) -> str | None:
        levels = torch.tensor(self.levels, device=x.device)
        if bool(((x < 0) | (x >= levels) | (x != x.round())).any()):
            return "an ordinal column holds a value that is not one of its levels"
        return None
