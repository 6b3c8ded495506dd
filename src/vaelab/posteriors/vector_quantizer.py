"""A vector-quantised posterior (VQ-VAE: van den Oord et al. 2017, "Neural Discrete Representation Learning").

The encoder's features become a grid of ``codes`` code vectors of ``code_dim`` each (latent_dim = codes x
code_dim: the code positions of the flat features, for the MLP and the conv networks alike, whose encoders
end in a fully connected layer), each snapped to its nearest of ``codebook_size`` codebook vectors. q(z|x)
is a point mass at the snapped codes z_q; its ``rsample`` carries the straight-through estimator
``z_e + sg(z_q - z_e)`` (section 3.2), so d loss / d z_e = d loss / d z_q. It is written
``z_q + (z_e - sg(z_e))``: the same gradient, and the value is z_q bit for bit (the other form rounds).

The codebook learns by exponential moving averages (appendix A.1, eqs. 6-8) with Laplace-smoothed counts
(Razavi et al. 2019's implementation), not by gradients, and codes no training batch used for
``restart_after`` steps restart at random encoder outputs of the batch (Dhariwal et al. 2020, "Jukebox",
section 2.3). Every piece of that state is a buffer, saved in ``model.safetensors`` with the weights.

With a discrete prior p(c) over the code indices (``vaelab.priors.code_prior``), KL(q || p) = -log p(c)
(q is one-hot, its entropy 0): the ``elbo`` is ``log p(x | z_q) + log p(c)``, a lower bound on
log p(x) = log sum_c p(c) p(x | e_c) (one term of the sum). ``VAE.log_likelihood`` gives that same figure
whatever its number of samples: every draw of a point mass is the same code, so its importance weights are
all equal and the estimate stays the bound (valid, but no tighter than the ELBO).
"""

from __future__ import annotations

import torch
from torch import nn

from vaelab.errors import UserError
from vaelab.posteriors.point import PointMass


class QuantizedCodes(PointMass):
    """δ(z - z_q) with the straight-through location ``z_q + (z_e - sg(z_e))`` (z_q in value), batch
    ``(B,)``, event ``(D,)``; it keeps the encoder's output ``z_e: (B, D)`` and the code ``indices: (B, codes)``
    for the objective (commitment loss, codebook use), and the ``codebook_size`` K they index."""

    def __init__(self, z_e: torch.Tensor, z_q: torch.Tensor, indices: torch.Tensor, codebook_size: int) -> None:
        super().__init__(z_q + (z_e - z_e.detach()))
        self.z_e = z_e
        self.indices = indices
        self.codebook_size = codebook_size

    @property
    def quantized(self) -> torch.Tensor:
        """z_q without a gradient path, ``(B, D)``: sg(e) of the commitment loss."""
        return self.loc.detach()


class VectorQuantizer(nn.Module):
    """``h -> QuantizedCodes``: ``z_e = W h + b`` cut into ``codes`` vectors, each replaced by its nearest
    codebook vector (van den Oord et al. 2017, eq. 1-2).

    Buffers: ``codebook (K, code_dim)``; ``ema_count (K,)`` and ``ema_sum (K, code_dim)``, the moving averages
    N_i and m_i of the appendix's eqs. 6-7; ``idle_steps (K,)``, training steps since a code was last chosen.
    A forward pass in training mode updates them after quantising (so the batch is quantised by the codebook
    it is scored with).
    """

    codebook: torch.Tensor
    ema_count: torch.Tensor
    ema_sum: torch.Tensor
    idle_steps: torch.Tensor

    def __init__(
        self,
        in_features: int,
        latent_dim: int,
        code_dim: int,
        codebook_size: int,
        decay: float = 0.99,
        epsilon: float = 1e-5,
        restart_after: int = 100,
    ) -> None:
        super().__init__()
        if latent_dim % code_dim:
            raise UserError(
                f"model.latent_dim {latent_dim} is not a multiple of model.posterior.code_dim {code_dim}: the codes "
                "are latent_dim / code_dim vectors; set one so the other divides it"
            )
        self.latent_dim, self.code_dim, self.codebook_size = latent_dim, code_dim, codebook_size
        self.codes = latent_dim // code_dim
        self.decay, self.epsilon, self.restart_after = decay, epsilon, restart_after
        self.linear = nn.Linear(in_features, latent_dim)
        codebook = torch.randn(codebook_size, code_dim)
        self.register_buffer("codebook", codebook)
        self.register_buffer("ema_count", torch.ones(codebook_size))
        self.register_buffer("ema_sum", codebook.clone())
        self.register_buffer("idle_steps", torch.zeros(codebook_size, dtype=torch.long))

    def forward(self, h: torch.Tensor) -> QuantizedCodes:
        z_e = self.linear(h)  # (B, D)
        indices = self.indices_of(z_e)  # (B, codes)
        z_q = self.lookup(indices)  # (B, D), a copy: the update below leaves it as it is
        if self.training:
            self.update(z_e.detach().reshape(-1, self.code_dim), indices.reshape(-1))
        return QuantizedCodes(z_e, z_q, indices, self.codebook_size)

    @torch.no_grad()
    def indices_of(self, z: torch.Tensor) -> torch.Tensor:
        """The nearest codebook vector of each code vector of ``z: (..., D)``, indices ``(..., codes)``: the
        argmin of exact squared distances, ties to the lowest index, so the codes ``lookup`` returns map back
        to the same indices."""
        vectors = z.reshape(*z.shape[:-1], self.codes, 1, self.code_dim)
        distances = (vectors - self.codebook.to(z.dtype)).pow(2).sum(-1)  # (..., codes, K)
        return distances.argmin(-1)

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """The codes ``(..., D)`` of indices ``(..., codes)``."""
        return self.codebook[indices].flatten(-2)

    @torch.no_grad()
    def update(self, z_e: torch.Tensor, indices: torch.Tensor) -> None:
        """One EMA step on the flat encoder outputs ``z_e: (N, code_dim)`` and their ``indices: (N,)``, then
        restarts of idle codes.

        van den Oord et al. 2017, appendix A.1, eqs. 6-8, with gamma = ``decay``:
        N_i <- gamma N_i + (1 - gamma) n_i,  m_i <- gamma m_i + (1 - gamma) sum_{j: c_j = i} z_e_j,
        e_i = m_i / N~_i with the Laplace-smoothed count N~_i = (N_i + eps) / (n + K eps) n, n = sum_i N_i.
        """
        counts = torch.bincount(indices, minlength=self.codebook_size).to(z_e.dtype)  # n_i, (K,)
        sums = torch.zeros_like(self.ema_sum).index_add_(0, indices, z_e)  # (K, code_dim)
        self.ema_count.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.ema_sum.mul_(self.decay).add_(sums, alpha=1 - self.decay)
        total = self.ema_count.sum()
        smoothed = (self.ema_count + self.epsilon) / (total + self.codebook_size * self.epsilon) * total
        self.codebook.copy_(self.ema_sum / smoothed.unsqueeze(1))
        self.idle_steps.add_(1).masked_fill_(counts > 0, 0)
        self.restart_idle(z_e)

    @torch.no_grad()
    def restart_idle(self, z_e: torch.Tensor) -> None:
        """Codes idle for ``restart_after`` steps restart at encoder outputs of the batch ``z_e: (N, code_dim)``
        drawn without replacement where the batch has enough (Dhariwal et al. 2020, section 2.3): codebook
        vector and EMA sum at the output, EMA count 1, idle steps 0."""
        idle = (self.idle_steps >= self.restart_after).nonzero().squeeze(1)  # (R,)
        if len(idle) == 0:
            return
        draw = torch.randperm(len(z_e), device=z_e.device)[: len(idle)]
        if len(draw) < len(idle):
            draw = torch.randint(len(z_e), (len(idle),), device=z_e.device)
        self.codebook[idle] = z_e[draw]
        self.ema_sum[idle] = z_e[draw]
        self.ema_count[idle] = 1.0
        self.idle_steps[idle] = 0
