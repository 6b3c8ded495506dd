"""Datasets from a file given by path (``.npy``, ``.npz``, ``.csv``) and the rules that turn arrays into
an :class:`ArrayDataset`.

Shapes: (N, D) tables, (N, H, W) images (given one channel) and (N, C, H, W) images; that is the kind
of data unless one is stated, which must fit the shape (:func:`vaelab.data.schema.check_kind`).
Values: bool -> uint8 with 2 levels; uint8 -> 256 levels; other non-negative integers -> ``max + 1``
levels (uint8 up to 256 levels, else int32); negative integers and floats -> float32, continuous.
A .csv (read by :mod:`vaelab.data.csv_table`) has a header row; its columns of numbers and text, with
missing cells, are brought to model space by :mod:`vaelab.data.table_columns` (continuous columns
standardised on the training split, categories as indices, missing cells NaN) and keep their features, which
say how to map model-space values back to the file's units.
Labels: whole numbers -> int64 classes ``0..max``, with ``-1`` (or an empty cell in a .csv's label column) for
a row whose class is not known (semi-supervised data); a 2-D array -> float32 condition vectors.
Files without train/valid/test arrays are split 80/10/10 by a fixed seeded permutation; an .npz with
split arrays but no ``valid`` array gives an empty validation split (training runs without one).
Nothing is ever unpickled.
"""

from __future__ import annotations

import lzma
import math
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib.npyio import NpzFile

from vaelab.data.csv_table import TableColumn, read_csv_table
from vaelab.data.dataset import ArrayDataset
from vaelab.data.download import one_line, read_at_most
from vaelab.data.limits import MAX_CLASSES
from vaelab.data.schema import Feature, check_kind
from vaelab.data.semi_supervised import UNLABELLED, is_labelled
from vaelab.data.splits import FILE_SPLITS, SPLITS, check_split, random_split_indices, take_random_split
from vaelab.data.table_columns import encode_columns, fit_features
from vaelab.errors import UserError, shown

FILE_TYPES: tuple[str, ...] = (".npy", ".npz", ".csv")
DATA_KEYS = ("x", "X")
DEFAULT_LABEL_KEY = "y"
# OverflowError: absurd sizes; NotImplementedError: a zip compression method Python lacks; zlib.error, LZMAError:
# a damaged compressed member (a damaged bzip2 member is an OSError)
_READ_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    OverflowError,
    NotImplementedError,
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
)
_NPZ_FIX = "save it with numpy.savez"
_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
CHECK_ELEMENTS = 1 << 24  # values scanned at once by the finiteness check


@dataclass(frozen=True)
class _Arrays:
    """What a file holds, before the dtype/shape rules: all rows, their labels, and predefined splits."""

    x: np.ndarray
    y: np.ndarray | None
    splits: dict[str, np.ndarray] | None = None
    columns: list[str] | None = None
    features: tuple[Feature, ...] | None = None
    class_names: tuple[str, ...] | None = None  # a text label column's classes, in the order of their indices


def load_file(path: Path, split: str, labels: str | None = None, kind: str | None = None) -> ArrayDataset:
    """One split of the dataset in ``path``; ``labels`` names the label array (.npz) or column (.csv);
    ``kind`` states the kind of data (None: detected from the shape)."""
    check_split(split, FILE_SPLITS, str(path))
    suffix = path.suffix.lower()
    if suffix not in _READERS:
        raise UserError(f"{path}: unsupported file type {suffix!r}; use one of: {', '.join(FILE_TYPES)}")
    if not path.is_file():
        raise UserError(f"no such file: {path}; check the path")
    arrays = _READERS[suffix](path, labels)
    dataset = _to_dataset(arrays, path, kind)
    if arrays.splits is None:
        return take_random_split(dataset, split)
    if split == "all":
        return dataset
    if split == "valid" and "valid" not in arrays.splits:
        return dataset.subset(np.arange(0))  # optional: a run trains without validation
    if split not in arrays.splits:
        raise UserError(
            f"{path}: has no {split!r} array (splits: {', '.join(arrays.splits)}); add one, or use split 'all'"
        )
    if arrays.splits[split].size == 0:
        raise UserError(f"{path}: split {split!r} is empty; store rows under {split!r} or use another split")
    return dataset.subset(arrays.splits[split])


def open_npz(path: Path, fix: str) -> NpzFile:
    """Open an .npz archive without unpickling; UserError (ending with ``fix``) if it is not one."""
    try:
        archive = np.load(path, allow_pickle=False)
    except _READ_ERRORS as error:
        raise UserError(f"{path}: cannot read it as .npz ({one_line(error)}); {fix}") from error
    if not isinstance(archive, NpzFile):
        raise UserError(f"{path}: holds a single .npy array, not an .npz archive; {fix}")
    return archive


def read_member(archive: NpzFile, key: str, path: Path, fix: str) -> np.ndarray:
    """Array ``key`` of an open archive; UserError (ending with ``fix``) if it cannot be read.

    Reads the member's .npy header, then no more than one byte past the data it declares: numpy would
    allocate the declared size first, which a damaged or hostile header sets to terabytes."""
    members = archive.zip
    if members is None:
        raise UserError(f"{path}: the archive was closed before reading {key!r}; open it again")
    name = f"{key}.npy" if f"{key}.npy" in members.namelist() else key  # as NpzFile names its arrays
    if members.getinfo(name).flag_bits & 0x1:  # zipfile would raise RuntimeError for want of a password
        raise UserError(f"{path}: array {key!r} is encrypted; save the archive without a password ({fix})")
    try:
        with members.open(name) as member:
            version = np.lib.format.read_magic(member)
            if version not in _NPY_HEADERS:
                raise ValueError(f".npy format version {version} is not supported")
            shape, fortran_order, dtype = _NPY_HEADERS[version](member)
            if any(n < 0 for n in shape):
                raise ValueError(f"its header declares the negative shape {shape}")
            if dtype.hasobject:
                raise ValueError("it holds Python objects, which vaelab never unpickles")
            size = math.prod(shape) * dtype.itemsize
            data = read_at_most(member, size + 1)
            if len(data) != size:
                held = f"{len(data):,} bytes" if len(data) < size else "more"
                raise ValueError(
                    f"its header declares {dtype} values of shape {shape} ({size:,} bytes) but it holds {held}"
                )
            return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran_order else "C")
    except _READ_ERRORS as error:
        raise UserError(f"{path}: cannot read array {key!r} ({one_line(error)}); {fix}") from error


def _read_npy(path: Path, labels: str | None) -> _Arrays:
    """A .npy file: one data array, no labels."""
    if labels is not None:
        raise UserError(
            f"{path}: a .npy file holds one array, so it has no {labels!r} labels; use an .npz with the "
            "labels under their own key, or a .csv with a label column"
        )
    return _Arrays(read_npy(path), None)


def read_npy(path: Path) -> np.ndarray:
    """The array of a .npy file, memory-mapped (read-only): a file larger than memory is read batch by batch
    during training, and a header cannot claim more than the file holds. UserError if it is not a numeric
    .npy array."""
    try:
        x = np.load(path, mmap_mode="r", allow_pickle=False)
    except _READ_ERRORS as error:
        if "Python objects" in str(error) or "pickled" in str(error):
            raise UserError(
                f"{path}: is not a numeric .npy array (numpy reads it as pickled Python objects, which vaelab never "
                "unpickles); save a numeric array with numpy.save"
            ) from error
        raise UserError(f"{path}: cannot read it as .npy ({one_line(error)}); save it with numpy.save") from error
    if isinstance(x, NpzFile):  # numpy reads a zip archive whatever the file is named
        x.close()
        raise UserError(f"{path}: is an .npz archive, not a single .npy array; rename it to .npz")
    return x


def _read_npz(path: Path, labels: str | None) -> _Arrays:
    """An .npz file: arrays train/valid/test (with labels ``<labels>_<split>``), or one data array."""
    with open_npz(path, _NPZ_FIX) as archive:
        present = [split for split in SPLITS if split in archive.files]
        if present:
            return _read_npz_splits(archive, path, present, labels)
        return _read_npz_single(archive, path, labels)


def _read_npz_single(archive: NpzFile, path: Path, labels: str | None) -> _Arrays:
    """One data array (key ``x``, ``X`` or the only key) and labels (key ``labels``, else ``y`` if any)."""
    data_key, label_key = npz_data_and_label_keys(list(archive.files), labels, path, "labels=")
    x = read_member(archive, data_key, path, _NPZ_FIX)
    y = None if label_key is None else read_member(archive, label_key, path, _NPZ_FIX)
    return _Arrays(x, y)


def npz_data_and_label_keys(keys: list[str], labels: str | None, path: Path, label_flag: str) -> tuple[str, str | None]:
    """Which keys of an .npz hold the data and the labels: the data under ``x``/``X`` or the only other key,
    the labels under ``labels`` (as the user named them with ``label_flag``) or else ``y`` when present."""
    if labels is not None and labels not in keys:
        raise UserError(f"{path}: has no labels {labels!r} (keys: {_listed(keys)}); pass {label_flag} one of the keys")
    label_key = labels or (DEFAULT_LABEL_KEY if DEFAULT_LABEL_KEY in keys else None)
    named = [key for key in DATA_KEYS if key in keys]
    others = [key for key in keys if key != label_key]
    if not named and len(others) != 1:
        raise UserError(
            f"{path}: cannot tell which array holds the data (keys: {_listed(keys)}); store it under 'x' "
            f"(labels under 'y'), or pass {label_flag} naming the label array"
        )
    return named[0] if named else others[0], label_key


def _read_npz_splits(archive: NpzFile, path: Path, present: list[str], labels: str | None) -> _Arrays:
    """Arrays stored per split, concatenated in train/valid/test order, with each split's row indices.

    Labels are ``<labels>_<split>`` (default ``y_<split>``) for every split present, or absent for all.
    """
    xs = [read_member(archive, split, path, _NPZ_FIX) for split in present]
    for split, x in zip(present, xs, strict=True):
        if x.ndim == 0:
            raise UserError(f"{path}: array {split!r} holds one value, not rows; store its rows (N, ...) under it")
    if len({x.shape[1:] for x in xs}) != 1:
        shapes = ", ".join(f"{split} {x.shape}" for split, x in zip(present, xs, strict=True))
        raise UserError(f"{path}: the splits differ in shape per example ({shapes}); store one shape in all")
    label_keys = [f"{labels or DEFAULT_LABEL_KEY}_{split}" for split in present]
    missing = [key for key in label_keys if key not in archive.files]
    if missing and (labels is not None or len(missing) < len(label_keys)):
        raise UserError(
            f"{path}: has no {', '.join(missing)} (keys: {_listed(archive.files)}); store labels for every "
            "split present, or for none"
        )
    y = None
    if not missing:
        ys = [read_member(archive, key, path, _NPZ_FIX) for key in label_keys]
        for key, x_split, y_split in zip(label_keys, xs, ys, strict=True):
            _check_label_count(y_split, len(x_split), path, key)
        y = np.concatenate(ys)
    ends = np.cumsum([len(x) for x in xs])
    splits = {split: np.arange(end - len(x), end) for split, x, end in zip(present, xs, ends, strict=True)}
    return _Arrays(np.concatenate(xs), y, splits)


def _listed(keys: list[str]) -> str:
    return ", ".join(map(shown, keys)) or "none"


def _read_csv(path: Path, labels: str | None) -> _Arrays:
    """A .csv with a header row (read by :mod:`vaelab.data.csv_table`), its columns in model space
    (:mod:`vaelab.data.table_columns`: categories from every row, scaling from the rows of the training split,
    missing cells NaN); ``labels`` names the label column (whole numbers, or text read as class indices)."""
    table = read_csv_table(path)
    if labels is not None and labels not in table.names:
        columns = ", ".join(map(shown, table.names))
        raise UserError(f"{path}: has no column {labels!r} (columns: {columns}); pass labels= one of them")
    kept = {column.name: column.values for column in table.columns if column.name != labels}
    if not kept or not len(table):
        return _Arrays(np.empty((len(table), len(kept))), None)
    try:
        features = fit_features(kept, random_split_indices(len(table))["train"])
        x = encode_columns(kept, features)
    except UserError as error:
        raise UserError(f"{path}: {error}") from None
    y, class_names = (None, None) if labels is None else _label_values(table.column(labels))
    return _Arrays(x, y, columns=list(kept), features=features, class_names=class_names)


def _label_values(column: TableColumn) -> tuple[np.ndarray, tuple[str, ...] | None]:
    """A label column's values: numbers as read, text as the index of its category (sorted), with the categories
    as the class names; an empty cell is an unlabelled row (``UNLABELLED``)."""
    missing = np.asarray(column.missing, dtype=bool)
    if not column.is_categorical:
        return np.where(missing, UNLABELLED, column.values), None
    categories = tuple(column.feature.categories or ())
    indices = [UNLABELLED if m else categories.index(str(v)) for v, m in zip(column.values, missing, strict=True)]
    return np.array(indices, np.int64), categories


def _to_dataset(arrays: _Arrays, path: Path, kind: str | None) -> ArrayDataset:
    """Apply the shape, kind, dtype and label rules to everything the file holds."""
    x = arrays.x
    if x.ndim not in (2, 3, 4):
        raise UserError(
            f"{path}: data of shape {x.shape} is not (N, D), (N, H, W) or (N, C, H, W); reshape it to one of those"
        )
    if x.size == 0:
        raise UserError(f"{path}: holds no data (shape {x.shape}); give it at least one example")
    if x.ndim == 3:
        x = x.reshape(len(x), 1, *x.shape[1:])
    if kind is not None:
        check_kind(kind, x.shape[1:])
    if arrays.features is not None:  # a table's columns, already in model space with NaN where missing
        x, levels = x.astype(np.float32), None
    else:
        x, levels = _standardize_values(x, path, arrays.columns)
    y, num_classes = (None, None) if arrays.y is None else _standardize_labels(arrays.y, len(x), path)
    class_names = arrays.class_names if num_classes else None
    return ArrayDataset(
        x, y, levels, path.stem, num_classes, kind=kind, features=arrays.features, class_names=class_names
    )


def _standardize_values(x: np.ndarray, path: Path, columns: list[str] | None) -> tuple[np.ndarray, int | None]:
    """Stored values and levels under the dtype rules (see the module docstring)."""
    kind = x.dtype.kind
    if kind == "b":
        return x.view(np.uint8), 2  # the same bytes: a memory-mapped file stays mapped, nothing is copied
    if x.dtype == np.uint8:
        return x, 256
    if kind in "iu" and x.min() >= 0:
        levels = max(int(x.max()) + 1, 2)
        if levels > np.iinfo(np.int32).max:
            raise UserError(f"{path}: integer values up to {levels - 1} are too large for discrete data; store floats")
        return np.asarray(x.astype(np.uint8 if levels <= 256 else np.int32)), levels
    if kind not in "iuf":
        raise UserError(f"{path}: holds {x.dtype} values; store numbers (integers, floats or booleans)")
    values = x if x.dtype == np.float32 else np.asarray(x.astype(np.float32))  # a copy is no memmap
    _check_finite(values, path, "data", columns, missing=True)
    return values, None


def _standardize_labels(y: np.ndarray, n: int, path: Path) -> tuple[np.ndarray, int | None]:
    """int64 classes with ``num_classes = max + 1``, or float32 condition vectors (N, K)."""
    _check_label_count(y, n, path, "the labels")
    if y.dtype.kind not in "biuf":
        raise UserError(f"{path}: labels of type {y.dtype}; store integer class labels or float condition vectors")
    if y.ndim == 2:
        vectors = y.astype(np.float32)
        _check_finite(vectors, path, "labels", None)
        return vectors, None
    if y.ndim != 1:
        raise UserError(f"{path}: labels of shape {y.shape}; store classes as (N,) or condition vectors as (N, K)")
    if y.dtype.kind == "f":
        _check_finite(y, path, "labels", None)
    classes = y.astype(np.int64)
    if not np.array_equal(classes, y):
        row = int(np.flatnonzero(classes != y)[0])
        raise UserError(
            f"{path}: label {y[row]} at row {row} is not a whole number; class labels must be integers "
            "0..K-1 (store a continuous condition as an (N, 1) array)"
        )
    if classes.min() < UNLABELLED:
        row = int(np.argmin(classes))
        raise UserError(
            f"{path}: negative label {classes[row]} at row {row}; class labels must be 0..K-1, or -1 for an "
            "unlabelled row"
        )
    if not is_labelled(classes).any():
        return classes, None  # no class is known: nothing tells how many there are
    if classes.max() >= MAX_CLASSES:
        row = int(np.argmax(classes))
        raise UserError(
            f"{path}: label {classes[row]} at row {row} asks for more than {MAX_CLASSES:,} classes; class labels must "
            "be 0..K-1 (renumber them, or store a continuous condition as an (N, 1) array)"
        )
    return classes, int(classes.max()) + 1


def _check_label_count(y: np.ndarray, n: int, path: Path, what: str) -> None:
    if y.ndim == 0 or len(y) != n:
        count = "a scalar" if y.ndim == 0 else f"{len(y)} labels"
        raise UserError(f"{path}: {what} hold {count} for {n} examples; give exactly one label per example")


def _check_finite(values: np.ndarray, path: Path, what: str, columns: list[str] | None, missing: bool = False) -> None:
    """UserError naming the first row (and column, for tables) that holds NaN or an infinity; with ``missing``,
    NaN marks a missing value and only an infinity, or an entry missing in every row, is refused.

    Scans in chunks of rows, so a memory-mapped array is never held in memory at once."""
    rows = max(1, CHECK_ELEMENTS // max(1, values[:1].size))
    observed = np.zeros(values.shape[1:], dtype=bool)
    for start in range(0, len(values), rows):
        chunk = values[start : start + rows]
        bad = np.isinf(chunk) if missing else ~np.isfinite(chunk)
        if bad.any():
            break
        observed |= ~np.isnan(chunk).all(axis=0)
    else:
        if not observed.all():
            entry = tuple(int(i) for i in np.unravel_index(int(np.argmin(observed)), observed.shape))
            where = f"column {columns[entry[-1]]!r}" if columns and values.ndim == 2 else f"entry {entry}"
            raise UserError(f"{path}: {where} is missing (NaN) in every row; drop it")
        return
    position = np.unravel_index(int(np.argmax(bad)), bad.shape)
    position = (position[0] + start, *position[1:])
    where = f"row {position[0]}"
    if values.ndim == 2:
        where += f", column {columns[position[1]]!r}" if columns else f", column {position[1]}"
    problem = "an infinite value (or one too large for float32)" if missing else "NaN or an infinite value"
    raise UserError(f"{path}: {what} hold {problem} at {where} (rows count from 0); fill or drop it")


_READERS: dict[str, Callable[[Path, str | None], _Arrays]] = {
    ".npy": _read_npy,
    ".npz": _read_npz,
    ".csv": _read_csv,
}
