"""``vaelab synth``: fit a TabularVAE on a .csv (or load a saved one) and write synthetic rows as a .csv."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer

from vaelab.cli.output import emit_json, say
from vaelab.errors import UserError

Opt = typer.Option
DATA_FILE = "synth-data.json"  # in a saved model's folder: the .csv it was fitted on


def parse_pairs(items: list[str], flag: str, example: str) -> dict[str, str]:
    """``["col=value", ...]`` -> ``{"col": "value"}`` (split at the first ``=``); UserError for an item without
    one, naming ``flag`` and showing ``example``."""
    parsed: dict[str, str] = {}
    for item in items:
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise UserError(f"{flag} {item!r} is not COLUMN=VALUE; write for example {flag} {example}")
        parsed[name.strip()] = value.strip()
    return parsed


def _check_conditions(frame: Any, conditions: dict[str, str]) -> None:
    """UserError naming the column for a condition on a column the table lacks or a value it never holds."""
    for name, value in conditions.items():
        if name not in frame.columns:
            raise UserError(f"--condition {name}=...: the table has no column {name!r} ({', '.join(frame.columns)})")
        if value not in set(frame[name].dropna().astype(str)):
            raise UserError(f"--condition {name}={value}: column {name!r} never holds {value!r}; use one of its values")


def synth(
    model_dir: Annotated[
        Path | None, typer.Argument(help="a model saved by vaelab synth --save (omit to fit on --data)")
    ] = None,
    data: Annotated[Path | None, Opt(help=".csv with a header to fit on")] = None,
    n: Annotated[int | None, Opt("-n", "--rows", help="rows to synthesise [default: as many as --data has]")] = None,
    condition: Annotated[
        list[str] | None, Opt(help="COLUMN=VALUE a categorical column every row takes (repeatable)")
    ] = None,
    out: Annotated[Path, Opt(help="output .csv")] = Path("synthetic.csv"),
    save: Annotated[Path | None, Opt(help="also save the fitted model into this folder")] = None,
    kind: Annotated[list[str] | None, Opt(help="COLUMN=KIND overriding an inferred kind (count, ordinal, …)")] = None,
    epochs: Annotated[
        int | None, Opt(help="training epochs [default: 600, or enough for 6000 steps on a small table]")
    ] = None,
    continuous: Annotated[str, Opt(help="continuous columns: mixture (of Gaussians) | gaussian")] = "mixture",
    no_clip: Annotated[bool, Opt("--no-clip", help="let numbers leave their column's training range")] = False,
    sampling: Annotated[
        str,
        Opt(
            help="training rows: log-frequency (CTGAN's training-by-sampling: each row drawn through one category, "
            "rare ones, 0/1 columns included, more often than they occur) | uniform (each row as often as it occurs) | "
            "frequency"
        ),
    ] = "log-frequency",
    temperature: Annotated[
        float | None,
        Opt(
            help="sampling temperature of every category, 0/1 cell and mixture component: 1 draws from the model, "
            "0 takes the most probable (as TVAE does) [default: the model's, 1]",
        ),
    ] = None,
    chain_steps: Annotated[
        int | None,
        Opt(
            help="steps of the encoder-decoder chain (z ~ q(z|x), x ~ p(x|z)) each row takes after its draw from "
            "the prior [default: the model's, 0]",
        ),
    ] = None,
    seed: Annotated[int, Opt(help="seed of training and sampling")] = 0,
    as_json: Annotated[bool, Opt("--json", help="print a summary as JSON on stdout")] = False,
) -> None:
    """Synthetic rows of a table: numbers, categories and missing cells, one likelihood per column; with
    --condition, rows drawn from the model's distribution given those categories (no rejection sampling)."""
    from vaelab.applications.synthetic.csv_frames import read_csv_frame
    from vaelab.applications.synthetic.tabular_vae import TabularVAE, check_sampling
    from vaelab.atomic import atomic_write_text

    if out.suffix.lower() != ".csv":
        raise UserError(f"--out must end in .csv, got {out.name}")
    if (model_dir is None) == (data is None):
        raise UserError("give either --data FILE.csv (fit, then sample) or a saved model folder, not both")
    check_sampling(  # before a fit of minutes, not after
        1.0 if temperature is None else temperature, chain_steps or 0, names=("--temperature", "--chain-steps")
    )
    conditions = parse_pairs(condition or [], "--condition", "income=>50K")
    caught: list[warnings.WarningMessage] = []
    if model_dir is not None:
        estimator = TabularVAE.load(model_dir)
        rows = n or 1000
        summary: dict[str, Any] = {"model": str(model_dir)}
    else:
        assert data is not None
        if not data.is_file():
            raise UserError(f"no such file: {data}; check the path")
        if data.suffix.lower() != ".csv":
            raise UserError(f"{data}: vaelab synth reads a .csv with a header; got {data.suffix or 'no suffix'}")
        frame = read_csv_frame(data)
        estimator = TabularVAE(
            epochs=epochs,
            continuous=continuous,
            clip=not no_clip,
            sampling=sampling,
            kinds=parse_pairs(kind or [], "--kind", "visits=count"),
            random_state=seed,
        )
        rows = n or len(frame)
        if rows < 1:
            raise UserError(f"-n must be at least 1, not {rows}")
        _check_conditions(frame, conditions)  # before a fit of minutes, not after
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            estimator.fit(frame)
        for warning in caught:
            say(f"warning: {warning.message}")
        summary = {
            "data": str(data),
            "fit_seconds": estimator.fit_seconds_,
            "validation_bound": estimator.validation_bound_,
            "marginal_bound": estimator.marginal_bound_,
        }
        if save is not None:
            estimator.save(save)
            atomic_write_text(save / DATA_FILE, json.dumps({"data": str(data.resolve())}))
    synthetic = estimator.sample(
        rows, conditions=conditions, random_state=seed, temperature=temperature, chain_steps=chain_steps
    )
    atomic_write_text(out, synthetic.to_csv(index=False))
    summary.update({"out": str(out), "rows": rows, "conditions": conditions})
    if as_json:
        emit_json(summary)
    else:
        if summary.get("validation_bound") is not None and not caught:
            say(
                f"held-out bound {summary['validation_bound']:.2f} nats per row; independent per-column marginals "
                f"{summary['marginal_bound']:.2f}"
            )
        say(f"{rows} synthetic rows written to {out}")
