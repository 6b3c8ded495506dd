"""Maximum mean discrepancy between two samples, with the kernels used by MMD-regularised autoencoders."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from vaelab.errors import UserError

# kernel(squared distances, scale c) -> kernel values; c = 2 D matches N(0, I_D) codes, whose mean squared
# distance is 2 D (Tolstikhin et al. 2018, "Wasserstein auto-encoders", §4: C = 2 d_z sigma^2).
KERNELS: dict[str, Callable[[torch.Tensor, float], torch.Tensor]] = {
    "gaussian": lambda squared, c: torch.exp(-squared / c),
    "imq": lambda squared, c: c / (c + squared),  # inverse multiquadratic
}
WAE_MULTIPLIERS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
"""The scales of Tolstikhin et al.'s IMQ kernel, as multiples of C = 2 d_z sigma^2 (their code, ``wae.py``)."""


def _kernel_sum(
    a: torch.Tensor, b: torch.Tensor, kernel: str, scales: Sequence[float], skip_diagonal: bool
) -> torch.Tensor:
    squared = (a.unsqueeze(1) - b.unsqueeze(0)).pow(2).sum(-1)  # (m, n); exact, smooth at zero distance
    values = sum(KERNELS[kernel](squared, c) for c in scales)  # one kernel, or the sum of kernels of several scales
    assert isinstance(values, torch.Tensor)
    if skip_diagonal:
        values = values - torch.diag(torch.diagonal(values))
    return values.sum()


def mmd(
    a: torch.Tensor,
    b: torch.Tensor,
    kernel: str = "gaussian",
    scale: float | None = None,
    multipliers: Sequence[float] = (1.0,),
) -> torch.Tensor:
    """The unbiased estimate of MMD^2 between the distributions of ``a: (m, D)`` and ``b: (n, D)``
    (Gretton et al. 2012, "A kernel two-sample test", eq. 3)::

        1/(m(m-1)) sum_{i != j} k(a_i, a_j) + 1/(n(n-1)) sum_{i != j} k(b_i, b_j) - 2/(mn) sum_ij k(a_i, b_j)

    Its expectation is 0 when both samples come from one distribution (single estimates may be negative)
    and positive otherwise. ``scale`` defaults to 2 D. A set of one sample has no pairs: its term is 0.

    ``multipliers`` sum the estimate over the kernels of scales ``multiplier * scale``: the kernel
    sum_s k_s is characteristic when each k_s is. Tolstikhin et al. sum the IMQ kernel over the
    multipliers ``WAE_MULTIPLIERS`` of C = 2 d_z sigma^2 (their code for "Wasserstein auto-encoders",
    github.com/tolstikhin/wae, ``wae.py``), so that codes far apart and close together are both matched.
    """
    if kernel not in KERNELS:
        raise UserError(f"unknown MMD kernel {kernel!r}; use one of {', '.join(KERNELS)}")
    m, n = len(a), len(b)
    c = float(2 * a.shape[-1]) if scale is None else scale
    scales = [multiplier * c for multiplier in multipliers]
    within_a = _kernel_sum(a, a, kernel, scales, skip_diagonal=True) / max(1, m * (m - 1))
    within_b = _kernel_sum(b, b, kernel, scales, skip_diagonal=True) / max(1, n * (n - 1))
    return within_a + within_b - 2 * _kernel_sum(a, b, kernel, scales, skip_diagonal=False) / (m * n)
