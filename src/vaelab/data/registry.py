"""Datasets by name or path: the explicit registry of named datasets, and the one entry point."""

from __future__ import annotations

import difflib
import functools
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from vaelab.data.binarized_mnist import load_binarized_mnist
from vaelab.data.dataset import ArrayDataset
from vaelab.data.digits import load_digits
from vaelab.data.files import FILE_TYPES, load_file
from vaelab.data.graphs import GRAPH_DATASETS, GraphOptions, is_graph, load_graph_split
from vaelab.data.idx import load_fashion_mnist, load_mnist
from vaelab.data.moses import MOSES
from vaelab.data.named_sequences import load_named_sequences
from vaelab.data.schema import check_kind, check_kind_name
from vaelab.data.sequence_files import load_sequence_file
from vaelab.data.sequences import SequenceOptions
from vaelab.data.shapes import load_shapes
from vaelab.data.text_rows import LINE_TYPES, text_type
from vaelab.data.zinc import ZINC
from vaelab.errors import UserError

DATA_DIR_ENV = "VAELAB_DATA_DIR"

DATASETS: dict[str, Callable[[str, Path | None], ArrayDataset]] = {
    "digits": load_digits,
    "mnist": load_mnist,
    "fashion-mnist": load_fashion_mnist,
    "binarized-mnist": load_binarized_mnist,
    "shapes": load_shapes,  # procedural dSprites-style sprites, 64 x 64, with their factors
    "shapes-32": functools.partial(load_shapes, resolution=32),  # the same drawn at 32 x 32
}
"""Registered name -> loader(split, data_dir); downloaded datasets live in ``<data_dir>/<name>/``."""

SEQUENCE_DATASETS: dict[str, Callable[[str, Path | None, SequenceOptions], ArrayDataset]] = {
    "moses": functools.partial(load_named_sequences, MOSES),
    "zinc": functools.partial(load_named_sequences, ZINC),
}
"""Registered name -> loader(split, data_dir, options) of a sequence dataset (read from text)."""


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path | None:
    """The data folder: ``data_dir`` if given, else ``$VAELAB_DATA_DIR`` if set, else None (the cache)."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    from_env = os.environ.get(DATA_DIR_ENV)
    return Path(from_env).expanduser() if from_env else None


def _holds_sequences(name_or_path: str, path: Path, sequences: SequenceOptions | None) -> bool:
    """A sequence dataset, a file of one sequence per line, or a .csv whose sequence column is named."""
    if name_or_path in SEQUENCE_DATASETS:
        return True
    if name_or_path in DATASETS:
        return False
    return text_type(path) in LINE_TYPES or (
        text_type(path) == ".csv" and sequences is not None and sequences.column is not None
    )


def load_dataset(
    name_or_path: str,
    split: str = "train",
    data_dir: str | os.PathLike[str] | None = None,
    labels: str | None = None,
    kind: str | None = None,
    sequences: SequenceOptions | None = None,
    graph: GraphOptions | None = None,
) -> ArrayDataset:
    """Load ``split`` ("train", "valid", "test"; files also "all") of a registered dataset or a file.

    ``name_or_path`` is a key of :data:`DATASETS` or :data:`SEQUENCE_DATASETS`, or a path to a ``.npy``,
    ``.npz`` or ``.csv`` file, or to a text file of sequences: ``.txt`` or ``.smi`` (one per line), or a ``.csv``
    whose ``sequences.column`` holds them (each also gzipped, ``.gz``). ``labels`` names the label array (.npz)
    or column (.csv) of a file. ``kind`` states the kind of data (one of :data:`vaelab.data.schema.KINDS`;
    None: detected from the shape) and must fit the data; sequences are ``"sequence"``. ``sequences`` holds the
    options of sequence data (:class:`vaelab.data.sequences.SequenceOptions`; None: the defaults). A graph
    (``cora``, a .npz of ``num_nodes`` and ``edges``, or an edge-list .csv with ``kind="graph"``) gives one row of
    node features per node and the split's edges under the seeded edge split of ``graph``
    (:class:`vaelab.data.graphs.GraphOptions`).
    Raises UserError on bad input.
    """
    if kind is not None:
        check_kind_name(kind)
    path = Path(name_or_path).expanduser()
    if name_or_path not in DATASETS and name_or_path not in SEQUENCE_DATASETS and is_graph(name_or_path, kind):
        if labels is not None or sequences not in (None, SequenceOptions()):
            raise UserError(f"{name_or_path}: a graph takes no labels= or sequence options; leave them out")
        return load_graph_split(name_or_path, split, resolve_data_dir(data_dir), graph)
    if graph not in (None, GraphOptions()):
        raise UserError(f"{name_or_path}: graph options (split_seed, node_features) apply to graphs only")
    if _holds_sequences(name_or_path, path, sequences):
        if labels is not None:
            raise UserError(f"{name_or_path}: labels= does not apply to sequence data yet; leave it out")
        if kind not in (None, "sequence"):
            raise UserError(f"{name_or_path}: holds sequence data, not {kind} data; leave the kind out")
        options = sequences or SequenceOptions()
        sequence_loader = SEQUENCE_DATASETS.get(name_or_path)
        if sequence_loader is not None:
            return sequence_loader(split, resolve_data_dir(data_dir), options)
        return load_sequence_file(path, split, options)
    if sequences not in (None, SequenceOptions()):  # the defaults may travel with any data
        raise UserError(
            f"{name_or_path}: sequence options (tokens, column, limit, ...) apply to sequence data: a "
            f"{', '.join(LINE_TYPES)} file, a .csv with column=, or {' or '.join(SEQUENCE_DATASETS)}"
        )
    loader = DATASETS.get(name_or_path)
    if loader is not None:
        if labels is not None:
            raise UserError(
                f"{name_or_path}: labels= only applies to .npz and .csv files; leave it out for a registered dataset"
            )
        dataset = loader(split, resolve_data_dir(data_dir))
        if kind is None:
            return dataset
        check_kind(kind, dataset.data_shape)
        return replace(dataset, kind=kind)
    if path.suffix.lower() in FILE_TYPES or path.exists():
        return load_file(path, split, labels, kind)
    names = [*DATASETS, *SEQUENCE_DATASETS, *GRAPH_DATASETS]
    close = difflib.get_close_matches(name_or_path.lower(), names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise UserError(
        f"unknown dataset {name_or_path!r}{hint}; use one of: {', '.join(names)}, or a path to a "
        f"{', '.join((*FILE_TYPES, *LINE_TYPES))} file"
    )
