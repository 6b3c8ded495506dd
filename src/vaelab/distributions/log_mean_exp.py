"""The log of a mean of exponentials, the form of every importance-sampled estimate."""

from __future__ import annotations

import math

import torch


def log_mean_exp(values: torch.Tensor, dim: int) -> torch.Tensor:
    """``log (1/K) sum_k exp(values_k)`` over ``dim`` (K = its size), stably: ``logsumexp - log K``. With log
    importance weights ``log w_k`` it is the IWAE bound (Burda et al. 2016, eq. 8)."""
    return torch.logsumexp(values, dim=dim) - math.log(values.shape[dim])
