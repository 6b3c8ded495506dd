"""The one exception type a user is meant to see: a message that names the problem and the fix."""

from __future__ import annotations

from pydantic import ValidationError


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
