"""A cache of encoded sequence datasets, so a large source is read, canonicalised and tokenized once.

An entry is the stored token ids, the vocabulary and the notice the load gave, kept under
``<cache dir>/sequences/<key>/`` as ``ids.npy`` (read with ``allow_pickle=False``) and ``meta.json``; each
file is written atomically and ``meta.json`` last, so an entry without it is absent. The key is the sha256 of
everything the result depends on (the source's files with their sizes and modification times, the split and
the options, the package versions that canonicalise and tokenize), so a changed input makes a new entry. An
unreadable or inconsistent entry counts as absent and is rebuilt; a failed write is logged and the load goes on.
Only loads of at least :data:`CACHE_MIN_ROWS` rows are written: smaller ones take RDKit about a second or less.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vaelab.atomic import atomic_save_npy, atomic_write_text
from vaelab.data.download import default_cache_dir
from vaelab.data.vocabulary import Vocabulary
from vaelab.errors import UserError

_LOG = logging.getLogger(__name__)
CACHE_MIN_ROWS = 10_000
FORMAT = 2
"""The layout of an entry; part of every key, so a new layout never reads an old one."""


@dataclass(frozen=True)
class CachedSequences:
    """What a load produced: ``(N, T)`` ids in the stored layout, their vocabulary, and its notice (or None)."""

    ids: np.ndarray
    vocabulary: Vocabulary
    notice: str | None


def file_stamp(path: Path) -> list[Any]:
    """What identifies a file's content for the cache: its resolved path, size and modification time."""
    status = path.stat()
    return [str(path.resolve()), status.st_size, status.st_mtime_ns]


def cache_folder(inputs: dict[str, Any]) -> Path:
    """The entry's folder for ``inputs`` (plain JSON values): ``<cache dir>/sequences/<sha256 of inputs>``."""
    text = json.dumps({"format": FORMAT, **inputs}, sort_keys=True)
    return default_cache_dir() / "sequences" / hashlib.sha256(text.encode()).hexdigest()


def read_cached(folder: Path) -> CachedSequences | None:
    """The entry in ``folder``; None when absent, unreadable or inconsistent."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        vocabulary = Vocabulary.from_dict(meta["vocabulary"])
        ids = np.load(folder / "ids.npy", allow_pickle=False)
    except (OSError, ValueError, KeyError, TypeError, UserError):
        return None
    if ids.ndim != 2 or ids.dtype != vocabulary.dtype or not len(ids) or ids.max() >= len(vocabulary):
        return None
    notice = meta.get("notice")
    return CachedSequences(ids, vocabulary, notice if isinstance(notice, str) else None)


def write_cached(folder: Path, entry: CachedSequences) -> None:
    """Store ``entry`` in ``folder`` (ids first, then the metadata that completes it); a failure is logged."""
    meta = {"vocabulary": entry.vocabulary.to_dict(), "notice": entry.notice}
    try:
        atomic_save_npy(folder / "ids.npy", entry.ids)
        atomic_write_text(folder / "meta.json", json.dumps(meta, ensure_ascii=False) + "\n")
    except UserError as error:
        _LOG.warning("sequence cache not written: %s", error)
