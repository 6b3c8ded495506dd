"""Commands that apply a saved model: sample, reconstruct, interpolate, encode."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast

import numpy as np
import torch
import typer

from vaelab.atomic import atomic_save_npy, atomic_write_text
from vaelab.cli.common import load_run, model_inputs, run_data
from vaelab.cli.output import emit_json, say
from vaelab.data.batch import graph_batch
from vaelab.data.schema import feature_from_dict
from vaelab.data.sequences import encode_texts
from vaelab.data.splits import FILE_SPLITS
from vaelab.data.vocabulary import Vocabulary
from vaelab.errors import UserError
from vaelab.evaluation.links import node_embeddings
from vaelab.models import VAE
from vaelab.models.latent_paths import PATHS
from vaelab.report.images import save_png

Opt = typer.Option


TEXT_SUFFIXES = {".smi", ".txt"}


def write_output(out: Path, array: np.ndarray, ncols: int, model: VAE) -> None:
    """``array`` as ``.npy``; as a ``.png`` grid of ``ncols`` for images; as text for sequences, one line per
    ``ncols`` rows (tab-separated), each row decoded by the model's vocabulary."""
    _check_out(out, model)
    if out.suffix == ".npy":
        atomic_save_npy(out, array)
    elif out.suffix == ".png":
        save_png(out, array, ncols)
    elif out.suffix == ".csv":
        from vaelab.applications.synthetic.frames import features_frame

        features = tuple(feature_from_dict(f) for f in model.spec["columns"])
        rows = features_frame(array, features, clip=True)  # within each column's training range
        atomic_write_text(out, rows.to_csv(index=False))
    else:
        vocabulary = cast(Vocabulary, model.vocabulary)
        texts = ["" if text is None else text for text in vocabulary.texts(array)]  # "": no molecule decoded
        lines = ["\t".join(texts[i : i + ncols]) + "\n" for i in range(0, len(texts), ncols)]
        atomic_write_text(out, "".join(lines))


def _check_out(out: Path, model: VAE | None = None) -> None:
    """Refuse, before any work, an output the command cannot write for this model's data."""
    if out.suffix not in {".png", ".npy", ".csv", *TEXT_SUFFIXES}:
        raise UserError(f"--out must end in .png, .npy, .csv, .smi or .txt, got {out.name}")
    if model is not None and out.suffix == ".csv" and model.spec.get("columns") is None:
        raise UserError(f"{out.name}: .csv output is for models of a table read from a .csv; write a .npy file instead")
    if model is not None and out.suffix == ".png" and model.data_kind != "image":
        raise UserError(f"{out.name}: the model's data are not images; write a .npy file instead")
    if model is not None and out.suffix in TEXT_SUFFIXES and model.vocabulary is None:
        raise UserError(f"{out.name}: text output is for sequence models; write a .npy file instead")


def sample(
    run_dir: Annotated[Path, typer.Argument(help="run directory")],
    n: Annotated[int, Opt("-n", help="number of samples")] = 64,
    label: Annotated[int | None, Opt(help="class to generate (conditional models)")] = None,
    out: Annotated[Path, Opt(help="output .png or .npy; .csv for a table's rows in its own units")] = Path(
        "samples.png"
    ),
    seed: Annotated[int, Opt()] = 0,
    as_json: Annotated[bool, Opt("--json")] = False,
) -> None:
    """Draw samples from the prior through the decoder."""
    _check_out(out)
    if n < 1:
        raise UserError("-n must be at least 1")
    model = load_run(run_dir)
    if label is not None and not model.num_classes:
        raise UserError("--label needs a class-conditional model (trained with --model cvae)")
    torch.manual_seed(seed)
    _check_out(out, model)
    table = model.spec.get("columns") is not None and out.suffix == ".csv"  # rows drawn from p(x|z), not means
    images = model.sample(n, y=label, mean=not table).numpy()
    write_output(out, images, 1 if model.vocabulary else min(n, 8), model)
    if as_json:
        emit_json({"out": str(out), "n": n})
    else:
        say(f"wrote {n} samples to {out}")


def reconstruct(
    run_dir: Annotated[Path, typer.Argument(help="run directory")],
    data: Annotated[str | None, Opt(help="dataset name or path (default: the run's)")] = None,
    data_dir: Annotated[str | None, Opt()] = None,
    split: Annotated[str, Opt()] = "test",
    n: Annotated[int, Opt("-n", help="number of examples")] = 16,
    out: Annotated[Path, Opt(help="output .png (inputs above reconstructions) or .npy")] = Path("reconstructions.png"),
    seed: Annotated[int, Opt()] = 0,
) -> None:
    """Reconstruct examples through the posterior mean."""
    _check_out(out)
    model = load_run(run_dir, not_for_graphs="reconstruct")
    dataset = run_data(run_dir, model, data, split, data_dir, limit=n, seed=seed)
    x, y = model_inputs(model, dataset)
    x_hat = model.reconstruct(x, y).numpy()
    if out.suffix == ".npy":
        write_output(out, x_hat, 8, model)
    elif out.suffix in TEXT_SUFFIXES:  # one line per example: the input, a tab, its reconstruction
        write_output(out, np.stack([x.numpy(), x_hat], axis=1).reshape(-1, x_hat.shape[-1]), 2, model)
    else:
        pairs = np.concatenate([np.concatenate([x[i : i + 8].numpy(), x_hat[i : i + 8]]) for i in range(0, len(x), 8)])
        write_output(out, pairs, min(len(x), 8), model)
    say(f"wrote {len(x)} reconstructions to {out}")


def interpolate(
    run_dir: Annotated[Path, typer.Argument(help="run directory")],
    data: Annotated[str | None, Opt(help="dataset name or path (default: the run's)")] = None,
    data_dir: Annotated[str | None, Opt()] = None,
    split: Annotated[str, Opt()] = "test",
    steps: Annotated[int, Opt(help="points on each path")] = 10,
    method: Annotated[str, Opt(help=" | ".join([*PATHS, "both"]))] = "both",
    pairs: Annotated[int, Opt(help="number of example pairs")] = 3,
    out: Annotated[Path, Opt(help="output .png strip, .npy, or .smi/.txt for sequences")] = Path("interpolation.png"),
    seed: Annotated[int, Opt()] = 0,
    between: Annotated[
        list[str] | None, Opt(help="sequence models: two texts (e.g. SMILES) to go between, --between A --between B")
    ] = None,
) -> None:
    """Decode paths between the posterior means of pairs of examples (one row per pair and method)."""
    _check_out(out)
    methods = ["lerp", "slerp"] if method == "both" else [method]
    if steps < 2 or pairs < 1:
        raise UserError("--steps must be at least 2 and --pairs at least 1")
    model = load_run(run_dir, not_for_graphs="interpolate")
    if between is not None:
        x, y, pairs = _given_pair(model, between), None, 1
    else:
        dataset = run_data(run_dir, model, data, split, data_dir, limit=2 * pairs, seed=seed)
        x, y = model_inputs(model, dataset)
    if len(x) < 2 * pairs:
        raise UserError(f"the {split} split has {len(x)} examples; --pairs {pairs} needs {2 * pairs}")
    rows = [
        model.interpolate(x[i], x[i + 1], steps, m, y=None if y is None else y[i : i + 1]).numpy()
        for i in range(0, 2 * pairs, 2)
        for m in methods
    ]
    write_output(out, np.concatenate(rows), steps, model)
    say(f"wrote {len(rows)} interpolation rows ({', '.join(methods)}) to {out}")


def _given_pair(model: VAE, texts: list[str]) -> torch.Tensor:
    """The two texts of ``--between`` as ``(2, T)`` ids of a sequence model's vocabulary."""
    if model.vocabulary is None:
        raise UserError("--between takes texts, for sequence models; for other data pick --data, --split and --pairs")
    if len(texts) != 2:
        raise UserError(f"--between takes exactly two texts (--between A --between B), got {len(texts)}")
    if model.is_conditional:
        raise UserError("--between does not take a condition; use --data with the condition's column instead")
    ids = encode_texts(texts, "--between", model.vocabulary, model.data_shape[0] - 1)
    return torch.from_numpy(ids).long()


def encode(
    run_dir: Annotated[Path, typer.Argument(help="run directory")],
    data: Annotated[str | None, Opt(help="dataset name or path (default: the run's)")] = None,
    data_dir: Annotated[str | None, Opt()] = None,
    labels: Annotated[str | None, Opt()] = None,
    split: Annotated[str, Opt(help=" | ".join(FILE_SPLITS))] = "test",
    out: Annotated[Path, Opt(help="output .npy of posterior means (N, latent_dim)")] = Path("latents.npy"),
) -> None:
    """Embed a dataset: the posterior means E_q[z|x]; for a graph, every node's (given the training edges)."""
    if out.suffix != ".npy":
        raise UserError(f"--out must end in .npy, got {out.name}")
    model = load_run(run_dir)
    dataset = run_data(run_dir, model, data, split, data_dir, labels)
    if dataset.graph is not None:
        latents = node_embeddings(model, graph_batch(dataset, "cpu")).numpy()
    else:
        x, y = model_inputs(model, dataset)
        latents = np.concatenate(
            [
                model.embed(x[i : i + 4096], None if y is None else y[i : i + 4096]).numpy()
                for i in range(0, len(x), 4096)
            ]
        )
    write_output(out, latents, 1, model)
    say(f"wrote latents {latents.shape} to {out}")
