"""An image discriminator whose hidden features double as a learned similarity metric (VAE-GAN).

``images (..., C, H, W) -> logits (...,)``, computed as ``head(features(x))``: ``features`` is Larsen et al.
2016's Dis_l, the discriminator's l-th layer, which VAE-GAN compares between an image and its reconstruction
(their eq. 6), and ``head`` maps it to the logit of "real". The two halves are separate modules so a loss can
run either with the parameters held fixed.

Images of at least ``MIN_CONV_SIDE`` pixels a side get stride-2 convolutions (kernel 4, padding 1, the sizes of
``vaelab.nn.conv``, leaky ReLU 0.2) and Dis_l is the last convolution's feature map, flattened, so the
comparison keeps where things are; the head is one hidden fully connected layer and the logit (the layout of
Larsen et al.'s discriminator, without its batch normalisation, which would mix real and generated images in
one statistic). Smaller images, such as 8x8 digits, get an MLP: stride-2 convolutions would leave a single
layer of 4x4 maps, while an MLP sees the whole 64-pixel image in every unit at little cost; its Dis_l is its
last hidden layer before the head's. Dis_l is never the head's hidden layer: that layer exists to separate real
from generated images, and there (tried on digits) an image's features and its reconstruction's came out
anticorrelated and the samples were not digits. ``convolutional`` overrides the choice by size: VAE-GAN uses
the MLP for every size by default, as on 28 x 28 binarized MNIST the convolutions (32, 64 channels) made a
training step about 6x as long as the MLP's on the CPU.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import nn

from vaelab.nn.conv import KERNEL, PADDING, STRIDE, spatial_sizes
from vaelab.nn.discriminator import LeakyReLU
from vaelab.nn.mlp import MLP

MIN_CONV_SIDE = 16  # the smaller side from which the discriminator is convolutional
IMAGE_DISCRIMINATOR_WIDTHS = (32, 64, 256)  # conv channels or MLP hidden layers, then the head's hidden units


def unit_scale(feature_dim: int) -> nn.LayerNorm:
    """Each example's features standardised, without a learned scale: the unit-variance features that the
    batch normalisation of Larsen et al.'s discriminator gives their Gaussian N(Dis_l(x) | Dis_l(x~), I). Without
    it, a fresh discriminator's features are about 1e-2, L_llike is negligible beside the KL and the posterior
    collapses (0.09 nats of KL on digits)."""
    return nn.LayerNorm(feature_dim, elementwise_affine=False)


class ImageDiscriminator(nn.Module):
    """Logits of "real" for images of ``data_shape = (C, H, W)``. ``widths`` (at least two) are the channels of
    the convolutions or the units of the MLP's hidden layers, the last of which is Dis_l, followed by the units
    of the head's one hidden layer. ``convolutional`` chooses the network; None: by the image size."""

    def __init__(
        self,
        data_shape: Sequence[int],
        widths: Sequence[int] = IMAGE_DISCRIMINATOR_WIDTHS,
        convolutional: bool | None = None,
    ) -> None:
        super().__init__()
        channels, height, width = data_shape
        self.data_shape = tuple(data_shape)
        self.convolutional = min(height, width) >= MIN_CONV_SIDE if convolutional is None else convolutional
        if self.convolutional:
            sizes = spatial_sizes(height, width, len(widths) - 1)
            chans = [channels, *widths[: len(sizes) - 1]]
            layers: list[nn.Module] = []
            for c_in, c_out in itertools.pairwise(chans):
                layers += [nn.Conv2d(c_in, c_out, KERNEL, STRIDE, PADDING), LeakyReLU()]
            feature_dim = chans[-1] * math.prod(sizes[-1])
            self.features: nn.Module = nn.Sequential(*layers, nn.Flatten(), unit_scale(feature_dim))
        else:
            feature_dim = widths[-2]
            hidden = MLP(data_shape, widths[:-2], (feature_dim,), activation=LeakyReLU, final_activation=True)
            self.features = nn.Sequential(hidden, unit_scale(feature_dim))
        self.head: nn.Module = MLP((feature_dim,), widths[-1:], (), activation=LeakyReLU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch = x.shape[:-3]
        logits: torch.Tensor = self.head(self.features(x.reshape(-1, *self.data_shape)))  # (N,)
        return logits.reshape(batch)
