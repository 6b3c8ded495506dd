"""Atomic file writes: write to a temporary file in the target folder, then rename over the target.

A crash or an error half-way leaves either the old file or none, never a half-written one. A failed
write (a full disk, no permission) is the one-line ``UserError`` naming the file; a process killed
mid-write leaves only its temporary file, which ``remove_temporaries`` clears.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import numpy as np
from safetensors import SafetensorError

from vaelab.errors import UserError

TEMPORARY_SUFFIX = ".tmp"


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMPORARY_SUFFIX, dir=target.parent)
    except OSError as error:
        raise _write_failure(target, error) from None
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, target)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(error, OSError | SafetensorError):
            raise _write_failure(target, error) from None
        raise


def _write_failure(target: Path, error: OSError | SafetensorError) -> UserError:
    """A failed write as one line; safetensors reports I/O errors in its message rather than an errno."""
    reason = (error.strerror or str(error)) if isinstance(error, OSError) else str(error)
    full = (isinstance(error, OSError) and error.errno == errno.ENOSPC) or "No space left" in reason
    reason = os.strerror(errno.ENOSPC) if full else reason
    advice = "free some disk space and run again" if full else "check the folder's permissions and free space"
    return UserError(f"could not write {target}: {reason}; {advice} (the file's previous version, if any, is kept)")


def remove_temporaries(folder: Path) -> list[Path]:
    """Delete the temporary files that writes killed before their rename left in ``folder``; return them.

    Only for a folder no other process is writing to (a run directory under its lock)."""
    left = sorted(p for p in folder.glob(f".*{TEMPORARY_SUFFIX}") if p.is_file())
    for path in left:
        path.unlink(missing_ok=True)
    return left


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], object]) -> None:
    """Call ``write(tmp_path)`` and move the result to ``path`` atomically."""
    with atomic_path(path) as tmp:
        write(tmp)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_save_npy(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """``array`` as a .npy file (never pickled), written atomically."""

    def write(tmp: Path) -> None:
        with tmp.open("wb") as file:  # a handle: np.save would append .npy to the temporary file's name
            np.save(file, array, allow_pickle=False)

    atomic_write(path, write)


def atomic_save_npz(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Named arrays as one .npz file (never pickled), written atomically."""

    def write(tmp: Path) -> None:
        with tmp.open("wb") as file:  # a handle: np.savez would append .npz to the temporary file's name
            np.savez(file, **arrays)  # type: ignore[arg-type]

    atomic_write(path, write)
