"""Networks: tensor -> tensor maps that know nothing of probability."""

from vaelab.nn.conv import ConvDecoder, ConvEncoder
from vaelab.nn.discriminator import Discriminator
from vaelab.nn.mlp import MLP
from vaelab.nn.pairs import conv_pair, mlp_pair

__all__ = ["MLP", "ConvDecoder", "ConvEncoder", "Discriminator", "conv_pair", "mlp_pair"]
