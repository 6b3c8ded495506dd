"""The data config's sequence fields as the loader's ``SequenceOptions``, for training or for a trained model."""

from __future__ import annotations

from vaelab.config.schema import DataConfig
from vaelab.data.sequences import SequenceOptions
from vaelab.models import VAE


def sequence_options(data: DataConfig, model: VAE | None = None) -> SequenceOptions:
    """How ``data``'s texts become token ids; for a trained ``model``, with its vocabulary and length, so
    that any split or file is encoded as the model was trained."""
    vocabulary = None if model is None else model.vocabulary
    max_length = data.max_length
    if vocabulary is not None and model is not None:
        max_length = model.data_shape[0] - 1  # the stored layout keeps one place for the end token
    return SequenceOptions(
        tokens=None if vocabulary is not None else data.tokens,
        column=data.column,
        canonical=data.canonical,
        invalid=data.invalid,
        unknown=data.unknown,
        max_length=max_length,
        limit=data.limit,
        vocabulary=vocabulary,
    )
