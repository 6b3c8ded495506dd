"""q(y|x): the classifier of a semi-supervised VAE (Kingma et al. 2014, M2, eq. 7), a network of the encoder's
kind with its own weights, then a linear layer to one logit per class."""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Categorical

from vaelab.distributions import SoftmaxCategorical


class LabelPosterior(nn.Module):
    """Model-space inputs ``(B, *encoder_input_shape)`` -> ``Categorical`` over ``num_classes``, batch ``(B,)``."""

    def __init__(self, network: nn.Module, features: int, num_classes: int) -> None:
        super().__init__()
        self.network = network
        self.logits = nn.Linear(features, num_classes)
        self.num_classes = num_classes

    def forward(self, inputs: torch.Tensor) -> Categorical:
        return SoftmaxCategorical(self.logits(self.network(inputs)).float())
