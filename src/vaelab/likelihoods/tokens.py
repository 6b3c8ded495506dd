"""Categorical likelihood over the tokens of a sequence, under its padding mask (Bowman et al. 2016, eq. 1:
``log p(x|z) = sum_t log p(x_t | x_<t, z)``, the autoregressive decoder supplying each step's logits)."""

from __future__ import annotations

import torch
from torch.distributions import Distribution

from vaelab.distributions import SoftmaxCategorical
from vaelab.likelihoods.base import Likelihood
from vaelab.nn.recurrent import PAD_ID


class TokensLikelihood(Likelihood):
    """``x: (B, T)`` int64 token ids, padding (id 0) after each row's last token; the decoder emits logits
    ``(..., B, T, V)``. Padding is never scored, whatever mask the batch brings."""

    name = "tokens"

    def __init__(self, data_shape: tuple[int, ...], vocab_size: int) -> None:
        super().__init__(data_shape)
        self.vocab_size = vocab_size
        self.params_per_element = vocab_size

    @property
    def param_shape(self) -> tuple[int, ...]:
        return (*self.data_shape, self.vocab_size)  # logits last, as a recurrent decoder emits them

    def element_distribution(self, eta: torch.Tensor) -> SoftmaxCategorical:
        return SoftmaxCategorical(eta)

    def log_prob(self, p_x: Distribution, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        tokens = x != PAD_ID
        return super().log_prob(p_x, x, tokens if mask is None else tokens & mask)

    def support_problem(self, x: torch.Tensor) -> str | None:
        if x.is_floating_point() or bool((x < 0).any()) or bool((x >= self.vocab_size).any()):
            return f"token ids must be integers in [0, {self.vocab_size}) for a vocabulary of {self.vocab_size}"
        return None
