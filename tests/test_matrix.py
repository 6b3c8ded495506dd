"""Every data source through every command that applies to its kind, end to end through ``vaelab``.

``SOURCES`` lists the sources (registered datasets and files of each format), ``COMMANDS`` the commands of
each kind of data with what each must write (the README's table of commands by kind). A later kind of
data adds its sources and commands here, and every pair of them is run. ``train`` writes its report for
the sources in ``REPORTED`` (one per kind at least), since that report reads the data as training holds
it (a memory-mapped uint8 .npy once crashed there, after training).
"""

from __future__ import annotations

import gzip
import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from conftest import shared_data_dir
from helpers import vaelab

TRAIN = ["--epochs", "2", "--hidden-dims", "16", "--latent-dim", "2", "--no-progress"]


class Source(NamedTuple):
    data: str  # the --data value
    kind: str
    options: tuple[str, ...] = ()  # further options of vaelab train (the commands after it read the run's config)


def _digits(folder: Path) -> Source:
    return Source("digits", "image")


def _image_npy(folder: Path) -> Source:
    path = folder / "images.npy"  # (N, H, W) uint8: one channel, 256 levels
    np.save(path, np.random.default_rng(0).integers(0, 256, size=(60, 6, 6)).astype(np.uint8))
    return Source(str(path), "image")


def _labelled_npz(folder: Path) -> Source:
    path = folder / "labelled.npz"  # binary images with two classes (which detect reads as anomaly labels)
    rng = np.random.default_rng(1)
    np.savez(path, x=rng.integers(0, 2, size=(60, 1, 5, 5)).astype(bool), y=rng.integers(0, 2, size=60))
    return Source(str(path), "image")


def _partly_labelled_npz(folder: Path) -> Source:
    """Binary images of two classes whose label is known for a third of the rows (-1 for the rest), as M2."""
    path = folder / "partly-labelled.npz"
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, size=60)
    x = rng.random((60, 1, 5, 5)) < np.where(y == 1, 0.7, 0.3)[:, None, None, None]
    np.savez(path, x=x, y=np.where(np.arange(60) % 3 == 0, y, -1))
    return Source(str(path), "partly-labelled-image", ("--model", "m2"))


def _partly_labelled_csv(folder: Path) -> Source:
    """A numeric table whose text label column is filled for a third of the rows (empty cells for the rest), as M2."""
    path = folder / "partly-labelled.csv"
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 60)
    columns = rng.normal(size=60) + 2 * y, rng.normal(size=60) - y, rng.integers(0, 2, 60)
    kind = np.where(np.arange(60) % 3 == 0, np.where(y == 1, "big", "small"), "")
    rows = [f"{a:.4f},{b:.4f},{c},{k}" for a, b, c, k in zip(*columns, kind, strict=True)]
    path.write_text("a,b,c,kind\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return Source(str(path), "partly-labelled-table", ("--labels", "kind", "--model", "m2"))


def _table_csv(folder: Path) -> Source:
    path = folder / "table.csv"  # float, integer and binary columns
    rng = np.random.default_rng(2)
    columns = rng.normal(size=60), rng.integers(0, 5, 60), rng.integers(0, 2, 60)
    rows = [f"{a:.4f},{b},{c}" for a, b, c in zip(*columns, strict=True)]
    path.write_text("a,b,c\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return Source(str(path), "table")


def _mixed_csv(folder: Path) -> Source:
    path = folder / "mixed.csv"  # numbers, whole numbers, text categories and missing cells
    rng = np.random.default_rng(4)
    colours = np.array(["red", "green", "blue"])[rng.integers(0, 3, 60)]
    rows = [
        f"{'' if i % 9 == 0 else f'{rng.normal():.3f}'},{rng.integers(18, 80)},{'' if i % 11 == 0 else colours[i]}"
        for i in range(60)
    ]
    path.write_text("size,age,colour\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return Source(str(path), "mixed-table")


def _incomplete_npy(folder: Path) -> Source:
    """Binary 6 x 6 images with one quadrant of every other image missing (NaN), read with the mask as an encoder
    input and mean filling."""
    path = folder / "incomplete.npy"
    rng = np.random.default_rng(5)
    images = (rng.random((60, 6, 6)) < 0.5).astype(np.float32)
    for i in range(0, 60, 2):
        top, left = divmod(int(rng.integers(0, 4)), 2)
        images[i, 3 * top : 3 * top + 3, 3 * left : 3 * left + 3] = np.nan
    np.save(path, images)
    return Source(str(path), "incomplete-image", ("--mask-input", "--fill", "mean"))


def _table_npy(folder: Path) -> Source:
    path = folder / "table.npy"
    np.save(path, np.random.default_rng(3).normal(size=(60, 4)).astype(np.float32))
    return Source(str(path), "table")


def _idx_bytes(array: np.ndarray) -> bytes:
    """``array`` (uint8) as an IDX file: 0x0000, type code 0x08, the number of dimensions, then each size as a
    big-endian uint32, then the elements in C order."""
    return bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def _idx(folder: Path) -> Source:
    """``fashion-mnist`` from four small IDX files in its folder, the images gzipped as published and the
    labels not (both are read). Its ``train`` split is what precedes the last 5000 training images."""
    data_dir = folder / "idx-data"
    (data_dir / "fashion-mnist").mkdir(parents=True)
    rng = np.random.default_rng(4)
    for prefix, n in (("train", 5060), ("t10k", 60)):
        images = rng.integers(0, 256, size=(n, 6, 6)).astype(np.uint8)
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        stem = data_dir / "fashion-mnist" / prefix
        Path(f"{stem}-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(images)))
        Path(f"{stem}-labels-idx1-ubyte").write_bytes(_idx_bytes(labels))
    return Source("fashion-mnist", "image", ("--data-dir", str(data_dir)))


def _binarized_mnist(folder: Path) -> Source | None:
    """The real binarized MNIST from ../shared/data, all of it: training stops after 50 steps (of 391 an
    epoch) and validates on the 10,000 valid images, ``eval`` takes 500 test images, ``encode`` all."""
    data_dir = shared_data_dir()
    if data_dir is None:
        return None
    return Source("binarized-mnist", "image", ("--data-dir", str(data_dir), "--set", "train.max_steps=50"))


MOLECULES = ["CCO", "c1ccccc1", "CC(=O)O", "CCN(CC)CC", "Clc1ccccc1", "CC(C)Br", "c1ccc2[nH]ccc2c1", "C1CCCCC1"]


def _smiles(folder: Path) -> Source:
    """A SMILES file, one molecule per line: 80 lines of eight molecules (each split sees every token)."""
    path = folder / "molecules.smi"
    path.write_text("\n".join(MOLECULES * 10) + "\n", encoding="utf-8")
    return Source(str(path), "sequence")


def _graph_pairs(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """60 nodes in three communities (pairs within one linked more often): edges (E, 2) and features (60, 4)."""
    rng = np.random.default_rng(seed)
    community = np.arange(60) % 3
    u, v = np.triu_indices(60, 1)
    keep = rng.random(len(u)) < np.where(community[u] == community[v], 0.3, 0.02)
    features = np.concatenate([np.eye(3)[community], rng.random((60, 1))], axis=1).astype(np.float32)
    return np.stack([u[keep], v[keep]], axis=1), features


def _graph_npz(folder: Path) -> Source:
    """A graph .npz in Cora's layout: node count, edges, no features (each node its own indicator)."""
    path = folder / "graph.npz"
    edges, _ = _graph_pairs(6)
    np.savez(path, num_nodes=np.array(60), edges=edges)
    return Source(str(path), "graph", ("--model", "vgae"))


def _edge_csv(folder: Path) -> Source:
    """An edge-list .csv with node features from a .npy, trained as a GAE."""
    path = folder / "edges.csv"
    edges, features = _graph_pairs(7)
    path.write_text("u,v\n" + "".join(f"{a},{b}\n" for a, b in edges), encoding="utf-8")
    np.save(folder / "features.npy", features)
    options = ("--kind", "graph", "--set", f"data.node_features={folder / 'features.npy'}", "--model", "gae")
    return Source(str(path), "graph", options)


def _cora(folder: Path) -> Source | None:
    data_dir = shared_data_dir()
    return None if data_dir is None else Source("cora", "graph", ("--data-dir", str(data_dir), "--model", "vgae"))


SOURCES: dict[str, Callable[[Path], Source | None]] = {
    "digits": _digits,
    "image-npy": _image_npy,
    "labelled-npz": _labelled_npz,
    "partly-labelled-npz": _partly_labelled_npz,
    "idx": _idx,
    "binarized-mnist": _binarized_mnist,
    "table-csv": _table_csv,
    "partly-labelled-csv": _partly_labelled_csv,
    "mixed-csv": _mixed_csv,
    "table-npy": _table_npy,
    "incomplete-npy": _incomplete_npy,
    "smiles": _smiles,
    "graph-npz": _graph_npz,
    "edge-csv": _edge_csv,
    "cora": _cora,
}
"""Source name -> writer of the source into a folder (None: the shared datasets are absent)."""
SHARED_DATA_SOURCES = {"binarized-mnist", "cora"}
REPORTED = {
    "image-npy",
    "partly-labelled-npz",
    "partly-labelled-csv",
    "table-npy",
    "mixed-csv",
    "incomplete-npy",
    "smiles",
    "graph-npz",
    "edge-csv",
}
"""Sources whose ``train`` writes its pictures and report.html (the others pass ``--no-report``)."""

Command = Callable[[Path, str, Path], list[str]]


def commands(picture: str) -> dict[str, Command]:
    """The commands of a kind of data whose pictures are written as ``picture`` files (png, or npy arrays)."""
    return {
        "eval": lambda run, data, out: ["eval", str(run), "--num-samples", "3", "--limit", "500", "--json"],
        "sample": lambda run, data, out: ["sample", str(run), "-n", "4", "--out", str(out / f"s.{picture}")],
        "reconstruct": lambda run, data, out: ["reconstruct", str(run), "-n", "4", "--out", str(out / f"r.{picture}")],
        "interpolate": lambda run, data, out: [
            "interpolate",
            str(run),
            "--steps",
            "3",
            "--out",
            str(out / f"i.{picture}"),
        ],
        "encode": lambda run, data, out: ["encode", str(run), "--out", str(out / "z.npy")],
        "traverse": lambda run, data, out: ["traverse", str(run), "--steps", "3", "--out", str(out / f"t.{picture}")],
        "detect": lambda run, data, out: ["detect", "--data", data, "--epochs", "1", "--out", str(out / "d.csv")],
        "report": lambda run, data, out: ["report", str(run), "--max-examples", "40"],
    }


def impute(suffix: str) -> Command:
    """``vaelab impute`` fitted on the data file itself (a registered dataset has none: skipped)."""
    return lambda run, data, out: ["impute", "--data", data, "--epochs", "2", "--out", str(out / f"f.{suffix}")]


def denoise(run: Path, data: str, out: Path) -> list[str]:
    return ["denoise", str(run), "--data", data, "--noise", "gaussian:0.2", "--out", str(out / "d.npy")]


SEQUENCE_COMMANDS = {name: command for name, command in commands("smi").items() if name != "detect"}
INCOMPLETE_IMAGE_COMMANDS = {
    **{name: command for name, command in commands("png").items() if name != "detect"},
    "impute": impute("npy"),
}
MIXED_TABLE_COMMANDS: dict[str, Command] = {
    **commands("npy"),
    "detect": lambda run, data, out: [
        "detect",
        "--data",
        data,
        "--missing",
        "impute",
        "--epochs",
        "1",
        "--out",
        str(out / "d.csv"),
    ],
    "sample": lambda run, data, out: ["sample", str(run), "-n", "4", "--out", str(out / "s.csv")],
    "synth": lambda run, data, out: ["synth", "--data", data, "--epochs", "2", "-n", "12", "--out", str(out / "y.csv")],
    "impute": impute("csv"),
}
COMMANDS: dict[str, dict[str, Command]] = {
    "image": {**commands("png"), "denoise": denoise},
    "table": {**commands("npy"), "impute": lambda run, data, out: impute(Path(data).suffix[1:])(run, data, out)},
    "incomplete-image": INCOMPLETE_IMAGE_COMMANDS,  # NaN where values are missing
    # labels known for some rows (M2): the image commands that read a run (detect and denoise read files as
    # unconditional data)
    "partly-labelled-image": {name: command for name, command in commands("png").items() if name != "detect"},
    "partly-labelled-table": {name: command for name, command in commands("npy").items() if name != "detect"},
    "mixed-table": MIXED_TABLE_COMMANDS,  # a .csv with text and missing cells: rows come back as .csv
    "sequence": SEQUENCE_COMMANDS,
    "graph": {
        **{name: commands("npy")[name] for name in ("sample", "encode", "report")},
        "eval": lambda run, data, out: ["eval", str(run), "--links", "--json"],  # every held-out pair: no --limit
    },
}
"""Kind -> command -> its arguments ``(run directory, --data value, output folder)``; ``train`` runs for
every source first. ``detect``, ``impute`` and ``denoise`` read files only, so a registered dataset skips them;
``denoise`` takes unconditional models."""


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Source] | None]:
    """One short run per source: name -> (run directory, source), None where the source is absent."""
    runs: dict[str, tuple[Path, Source] | None] = {}
    for name, write in SOURCES.items():
        folder = tmp_path_factory.mktemp(name)
        source = write(folder)
        if source is None:
            runs[name] = None
            continue
        labels = ["--model", "cvae"] if name == "labelled-npz" else []
        report = [] if name in REPORTED else ["--no-report"]
        run = folder / "run"
        args = ["train", "--data", source.data, *source.options, *labels, *TRAIN, *report, "--out", str(run)]
        code, _, err = vaelab(args)
        assert code == 0, f"{name}: {err}"
        if name in REPORTED:
            assert (run / "report.html").stat().st_size > 1000, name
            assert source.kind != "image" or any((run / "images").iterdir()), name
        runs[name] = (run, source)
    return runs


ALL_COMMANDS = sorted({command for commands in COMMANDS.values() for command in commands})


@pytest.mark.parametrize("command", ALL_COMMANDS)
@pytest.mark.parametrize(
    "source",
    [pytest.param(name, marks=[pytest.mark.shared_data] if name in SHARED_DATA_SOURCES else []) for name in SOURCES],
)
def test_every_source_through_every_command_of_its_kind(trained, source: str, command: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if trained[source] is None:
        pytest.skip(f"{source} needs ../shared/data (or VAELAB_DATA_DIR): the shared real datasets are absent")
    run, (data, kind, _) = trained[source]
    if command not in COMMANDS[kind]:
        pytest.skip(f"{command} does not apply to {kind} data")
    if command in ("detect", "impute", "denoise") and not Path(data).is_file():
        pytest.skip(f"vaelab {command} reads files; a registered dataset has none")
    if command == "denoise" and source == "labelled-npz":
        pytest.skip("vaelab denoise takes unconditional models; this run is a cvae")
    args = COMMANDS[kind][command](run, data, tmp_path)
    if source == "labelled-npz" and command == "sample":
        args += ["--label", "1"]
    code, stdout, err = vaelab(args)
    assert code == 0, f"{source} {command}: {err}"
    written = sorted(p.name for p in tmp_path.iterdir())
    if command == "eval" and kind == "graph":  # link prediction on the held-out test pairs
        figures = json.loads(stdout)
        assert 0 <= figures["roc_auc"] <= 1 and figures["pairs"] > 0 and (run / "eval-test.json").is_file()
    elif command == "eval":
        figures = json.loads(stdout)
        assert np.isfinite(figures["elbo"]) and np.isfinite(figures["nll"]) and (run / "eval-test.json").is_file()
        if kind.startswith("partly-labelled"):  # the test split's rows that carry a label are classified
            assert 0 <= figures["accuracy"] <= 1 and figures["accuracy_rows"] > 0
    elif command == "report":
        assert (run / "report.html").stat().st_size > 1000
    else:
        assert len(written) == 1, written
        output = tmp_path / written[0]
        if output.suffix == ".npy":
            assert np.isfinite(np.load(output)).all()  # imputed arrays hold no NaN any more
        elif output.suffix == ".png":
            assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        elif output.suffix == ".smi":  # decoded molecules (any text: the model trained for two epochs)
            assert output.read_text(encoding="utf-8").count("\n") >= 2
        elif command == "impute":  # the file's own columns, every cell filled
            lines = output.read_text(encoding="utf-8").splitlines()
            assert lines[0] == Path(data).read_text(encoding="utf-8").splitlines()[0] and len(lines) == 61
            assert all(cell != "" for line in lines[1:] for cell in line.split(","))
        elif command in ("sample", "synth"):  # table rows in the file's own columns and categories
            lines = output.read_text(encoding="utf-8").splitlines()
            assert lines[0] == "size,age,colour" and len(lines) == (5 if command == "sample" else 13), lines
            assert all(line.split(",")[2] in {"red", "green", "blue"} for line in lines[1:])
        else:
            lines = output.read_text(encoding="utf-8").splitlines()
            assert lines[0] == "row,score,decision,outlier" and len(lines) > 10
