"""What an encoder reads from data with missing entries: the values, filled, and optionally the mask."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def encoder_input_shape(data_shape: Sequence[int], mask_input: bool) -> tuple[int, ...]:
    """The shape one example has at the encoder: ``data_shape``, its first axis doubled with ``mask_input``."""
    first, *rest = data_shape
    return (2 * first if mask_input else first, *rest)


class MissingInput(nn.Module):
    """``(x, mask) -> the encoder's input``, ``x, mask: (B, *data_shape)``.

    A missing entry (``mask`` false) is replaced by its fill value: 0 in model space (the zero imputation of
    Mattei & Frellsen 2019, §2.3; a standardised column's mean) or each entry's training mean. With
    ``mask_input`` the mask is stacked behind the values along the first data axis (an image's channels, a
    table's columns), ``(B, 2 d_1, d_2, ...)``, so the encoder knows which values it can trust (Nazabal et
    al. 2020, §3.2; Ipsen et al. 2021). No mask: every entry observed.
    """

    fill: torch.Tensor  # (*data_shape)

    def __init__(self, data_shape: Sequence[int], fill_values: Sequence[float] | None, mask_input: bool) -> None:
        super().__init__()
        fill = torch.zeros(tuple(data_shape)) if fill_values is None else torch.tensor(fill_values).reshape(data_shape)
        self.register_buffer("fill", fill.float(), persistent=False)  # rebuilt from the spec, not stored twice
        self.mask_input = mask_input

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        if mask is not None:
            x = torch.where(mask, x, self.fill.to(x.dtype))
        if not self.mask_input:
            return x
        observed = torch.ones_like(x) if mask is None else mask.to(x.dtype)
        return torch.cat([x, observed], dim=1)
