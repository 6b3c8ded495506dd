"""The one exception type a user is meant to see: a message that names the problem and the fix."""

from __future__ import annotations

import errno

from pydantic import ValidationError
from safetensors import SafetensorError


class UserError(Exception):
    """Bad input from the user (a missing file, a wrong shape, a bad value).

    The CLI prints ``str(error)`` as one line and exits with status 1; the message must say what is
    wrong and how to fix it.
    """


def shown(name: str) -> str:
    """A name read from a file (a column, a key) as a one-line message can show it: itself when printable,
    else its repr (a line break in a CSV header must not break the message)."""
    return name if name.isprintable() else repr(name)


def validation_message(error: ValidationError, prefix: str = "") -> str:
    """A pydantic validation error as one line naming the first bad field: ``bad config value for
    PREFIX.a.b: <what is wrong>``."""
    first = error.errors()[0]
    where = ".".join(str(p) for p in (*([prefix] if prefix else []), *first["loc"]))
    return f"bad config value for {shown(where) or 'the config'}: {shown(first['msg'])}"


def expected_failure(error: BaseException) -> str | None:
    """The one line for a failure that bad input or the machine causes rather than a bug in vaelab: an OS
    error (a missing or unreadable file, a full disk), undecodable text, an invalid value, an unreadable
    safetensors file; None for anything else (a bug, shown with its traceback)."""
    if isinstance(error, UserError):
        return str(error)
    if isinstance(error, ValidationError):
        return validation_message(error)
    if isinstance(error, UnicodeDecodeError):
        return f"a file is not UTF-8 text ({error.reason} at byte {error.start}); give a text file in UTF-8"
    if isinstance(error, SafetensorError):
        return f"a safetensors file cannot be read or written ({error}); check the file and the free disk space"
    if isinstance(error, OSError):
        where = f": {error.filename}" if error.filename else ""
        advice = "free some disk space" if error.errno == errno.ENOSPC else "check the path and its permissions"
        return f"{error.strerror or error}{where}; {advice}"
    if isinstance(error, MemoryError):
        return "out of memory; use a smaller model, batch size or dataset"
    return None
