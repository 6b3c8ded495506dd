"""The MNIST family (``mnist``, ``fashion-mnist``): the IDX file format, and the loaders that find or
download the four published files."""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vaelab.data.dataset import ArrayDataset
from vaelab.data.download import DownloadError, dataset_folder, download, one_line, read_at_most
from vaelab.data.splits import SPLITS, check_split
from vaelab.errors import UserError

IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX type code (third byte of the magic number) -> element type, big-endian as stored."""

MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}
"""Where missing files are downloaded from, tried in order (replace an entry to use another mirror)."""

MD5: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}
"""The published md5 of each downloaded file; a download that differs is discarded."""

VALID_SIZE = 5000
"""``valid`` is the last 5000 training images, ``train`` the 55000 before them; ``test`` is t10k."""
NUM_CLASSES = 10
LEVELS = 256


def parse_idx(data: bytes) -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file; ValueError saying what is wrong if malformed.

    Layout: two zero bytes, a type code, the number of dimensions ``d``, ``d`` big-endian uint32 sizes,
    then the elements in C order, big-endian. Returns a writable array in native byte order.
    """
    if len(data) < 4:
        raise ValueError(f"only {len(data)} bytes, too short for the 4-byte magic number")
    if data[0] or data[1]:
        raise ValueError(f"magic number starts with 0x{data[:2].hex()}, not 0x0000")
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        raise ValueError(f"unknown element type code 0x{code:02x}")
    if ndim == 0:
        raise ValueError("the header declares zero dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"truncated header: {ndim} dimensions need {header} bytes, found {len(data)}")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = IDX_DTYPES[code]
    expected = header + math.prod(dims) * dtype.itemsize
    if len(data) < expected:
        raise ValueError(f"truncated: dimensions {dims} need {expected} bytes, found {len(data)}")
    if len(data) > expected:  # read_idx reads one byte past the declared size, no more
        raise ValueError(f"trailing bytes: dimensions {dims} need {expected} bytes, the file holds more")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="))


def _declared_size(header: bytes) -> int | None:
    """The size in bytes of the IDX file whose complete header is ``header``, or None when it is malformed
    (then :func:`parse_idx` says how)."""
    if len(header) < 4 or header[2] not in IDX_DTYPES or len(header) != 4 + 4 * header[3]:
        return None
    dims = struct.unpack(f">{header[3]}I", header[4:])
    return len(header) + math.prod(dims) * IDX_DTYPES[header[2]].itemsize


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file, gzipped when its name ends in ``.gz``; UserError if unreadable or malformed.

    Reads no further than one byte past the size its header declares, so a small gzipped file that
    expands to gigabytes is refused after reading that much, not after expanding it all."""
    fix = "delete it so it is downloaded again, or replace it with the published file"
    try:
        with gzip.open(path) if path.suffix == ".gz" else path.open("rb") as handle:
            data = handle.read(4)
            if len(data) == 4:
                data += read_at_most(handle, 4 * data[3])
            declared = _declared_size(data)
            if declared is not None:
                data += read_at_most(handle, declared - len(data) + 1)  # one more: trailing bytes are an error
    except (OSError, EOFError, zlib.error) as error:
        raise UserError(f"{path}: cannot read it ({one_line(error)}); {fix}") from error
    try:
        return parse_idx(data)
    except ValueError as error:
        raise UserError(f"{path}: not a valid IDX file ({error}); {fix}") from error


def load_mnist(split: str, data_dir: Path | None) -> ArrayDataset:
    """MNIST handwritten digits, 28x28 grey levels (see :func:`load_idx_dataset`)."""
    return load_idx_dataset("mnist", split, data_dir)


def load_fashion_mnist(split: str, data_dir: Path | None) -> ArrayDataset:
    """Fashion-MNIST clothing images, 28x28 grey levels (see :func:`load_idx_dataset`)."""
    return load_idx_dataset("fashion-mnist", split, data_dir)


def load_idx_dataset(
    name: str, split: str, data_dir: Path | None, mirrors: Sequence[str] | None = None
) -> ArrayDataset:
    """One split of an MNIST-family dataset from the IDX files in ``<data_dir>/<name>/``.

    Each file may be gzipped (``.gz``) or not. Missing files are downloaded from ``mirrors``
    (default ``MIRRORS[name]``) into that folder (the cache folder when ``data_dir`` is None).
    x is uint8 (N, 1, H, W) with 256 levels, y the int64 class.
    """
    check_split(split, SPLITS, name)
    folder = dataset_folder(name, data_dir)
    prefix = "t10k" if split == "test" else "train"
    stems = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
    image_path, label_path = find_or_download(name, folder, stems, MIRRORS[name] if mirrors is None else mirrors)
    images, labels = read_idx(image_path), read_idx(label_path)
    _check_pair(images, labels, image_path, label_path)
    if split != "test":
        if len(images) <= VALID_SIZE:
            raise UserError(
                f"{image_path}: holds {len(images)} images, too few to hold out {VALID_SIZE} for 'valid'; "
                "replace it with the published training file"
            )
        rows = slice(None, -VALID_SIZE) if split == "train" else slice(-VALID_SIZE, None)
        images, labels = images[rows], labels[rows]
    x = images.reshape(len(images), 1, *images.shape[1:])
    return ArrayDataset(x, labels.astype(np.int64), LEVELS, name, NUM_CLASSES)


def find_or_download(name: str, folder: Path, stems: Sequence[str], mirrors: Sequence[str]) -> list[Path]:
    """The path of each IDX file ``stem`` or ``stem.gz`` in ``folder``, downloading the missing ones."""
    found = {stem: _existing(folder, stem) for stem in stems}
    for stem in stems:
        if found[stem] is not None:
            continue
        file_name = f"{stem}.gz"
        try:
            found[stem] = download(file_name, mirrors, folder, MD5[name].get(file_name))
        except DownloadError as error:
            missing = [s for s in stems if found[s] is None]
            listed = ", ".join(f"{s}(.gz)" for s in missing)
            pronoun = "it" if len(missing) == 1 else "them"
            raise UserError(
                f"{name}: missing {listed} in {folder} and could not download {pronoun} ({error}); "
                f"put the IDX files there, or pass --data-dir (or set VAELAB_DATA_DIR) to the folder "
                f"that holds {name}/"
            ) from error
    return [path for path in found.values() if path is not None]


def _existing(folder: Path, stem: str) -> Path | None:
    """``folder/stem`` or ``folder/stem.gz``, whichever exists (uncompressed first), else None."""
    for path in (folder / stem, folder / f"{stem}.gz"):
        if path.is_file():
            return path
    return None


def _check_pair(images: np.ndarray, labels: np.ndarray, image_path: Path, label_path: Path) -> None:
    """UserError unless the files hold uint8 images (N, H, W) and N integer labels in [0, 10)."""
    fix = "replace it with the published file"
    if images.ndim != 3 or images.dtype != np.uint8:
        raise UserError(
            f"{image_path}: holds {images.dtype} data of shape {images.shape}, not uint8 images (N, H, W); {fix}"
        )
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise UserError(f"{label_path}: holds {labels.dtype} data of shape {labels.shape}, not labels (N,); {fix}")
    if len(labels) != len(images):
        raise UserError(f"{label_path}: holds {len(labels)} labels for {len(images)} images in {image_path}; {fix}")
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise UserError(f"{label_path}: labels outside 0..{NUM_CLASSES - 1}; {fix}")
