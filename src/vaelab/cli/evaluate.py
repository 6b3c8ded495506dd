"""``vaelab eval``: likelihood figures of a saved model on a dataset split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vaelab.atomic import atomic_write_text
from vaelab.cli.common import load_run, run_data
from vaelab.cli.output import emit_json, say
from vaelab.evaluation.likelihood import evaluate_likelihood

Opt = typer.Option


def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="run directory")],
    data: Annotated[str | None, Opt(help="dataset name or path (default: the run's)")] = None,
    data_dir: Annotated[str | None, Opt()] = None,
    labels: Annotated[str | None, Opt()] = None,
    split: Annotated[str, Opt(help="train | valid | test | all")] = "test",
    num_samples: Annotated[int, Opt(help="importance samples K for the NLL")] = 1000,
    limit: Annotated[int | None, Opt(help="evaluate a seeded random subset of N examples")] = None,
    seed: Annotated[int, Opt(help="seed of the subset and of the estimates")] = 0,
    as_json: Annotated[bool, Opt("--json", help="print the result as JSON on stdout")] = False,
) -> None:
    """Per-example means in nats: elbo, nll (importance-sampled), reconstruction, kl."""
    import torch

    model = load_run(run_dir)
    dataset = run_data(run_dir, model, data, split, data_dir, labels, limit, seed)
    torch.manual_seed(seed)
    result = {"split": split, **evaluate_likelihood(model, dataset, num_samples)}
    atomic_write_text(run_dir / f"eval-{split}.json", json.dumps(result, indent=2))
    if as_json:
        emit_json(result)
    else:
        say(
            f"{dataset.name} {split} ({result['num_examples']} examples): elbo {result['elbo']:.3f}  "
            f"nll {result['nll']:.3f} ± {result['nll_stderr']:.3f} (K={num_samples})  "
            f"reconstruction {result['reconstruction']:.3f}  kl {result['kl']:.3f}"
        )
