"""Checks shared by the metrics that score a table of codes against a table of factors."""

from __future__ import annotations

import numpy as np


def check_codes_and_factors(
    codes: np.ndarray, factors: np.ndarray, *, discrete_factors: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``codes`` (N, D) and ``factors`` (N, K); return them as float64 and int64 (or float64).

    Raises ``ValueError`` naming the problem and the fix: wrong rank, different N, fewer than two
    examples, non-finite codes, non-integer discrete factors, or a factor with a single value (it has
    zero entropy and nothing can predict it; drop that column).
    """
    codes = np.asarray(codes)
    factors = np.asarray(factors)
    if codes.ndim != 2:
        raise ValueError(f"codes must be a 2-D array (N examples, D latent means), got shape {codes.shape}")
    if factors.ndim != 2:
        raise ValueError(f"factors must be a 2-D array (N examples, K factors), got shape {factors.shape}")
    if codes.shape[0] != factors.shape[0]:
        raise ValueError(
            f"codes and factors must have one row per example, got {codes.shape[0]} code rows "
            f"and {factors.shape[0]} factor rows"
        )
    if codes.shape[0] < 2 or codes.shape[1] < 1 or factors.shape[1] < 1:
        raise ValueError(
            f"need at least 2 examples, 1 code dimension and 1 factor, got codes {codes.shape} "
            f"and factors {factors.shape}"
        )
    if not np.issubdtype(codes.dtype, np.number) or not np.all(np.isfinite(codes)):
        raise ValueError("codes must be finite numbers; remove examples whose codes are NaN or infinite")
    if discrete_factors:
        if not np.issubdtype(factors.dtype, np.number) or np.any(factors != np.round(factors)):
            raise ValueError(
                "factors must be integer class indices; discretise continuous factors first "
                "(e.g. np.digitize) or use a metric option for continuous factors"
            )
        factors = factors.astype(np.int64)
    elif not np.issubdtype(factors.dtype, np.number) or not np.all(np.isfinite(factors)):
        raise ValueError("factors must be finite numbers")
    constant = [k for k in range(factors.shape[1]) if np.all(factors[:, k] == factors[0, k])]
    if constant:
        raise ValueError(f"factor column(s) {constant} take a single value; drop them before scoring")
    return codes.astype(np.float64), factors


def check_positive(**values: int) -> None:
    """Raise ``ValueError`` unless every named sample size is at least 1."""
    for name, value in values.items():
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")


def check_fraction(name: str, value: float) -> None:
    """Raise ``ValueError`` unless ``0 < value < 1``."""
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value}")
