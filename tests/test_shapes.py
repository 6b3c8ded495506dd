"""The procedural dSprites-style shapes: factor grid, rendering geometry, splits and loader errors."""

from __future__ import annotations

import numpy as np
import pytest

from vaelab.data.dataset import ArrayDataset
from vaelab.data.shapes import (
    FACTOR_NAMES,
    FACTOR_SIZES,
    ShapesOracle,
    load_shapes,
    render_shapes,
    sample_factors,
)
from vaelab.errors import UserError

SQUARE, ELLIPSE, HEART = 0, 1, 2
BASE = (HEART, 3, 7, 10, 20)  # shape, scale, orientation, pos_x, pos_y


def _vary(k: int, values: range | list[int], base: tuple[int, ...] = BASE) -> np.ndarray:
    """Factor rows equal to ``base`` except factor ``k``, which runs over ``values``."""
    rows = np.tile(np.array(base, dtype=np.int64), (len(values), 1))
    rows[:, k] = values
    return rows


def _centre_of_mass(images: np.ndarray) -> np.ndarray:
    """(N, 2) column and row of each mask's centre of mass, in pixels."""
    masks = images[:, 0].astype(np.float64)
    grid = np.arange(masks.shape[-1])
    mass = masks.sum(axis=(1, 2))
    return np.column_stack([masks.sum(axis=1) @ grid / mass, masks.sum(axis=2) @ grid / mass])


def test_render_shape_dtype_and_values() -> None:
    factors = sample_factors(50, np.random.default_rng(0))
    for resolution in (64, 32):
        images = render_shapes(factors, resolution)
        assert images.shape == (50, 1, resolution, resolution)
        assert images.dtype == np.uint8
        assert set(np.unique(images)) <= {0, 1}


def test_sample_factors_ranges_determinism_and_fixed() -> None:
    factors = sample_factors(20_000, np.random.default_rng(1))
    assert factors.shape == (20_000, 5) and factors.dtype == np.int64
    for k, size in enumerate(FACTOR_SIZES):
        assert set(np.unique(factors[:, k])) == set(range(size))  # uniform draws reach every value
    np.testing.assert_array_equal(factors, sample_factors(20_000, np.random.default_rng(1)))

    fixed = sample_factors(500, np.random.default_rng(2), fixed={"shape": HEART, "pos_x": 0})
    assert np.all(fixed[:, FACTOR_NAMES.index("shape")] == HEART)
    assert np.all(fixed[:, FACTOR_NAMES.index("pos_x")] == 0)
    assert len(np.unique(fixed[:, FACTOR_NAMES.index("orientation")])) > 1


@pytest.mark.parametrize("fixed", [{"colour": 1}, {"scale": 6}, {"pos_y": -1}])
def test_sample_factors_rejects_bad_fixed(fixed: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="factor"):
        sample_factors(3, np.random.default_rng(0), fixed=fixed)


@pytest.mark.parametrize(
    ("factors", "message"),
    [
        (np.zeros((3, 4), dtype=np.int64), "shape"),
        (np.zeros((3, 5), dtype=np.float32), "integer"),
        (np.array([[3, 0, 0, 0, 0]]), "'shape' must lie in"),
        (np.array([[0, 0, 40, 0, 0]]), "'orientation' must lie in"),
    ],
)
def test_render_rejects_bad_factors(factors: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_shapes(factors)


def test_each_factor_changes_the_image() -> None:
    base = render_shapes(np.array([BASE]))[0]
    for k, size in enumerate(FACTOR_SIZES):
        other = (BASE[k] + 1) % size
        changed = render_shapes(_vary(k, [other]))[0]
        assert np.any(changed != base), f"changing {FACTOR_NAMES[k]} left the image unchanged"


@pytest.mark.parametrize("shape", [SQUARE, ELLIPSE, HEART])
def test_pixel_count_grows_with_scale(shape: int) -> None:
    images = render_shapes(_vary(1, range(FACTOR_SIZES[1]), base=(shape, 0, 7, 16, 16)))
    counts = images.sum(axis=(1, 2, 3)).astype(int)
    assert np.all(np.diff(counts) > 0), counts


def test_rotation_symmetries() -> None:
    quarter_turn = FACTOR_SIZES[2] // 4  # 10 steps of 9° = 90°
    for scale, orientation, pos_x, pos_y in [(5, 3, 16, 16), (2, 0, 5, 27), (0, 17, 31, 0)]:
        square = render_shapes(np.array([[SQUARE, scale, orientation, pos_x, pos_y]]))
        turned = render_shapes(np.array([[SQUARE, scale, orientation + quarter_turn, pos_x, pos_y]]))
        assert np.sum(square != turned) <= 0.02 * square.sum()
        ellipse = render_shapes(np.array([[ELLIPSE, scale, orientation, pos_x, pos_y]]))
        half_turned = render_shapes(np.array([[ELLIPSE, scale, orientation + 2 * quarter_turn, pos_x, pos_y]]))
        assert np.sum(ellipse != half_turned) <= 0.02 * ellipse.sum()
    heart = render_shapes(np.array([[HEART, 5, 0, 16, 16], [HEART, 5, quarter_turn, 16, 16]]))
    assert np.sum(heart[0] != heart[1]) > 0.2 * heart[0].sum()  # a heart has no quarter-turn symmetry


def test_rotation_is_counter_clockwise_on_screen() -> None:
    eighth_turn = FACTOR_SIZES[2] // 8  # 45°
    image = render_shapes(np.array([[ELLIPSE, 5, eighth_turn, 16, 16]]))[0, 0]
    rows, cols = np.nonzero(image)
    up = -(rows - rows.mean())  # screen rows grow downwards
    right = cols - cols.mean()
    assert np.mean(up * right) > 0  # the long axis runs from bottom-left to top-right


def test_heart_points_down_at_orientation_zero() -> None:
    image = render_shapes(np.array([[HEART, 5, 0, 16, 16]]), resolution=128)[0, 0]
    rows = np.nonzero(image.any(axis=1))[0]
    top_width = image[rows[0] + 3].sum()
    bottom_width = image[rows[-1] - 3].sum()
    assert top_width > 3 * bottom_width  # wide lobes on top, a tip at the bottom
    top_row = image[rows[0] + 1]
    middle = image.shape[1] // 2 + np.arange(-1, 1)
    assert top_row.sum() > 0 and not top_row[middle].any()  # the notch between the lobes


@pytest.mark.parametrize("shape", [SQUARE, ELLIPSE, HEART])
def test_positions_move_the_centre_of_mass(shape: int) -> None:
    for k, axis in ((3, 0), (4, 1)):  # pos_x moves the column, pos_y the row (top to bottom)
        centres = _centre_of_mass(render_shapes(_vary(k, range(FACTOR_SIZES[k]), base=(shape, 4, 7, 16, 16))))
        assert np.all(np.diff(centres[:, axis]) > 0)
        assert np.ptp(centres[:, 1 - axis]) < 0.5


def test_every_sprite_is_non_empty_and_inside_the_canvas() -> None:
    corners = [(x, y) for x in (0, 31) for y in (0, 31)]
    factors = np.array(
        [
            [shape, scale, orientation, x, y]
            for shape in range(3)
            for scale in (0, 5)
            for orientation in range(FACTOR_SIZES[2])
            for x, y in corners
        ]
    )
    for resolution in (64, 32):
        images = render_shapes(factors, resolution)[:, 0]
        assert np.all(images.sum(axis=(1, 2)) > 0)
        border = np.concatenate([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], axis=1)
        assert not border.any(), "a sprite touches the canvas edge"


def test_renders_ten_thousand_images() -> None:
    images = render_shapes(sample_factors(10_000, np.random.default_rng(3)))
    assert images.shape == (10_000, 1, 64, 64)
    assert 0.01 < images.mean() < 0.1


def test_load_shapes_is_deterministic_and_matches_its_factors() -> None:
    dataset = load_shapes("train", num_examples=300, resolution=32, seed=5)
    factors = dataset.factors
    assert isinstance(dataset, ArrayDataset) and factors is not None
    assert (dataset.levels, dataset.y, dataset.name, dataset.data_shape) == (2, None, "shapes", (1, 32, 32))
    assert factors.shape == (300, 5)
    np.testing.assert_array_equal(dataset.x, render_shapes(factors, 32))
    again = load_shapes("train", num_examples=300, resolution=32, seed=5)
    np.testing.assert_array_equal(again.x, dataset.x)
    other = load_shapes("train", num_examples=300, resolution=32, seed=6).factors
    assert other is not None and not np.array_equal(other, factors)
    more = load_shapes("train", num_examples=600, resolution=32, seed=5).factors
    assert more is not None
    np.testing.assert_array_equal(more[:300], factors)


def test_splits_are_disjoint_without_repeats() -> None:
    flat = {}
    for split in ("train", "valid", "test"):
        factors = load_shapes(split, num_examples=5000, resolution=8, seed=0).factors
        assert factors is not None
        flat[split] = np.ravel_multi_index(factors.T, FACTOR_SIZES)
        assert np.unique(flat[split]).size == 5000
    assert not np.intersect1d(flat["train"], flat["valid"]).size
    assert not np.intersect1d(flat["train"], flat["test"]).size
    assert not np.intersect1d(flat["valid"], flat["test"]).size


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"split": "validation"}, "unknown shapes split"),
        ({"split": "test", "num_examples": 100_000}, "lower num_examples"),
        ({"split": "train", "num_examples": 0}, "num_examples"),
        ({"split": "train", "resolution": 4}, "resolution"),
    ],
)
def test_load_shapes_user_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(UserError, match=message):
        load_shapes(**kwargs)  # type: ignore[arg-type]


def test_oracle_draws_and_renders() -> None:
    oracle = ShapesOracle(resolution=16)
    factors = oracle.sample_factors(7, np.random.default_rng(0))
    assert oracle.factor_sizes == FACTOR_SIZES
    assert factors.shape == (7, 5)
    np.testing.assert_array_equal(oracle.observations(factors), render_shapes(factors, 16))
