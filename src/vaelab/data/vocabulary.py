"""The vocabulary of a sequence dataset: token <-> id, the special tokens, and the stored layout of a sequence.

**Special tokens** hold the first four ids: ``<pad>`` = 0 (:data:`PAD`), ``<bos>`` = 1 (:data:`BOS`),
``<eos>`` = 2 (:data:`EOS`), ``<unk>`` = 3 (:data:`UNK`); the data's tokens follow in sorted order.

**Stored layout.** A sequence of ``n`` tokens is stored as a row of ``T`` ids: its ``n`` token ids, then
``<eos>``, then ``<pad>`` (0) up to ``T``. Its length is ``n + 1`` (the end token counts: a model learns
where to stop). ``<bos>`` is never stored: it is what an autoregressive decoder reads at the first step
(teacher forcing reads ``<bos>``, then the row shifted right by one). ``<pad>`` never occurs inside a
sequence, so the lengths are the number of non-padding ids (:func:`sequence_lengths`).

A vocabulary is built from the training split only and saved as JSON with the model (:meth:`to_dict`), so
encoding and decoding never need the training data. It names its tokenizer (:mod:`vaelab.data.tokens`),
which joins decoded tokens back into text.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaelab.atomic import atomic_write_text
from vaelab.data.download import one_line
from vaelab.data.tokens import TOKENIZERS
from vaelab.errors import UserError

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>", "<unk>")
"""The special tokens, at ids 0..3."""


@dataclass(frozen=True)
class Vocabulary:
    """``tokens[i]`` is the token of id ``i`` (the special tokens first); ``tokenizer`` made the tokens."""

    tokens: tuple[str, ...]
    tokenizer: str

    def __post_init__(self) -> None:
        if self.tokens[: len(SPECIAL_TOKENS)] != SPECIAL_TOKENS:
            raise UserError(
                f"a vocabulary starts with the special tokens {', '.join(SPECIAL_TOKENS)}; this one does not"
            )
        if len(set(self.tokens)) != len(self.tokens):
            repeated = next(t for t in self.tokens if self.tokens.count(t) > 1)
            raise UserError(f"the vocabulary lists the token {repeated!r} twice; each token has one id")
        if self.tokenizer not in TOKENIZERS:
            raise UserError(f"unknown tokenizer {self.tokenizer!r}; use one of: {', '.join(TOKENIZERS)}")

    @classmethod
    def build(cls, sequences: Iterable[Sequence[str]], tokenizer: str) -> Vocabulary:
        """The special tokens, then every token of ``sequences`` in sorted order."""
        seen = set(itertools.chain.from_iterable(sequences)) - set(SPECIAL_TOKENS)
        return cls((*SPECIAL_TOKENS, *sorted(seen)), tokenizer)

    def __len__(self) -> int:
        return len(self.tokens)

    @cached_property
    def index(self) -> dict[str, int]:
        """Token -> id."""
        return {token: i for i, token in enumerate(self.tokens)}

    @property
    def dtype(self) -> np.dtype:
        """How ids are stored: uint8 while every id fits, else int32."""
        return np.dtype(np.uint8 if len(self) <= 256 else np.int32)

    def ids(self, sequences: Sequence[Sequence[str]], width: int) -> np.ndarray:
        """``(N, width)`` ids in the stored layout (tokens, ``<eos>``, padding); a token not in the vocabulary
        becomes ``<unk>``. Every sequence must hold fewer than ``width`` tokens."""
        lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
        index = self.index
        flat = np.fromiter(
            (index.get(token, UNK) for sequence in sequences for token in sequence), self.dtype, int(lengths.sum())
        )
        rows = np.repeat(np.arange(len(sequences)), lengths)
        starts = np.cumsum(lengths) - lengths
        ids = np.full((len(sequences), width), PAD, self.dtype)
        ids[rows, np.arange(flat.size) - np.repeat(starts, lengths)] = flat
        ids[np.arange(len(sequences)), lengths] = EOS
        return ids

    def decode(self, ids: Sequence[int] | np.ndarray) -> list[str]:
        """The tokens of one stored row: every id before the first ``<eos>`` or ``<pad>`` (other special ids
        decode to their names)."""
        tokens = []
        for i in np.asarray(ids).tolist():
            if i in (EOS, PAD):
                break
            tokens.append(self.tokens[i])
        return tokens

    def texts(self, ids: np.ndarray | torch.Tensor) -> list[str | None]:
        """``(N, T)`` stored rows (or sampled ids) -> their texts, joined by the tokenizer (SMILES for SELFIES
        symbols); None for a row whose tokens do not form a text."""
        join = TOKENIZERS[self.tokenizer].join
        texts: list[str | None] = []
        for row in np.asarray(ids.cpu() if isinstance(ids, torch.Tensor) else ids):
            try:
                texts.append(join(self.decode(row)))
            except ValueError:
                texts.append(None)
        return texts

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: ``{"tokenizer": ..., "tokens": [...]}``; :meth:`from_dict` reads it back."""
        return {"tokenizer": self.tokenizer, "tokens": list(self.tokens)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Vocabulary:
        tokens, tokenizer = d.get("tokens"), d.get("tokenizer")
        if (
            not isinstance(tokens, list)
            or not all(isinstance(t, str) for t in tokens)
            or not isinstance(tokenizer, str)
        ):
            raise UserError("a vocabulary is a JSON object with 'tokenizer' (a name) and 'tokens' (a list of strings)")
        return cls(tuple(tokens), tokenizer)

    def save(self, path: str | Path) -> None:
        """Write the vocabulary as JSON, atomically."""
        atomic_write_text(path, json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        """A vocabulary :meth:`save` wrote; UserError naming the file when it is not one."""
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise UserError(
                f"{path}: cannot read a vocabulary from it ({one_line(error)}); give the JSON file vaelab saved"
            ) from error
        if not isinstance(d, dict):
            raise UserError(f"{path}: holds no vocabulary object; give the JSON file vaelab saved")
        return cls.from_dict(d)


def sequence_lengths(ids: torch.Tensor) -> torch.Tensor:
    """``(B, T)`` stored token ids -> ``(B,)`` int64 lengths (the end token included): the non-padding ids."""
    return (ids != PAD).sum(dim=-1)
