"""Every data source through every command that applies to its kind, end to end through ``vaelab``.

``SOURCES`` lists the sources (registered datasets and files of each format), ``COMMANDS`` the commands of
each kind of data with what each must write (the README's table of commands by kind). A later kind of
data adds its sources and commands here, and every pair of them is run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from helpers import vaelab

TRAIN = ["--epochs", "2", "--hidden-dims", "16", "--latent-dim", "2", "--no-progress", "--no-report"]


def _digits(folder: Path) -> tuple[str, str]:
    return "digits", "image"


def _image_npy(folder: Path) -> tuple[str, str]:
    path = folder / "images.npy"  # (N, H, W) uint8: one channel, 256 levels
    np.save(path, np.random.default_rng(0).integers(0, 256, size=(60, 6, 6)).astype(np.uint8))
    return str(path), "image"


def _labelled_npz(folder: Path) -> tuple[str, str]:
    path = folder / "labelled.npz"  # binary images with two classes (which detect reads as anomaly labels)
    rng = np.random.default_rng(1)
    np.savez(path, x=rng.integers(0, 2, size=(60, 1, 5, 5)).astype(bool), y=rng.integers(0, 2, size=60))
    return str(path), "image"


def _table_csv(folder: Path) -> tuple[str, str]:
    path = folder / "table.csv"  # float, integer and binary columns
    rng = np.random.default_rng(2)
    columns = rng.normal(size=60), rng.integers(0, 5, 60), rng.integers(0, 2, 60)
    rows = [f"{a:.4f},{b},{c}" for a, b, c in zip(*columns, strict=True)]
    path.write_text("a,b,c\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return str(path), "table"


def _table_npy(folder: Path) -> tuple[str, str]:
    path = folder / "table.npy"
    np.save(path, np.random.default_rng(3).normal(size=(60, 4)).astype(np.float32))
    return str(path), "table"


SOURCES: dict[str, Callable[[Path], tuple[str, str]]] = {
    "digits": _digits,
    "image-npy": _image_npy,
    "labelled-npz": _labelled_npz,
    "table-csv": _table_csv,
    "table-npy": _table_npy,
}
"""Source name -> writer of the source into a folder, returning ``(--data value, kind)``."""

Command = Callable[[Path, str, Path], list[str]]


def commands(picture: str) -> dict[str, Command]:
    """The commands of a kind of data whose pictures are written as ``picture`` files (png, or npy arrays)."""
    return {
        "eval": lambda run, data, out: ["eval", str(run), "--num-samples", "3", "--json"],
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


COMMANDS: dict[str, dict[str, Command]] = {"image": commands("png"), "table": commands("npy")}
"""Kind -> command -> its arguments ``(run directory, --data value, output folder)``; ``train`` runs for
every source first. ``detect`` reads files only, so a registered dataset skips it."""


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str, str]]:
    """One short run per source: name -> (run directory, --data value, kind)."""
    runs = {}
    for name, write in SOURCES.items():
        folder = tmp_path_factory.mktemp(name)
        data, kind = write(folder)
        labels = ["--model", "cvae"] if name == "labelled-npz" else []
        code, _, err = vaelab(["train", "--data", data, *labels, *TRAIN, "--out", str(folder / "run")])
        assert code == 0, f"{name}: {err}"
        runs[name] = (folder / "run", data, kind)
    return runs


ALL_COMMANDS = sorted({command for commands in COMMANDS.values() for command in commands})


@pytest.mark.parametrize("command", ALL_COMMANDS)
@pytest.mark.parametrize("source", list(SOURCES))
def test_every_source_through_every_command_of_its_kind(trained, source: str, command: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run, data, kind = trained[source]
    if command not in COMMANDS[kind]:
        pytest.skip(f"{command} does not apply to {kind} data")
    if command == "detect" and not Path(data).is_file():
        pytest.skip("vaelab detect reads files; a registered dataset has none")
    args = COMMANDS[kind][command](run, data, tmp_path)
    if source == "labelled-npz" and command == "sample":
        args += ["--label", "1"]
    code, stdout, err = vaelab(args)
    assert code == 0, f"{source} {command}: {err}"
    written = sorted(p.name for p in tmp_path.iterdir())
    if command == "eval":
        figures = json.loads(stdout)
        assert np.isfinite(figures["elbo"]) and np.isfinite(figures["nll"]) and (run / "eval-test.json").is_file()
    elif command == "report":
        assert (run / "report.html").stat().st_size > 1000
    else:
        assert len(written) == 1, written
        output = tmp_path / written[0]
        if output.suffix == ".npy":
            assert np.isfinite(np.load(output)).all()
        elif output.suffix == ".png":
            assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        else:
            lines = output.read_text(encoding="utf-8").splitlines()
            assert lines[0] == "row,score,decision,outlier" and len(lines) > 10
