"""Latent traversals: vary one latent dimension over a range while the others stay at a base code.

Each row of a traversal decodes ``z_d = v`` for the values ``v`` (for example 11 points on [-3, 3], in
units of the standard normal prior's scale) with every other coordinate fixed at the base code, usually
the posterior mean of one example (Higgins et al. 2017, "β-VAE", figures 1-7). Ordering the rows by the
KL each dimension carries puts the dimensions the model uses first; dimensions with KL near zero have
collapsed onto the prior and decode to the same picture along the whole row (the KL per dimension is
``vaelab.evaluation.latent.kl_per_dim``; ``vaelab.report.analysis.mean_kl_per_dimension`` averages it
over a dataset).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from vaelab.errors import UserError
from vaelab.models import VAE


def traversal_codes(base: torch.Tensor, dims: Sequence[int], values: torch.Tensor) -> torch.Tensor:
    """Codes for a traversal: ``base: (D,)``, ``values: (T,)`` -> ``(len(dims), T, D)`` where row ``i``,
    column ``t`` equals ``base`` except that coordinate ``dims[i]`` is ``values[t]``."""
    if base.dim() != 1:
        raise UserError(f"the base code must be one latent vector (D,), got shape {tuple(base.shape)}")
    latent_dim = base.shape[0]
    bad = [d for d in dims if not 0 <= d < latent_dim]
    if bad:
        raise UserError(f"latent dimension {bad[0]} does not exist; the model has dimensions 0..{latent_dim - 1}")
    codes = base.expand(len(dims), len(values), latent_dim).clone()  # (R, T, D)
    for row, d in enumerate(dims):
        codes[row, :, d] = values
    return codes


@torch.inference_mode()
def traverse(
    model: VAE,
    base: torch.Tensor,
    dims: Sequence[int],
    values: torch.Tensor,
    y: torch.Tensor | None = None,
) -> torch.Tensor:
    """Decoded traversal E[x | z], shape ``(len(dims), T, *data_shape)``; ``y: (1, ...)`` is the condition
    of a conditional model (one label or condition vector, used for every picture)."""
    codes = traversal_codes(base, dims, values).to(base.device)  # (R, T, D)
    flat = codes.reshape(-1, codes.shape[-1])  # (R * T, D)
    y_flat = None if y is None else y.expand(len(flat), *y.shape[1:])
    return model.examples(flat, y_flat).reshape(len(dims), len(values), *model.data_shape)


def order_by_kl(kl: torch.Tensor) -> list[int]:
    """Dimension indices by decreasing KL (ties keep index order)."""
    return torch.argsort(kl, descending=True, stable=True).tolist()
