"""The dataset registry: named datasets, files by path, splits, dtype rules, downloads and bad input."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from vaelab.data import binarized_mnist, idx
from vaelab.data.download import DownloadError, atomic_file, download
from vaelab.data.idx import parse_idx, read_idx
from vaelab.data.registry import DATASETS, load_dataset, resolve_data_dir
from vaelab.data.splits import random_split_indices
from vaelab.errors import UserError

SHARED = (
    Path(os.environ["VAELAB_DATA_DIR"])
    if os.environ.get("VAELAB_DATA_DIR")
    else Path(__file__).resolve().parents[2] / "shared" / "data"
)
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]  # ../shared/data/mnist/SOURCE.md
IDX_CODES = {
    np.uint8: 0x08,
    np.int8: 0x09,
    np.int16: 0x0B,
    np.int32: 0x0C,
    np.float32: 0x0D,
    np.float64: 0x0E,
}


@pytest.fixture
def shared() -> Path:
    """The shared data folder; skips the test when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"shared data not found at {SHARED} (set VAELAB_DATA_DIR to ../shared/data)")
    return SHARED


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every mirror points at an empty local folder, the cache at tmp_path, and VAELAB_DATA_DIR is unset."""
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    monkeypatch.setitem(idx.MIRRORS, "mnist", (empty.as_uri(),))
    monkeypatch.setitem(idx.MIRRORS, "fashion-mnist", (empty.as_uri(),))
    monkeypatch.setattr(binarized_mnist, "AMAT_MIRRORS", (empty.as_uri(),))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("VAELAB_DATA_DIR", raising=False)
    return empty


def error_message(load: Callable[..., object], *args: object, **kwargs: object) -> str:
    """The message of the UserError that ``load(*args, **kwargs)`` raises, checked to be one line."""
    with pytest.raises(UserError) as info:
        load(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` encoded as an IDX file."""
    header = bytes([0, 0, IDX_CODES[array.dtype.type], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def leftovers(folder: Path) -> list[str]:
    """Temporary files a download may have left behind."""
    return [p.name for p in folder.rglob("*.part")]


# --- registry and splits -------------------------------------------------------------------------------


def test_registry_names_the_datasets() -> None:
    assert set(DATASETS) == {"digits", "mnist", "fashion-mnist", "binarized-mnist", "shapes", "shapes-32"}


def test_resolve_data_dir_prefers_argument_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_data_dir(None) is None
    monkeypatch.setenv("VAELAB_DATA_DIR", "/from/env")
    assert resolve_data_dir(None) == Path("/from/env")
    assert resolve_data_dir("/given") == Path("/given")
    assert resolve_data_dir("~/d") == Path.home() / "d"


def test_random_split_is_disjoint_complete_and_stable() -> None:
    first, second = random_split_indices(1000), random_split_indices(1000)
    assert [len(first[s]) for s in ("train", "valid", "test")] == [800, 100, 100]
    assert np.array_equal(np.sort(np.concatenate(list(first.values()))), np.arange(1000))
    for split in first:
        assert np.array_equal(first[split], second[split])


def test_digits_splits() -> None:
    from sklearn.datasets import load_digits

    splits = {s: load_dataset("digits", s) for s in ("train", "valid", "test")}
    assert [len(d) for d in splits.values()] == [1437, 180, 180]
    train = splits["train"]
    assert train.x.dtype == np.uint8 and train.data_shape == (1, 8, 8) and train.levels == 17
    assert train.y is not None and train.y.dtype == np.int64 and train.num_classes == 10
    assert np.array_equal(load_dataset("digits", "train").x, train.x)  # stable across calls
    rows = np.concatenate([d.x.reshape(len(d), -1) for d in splits.values()])
    full = load_digits().data.astype(np.uint8)
    assert sorted(map(bytes, rows)) == sorted(map(bytes, full))  # disjoint and complete


def test_unknown_split_lists_the_valid_ones(tmp_path: Path) -> None:
    assert "use one of: train, valid, test" in error_message(load_dataset, "digits", "training")
    path = tmp_path / "a.npy"
    np.save(path, np.zeros((10, 2)))
    assert "train, valid, test, all" in error_message(load_dataset, str(path), "everything")


def test_unknown_name_lists_datasets_and_file_types() -> None:
    message = error_message(load_dataset, "mnsit")
    assert "unknown dataset 'mnsit'" in message and "did you mean 'mnist'" in message
    assert "digits, mnist, fashion-mnist, binarized-mnist" in message and ".npy, .npz, .csv" in message


def test_missing_file_and_unsupported_type(tmp_path: Path) -> None:
    assert f"no such file: {tmp_path / 'nope.npz'}" in error_message(load_dataset, str(tmp_path / "nope.npz"))
    text = tmp_path / "data.json"  # .txt holds sequences now (tests/test_sequences_data.py)
    text.write_text("[1, 2, 3]\n")
    assert "unsupported file type '.json'" in error_message(load_dataset, str(text))


def test_labels_argument_is_for_files_only() -> None:
    assert "labels= only applies to .npz and .csv" in error_message(load_dataset, "digits", labels="y")


# --- IDX format ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", list(IDX_CODES))
def test_parse_idx_round_trips_every_element_type(dtype: type) -> None:
    array = (np.arange(24) - 5).astype(dtype).reshape(2, 3, 4)
    parsed = parse_idx(idx_bytes(array))
    assert parsed.dtype == np.dtype(dtype) and parsed.dtype.isnative and parsed.flags.writeable
    assert np.array_equal(parsed, array)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x00\x00", "too short"),
        (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "magic number starts with 0x0100"),
        (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "unknown element type code 0x07"),
        (b"\x00\x00\x08\x00", "zero dimensions"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 10), "truncated header"),
        (
            b"\x00\x00\x08\x01" + struct.pack(">I", 4) + b"\x00\x00",
            "truncated: dimensions (4,) need 12 bytes",
        ),
        (b"\x00\x00\x08\x01" + struct.pack(">I", 1) + b"\x00\x00", "trailing bytes"),
    ],
)
def test_parse_idx_rejects_malformed_bytes(data: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_idx(data)


def test_read_idx_names_the_file_and_the_fix(tmp_path: Path) -> None:
    good = gzip.compress(idx_bytes(np.zeros((3, 2, 2), np.uint8)))
    bad_gzip = tmp_path / "images-idx3-ubyte.gz"
    bad_gzip.write_bytes(good[: len(good) // 2])
    message = error_message(read_idx, bad_gzip)
    assert str(bad_gzip) in message and "cannot read it" in message and "delete it" in message
    truncated = tmp_path / "images-idx3-ubyte"
    truncated.write_bytes(idx_bytes(np.zeros((3, 2, 2), np.uint8))[:-1])
    assert "not a valid IDX file (truncated" in error_message(read_idx, truncated)


@pytest.mark.shared_data
def test_read_idx_on_the_published_files(shared: Path) -> None:
    labels = read_idx(shared / "mnist" / "t10k-labels-idx1-ubyte.gz")
    assert labels.shape == (10000,) and np.bincount(labels).tolist() == MNIST_TEST_COUNTS
    assert read_idx(shared / "mnist" / "train-labels-idx1-ubyte.gz").shape == (60000,)


# --- mnist family ----------------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_mnist_test_split_from_the_shared_folder(shared: Path) -> None:
    test = load_dataset("mnist", "test", data_dir=shared)
    assert test.x.shape == (10000, 1, 28, 28) and test.x.dtype == np.uint8 and test.levels == 256
    assert test.num_classes == 10 and test.y is not None and test.y.dtype == np.int64
    assert np.bincount(test.y).tolist() == MNIST_TEST_COUNTS
    assert abs(test.x.mean() - 33.79) < 0.01  # SOURCE.md


@pytest.mark.shared_data
def test_mnist_train_without_images_gives_the_offline_error(shared: Path, tmp_path: Path) -> None:
    folder = tmp_path / "data" / "mnist"
    shutil.copytree(shared / "mnist", folder)
    message = error_message(load_dataset, "mnist", "train", data_dir=tmp_path / "data")
    assert f"mnist: missing train-images-idx3-ubyte(.gz) in {folder} and could not download it" in message
    assert "--data-dir" in message and "empty-mirror/train-images-idx3-ubyte.gz" in message
    assert leftovers(tmp_path) == []


@pytest.mark.shared_data
def test_mnist_downloads_from_mirrors_in_order(
    shared: Path, tmp_path: Path, offline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(shared / "mnist" / name, mirror / name)
    monkeypatch.setitem(idx.MIRRORS, "mnist", (offline.as_uri(), mirror.as_uri() + "/"))
    test = load_dataset("mnist", "test", data_dir=tmp_path / "data")
    assert sorted(p.name for p in (tmp_path / "data" / "mnist").iterdir()) == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    assert test.y is not None and np.bincount(test.y).tolist() == MNIST_TEST_COUNTS


@pytest.mark.shared_data
def test_mnist_download_goes_to_the_cache_without_data_dir(
    shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(shared / "mnist", mirror)
    monkeypatch.setitem(idx.MIRRORS, "mnist", (mirror.as_uri(),))
    assert len(load_dataset("mnist", "test")) == 10000
    assert (tmp_path / "cache" / "vaelab" / "mnist" / "t10k-images-idx3-ubyte.gz").is_file()


@pytest.mark.shared_data
def test_mnist_download_with_a_wrong_checksum_leaves_nothing(
    shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    labels = (shared / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes()
    (mirror / "t10k-labels-idx1-ubyte.gz").write_bytes(labels[:-100])
    shutil.copy(shared / "mnist" / "t10k-images-idx3-ubyte.gz", mirror)
    monkeypatch.setitem(idx.MIRRORS, "mnist", (mirror.as_uri(),))
    message = error_message(load_dataset, "mnist", "test", data_dir=tmp_path / "data")
    assert "missing t10k-labels-idx1-ubyte(.gz)" in message and "differs from the published" in message
    assert [p.name for p in (tmp_path / "data" / "mnist").iterdir()] == ["t10k-images-idx3-ubyte.gz"]


def test_fashion_mnist_from_local_files_plain_or_gzipped(tmp_path: Path) -> None:
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(1)
    train_x = rng.integers(0, 256, (5003, 28, 28), dtype=np.uint8)
    train_y = rng.integers(0, 10, 5003).astype(np.uint8)
    (folder / "train-images-idx3-ubyte").write_bytes(idx_bytes(train_x))
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(train_y)))
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(train_x[:7])))
    (folder / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(train_y[:7]))
    train, valid, test = (load_dataset("fashion-mnist", s, tmp_path) for s in ("train", "valid", "test"))
    assert np.array_equal(train.x[:, 0], train_x[:3]) and np.array_equal(valid.x[:, 0], train_x[3:])
    assert valid.y is not None and np.array_equal(valid.y, train_y[3:])
    assert len(test) == 7 and test.name == "fashion-mnist" and test.levels == 256


def test_fashion_mnist_offline_names_the_folder(tmp_path: Path) -> None:
    message = error_message(load_dataset, "fashion-mnist", "test", data_dir=tmp_path)
    assert (
        f"missing t10k-images-idx3-ubyte(.gz), t10k-labels-idx1-ubyte(.gz) in {tmp_path / 'fashion-mnist'}" in message
    )
    assert "could not download them" in message and leftovers(tmp_path) == []


def test_idx_loader_rejects_mismatched_files(tmp_path: Path) -> None:
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((4, 28, 28), np.uint8)))
    (folder / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(3, np.uint8)))
    assert "holds 3 labels for 4 images" in error_message(load_dataset, "mnist", "test", tmp_path)
    (folder / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.full(4, 12, np.uint8)))
    assert "labels outside 0..9" in error_message(load_dataset, "mnist", "test", tmp_path)


# --- download helper -------------------------------------------------------------------------------------


def test_download_tries_each_mirror_and_verifies(tmp_path: Path, offline: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "f.bin").write_bytes(b"payload")
    target = download("f.bin", [offline.as_uri(), mirror.as_uri()], tmp_path / "out", md5=None)
    assert target.read_bytes() == b"payload"
    with pytest.raises(DownloadError, match="md5") as info:
        download("f.bin", [mirror.as_uri()], tmp_path / "out2", md5="0" * 32)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "out2" / "f.bin").exists() and leftovers(tmp_path) == []


def test_download_failure_keeps_an_existing_file(tmp_path: Path, offline: Path) -> None:
    (tmp_path / "f.bin").write_bytes(b"old")
    with pytest.raises(DownloadError, match=r"empty-mirror/f\.bin"):
        download("f.bin", [offline.as_uri()], tmp_path)
    assert (tmp_path / "f.bin").read_bytes() == b"old" and leftovers(tmp_path) == []


def test_atomic_file_leaves_nothing_when_the_write_fails(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(RuntimeError), atomic_file(folder / "x.bin") as out:
        out.write(b"partial")
        raise RuntimeError("interrupted")
    assert list(folder.iterdir()) == []
    with atomic_file(folder / "x.bin") as out:
        out.write(b"whole")
    assert [p.name for p in folder.iterdir()] == ["x.bin"] and (folder / "x.bin").read_bytes() == b"whole"


# --- binarized-mnist -------------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_binarized_mnist_from_the_shared_npz(shared: Path) -> None:
    valid = load_dataset("binarized-mnist", "valid", data_dir=shared)
    assert valid.x.shape == (10000, 1, 28, 28) and valid.x.dtype == np.uint8
    assert valid.levels == 2 and valid.y is None
    assert abs(valid.x.mean() - 0.131127) < 1e-6  # SOURCE.md


def test_binarized_mnist_builds_the_npz_from_amat_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    rng = np.random.default_rng(2)
    rows = {s: rng.integers(0, 2, (n, 784), dtype=np.uint8) for s, n in (("train", 3), ("valid", 2), ("test", 1))}
    for split, array in rows.items():
        lines = "".join(" ".join(map(str, row)) + "\n" for row in array)
        (mirror / f"binarized_mnist_{split}.amat").write_text(lines)
    monkeypatch.setattr(binarized_mnist, "AMAT_MIRRORS", (mirror.as_uri(),))
    train = load_dataset("binarized-mnist", "train", data_dir=tmp_path / "data")
    assert np.array_equal(train.x.reshape(3, 784), rows["train"]) and train.levels == 2
    folder = tmp_path / "data" / "binarized-mnist"
    assert [p.name for p in folder.iterdir()] == ["binarized_mnist_uint8.npz"]  # .amat files removed
    monkeypatch.setattr(binarized_mnist, "AMAT_MIRRORS", ())
    test = load_dataset("binarized-mnist", "test", data_dir=tmp_path / "data")  # from the cached npz
    assert np.array_equal(test.x.reshape(1, 784), rows["test"])


def test_binarized_mnist_offline_says_where_to_put_the_npz(tmp_path: Path) -> None:
    message = error_message(load_dataset, "binarized-mnist", "test", data_dir=tmp_path)
    npz = tmp_path / "binarized-mnist" / "binarized_mnist_uint8.npz"
    assert f"missing {npz} and could not download the .amat files" in message
    assert "keys train, valid, test" in message and leftovers(tmp_path) == []


def test_binarized_mnist_rejects_bad_files(tmp_path: Path) -> None:
    folder = tmp_path / "binarized-mnist"
    folder.mkdir()
    amat = folder / "binarized_mnist_train.amat"
    amat.write_text(" ".join(["2"] * 784) + "\n")
    assert "holds values other than 0 and 1" in error_message(binarized_mnist.parse_amat, amat)
    amat.write_text("0 1 0\n")
    assert "not (N, 784) images" in error_message(binarized_mnist.parse_amat, amat)
    (folder / "binarized_mnist_uint8.npz").write_bytes(b"truncated")
    assert "delete it so it is rebuilt" in error_message(load_dataset, "binarized-mnist", "test", tmp_path)
    np.savez(folder / "binarized_mnist_uint8.npz", train=np.zeros((2, 784), np.uint8))
    assert "has no 'valid' array (keys: train)" in error_message(load_dataset, "binarized-mnist", "valid", tmp_path)


# --- files by path ---------------------------------------------------------------------------------------


def save_npy(tmp_path: Path, array: np.ndarray) -> str:
    path = tmp_path / "data.npy"
    np.save(path, array)
    return str(path)


@pytest.mark.parametrize(
    ("array", "dtype", "levels"),
    [
        (np.array([[True, False]] * 10), np.uint8, 2),
        (np.full((10, 3), 7, np.uint8), np.uint8, 256),
        (np.arange(30, dtype=np.int64).reshape(10, 3) % 17, np.uint8, 17),
        (np.arange(30, dtype=np.int16).reshape(10, 3) * 40, np.int32, 1161),
        (np.zeros((10, 3), np.int32), np.uint8, 2),
        (np.arange(30, dtype=np.int64).reshape(10, 3) - 5, np.float32, None),
        (np.linspace(0, 1, 30).reshape(10, 3), np.float32, None),
    ],
)
def test_dtype_rules(tmp_path: Path, array: np.ndarray, dtype: type, levels: int | None) -> None:
    data = load_dataset(save_npy(tmp_path, array), "all")
    assert data.x.dtype == dtype and data.levels == levels and data.y is None
    assert np.array_equal(data.x, array.astype(dtype))


def test_image_shapes(tmp_path: Path) -> None:
    assert load_dataset(save_npy(tmp_path, np.zeros((10, 5, 6), np.uint8)), "all").data_shape == (1, 5, 6)
    assert load_dataset(save_npy(tmp_path, np.zeros((10, 3, 5, 6), np.uint8)), "all").data_shape == (3, 5, 6)


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.zeros(10), "data of shape (10,) is not (N, D), (N, H, W) or (N, C, H, W)"),
        (np.zeros((2, 2, 2, 2, 2)), "is not (N, D)"),
        (np.zeros((0, 3)), "holds no data (shape (0, 3))"),
        (np.zeros((10, 3), np.complex64), "holds complex64 values"),
    ],
)
def test_bad_arrays(tmp_path: Path, array: np.ndarray, expected: str) -> None:
    assert expected in error_message(load_dataset, save_npy(tmp_path, array))


def test_nan_is_missing_while_inf_and_entries_missing_everywhere_name_where(tmp_path: Path) -> None:
    table = np.zeros((10, 3))
    table[4, 2] = np.nan
    dataset = load_dataset(save_npy(tmp_path, table))  # NaN: a missing value, masked in every batch
    assert np.isnan(dataset.x).sum() == 1
    table[6, 0] = np.inf
    assert "an infinite value" in (message := error_message(load_dataset, save_npy(tmp_path, table)))
    assert "at row 6, column 0" in message
    images = np.zeros((10, 2, 2))
    images[7, 1, 1] = -np.inf
    assert "at row 7 (rows count from 0)" in error_message(load_dataset, save_npy(tmp_path, images))
    images[7, 1, 1] = 0.0
    images[:, 0, 1] = np.nan
    assert "entry (0, 0, 1) is missing (NaN) in every row" in error_message(load_dataset, save_npy(tmp_path, images))


def test_files_are_never_unpickled(tmp_path: Path) -> None:
    path = tmp_path / "data.npy"
    np.save(path, np.array([{"a": 1}] * 3, dtype=object), allow_pickle=True)
    assert "never unpickles" in error_message(load_dataset, str(path))
    npz = tmp_path / "data.npz"
    np.savez(npz, x=np.array([{"a": 1}] * 3, dtype=object))
    assert "cannot read array 'x'" in error_message(load_dataset, str(npz))
    (tmp_path / "garbage.npz").write_bytes(b"not a zip")
    assert "cannot read it as .npz" in error_message(load_dataset, str(tmp_path / "garbage.npz"))


def test_memory_mapped_splits_stay_on_disk_and_read_the_right_rows(tmp_path: Path) -> None:
    from vaelab.data.dataset import RowView

    array = np.arange(400, dtype=np.uint8).reshape(100, 4) % 251
    path = save_npy(tmp_path, array)
    full = load_dataset(path, "all")
    assert isinstance(full.x, np.memmap)
    train = load_dataset(path, "train")
    assert isinstance(train.x, RowView) and train.x.shape == (80, 4)
    rows = np.asarray(train.x)
    assert np.array_equal(train.x[3:7], rows[3:7])
    assert np.array_equal(train.x[np.array([5, 1])], rows[[5, 1]])
    assert np.array_equal(train.x[:, 0], rows[:, 0])
    nested = train.subset(np.array([2, 0]))
    assert np.array_equal(np.asarray(nested.x), rows[[2, 0]])
    assert np.array_equal(np.concatenate(list(train.row_chunks(7))), rows)


def test_npy_splits_80_10_10_and_all_keeps_file_order(tmp_path: Path) -> None:
    array = np.arange(200, dtype=np.float64).reshape(100, 2)
    path = save_npy(tmp_path, array)
    parts = {s: load_dataset(path, s).x[:, 0] for s in ("train", "valid", "test")}
    assert [len(p) for p in parts.values()] == [80, 10, 10]
    assert sorted(np.concatenate(list(parts.values())).tolist()) == array[:, 0].tolist()
    assert np.array_equal(load_dataset(path, "valid").x[:, 0], parts["valid"])
    assert np.array_equal(load_dataset(path, "all").x, array.astype(np.float32))
    assert "labels" in error_message(load_dataset, path, labels="y")


def test_tiny_file_has_an_empty_split(tmp_path: Path) -> None:
    path = save_npy(tmp_path, np.zeros((3, 2)))
    assert "split 'valid' is empty" in error_message(load_dataset, path, "valid")


def test_npz_single_array_with_labels(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, X=np.ones((20, 4)), y=np.arange(20) % 3)
    data = load_dataset(str(path), "all")
    assert data.y is not None and data.y.dtype == np.int64 and data.num_classes == 3
    np.savez(path, features=np.ones((20, 4)), target=np.arange(20.0) % 4)
    assert load_dataset(str(path), "all", labels="target").num_classes == 4  # the other key is the data
    np.savez(path, features=np.ones((20, 4)))
    only = load_dataset(str(path), "all")
    assert only.data_shape == (4,) and only.y is None


def test_npz_key_errors(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, a=np.ones((20, 4)), b=np.ones((20, 4)))
    message = error_message(load_dataset, str(path))
    assert "cannot tell which array holds the data (keys: a, b)" in message and "pass labels=" in message
    np.savez(path, x=np.ones((20, 4)))
    assert "has no labels 'target' (keys: x)" in error_message(load_dataset, str(path), labels="target")


def test_npz_with_predefined_splits(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    xs = {s: np.full((n, 2), i, np.uint8) for i, (s, n) in enumerate((("train", 5), ("valid", 3), ("test", 2)))}
    ys = {f"y_{s}": np.full(len(x), i) for i, (s, x) in enumerate(xs.items())}
    np.savez(path, **xs, **ys)
    valid = load_dataset(str(path), "valid")
    assert np.array_equal(valid.x, xs["valid"]) and valid.y is not None and valid.y.tolist() == [1, 1, 1]
    assert valid.num_classes == 3  # counted over every split, not just this one
    everything = load_dataset(str(path), "all")
    assert np.array_equal(everything.x, np.concatenate(list(xs.values())))
    renamed = {f"cls_{s}": y for s, y in zip(xs, ys.values(), strict=True)}
    np.savez(path, **xs, **renamed)
    assert load_dataset(str(path), "test", labels="cls").y is not None
    assert load_dataset(str(path), "test").y is None


def test_npz_split_errors(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, train=np.ones((5, 2)), test=np.ones((2, 2)))
    assert len(load_dataset(str(path), "valid")) == 0  # validation is optional: training runs without it
    assert "has no cls_train, cls_test" in error_message(load_dataset, str(path), labels="cls")
    no_test = tmp_path / "no_test.npz"
    np.savez(no_test, train=np.ones((5, 2)), valid=np.ones((2, 2)))
    assert "has no 'test' array (splits: train, valid)" in error_message(load_dataset, str(no_test), "test")
    np.savez(path, train=np.ones((5, 2)), test=np.ones((2, 2)), y_train=np.zeros(5))
    assert "has no y_test" in error_message(load_dataset, str(path))
    np.savez(path, train=np.ones((5, 2)), test=np.ones((2, 3)))
    assert "the splits differ in shape per example" in error_message(load_dataset, str(path))
    np.savez(path, train=np.ones((5, 2)), valid=np.ones((0, 2)))
    assert "split 'valid' is empty" in error_message(load_dataset, str(path), "valid")
    np.savez(path, train=np.ones((5, 2)), test=np.ones((2, 2)), y_train=np.zeros(4), y_test=np.zeros(2))
    assert "y_train hold 4 labels for 5 examples" in error_message(load_dataset, str(path))


def test_label_rules(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, x=np.ones((10, 2)), y=np.linspace(0, 1, 30).reshape(10, 3))
    vectors = load_dataset(str(path), "all")
    assert vectors.y is not None and vectors.y.dtype == np.float32 and vectors.y.shape == (10, 3)
    assert vectors.num_classes is None
    cases = [
        (np.arange(9), "hold 9 labels for 10 examples"),
        (np.arange(10) - 2.0, "negative label -2 at row 0"),
        (np.arange(10) / 4, "label 0.25 at row 1 is not a whole number"),
        (np.full(10, np.nan), "labels hold NaN"),
        (np.zeros((10, 2, 2)), "labels of shape (10, 2, 2)"),
        (np.array(["a"] * 10), "labels of type <U1"),
    ]
    for y, expected in cases:
        np.savez(path, x=np.ones((10, 2)), y=y)
        assert expected in error_message(load_dataset, str(path), "all")


def test_csv_with_label_column(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{i % 5},{i % 3}\n" for i in range(20)))
    data = load_dataset(str(path), "all", labels="label")
    assert data.x.dtype == np.float32 and data.levels is None and data.data_shape == (2,)
    assert data.y is not None and data.y.tolist() == [i % 3 for i in range(20)] and data.num_classes == 3
    path.write_text("\ufeffa,b\n1,2\n\n3,4\n", encoding="utf-8")  # byte-order mark, blank line
    first = load_dataset(str(path), "all", labels="a")
    assert first.data_shape == (1,) and first.features is not None and first.features[0].name == "b"
    assert first.y is not None and first.y.tolist() == [1, 3] and first.num_classes == 4
    path.write_text("a,colour,label\n1.5,red,yes\n3,blue,no\n,red,yes\n")  # text columns and labels, a gap
    table = load_dataset(str(path), "all", labels="label")
    assert table.features is not None and [f.kind for f in table.features] == ["continuous", "categorical"]
    x = np.asarray(table.x)
    assert np.isnan(x[2, 0]) and x[:, 1].tolist() == [1.0, 0.0, 1.0]  # categories (blue, red) as indices
    assert table.y is not None and table.y.tolist() == [1, 0, 1]  # label categories (no, yes) as classes


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("a,b\n1,2\n3,x\n", None, "column 'b' holds the non-numeric value 'x' at line 3; fix it, or drop"),
        ("a,b\n1,2\n3,4\n", "c", "has no column 'c'"),
        ("a,b\n1,\n2,\n", None, "column 'b' has no values (every cell is missing); drop the column"),
        ("a,b\n1,inf\n", None, "column 'b' has an infinite value at line 2"),
        ("a,b\n1,2\n3\n", None, "line 3 has 1 values but the header names 2 columns"),
        ("a,a\n1,2\n", None, "the header repeats column 'a'; name every column once"),
        ("1,2\n3,4\n", None, "the first line holds numbers, not column names; add a header row"),
        ("", None, "is empty; a .csv needs a header row"),
        ("a,b\n", None, "holds no data"),
        ("a,b\n1,2\n", "c", "has no column 'c' (columns: a, b)"),
    ],
)
def test_bad_csv(tmp_path: Path, text: str, labels: str | None, expected: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(text)
    assert expected in error_message(load_dataset, str(path), "all", labels=labels)


@pytest.mark.shared_data
def test_shared_tables(shared: Path) -> None:
    cardio = load_dataset(str(shared / "adbench" / "6_cardio.npz"), "all")
    assert cardio.x.shape == (1831, 21) and cardio.x.dtype == np.float32 and cardio.num_classes == 2
    assert cardio.y is not None and int(cardio.y.sum()) == 176  # SOURCE.md
    message = error_message(load_dataset, str(shared / "nab" / "nyc_taxi.csv"))
    assert "column 'timestamp' holds 10320 different texts in 10320 rows, like '2014-07-01 00:00:00'" in message
    assert "vaelab detect --series" in message
