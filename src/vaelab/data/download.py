"""Where downloaded datasets live, atomic file writes, and fetching a file from the first mirror with it."""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import secrets
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

_LOG = logging.getLogger(__name__)
_CHUNK = 1 << 20
TIMEOUT_S = 60.0


class DownloadError(Exception):
    """No mirror gave a good copy of the file; the message is one line with each mirror's reason."""


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/vaelab``, by default ``~/.cache/vaelab``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser() / "vaelab"


def dataset_folder(name: str, data_dir: Path | None) -> Path:
    """The folder that holds dataset ``name``: ``<data_dir>/<name>``, or the cache when no data_dir."""
    return (data_dir if data_dir is not None else default_cache_dir()) / name


def one_line(error: BaseException) -> str:
    """An exception as one line of text (for messages that must stay on one line)."""
    return " ".join(str(error).split()) or type(error).__name__


class Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


def read_at_most(handle: Readable, size: int) -> bytearray:
    """Up to ``size`` bytes of ``handle`` (mutable, so arrays on them are writable), read a chunk at a time:
    ``handle.read(size)`` allocates all ``size`` bytes first, and a size read from a damaged or hostile file
    may be terabytes."""
    data = bytearray()
    while len(data) < size and (chunk := handle.read(min(size - len(data), _CHUNK))):
        data += chunk
    return data


@contextmanager
def atomic_file(target: Path) -> Iterator[BinaryIO]:
    """Write ``target`` all or nothing: yields a temporary file in the same folder, which replaces
    ``target`` when the block succeeds and is removed when it fails."""
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        with temp.open("xb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def download(
    file_name: str, mirrors: Sequence[str], folder: Path, md5: str | None = None, sha256: str | None = None
) -> Path:
    """Fetch ``file_name`` into ``folder`` from the first of ``mirrors`` that serves it (with ``md5`` and
    ``sha256``, where given).

    Any URL scheme urllib reads works, ``file://`` included. The file appears only when complete and
    verified (see :func:`atomic_file`). Returns its path; raises DownloadError when every mirror fails.
    """
    target = folder / file_name
    expected = {name: digest for name, digest in (("md5", md5), ("sha256", sha256)) if digest is not None}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_file(target) as out:
            _fetch_first(file_name, mirrors, out, expected)
    except OSError as error:
        raise DownloadError(f"cannot write {target}: {one_line(error)}") from error
    return target


def _fetch_first(file_name: str, mirrors: Sequence[str], out: BinaryIO, expected: dict[str, str]) -> None:
    """Stream ``file_name`` from the first mirror that succeeds into ``out``."""
    reasons = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + file_name
        out.seek(0)
        out.truncate()
        try:
            _fetch(url, out, expected)
            return
        except (OSError, ValueError, http.client.HTTPException) as error:
            reasons.append(f"{url}: {one_line(error)}")
    raise DownloadError("; ".join(reasons) or "no mirror is configured")


def _fetch(url: str, out: BinaryIO, expected: dict[str, str]) -> None:
    """Stream ``url`` into ``out``; ValueError when a digest of the content (hash name -> hex) is not the expected."""
    _LOG.info("downloading %s", url)
    digests = {name: hashlib.new(name, usedforsecurity=False) for name in expected}
    request = urllib.request.Request(url, headers={"User-Agent": "vaelab"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        while chunk := response.read(_CHUNK):
            for digest in digests.values():
                digest.update(chunk)
            out.write(chunk)
    for name, digest in digests.items():
        if digest.hexdigest() != expected[name]:
            raise ValueError(f"{name} {digest.hexdigest()} differs from the published {expected[name]}")
