"""Sequence datasets: texts -> (molecules checked and canonicalised) -> tokens -> padded token ids.

A split of a :class:`SequenceSource` becomes an :class:`ArrayDataset` of kind ``"sequence"``: ``x`` the
``(N, T)`` token ids in the stored layout of :mod:`vaelab.data.vocabulary` (tokens, ``<eos>``, ``<pad>`` = 0;
uint8 while the vocabulary has at most 256 tokens, else int32), ``levels`` None (token ids are not on a value
grid, so model space keeps them as integer ids: :func:`vaelab.data.dataset.to_model_space`), and the
``vocabulary``. The options (:class:`SequenceOptions`) and the rules:

- **Tokens** (``tokens``): ``chars``, ``smiles`` or ``selfies`` (:mod:`vaelab.data.tokens`); by default
  ``smiles`` for a source of molecules and ``chars`` for other text.
- **Molecules** (a source of molecules, or ``smiles``/``selfies`` tokens): each text is read by RDKit and
  replaced by its canonical SMILES (``canonical=False`` keeps it as given). A text RDKit cannot read (or the
  tokenizer cannot write, e.g. SELFIES) is skipped, with one warning line giving the count and the first lines
  (``invalid="skip"``), or is a UserError naming the line (``invalid="error"``). A source left with no
  molecule is a UserError.
- **Vocabulary**: built from the training split only (a file's ``all`` builds its own from every row); the
  other splits are encoded with it. A token it lacks is a UserError naming the token and the line
  (``unknown="error"``), or is read as ``<unk>`` with one warning line counting the rows (``unknown="map"``).
  By default (``unknown=None``) the held-out splits of a dataset map (a random subset of MOSES may miss a rare
  ring-closure digit that its ``valid`` split holds), and texts encoded with a trained model's ``vocabulary``
  (given instead, with its ``max_length``) are an error.
- **Length**: ``max_length`` tokens at most (the end token not counted), so ``T = max_length + 1``. By default
  the training split's longest plus a quarter (:data:`LENGTH_HEADROOM`, so a held-out split, a subset's or a
  new molecule a little longer still fits; training batches are cut at their longest row, so the headroom
  costs no training time), at most :data:`MAX_LENGTH`, which the training split's longest may not exceed; a
  longer sequence in any split is a UserError naming the line and the length.
- **Limit**: ``limit`` keeps a seeded random subset of at most that many rows of the split (taken before
  anything is read by RDKit; a smaller limit keeps a subset of a larger one's rows).

Large loads are cached (:mod:`vaelab.data.sequence_cache`).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vaelab.data.dataset import ArrayDataset
from vaelab.data.molecules import import_selfies, rdkit_smiles, rdkit_version
from vaelab.data.sequence_cache import (
    CACHE_MIN_ROWS,
    CachedSequences,
    cache_folder,
    file_stamp,
    read_cached,
    write_cached,
)
from vaelab.data.splits import check_split, seeded_subset
from vaelab.data.text_rows import TextRows
from vaelab.data.tokens import TOKENIZERS, Tokenizer
from vaelab.data.vocabulary import UNK, Vocabulary
from vaelab.errors import UserError

TRAIN = "train"
OWN_ENCODING = (TRAIN, "all")
"""Splits whose vocabulary and default max_length come from their own rows: ``train``, and ``all`` (a file's
every row, nothing held out); the other splits are encoded as ``train``."""
MAX_LENGTH = 512
"""The most tokens a sequence may hold unless ``max_length`` says otherwise."""
LENGTH_HEADROOM = 1.25
"""The default ``max_length`` as a multiple of the training split's longest sequence."""
INVALID = ("skip", "error")
UNKNOWN = ("error", "map")
_NAMED_LINES = 5  # lines a warning names
_SHOWN_CHARS = 60  # characters of a text a message shows


class SkippedMoleculesWarning(UserWarning):
    """Some texts held no usable molecule and were left out, or held tokens read as ``<unk>``; the message
    counts them and names the first line."""


@dataclass(frozen=True)
class SequenceOptions:
    """How texts become token ids (the rules are in the module docstring)."""

    tokens: str | None = None
    column: str | None = None
    canonical: bool = True
    invalid: str = "skip"
    unknown: str | None = None
    max_length: int | None = None
    limit: int | None = None
    vocabulary: Vocabulary | None = None

    def __post_init__(self) -> None:
        if self.tokens is not None and self.tokens not in TOKENIZERS:
            raise UserError(f"unknown tokens {self.tokens!r}; use one of: {', '.join(TOKENIZERS)}")
        if self.vocabulary is not None and self.tokens not in (None, self.vocabulary.tokenizer):
            raise UserError(
                f"tokens {self.tokens!r} differ from the given vocabulary's {self.vocabulary.tokenizer!r}; leave "
                "tokens= out to use the vocabulary's"
            )
        if self.invalid not in INVALID:
            raise UserError(f"unknown invalid={self.invalid!r}; use one of: {', '.join(INVALID)}")
        if self.unknown is not None and self.unknown not in UNKNOWN:
            raise UserError(f"unknown unknown={self.unknown!r}; use one of: {', '.join(UNKNOWN)}")
        for name in ("max_length", "limit"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise UserError(f"{name}={value!r}: give a whole number of at least 1, or leave it out")

    def unknown_tokens(self) -> str:
        """What a token outside the vocabulary does: ``unknown``, else an error for a given vocabulary and
        ``<unk>`` for the vocabulary of the training split."""
        return self.unknown or ("error" if self.vocabulary is not None else "map")

    def tokenizer(self, molecules: bool) -> Tokenizer:
        """The tokenizer ``tokens`` names (or the vocabulary); by default ``smiles`` for molecules, else ``chars``."""
        name = self.tokens or (self.vocabulary.tokenizer if self.vocabulary else None)
        return TOKENIZERS[name or ("smiles" if molecules else "chars")]


@dataclass(frozen=True)
class SequenceSource:
    """Where a dataset's texts come from: its ``name``, the ``splits`` it offers (``train`` among them), ``read``
    from a split to its rows, whether it holds ``molecules``, and ``file`` from a split to the file it reads
    (which keys the cache)."""

    name: str
    splits: tuple[str, ...]
    read: Callable[[str], TextRows]
    molecules: bool
    file: Callable[[str], Path]


def load_sequences(source: SequenceSource, split: str, options: SequenceOptions) -> ArrayDataset:
    """One split of ``source`` as a sequence dataset (rules in the module docstring)."""
    check_split(split, source.splits, source.name)
    tokenizer = options.tokenizer(source.molecules)
    molecules = source.molecules or tokenizer.molecules
    folder = cache_folder(_cache_inputs(source, split, options, tokenizer, molecules))
    entry = read_cached(folder) or _cached_as_trained(source, split, options, tokenizer, molecules)
    if entry is None:
        entry = _encode_split(source, split, options, tokenizer, molecules)
        if len(entry.ids) >= CACHE_MIN_ROWS:
            write_cached(folder, entry)
    if entry.notice is not None:
        warnings.warn(entry.notice, SkippedMoleculesWarning, stacklevel=2)
    return ArrayDataset(entry.ids, None, None, source.name, kind="sequence", vocabulary=entry.vocabulary)


def _cached_as_trained(
    source: SequenceSource, split: str, options: SequenceOptions, tokenizer: Tokenizer, molecules: bool
) -> CachedSequences | None:
    """For a given vocabulary (a trained model's), the cached entry of the split as loaded for training, when
    its vocabulary and length are the given ones and it holds no ``<unk>``: encoding the split again would
    give the same ids. None otherwise (then the split is encoded)."""
    if options.vocabulary is None:
        return None
    as_trained = dataclasses.replace(options, vocabulary=None, max_length=None, unknown=None)
    entry = read_cached(cache_folder(_cache_inputs(source, split, as_trained, tokenizer, molecules)))
    if entry is None or entry.vocabulary != options.vocabulary:
        return None
    same_layout = entry.ids.shape[1] == (options.max_length or 0) + 1
    return entry if same_layout and not (entry.ids == UNK).any() else None


def encode_texts(texts: list[str], origin: str, vocabulary: Vocabulary, max_length: int) -> np.ndarray:
    """Texts a user gives a trained model (e.g. two molecules to interpolate between) as ``(N, max_length + 1)``
    ids of its ``vocabulary``: molecules canonicalised; an unreadable text, an unseen token or an over-long
    sequence is a UserError naming ``origin`` and the text's place (1-based)."""
    options = SequenceOptions(vocabulary=vocabulary, max_length=max_length, invalid="error")
    tokenizer = options.tokenizer(molecules=False)
    rows = TextRows(texts, np.arange(1, len(texts) + 1), origin)
    return _encode_rows(rows, origin, options, tokenizer, tokenizer.molecules, (vocabulary, max_length)).ids


def _encode_split(
    source: SequenceSource, split: str, options: SequenceOptions, tokenizer: Tokenizer, molecules: bool
) -> CachedSequences:
    encoding = _training_encoding(source, split, options)
    rows = source.read(split)
    if options.limit is not None:
        rows = rows.subset(seeded_subset(len(rows), options.limit))
    return _encode_rows(rows, split, options, tokenizer, molecules, encoding)


def _encode_rows(
    rows: TextRows,
    split: str,
    options: SequenceOptions,
    tokenizer: Tokenizer,
    molecules: bool,
    encoding: tuple[Vocabulary | None, int | None],
) -> CachedSequences:
    """``rows`` as ids of the vocabulary and length in ``encoding`` (each None: made from these rows)."""
    vocabulary, max_length = encoding
    sequences, lines, notice = _tokenize(rows, tokenizer, molecules, options)
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    if vocabulary is None:
        vocabulary = Vocabulary.build(sequences, tokenizer.name)
    if max_length is None:
        max_length = _default_max_length(lengths, lines, rows.source)
    _check_lengths(lengths, lines, rows.source, max_length, options.max_length is None)
    ids = vocabulary.ids(sequences, max_length + 1)
    unseen = _unseen_notice(ids, sequences, lines, rows.source, vocabulary, split, options)
    notices = [text for text in (notice, unseen) if text is not None]
    return CachedSequences(ids, vocabulary, "; ".join(notices) if notices else None)


def _training_encoding(
    source: SequenceSource, split: str, options: SequenceOptions
) -> tuple[Vocabulary | None, int | None]:
    """The vocabulary and max_length to encode ``split`` with: the given ones, else the training split's
    (None for what the training split itself determines)."""
    if split in OWN_ENCODING or options.vocabulary is not None:
        return options.vocabulary, options.max_length
    with warnings.catch_warnings():  # the training split's skipped lines are reported when it is loaded
        warnings.simplefilter("ignore", SkippedMoleculesWarning)
        train = load_sequences(source, TRAIN, options)
    assert train.vocabulary is not None
    return train.vocabulary, train.data_shape[0] - 1


def _tokenize(
    rows: TextRows, tokenizer: Tokenizer, molecules: bool, options: SequenceOptions
) -> tuple[list[list[str]], np.ndarray, str | None]:
    """The tokens of every usable row, their file lines, and the warning about skipped rows (None: none)."""
    texts: list[str | None] = rdkit_smiles(rows.texts, options.canonical) if molecules else list(rows.texts)
    sequences, kept, skipped = [], [], []
    first_problem = ""
    for i, text in enumerate(texts):
        try:
            if text is None:
                raise ValueError("RDKit cannot read it as a molecule")
            sequences.append(tokenizer.split(text))
            kept.append(i)
        except ValueError as error:
            line, shown = int(rows.lines[i]), _shown(rows.texts[i])
            if options.invalid == "error":
                raise UserError(
                    f"{rows.source} line {line}: {shown}: {error}; fix or remove the line, or pass invalid='skip' "
                    "to leave such lines out"
                ) from error
            first_problem = first_problem or f"line {line}: {shown}: {error}"
            skipped.append(line)
    if not sequences:
        raise UserError(
            f"{rows.source}: none of its {len(rows):,} lines holds a usable molecule ({first_problem}); check that "
            "it holds SMILES, one per line"
        )
    notice = None
    if skipped:
        others = ", ".join(map(str, skipped[1:_NAMED_LINES])) + (", …" if len(skipped) > _NAMED_LINES else "")
        notice = (
            f"{rows.source}: skipped {len(skipped):,} of {len(rows):,} lines without a usable molecule ({first_problem}"
            f"{'; also lines ' + others if others else ''}); pass invalid='error' to stop at the first instead"
        )
    return sequences, rows.lines[kept], notice


def _default_max_length(lengths: np.ndarray, lines: np.ndarray, source: str) -> int:
    """The training split's longest sequence plus :data:`LENGTH_HEADROOM`, at most :data:`MAX_LENGTH`, which
    the longest must not exceed."""
    longest = int(lengths.max())
    if longest > MAX_LENGTH:
        line = int(lines[np.argmax(lengths)])
        raise UserError(
            f"{source} line {line}: a sequence of {longest} tokens, more than the {MAX_LENGTH} a sequence may hold by "
            f"default; pass max_length={longest} (or more) to keep it, or drop the line"
        )
    return min(MAX_LENGTH, math.ceil(LENGTH_HEADROOM * longest))


def _check_lengths(lengths: np.ndarray, lines: np.ndarray, source: str, max_length: int, derived: bool) -> None:
    """UserError naming the first sequence longer than ``max_length`` tokens."""
    over = np.flatnonzero(lengths > max_length)
    if over.size:
        row = int(over[0])
        origin = " (by default the training split's longest plus a quarter)" if derived else ""
        raise UserError(
            f"{source} line {lines[row]}: a sequence of {lengths[row]} tokens is longer than max_length {max_length}"
            f"{origin}; pass max_length={lengths[row]} or more (the same for training and the other splits), or "
            "drop the line"
        )


def _unseen_notice(
    ids: np.ndarray,
    sequences: list[list[str]],
    lines: np.ndarray,
    source: str,
    vocabulary: Vocabulary,
    split: str,
    options: SequenceOptions,
) -> str | None:
    """For tokens the vocabulary lacks (read as ``<unk>`` in ``ids``): a UserError naming the first and its line
    (``unknown="error"``), else the warning counting the rows that hold one; None when there are none."""
    unknown = np.argwhere(ids == UNK)
    if not unknown.size:
        return None
    row, position = (int(i) for i in unknown[0])
    origin = "the given vocabulary" if options.vocabulary is not None else f"the vocabulary of the {TRAIN} split"
    first = f"line {lines[row]}: the token {sequences[row][position]!r} is not in {origin}"
    if options.unknown_tokens() == "error":
        raise UserError(
            f"{source} {first} ({len(vocabulary)} tokens, loading split {split!r}); pass unknown='map' to read unseen "
            "tokens as <unk>, or drop the line"
        )
    rows = len(np.unique(unknown[:, 0]))
    return (
        f"{source}: {rows:,} of {len(ids):,} rows hold tokens read as <unk> ({first} of {len(vocabulary)} tokens); "
        "pass unknown='error' to stop at the first instead"
    )


def _shown(text: str) -> str:
    return repr(text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…")


def _cache_inputs(
    source: SequenceSource, split: str, options: SequenceOptions, tokenizer: Tokenizer, molecules: bool
) -> dict[str, Any]:
    """Everything a split's ids depend on, as plain JSON values (the cache key): its file, the training
    split's when that gives the encoding, and ``unknown`` only when the encoding is not its own."""
    own = options.vocabulary is None and split in OWN_ENCODING
    from_training = options.vocabulary is None and split not in OWN_ENCODING
    versions = {}
    if molecules:
        versions["rdkit"] = rdkit_version()
    if tokenizer.name == "selfies":
        versions["selfies"] = str(import_selfies().__version__)
    return {
        "source": source.name,
        "files": [file_stamp(source.file(name)) for name in ([split, TRAIN] if from_training else [split])],
        "split": split,
        "tokenizer": tokenizer.name,
        "molecules": molecules,
        "canonical": options.canonical,
        "invalid": options.invalid,
        "unknown": None if own else options.unknown_tokens(),  # a split's own vocabulary has every token it holds
        "max_length": options.max_length,
        "limit": options.limit,
        "vocabulary": None if options.vocabulary is None else options.vocabulary.to_dict(),
        "versions": versions,
    }
