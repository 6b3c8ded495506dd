"""Image grids as PNG files or PNG bytes, encoded by Pillow (light to import: writing pictures needs no
matplotlib)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from vaelab.atomic import atomic_write


def image_grid(images: np.ndarray, ncols: int, pad: int = 1) -> np.ndarray:
    """``(N, C, H, W)`` in [0, 1] -> one ``(rows*(H+pad)+pad, cols*(W+pad)+pad, 3)`` RGB array.

    One channel is shown grey, three as RGB; other channel counts show the first channel.
    """
    n, c, h, w = images.shape
    rgb = images[:, :3] if c == 3 else np.repeat(images[:, :1], 3, axis=1)
    rows = -(-n // ncols)
    grid = np.ones((rows * (h + pad) + pad, ncols * (w + pad) + pad, 3), dtype=np.float32)
    for i in range(n):
        r, col = divmod(i, ncols)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        grid[top : top + h, left : left + w] = rgb[i].transpose(1, 2, 0)
    return np.clip(grid, 0.0, 1.0)


def png_bytes(images: np.ndarray, ncols: int, scale: int | None = None) -> bytes:
    """A grid of ``(N, C, H, W)`` images as PNG bytes; small images are enlarged by pixel repetition
    (by default to about 128 pixels a side) so they stay crisp."""
    grid = image_grid(images, ncols)
    scale = scale or max(1, 256 // max(images.shape[2], images.shape[3]) // 2)
    grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    pixels = np.rint(grid * 255).astype(np.uint8)  # (rows, cols, 3) RGB
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def save_png(path: str | Path, images: np.ndarray, ncols: int, scale: int | None = None) -> None:
    """Save a grid of images as a PNG file, atomically."""
    data = png_bytes(images, ncols, scale)
    atomic_write(path, lambda tmp: tmp.write_bytes(data))
