"""The Cora citation graph (2,708 papers, 5,278 citation links, 1,433 binary word features per paper).

``--data cora`` reads ``<data_dir>/cora/cora.npz`` (the layout of :func:`vaelab.data.graph.read_graph_npz`). When it
is missing it is built from the LINQS archive ``cora.tgz`` (``cora.content``: a paper id, its 1,433 word
indicators and its subject per line; ``cora.cites``: cited and citing paper ids per line), read as text from the
archive without extracting it. Papers are numbered in the order of ``cora.content``.
"""

from __future__ import annotations

import tarfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vaelab.atomic import atomic_save_npz
from vaelab.data.download import DownloadError, dataset_folder, download
from vaelab.data.graph import Graph, clean_edges, read_graph_npz
from vaelab.errors import UserError

NAME = "cora"
NPZ_NAME = "cora.npz"
ARCHIVE = "cora.tgz"
MIRRORS: tuple[str, ...] = ("https://linqs-data.soe.ucsc.edu/public/lbc/",)
"""Where ``cora.tgz`` is downloaded from, tried in order."""


def load_cora(data_dir: Path | None, mirrors: Sequence[str] | None = None) -> Graph:
    folder = dataset_folder(NAME, data_dir)
    path = folder / NPZ_NAME
    if not path.is_file():
        build_npz(folder, MIRRORS if mirrors is None else mirrors)
    return read_graph_npz(path, NAME)


def build_npz(folder: Path, mirrors: Sequence[str]) -> None:
    """Download ``cora.tgz`` (unless in ``folder``), convert it to ``cora.npz`` (written atomically), delete it."""
    archive = folder / ARCHIVE
    if not archive.is_file():
        try:
            download(ARCHIVE, mirrors, folder)
        except DownloadError as error:
            raise UserError(
                f"{NAME}: missing {folder / NPZ_NAME} and could not download {ARCHIVE} to build it ({error}); put "
                f"{NPZ_NAME} there, or pass --data-dir (or set VAELAB_DATA_DIR) to the folder that holds {NAME}/"
            ) from error
    graph = parse_archive(archive)
    features = graph.feature_matrix()
    atomic_save_npz(
        folder / NPZ_NAME,
        {
            "num_nodes": np.array(graph.num_nodes, dtype=np.int64),
            "edges": graph.edges.astype(np.int32),
            "features_indptr": features.indptr,
            "features_indices": features.indices,
            "features_data": features.data,
            "features_shape": np.array(features.shape, dtype=np.int64),
        },
    )
    archive.unlink()


def parse_archive(archive: Path) -> Graph:
    """The graph in LINQS's ``cora.tgz``: papers in ``cora.content`` order, citations as undirected edges."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            content = _member_lines(tar, "cora.content")
            cites = _member_lines(tar, "cora.cites")
    except (tarfile.TarError, OSError, UnicodeDecodeError) as error:
        raise UserError(f"{archive}: not a readable Cora archive ({error}); delete it and run again") from None
    ids = {fields[0]: node for node, fields in enumerate(content)}
    words = np.array([[int(value) for value in fields[1:-1]] for fields in content], dtype=np.float32)
    pairs = [(ids[a], ids[b]) for a, b in cites if a in ids and b in ids]
    edges, cleaned = clean_edges(np.array(pairs, dtype=np.int64).reshape(-1, 2), len(ids), str(archive))
    import scipy.sparse as sp  # scipy: only when Cora is built

    return Graph(len(ids), edges, sp.csr_matrix(words), NAME, cleaned)


def _member_lines(tar: tarfile.TarFile, name: str) -> list[list[str]]:
    member = next((m for m in tar.getmembers() if m.isfile() and Path(m.name).name == name), None)
    handle = None if member is None else tar.extractfile(member)
    if handle is None:
        raise UserError(f"the Cora archive has no {name}")
    return [line.split() for line in handle.read().decode("utf-8").splitlines() if line.strip()]
