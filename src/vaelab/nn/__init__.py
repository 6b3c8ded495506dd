"""Networks: tensor -> tensor maps that know nothing of probability."""

from vaelab.nn.conv import ConvDecoder, ConvEncoder
from vaelab.nn.discriminator import Discriminator
from vaelab.nn.mlp import MLP

__all__ = ["MLP", "ConvDecoder", "ConvEncoder", "Discriminator"]
