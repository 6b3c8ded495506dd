"""How commands talk: human lines to stderr, machine-readable JSON alone on stdout."""

from __future__ import annotations

import json
import sys
from typing import Any


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    numpy = sys.modules.get("numpy")  # a numpy scalar exists only once numpy is imported
    if numpy is not None and isinstance(value, numpy.generic):
        return value.item()
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def say(message: str) -> None:
    print(message, file=sys.stderr)


def emit_json(payload: dict[str, Any]) -> None:
    print(json.dumps(_jsonable(payload), indent=2))
