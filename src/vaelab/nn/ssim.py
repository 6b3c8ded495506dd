"""Structural similarity (SSIM) and its multi-scale form (MS-SSIM) of image batches, differentiable.

SSIM (Wang et al. 2004, "Image quality assessment: from error visibility to structural similarity", eqs. 6-13):
over each position of a Gaussian window (sigma 1.5), with the window's weighted means mu, variances sigma^2
and covariance sigma_xy, the luminance ``l = (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1)`` and the
contrast-structure ``cs = (2 sigma_xy + C2) / (sigma_x^2 + sigma_y^2 + C2)``, ``C1 = (K1 L)^2``, ``C2 = (K2 L)^2``,
K1 = 0.01, K2 = 0.03, L the data range; SSIM is the mean of ``l cs`` over the positions where the window fits
("valid" filtering). MS-SSIM (Wang et al. 2003, "Multiscale structural similarity for image quality
assessment", eq. 7): the images are halved (2x2 averages) between scales and
``MS-SSIM = l_M^w_M prod_{j=1}^{M} cs_j^w_j`` with each scale's ``cs_j`` (and ``l_M``) averaged over positions,
with their weights (0.0448, 0.2856, 0.3001, 0.2363, 0.1333).

Scales and window for small images (``scales_for``): the window is 11 pixels wide (the papers'), or the
largest odd width that fits the smaller side; there are as many scales, at most 5, as keep the smaller side at
least the window wide after the halvings, and the weights of the scales used are renormalised to sum to 1.
8x8 digits: a 7-pixel window and one scale (SSIM); 28x28 MNIST: an 11-pixel window at 28 and 14 pixels, two
scales (7 < 11), weights 0.1356 and 0.8644; 5 scales from 176 pixels a side. The per-scale values are floored
at ``FLOOR`` before the fractional powers (anticorrelated images have negative cs), so the gradient stays
finite; a single scale is SSIM itself, unfloored. Channels are scored separately and averaged.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

K1, K2 = 0.01, 0.03
SIGMA = 1.5
MAX_WINDOW = 11
SCALE_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)  # Wang et al. 2003, §3.2
FLOOR = 1e-6


def scales_for(height: int, width: int) -> tuple[int, int]:
    """``(window, scales)`` for images of ``height x width``: the window's odd width and the number of scales
    at which the smaller side is still at least the window wide (halving by floor division), at most 5."""
    side = min(height, width)
    window = max(1, min(MAX_WINDOW, side if side % 2 else side - 1))
    scales = 1
    while scales < len(SCALE_WEIGHTS) and side // 2 >= window:
        side //= 2
        scales += 1
    return window, scales


def gaussian_window(width: int, sigma: float = SIGMA, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The normalised 1-D Gaussian ``(width,)`` centred on the middle tap; the 2-D window is its outer product."""
    offsets = torch.arange(width, dtype=dtype) - (width - 1) / 2
    weights = torch.exp(-(offsets**2) / (2 * sigma**2))
    return weights / weights.sum()


def _filter(images: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Each channel of ``images: (N, C, H, W)`` filtered by the separable window, valid positions only:
    ``(N, C, H - w + 1, W - w + 1)``."""
    channels = images.shape[1]
    rows = window.reshape(1, 1, 1, -1).expand(channels, 1, 1, -1)
    columns = window.reshape(1, 1, -1, 1).expand(channels, 1, -1, 1)
    return F.conv2d(F.conv2d(images, rows, groups=channels), columns, groups=channels)


def _ssim_parts(
    x: torch.Tensor, y: torch.Tensor, window: torch.Tensor, data_range: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean SSIM and mean contrast-structure ``cs`` over positions, each ``(B, C)``, of images ``(B, C, H, W)``."""
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    moments = _filter(torch.cat([x, y, x * x, y * y, x * y], 1), window)  # one pass, (B, 5C, H', W')
    mu_x, mu_y, mean_xx, mean_yy, mean_xy = moments.chunk(5, 1)
    var_x, var_y, cov_xy = mean_xx - mu_x**2, mean_yy - mu_y**2, mean_xy - mu_x * mu_y
    luminance = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1)
    contrast_structure = (2 * cov_xy + c2) / (var_x + var_y + c2)
    return (luminance * contrast_structure).mean((-2, -1)), contrast_structure.mean((-2, -1))


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, window: int = MAX_WINDOW) -> torch.Tensor:
    """Single-scale SSIM per image, ``(B,)``, of ``x, y: (B, C, H, W)`` with a ``window``-pixel Gaussian window."""
    taps = gaussian_window(window, dtype=x.dtype).to(x.device)
    return _ssim_parts(x, y, taps, data_range)[0].mean(-1)


def ms_ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """MS-SSIM per image, ``(B,)``, of ``x, y: (B, C, H, W)``, with the window and scales of ``scales_for``."""
    window, scales = scales_for(*x.shape[-2:])
    taps = gaussian_window(window, dtype=x.dtype).to(x.device)
    weights = torch.tensor(SCALE_WEIGHTS[:scales], dtype=x.dtype, device=x.device)
    weights = weights / weights.sum()
    factors = []  # cs_1 .. cs_{M-1}, then l_M cs_M; each (B, C)
    for _ in range(scales - 1):
        factors.append(_ssim_parts(x, y, taps, data_range)[1])
        x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    factors.append(_ssim_parts(x, y, taps, data_range)[0])
    if scales == 1:
        return factors[0].mean(-1)
    stacked = torch.stack(factors).clamp(min=FLOOR)  # (M, B, C)
    return (stacked ** weights[:, None, None]).prod(0).mean(-1)
