"""Process-wide CLI options set by the top-level callback."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CliState:
    verbose: bool = False


STATE = CliState()
