"""Bounds on what a user's file may make vaelab allocate, checked before anything is allocated."""

from __future__ import annotations

MAX_CLASSES = 100_000  # labels 0..K-1 become one-hot vectors of K: a stray huge label must not allocate terabytes
