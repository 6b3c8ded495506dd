"""Which epoch a run keeps: the value of its monitored validation term (read by the loop and by the report)."""

from __future__ import annotations

import math
from collections.abc import Mapping


def monitored_value(terms: Mapping[str, float], monitor: str) -> float:
    """The value whose highest epoch a run keeps: the term ``monitor``, or minus the term of ``"-NAME"``;
    -inf when the terms lack it."""
    name, sign = (monitor[1:], -1.0) if monitor.startswith("-") else (monitor, 1.0)
    return sign * terms[name] if name in terms else -math.inf
