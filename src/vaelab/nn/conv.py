"""Convolutional encoder and decoder for images of any height, width and channel count.

Each stride-2 convolution (kernel 4, padding 1) halves the spatial size; the decoder retraces the
encoder's exact sizes with transposed convolutions, so odd sizes such as 28 -> 14 -> 7 -> 3 round-trip.
The layout follows the encoder of Burgess et al. 2018, "Understanding disentangling in beta-VAE".
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

KERNEL, STRIDE, PADDING = 4, 2, 1
MIN_SIZE = 3  # stop downsampling before either side would fall below this


def spatial_sizes(height: int, width: int, max_layers: int) -> list[tuple[int, int]]:
    """Input size followed by the size after each stride-2 convolution (at most ``max_layers``)."""
    sizes = [(height, width)]
    for _ in range(max_layers):
        h, w = ((s + 2 * PADDING - KERNEL) // STRIDE + 1 for s in sizes[-1])
        if min(h, w) < MIN_SIZE:
            break
        sizes.append((h, w))
    return sizes


def _flatten_batch(x: torch.Tensor, event_dims: int) -> tuple[torch.Tensor, tuple[int, ...]]:
    batch = x.shape[: x.dim() - event_dims]
    return x.reshape(-1, *x.shape[x.dim() - event_dims :]), tuple(batch)


class ConvEncoder(nn.Module):
    """``(..., C, H, W) -> (..., out_features)``."""

    def __init__(self, in_shape: Sequence[int], channels: Sequence[int], out_features: int) -> None:
        super().__init__()
        c, h, w = in_shape
        self.sizes = spatial_sizes(h, w, len(channels))
        chans = [c, *channels[: len(self.sizes) - 1]]
        self.convs = nn.ModuleList(
            nn.Conv2d(c_in, c_out, KERNEL, STRIDE, PADDING) for c_in, c_out in itertools.pairwise(chans)
        )
        self.fc = nn.Linear(chans[-1] * math.prod(self.sizes[-1]), out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, batch = _flatten_batch(x, 3)
        for conv in self.convs:
            x = F.relu(conv(x))
        return F.relu(self.fc(x.flatten(1))).reshape(*batch, -1)


class ConvDecoder(nn.Module):
    """``(..., in_features) -> (..., *out_shape)`` with ``out_shape = (P, C, H, W)``: P parameters per pixel."""

    def __init__(self, in_features: int, channels: Sequence[int], hidden: int, out_shape: Sequence[int]) -> None:
        super().__init__()
        self.out_shape = tuple(out_shape)
        params, c, h, w = self.out_shape
        self.sizes = spatial_sizes(h, w, len(channels))[::-1]  # smallest first
        chans = [*list(channels[: len(self.sizes) - 1])[::-1], params * c]
        self.first_shape = (chans[0], *self.sizes[0])
        self.fc = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.ReLU(),
            nn.Linear(hidden, math.prod(self.first_shape)),
            nn.ReLU(),
        )
        self.deconvs = nn.ModuleList(
            nn.ConvTranspose2d(c_in, c_out, KERNEL, STRIDE, PADDING) for c_in, c_out in itertools.pairwise(chans)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z, batch = _flatten_batch(z, 1)
        x = self.fc(z).reshape(-1, *self.first_shape)
        for i, deconv in enumerate(self.deconvs):
            x = deconv(x, output_size=list(self.sizes[i + 1]))
            if i < len(self.deconvs) - 1:
                x = F.relu(x)
        return x.reshape(*batch, *self.out_shape)
