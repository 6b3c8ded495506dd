"""Which quadrants of an image are observed when 1, 2 or 3 of its 4 are given (the layout of Sohn et al. 2015's
quadrant-prediction task as Pyro's CVAE tutorial sets it: first the bottom-left quadrant, then the left half, then
the left half and the top-right quadrant; the bottom-right quadrant is always to be predicted)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from vaelab.errors import UserError


def observed_quadrants(data_shape: Sequence[int], given: int) -> torch.Tensor:
    """``(*data_shape)`` bool: true on the ``given`` observed quadrants of a ``(C, H, W)`` image."""
    if given not in (1, 2, 3):
        raise UserError(f"give 1, 2 or 3 observed quadrants, not {given}")
    if len(data_shape) != 3:
        raise UserError(f"quadrants need images (C, H, W), not examples of shape {tuple(data_shape)}")
    _, height, width = data_shape
    observed = torch.zeros(tuple(data_shape), dtype=torch.bool)
    observed[:, height // 2 :, : width // 2] = True  # bottom-left
    if given >= 2:
        observed[:, :, : width // 2] = True  # the left half
    if given == 3:
        observed[:, : height // 2, :] = True  # and the top-right
    return observed
