"""Procedural dSprites-style shapes: binary 2-D sprites whose generating factors are known exactly.

dSprites (Matthey et al. 2017) is not available here, so the same factor grid is rendered on
demand: 3 shapes (square, ellipse, heart) × 6 scales × 40 orientations × 32 × 32 positions =
737,280 combinations. A factor vector holds integer indices into that grid, in the order of
``FACTOR_NAMES``:

- ``shape``: 0 square, 1 ellipse, 2 heart;
- ``scale``: ``linspace(0.5, 1.0, 6)`` as in dSprites;
- ``orientation``: ``2π k / 40`` for k = 0..39, counter-clockwise on screen. dSprites uses
  ``linspace(0, 2π, 40)``, whose first and last orientations draw the same image; the grid here has
  no duplicate, so 10 steps are exactly 90°;
- ``pos_x``, ``pos_y``: ``linspace(0, 1, 32)``; the sprite's centre travels over
  ``[MARGIN, 1 - MARGIN]`` of the canvas side, left to right and top to bottom.

Every shape fits in a disc of radius ``scale * SHAPE_RADIUS`` about its centre, and ``MARGIN`` is
larger than ``SHAPE_RADIUS``, so no sprite is ever clipped by the canvas, at any resolution.

Rendering is an implicit inside-test evaluated at every pixel centre after the inverse
translation, rotation and scaling (vectorised over images), so any subset of the grid can be drawn at
any resolution. ``ShapesOracle`` exposes the generator to the interventional disentanglement scores
(BetaVAE, FactorVAE), which need images drawn with chosen factors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaelab.data.dataset import ArrayDataset
from vaelab.errors import UserError

FACTOR_NAMES = ("shape", "scale", "orientation", "pos_x", "pos_y")
FACTOR_SIZES = (3, 6, 40, 32, 32)

SCALES = np.linspace(0.5, 1.0, FACTOR_SIZES[1])
ORIENTATIONS = 2.0 * np.pi * np.arange(FACTOR_SIZES[2]) / FACTOR_SIZES[2]
POSITIONS = np.linspace(0.0, 1.0, FACTOR_SIZES[3])

SHAPE_RADIUS = 0.18  # radius of the disc holding every shape at scale 1, in canvas sides
MARGIN = 0.2  # the centre stays this far from every edge (> SHAPE_RADIUS: no clipping)

SPLITS = ("train", "valid", "test")
_SPLIT_FRACTIONS = (0.8, 0.1, 0.1)  # of the shuffled factor grid; the parts are disjoint

_PIXELS_PER_CHUNK = 1 << 22  # pixels rasterised at once: 16 MiB per float32 temporary


def _inside_square(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Axis-aligned square with corners on the unit circle (half-side 1/√2)."""
    return np.maximum(np.abs(u), np.abs(v)) <= np.float32(1.0 / np.sqrt(2.0))


def _inside_ellipse(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Ellipse with semi-axes 1 (along u) and 1/2 (along v)."""
    return u * u + 4.0 * v * v <= 1.0


def _inside_heart(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Heart curve ``(x² + y² - 1)³ - x² y³ <= 0``, lobes up.

    The curve spans x in [-1.14, 1.14], y in [-1, 1.24]; its smallest enclosing disc has centre
    (0, 0.25) and radius 1.25, so ``x = 1.25 u``, ``y = 1.25 v + 0.25`` puts it in the unit disc.
    """
    x = 1.25 * u
    y = 1.25 * v + 0.25
    r2_minus_1 = x * x + y * y - 1.0
    return r2_minus_1 * r2_minus_1 * r2_minus_1 - x * x * y * y * y <= 0.0


_INSIDE_TESTS = (_inside_square, _inside_ellipse, _inside_heart)


def _check_factors(factors: np.ndarray) -> np.ndarray:
    factors = np.asarray(factors)
    if factors.ndim != 2 or factors.shape[1] != len(FACTOR_SIZES):
        raise ValueError(
            f"factors must have shape (N, {len(FACTOR_SIZES)}) in the order {FACTOR_NAMES}, got shape {factors.shape}"
        )
    if not np.issubdtype(factors.dtype, np.integer):
        raise ValueError(f"factors must be integer indices, got dtype {factors.dtype}")
    for k, (name, size) in enumerate(zip(FACTOR_NAMES, FACTOR_SIZES, strict=True)):
        column = factors[:, k]
        if column.size and (column.min() < 0 or column.max() >= size):
            raise ValueError(f"factor {name!r} must lie in [0, {size - 1}], got values outside it")
    return factors.astype(np.int64, copy=False)


def _render_chunk(factors: np.ndarray, resolution: int) -> np.ndarray:
    """Rasterise ``factors`` (n, 5) into (n, R, R) bool masks."""
    n = factors.shape[0]
    grid = ((np.arange(resolution) + 0.5) / resolution).astype(np.float32)  # pixel centres
    centre_x = (MARGIN + (1.0 - 2.0 * MARGIN) * POSITIONS[factors[:, 3]]).astype(np.float32)
    centre_y = (MARGIN + (1.0 - 2.0 * MARGIN) * POSITIONS[factors[:, 4]]).astype(np.float32)
    radius = (SHAPE_RADIUS * SCALES[factors[:, 1]]).astype(np.float32)
    angle = ORIENTATIONS[factors[:, 2]]
    cos = (np.cos(angle) / radius).astype(np.float32)[:, None, None]
    sin = (np.sin(angle) / radius).astype(np.float32)[:, None, None]

    dx = grid[None, None, :] - centre_x[:, None, None]  # (n, 1, R): columns
    dy = centre_y[:, None, None] - grid[None, :, None]  # (n, R, 1): rows, flipped so +y is up
    # Inverse rotation by the orientation, then division by the radius: canvas -> shape frame.
    u = cos * dx + sin * dy  # (n, R, R)
    v = cos * dy - sin * dx  # (n, R, R)

    masks = np.zeros((n, resolution, resolution), dtype=bool)
    for shape, inside in enumerate(_INSIDE_TESTS):
        rows = np.flatnonzero(factors[:, 0] == shape)
        if rows.size:
            masks[rows] = inside(u[rows], v[rows])
    return masks


def render_shapes(factors: np.ndarray, resolution: int = 64) -> np.ndarray:
    """Draw the sprites for integer factor indices ``(N, 5)`` as ``(N, 1, R, R)`` uint8 in {0, 1}.

    A pixel is on when its centre lies inside the shape (no anti-aliasing).
    """
    factors = _check_factors(factors)
    if resolution < 8:
        raise ValueError(f"resolution must be at least 8 pixels, got {resolution}")
    images = np.empty((factors.shape[0], 1, resolution, resolution), dtype=np.uint8)
    chunk = max(1, _PIXELS_PER_CHUNK // (resolution * resolution))
    for start in range(0, factors.shape[0], chunk):
        images[start : start + chunk, 0] = _render_chunk(factors[start : start + chunk], resolution)
    return images


def sample_factors(n: int, rng: np.random.Generator, fixed: dict[str, int] | None = None) -> np.ndarray:
    """Draw ``n`` factor vectors ``(n, 5)`` int64, each factor uniform over its values.

    ``fixed`` maps factor names to an index that every draw takes, e.g. ``{"shape": 2}`` for hearts
    only; the other factors stay uniform.
    """
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    factors = np.column_stack([rng.integers(size, size=n) for size in FACTOR_SIZES]).astype(np.int64)
    for name, value in (fixed or {}).items():
        if name not in FACTOR_NAMES:
            raise ValueError(f"unknown factor {name!r}; choose from {FACTOR_NAMES}")
        k = FACTOR_NAMES.index(name)
        if not 0 <= value < FACTOR_SIZES[k]:
            raise ValueError(f"factor {name!r} must lie in [0, {FACTOR_SIZES[k] - 1}], got {value}")
        factors[:, k] = value
    return factors


@dataclass(frozen=True)
class ShapesOracle:
    """The shapes generator as a factor oracle: draws factors and renders their images.

    Satisfies ``vaelab.evaluation.disentanglement.FactorOracle``. Observations are returned as stored
    (uint8 in {0, 1}, shape ``(N, 1, R, R)``); the encoder passed to a metric maps them to model space.
    """

    resolution: int = 64

    @property
    def factor_sizes(self) -> tuple[int, ...]:
        return FACTOR_SIZES

    def sample_factors(self, num: int, rng: np.random.Generator) -> np.ndarray:
        return sample_factors(num, rng)

    def observations(self, factors: np.ndarray) -> np.ndarray:
        return render_shapes(factors, self.resolution)


def _split_factors(split: str, num_examples: int, seed: int) -> np.ndarray:
    """The first ``num_examples`` combinations of this split's part of the shuffled factor grid."""
    grid_size = int(np.prod(FACTOR_SIZES))
    order = np.random.default_rng(seed).permutation(grid_size)
    bounds = np.round(np.cumsum((0.0, *_SPLIT_FRACTIONS)) * grid_size).astype(int)
    k = SPLITS.index(split)
    part = order[bounds[k] : bounds[k + 1]]
    if num_examples > part.size:
        raise UserError(
            f"the shapes {split!r} split holds {part.size} distinct combinations, "
            f"asked for {num_examples}; lower num_examples"
        )
    return np.column_stack(np.unravel_index(part[:num_examples], FACTOR_SIZES)).astype(np.int64)


def load_shapes(
    split: str,
    data_dir: str | Path | None = None,
    *,
    num_examples: int = 50_000,
    resolution: int = 64,
    seed: int = 0,
) -> ArrayDataset:
    """Procedural dSprites-style shapes: ``x`` uint8 ``(N, 1, R, R)`` in {0, 1}, ``levels=2``, no labels;
    the dataset holds its ``factors`` and a ``ShapesOracle`` (``vaelab eval --disentanglement`` uses them).

    ``seed`` shuffles the 737,280 factor combinations once; the shuffled grid is cut 80/10/10 into
    train/valid/test, so the splits never share a combination, and each split takes the first
    ``num_examples`` of its part (no repeats; a larger ``num_examples`` gives a superset).
    ``data_dir`` is accepted for a uniform loader signature and ignored: nothing is read from disk.
    """
    del data_dir
    if split not in SPLITS:
        raise UserError(f"unknown shapes split {split!r}; choose one of {', '.join(SPLITS)}")
    if num_examples < 1:
        raise UserError(f"num_examples must be at least 1, got {num_examples}")
    if resolution < 8:
        raise UserError(f"resolution must be at least 8 pixels, got {resolution}")
    factors = _split_factors(split, num_examples, seed)
    images = render_shapes(factors, resolution)
    return ArrayDataset(images, None, 2, "shapes", factors=factors, oracle=ShapesOracle(resolution))
