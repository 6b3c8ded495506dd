"""A VAE's encoder and decoder built as a mirrored pair, so every builder wires them the same way."""

from __future__ import annotations

from collections.abc import Sequence

from vaelab.nn.conv import ConvDecoder, ConvEncoder
from vaelab.nn.mlp import MLP


def mlp_pair(
    data_shape: Sequence[int], hidden_dims: Sequence[int], decoder_in: int, out_shape: Sequence[int]
) -> tuple[MLP, MLP, int]:
    """``(encoder, decoder, features)``: the encoder maps ``data_shape`` through ``hidden_dims`` to its
    last width ``features``; the decoder maps ``decoder_in`` (z, plus any condition) back through the
    reversed widths to ``out_shape``."""
    *hidden, features = hidden_dims
    encoder = MLP(data_shape, hidden, (features,), final_activation=True)
    decoder = MLP((decoder_in,), list(hidden_dims)[::-1], out_shape)
    return encoder, decoder, features


def conv_pair(
    data_shape: Sequence[int], channels: Sequence[int], hidden: int, decoder_in: int, out_shape: Sequence[int]
) -> tuple[ConvEncoder, ConvDecoder, int]:
    """``(encoder, decoder, features)`` for images: strided convolutions with ``channels`` down to
    ``hidden`` features, and their transposes from ``decoder_in`` up to ``out_shape``."""
    return ConvEncoder(data_shape, channels, hidden), ConvDecoder(decoder_in, channels, hidden, out_shape), hidden
