"""Peak signal-to-noise ratio of images against their clean versions."""

from __future__ import annotations

import numpy as np

MIN_MSE = 1e-10  # an exact copy scores 10 log10(1 / MIN_MSE) = 100 dB for peak 1, not infinity


def psnr(estimate: np.ndarray, reference: np.ndarray, peak: float = 1.0) -> np.ndarray:
    """PSNR per image in dB, ``10 log10(peak^2 / MSE_i)`` with MSE_i the mean squared difference over image i's
    entries (Gonzalez & Woods, "Digital image processing"; ``skimage.metrics.peak_signal_noise_ratio`` per image).
    ``estimate`` and ``reference`` are (N, ...) arrays on the same scale; returns (N,). The MSE is floored at
    ``MIN_MSE`` so a perfect estimate gives a finite value that a mean over images can hold."""
    if estimate.shape != reference.shape:
        raise ValueError(f"psnr needs arrays of one shape, got {estimate.shape} and {reference.shape}")
    difference = estimate.astype(np.float64) - reference.astype(np.float64)
    mse = np.square(difference).reshape(len(difference), -1).mean(axis=1)  # (N,)
    return 10.0 * np.log10(peak**2 / np.maximum(mse, MIN_MSE))
