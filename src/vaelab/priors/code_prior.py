"""An autoregressive prior over a VQ-VAE's code indices (van den Oord et al. 2017, section 3.3).

p(c) = prod_l p(c_l | c_<l) over the ``codes`` positions of the vector-quantised posterior, each a softmax
over its ``codebook_size`` indices: a GRU reads the indices before position l (a start symbol first) and
gives the logits of c_l. The paper fits PixelCNN over the spatial grid after the autoencoder; here a small
GRU over the flat sequence of positions (which suits the MLP and conv networks' flat codes) trains in the
same run, on the indices only, so its log-likelihood does not pull the encoder. The distribution it gives is
over codes z (the codebook vectors at the indices), so ``VAE.sample`` decodes ancestral draws as any prior's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.distributions import Distribution, constraints

from vaelab.posteriors.vector_quantizer import VectorQuantizer


class CodePrior(nn.Module):
    """``() -> AutoregressiveCodes``: the GRU (embedding of each index and a start symbol, ``hidden`` units)
    and the output layer to the logits of the next index.

    The quantiser belongs to the VAE (its posterior): it is held here as a plain reference, not a submodule,
    so its codebook is stored once, as the VampPrior holds the encoder.
    """

    _quantizer: VectorQuantizer

    def __init__(self, quantizer: VectorQuantizer, embedding_dim: int, hidden: int) -> None:
        super().__init__()
        object.__setattr__(self, "_quantizer", quantizer)  # bypasses nn.Module registration on purpose
        self.start = quantizer.codebook_size  # the start symbol's embedding row
        self.embedding = nn.Embedding(quantizer.codebook_size + 1, embedding_dim)
        self.gru = nn.GRU(embedding_dim, hidden, batch_first=True)
        self.output = nn.Linear(hidden, quantizer.codebook_size)

    @property
    def quantizer(self) -> VectorQuantizer:
        return self._quantizer

    def forward(self) -> AutoregressiveCodes:
        return AutoregressiveCodes(self)

    def log_prob_indices(self, indices: torch.Tensor) -> torch.Tensor:
        """log p(c) of index sequences ``(N, L)``, ``(N,)``: the logits of c_l from c_<l (teacher forcing)."""
        start = torch.full_like(indices[:, :1], self.start)
        hidden, _ = self.gru(self.embedding(torch.cat([start, indices[:, :-1]], dim=1)))  # (N, L, H)
        log_p = self.output(hidden).float().log_softmax(-1)  # (N, L, K)
        return log_p.gather(-1, indices.unsqueeze(-1)).squeeze(-1).sum(-1)

    def sample_indices(self, n: int) -> torch.Tensor:
        """``n`` ancestral draws ``(n, L)``: c_l ~ p(c_l | c_<l), one position at a time."""
        device = self.output.weight.device
        previous = torch.full((n, 1), self.start, dtype=torch.long, device=device)
        state = None
        drawn = []
        for _ in range(self.quantizer.codes):
            hidden, state = self.gru(self.embedding(previous), state)  # (n, 1, H)
            previous = torch.distributions.Categorical(logits=self.output(hidden).float()).sample()  # (n, 1)
            drawn.append(previous)
        return torch.cat(drawn, dim=1)


class AutoregressiveCodes(Distribution):
    """p(z) over codes ``(D,)``: z is the codebook vectors at indices c ~ p(c), so ``log_prob(z) = log p(c)``
    with c the indices of z's code vectors (codes off the codebook score as their nearest codes)."""

    arg_constraints: dict[str, constraints.Constraint] = {}
    support = constraints.real_vector

    def __init__(self, prior: CodePrior) -> None:
        self.prior = prior
        super().__init__(torch.Size(), torch.Size([prior.quantizer.latent_dim]), validate_args=False)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        indices = self.prior.quantizer.indices_of(value)  # (..., codes)
        return self.prior.log_prob_indices(indices.reshape(-1, indices.shape[-1])).reshape(value.shape[:-1])

    def sample(self, sample_shape: torch.Size | Sequence[int] = ()) -> torch.Tensor:
        n = math.prod(sample_shape)
        with torch.no_grad():
            codes = self.prior.quantizer.lookup(self.prior.sample_indices(n))  # (n, D)
        return codes.reshape(*sample_shape, -1)
