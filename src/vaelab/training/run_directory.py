"""A run directory owned by one writer at a time, and what a directory holds before a run writes to it.

``RunDirectory.claim`` takes an OS file lock on ``.vaelab.lock`` inside the directory and holds it for
the whole run (``fcntl.flock``; ``msvcrt.locking`` on Windows). The operating system releases the lock
when the process ends in any way, ``kill -9`` included, so a lock file left behind by a dead process is
stale by construction: the next run simply takes it. While it holds the lock, a run is the only writer,
so the checks on the directory's contents and every write after them cannot interleave with another run.

What a directory holds decides what a run may do there (``RunState``):

- ``EMPTY``: nothing (or only files of vaelab's own bookkeeping) — a new run starts;
- ``STARTED``: a ``config.yaml`` without a checkpoint — a run stopped before its first checkpoint; a new
  run (or ``--resume``) starts it again from the beginning;
- ``CHECKPOINTED``: a checkpoint — only ``--resume`` continues it;
- ``FOREIGN``: other files and no checkpoint — not a vaelab run; nothing is written there.

Temporary files that writes killed before their rename left behind are removed once the lock is held.
"""

from __future__ import annotations

import contextlib
import enum
import os
import sys
from pathlib import Path
from types import TracebackType

from vaelab.atomic import TEMPORARY_SUFFIX, remove_temporaries
from vaelab.errors import UserError

LOCK_NAME = ".vaelab.lock"
CONFIG_NAME = "config.yaml"
CHECKPOINT_NAME = "checkpoint.safetensors"
METRICS_NAME = "metrics.jsonl"


class RunState(enum.Enum):
    EMPTY = "empty"
    STARTED = "started"
    CHECKPOINTED = "checkpointed"
    FOREIGN = "foreign"


def run_state(path: Path) -> RunState:
    """What ``path`` holds (a missing folder is empty)."""
    if not path.is_dir():
        return RunState.EMPTY
    names = {p.name for p in path.iterdir() if p.name != LOCK_NAME and not p.name.endswith(TEMPORARY_SUFFIX)}
    if CHECKPOINT_NAME in names:
        return RunState.CHECKPOINTED
    if not names:
        return RunState.EMPTY
    return RunState.STARTED if names == {CONFIG_NAME} else RunState.FOREIGN


def _try_lock(fd: int) -> bool:
    """Take an exclusive lock on the open file ``fd`` without waiting; False when another process holds it."""
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def continues(state: RunState, resume: bool, path: Path) -> tuple[bool, str | None]:
    """Whether a run asked to ``resume`` (or not) continues from a checkpoint in a directory in ``state``,
    with a line to tell the user; raise the one-line error when the directory's contents forbid the run."""
    if state is RunState.CHECKPOINTED:
        if not resume:
            raise UserError(f"{path} already holds a run; pass --resume to continue it or choose another --out")
        return True, None
    if state is RunState.STARTED:
        return False, f"{path} holds a run stopped before its first checkpoint: starting it again from the beginning"
    if state is RunState.FOREIGN:
        raise UserError(f"{path} holds other files and no vaelab run; choose a new or empty folder for --out")
    if resume:
        raise UserError(f"nothing to resume: {path} holds no run; start without --resume")
    return False, None


class RunDirectory:
    """The lock on one run directory, and whether the run continues from its checkpoint (``resume``);
    a context manager that releases the lock (and removes the lock file)."""

    def __init__(self, path: Path, fd: int, resume: bool, notice: str | None) -> None:
        self.path = path
        self._fd: int | None = fd
        self.resume = resume
        self.notice = notice

    @classmethod
    def claim(cls, path: Path, resume: bool) -> RunDirectory:
        """Create ``path`` if needed and lock it for this process, or raise the one-line error naming the
        process that holds it; remove the temporary files that killed writes left in it; then decide from
        its contents whether the run starts or continues (``continues``). A refused run leaves the
        directory as it found it."""
        if path.exists() and not path.is_dir():
            raise UserError(f"--out {path} is a file, not a folder; give a new or existing run directory")
        created = not path.exists()
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UserError(f"cannot create the run directory {path}: {error.strerror}; choose another --out") from None
        directory = cls(path, cls._lock(path), resume, None)
        remove_temporaries(path)
        try:
            directory.resume, directory.notice = continues(run_state(path), resume, path)
        except UserError:
            directory.release()
            if created:
                with contextlib.suppress(OSError):
                    path.rmdir()
            raise
        return directory

    @staticmethod
    def _lock(path: Path) -> int:
        lock = path / LOCK_NAME
        while True:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
            if not _try_lock(fd):
                holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise UserError(
                    f"another vaelab process (pid {holder}) is writing to {path}; "
                    "wait for it to finish or choose another --out"
                )
            # The holder before us may have removed the file between our open and our lock: then the lock
            # is on a file no one else will open, so start again on the file now at that path.
            try:
                if os.stat(lock).st_ino == os.fstat(fd).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        return fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):  # before unlocking, so a waiter re-opens the file at the path
            (self.path / LOCK_NAME).unlink(missing_ok=True)
        os.close(self._fd)  # closing the descriptor releases the lock
        self._fd = None

    def __enter__(self) -> RunDirectory:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()
