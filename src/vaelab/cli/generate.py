"""Commands that apply a saved model: sample, reconstruct, interpolate, encode."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vaelab.cli.choices import DECODINGS, FILE_SPLITS, LATENT_PATHS, listed
from vaelab.cli.output import emit_json, say
from vaelab.errors import UserError

Opt = typer.Option


def sample(
    run_dir: Annotated[Path, typer.Argument(help="run directory")],
    n: Annotated[int, Opt("-n", help="number of samples")] = 64,
    label: Annotated[
        str | None, Opt(help="class to generate, by name or index (class-conditional models: cvae, m2)")
    ] = None,
    out: Annotated[Path, Opt(help="output .png or .npy; .csv for a table's rows in its own units")] = Path(
        "samples.png"
    ),
    seed: Annotated[int, Opt()] = 0,
    decoding: Annotated[str, Opt(help=f"token models: {listed(DECODINGS)}")] = "greedy",
    beam_width: Annotated[int, Opt(help="token models: the beam's width with --decoding beam")] = 5,
    smiles_syntax: Annotated[
        bool, Opt("--smiles-syntax", help="SMILES models: close every branch and ring bond before the end")
    ] = False,
    as_json: Annotated[bool, Opt("--json")] = False,
) -> None:
    """Draw samples from the prior through the decoder."""
    import torch

    from vaelab.cli.common import class_index, load_run, token_decoding
    from vaelab.cli.model_output import check_out, write_output

    check_out(out)
    if n < 1:
        raise UserError("-n must be at least 1")
    tokens = token_decoding(decoding, beam_width, smiles_syntax)
    model = load_run(run_dir)
    y = class_index(model, label)
    torch.manual_seed(seed)
    check_out(out, model)
    table = model.spec.get("columns") is not None and out.suffix == ".csv"  # rows drawn from p(x|z), not means
    images = model.sample(n, y=y, mean=not table, decoding=tokens if model.vocabulary else None).numpy()
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
    import numpy as np

    from vaelab.cli.common import load_run, model_inputs, run_data
    from vaelab.cli.model_output import TEXT_SUFFIXES, check_out, write_output

    check_out(out)
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
    method: Annotated[str, Opt(help=listed((*LATENT_PATHS, "both")))] = "both",
    pairs: Annotated[int, Opt(help="number of example pairs")] = 3,
    out: Annotated[Path, Opt(help="output .png strip, .npy, or .smi/.txt for sequences")] = Path("interpolation.png"),
    seed: Annotated[int, Opt()] = 0,
    between: Annotated[
        list[str] | None, Opt(help="sequence models: two texts (e.g. SMILES) to go between, --between A --between B")
    ] = None,
) -> None:
    """Decode paths between the posterior means of pairs of examples (one row per pair and method)."""
    import numpy as np

    from vaelab.cli.common import load_run, model_inputs, run_data
    from vaelab.cli.model_output import check_out, given_pair, write_output

    check_out(out)
    methods = ["lerp", "slerp"] if method == "both" else [method]
    if steps < 2 or pairs < 1:
        raise UserError("--steps must be at least 2 and --pairs at least 1")
    model = load_run(run_dir, not_for_graphs="interpolate")
    if between is not None:
        x, y, pairs = given_pair(model, between), None, 1
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


def encode(
    run_dir: Annotated[Path, typer.Argument(help="run directory")],
    data: Annotated[str | None, Opt(help="dataset name or path (default: the run's)")] = None,
    data_dir: Annotated[str | None, Opt()] = None,
    labels: Annotated[str | None, Opt()] = None,
    split: Annotated[str, Opt(help=listed(FILE_SPLITS))] = "test",
    out: Annotated[Path, Opt(help="output .npy of posterior means (N, latent_dim)")] = Path("latents.npy"),
) -> None:
    """Embed a dataset: the posterior means E_q[z|x]; for a graph, every node's (given the training edges)."""
    import numpy as np

    from vaelab.cli.common import load_run, model_inputs, run_data
    from vaelab.cli.model_output import write_output
    from vaelab.data.batch import graph_batch
    from vaelab.evaluation.links import node_embeddings

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
