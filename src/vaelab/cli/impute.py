"""``vaelab impute``: fill the missing cells of a .csv table or a .npy array with a VAE (fitted on the file
itself, or saved earlier with ``--save``) and write the completed file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vaelab.cli.output import emit_json, say
from vaelab.errors import UserError

Opt = typer.Option
SUFFIXES = (".csv", ".npy")


def read_incomplete(data: Path, mask: Path | None) -> Any:
    """The file to impute: a .csv as a DataFrame (empty cells missing) or a .npy array as float64 with NaN where
    missing; ``mask`` (a .npy of the array's shape, true or 1 where a value is missing) adds missing entries."""
    import numpy as np

    from vaelab.applications.synthetic.csv_frames import read_csv_frame
    from vaelab.data.files import read_npy

    if not data.is_file():
        raise UserError(f"no such file: {data}; check the path")
    suffix = data.suffix.lower()
    if suffix not in SUFFIXES:
        kind = suffix or "no suffix"
        raise UserError(f"{data}: vaelab impute reads a .csv with a header or a .npy array, not {kind}")
    if suffix == ".csv":
        if mask is not None:
            raise UserError("--mask goes with a .npy array; in a .csv leave the missing cells empty")
        return read_csv_frame(data)
    array = read_npy(data)
    if not np.issubdtype(array.dtype, np.number) or array.dtype.kind == "c":
        raise UserError(f"{data}: holds {array.dtype} values; vaelab impute needs a numeric array")
    values = array.astype(np.float64)
    if mask is not None:
        if not mask.is_file():
            raise UserError(f"no such file: {mask} (--mask); check the path")
        hidden = read_npy(mask)
        if hidden.shape != values.shape:
            raise UserError(f"--mask has shape {hidden.shape} but --data has {values.shape}; give one flag per value")
        if hidden.dtype != bool and not np.isin(hidden, (0, 1)).all():
            raise UserError("--mask must hold true/false or 1/0 (1: the value is missing)")
        values[hidden.astype(bool)] = np.nan
    return values


def write_imputed(out: Path, completed: list[Any]) -> None:
    """One completed table or array, or several stacked: a .csv with a leading ``imputation`` column (1..M, the
    long format of R's mice), a .npy of shape ``(M, *shape)``."""
    import numpy as np

    from vaelab.atomic import atomic_save_npy, atomic_write_text

    if out.suffix.lower() == ".npy":
        array = completed[0] if len(completed) == 1 else np.stack(completed)
        atomic_save_npy(out, array)
        return
    if len(completed) == 1:
        atomic_write_text(out, completed[0].to_csv(index=False))
        return
    import pandas as pd

    long = pd.concat([frame.assign(imputation=m + 1) for m, frame in enumerate(completed)], ignore_index=True)
    atomic_write_text(out, long[["imputation", *completed[0].columns]].to_csv(index=False))


def impute(
    model_dir: Annotated[
        Path | None, typer.Argument(help="an imputer saved by vaelab impute --save (omit to fit on --data)")
    ] = None,
    data: Annotated[Path | None, Opt(help=".csv (empty cells missing) or .npy (NaN missing) to complete")] = None,
    out: Annotated[Path | None, Opt(help="output file, .csv for a .csv and .npy for a .npy")] = None,
    mask: Annotated[Path | None, Opt(help=".npy of --data's shape: true/1 where a value is missing")] = None,
    method: Annotated[str, Opt(help="importance (MIWAE's estimator) | gibbs (Metropolis-within-Gibbs)")] = "importance",
    imputations: Annotated[int, Opt(help="1: the conditional mean; M > 1: M draws from p(missing | observed)")] = 1,
    samples: Annotated[int, Opt(help="importance samples per row")] = 1000,
    save: Annotated[Path | None, Opt(help="also save the fitted imputer into this folder")] = None,
    kind: Annotated[list[str] | None, Opt(help="COLUMN=KIND overriding an inferred kind (count, ordinal, …)")] = None,
    epochs: Annotated[int | None, Opt(help="training epochs [default: 500, as 4000 to 8000 steps]")] = None,
    held_out_cells: Annotated[
        float, Opt(help="share of observed cells held out; the weights that impute them best are kept (0: off)")
    ] = 0.0,
    seed: Annotated[int, Opt(help="seed of training and imputation")] = 0,
    as_json: Annotated[bool, Opt("--json", help="print a summary as JSON on stdout")] = False,
) -> None:
    """Fill missing values: tables (numbers and categories) and arrays (e.g. images with NaN or a --mask),
    by a VAE trained on the observed cells only."""
    import numpy as np

    from vaelab.applications.imputation import VAEImputer
    from vaelab.cli.synth import parse_pairs

    if data is None or out is None:
        raise UserError("give --data FILE (.csv or .npy) and --out FILE")
    if out.suffix.lower() != data.suffix.lower():
        raise UserError(f"--out must be a {data.suffix.lower()} file like --data, got {out.name}")
    if imputations < 1:
        raise UserError(f"--imputations must be at least 1, not {imputations}")
    incomplete = read_incomplete(data, mask)
    array = isinstance(incomplete, np.ndarray)
    missing = int(np.isnan(incomplete).sum() if array else incomplete.isna().sum().sum())
    if model_dir is not None:
        imputer = VAEImputer.load(model_dir).set_params(
            method=method, n_imputations=imputations, num_samples=samples, random_state=seed
        )
    else:
        imputer = VAEImputer(
            method=method,  # type: ignore[arg-type]
            n_imputations=imputations,
            num_samples=samples,
            epochs=epochs,
            held_out_cells=held_out_cells,
            kinds=parse_pairs(kind or [], "--kind", "visits=count"),
            random_state=seed,
        ).fit(incomplete)
        if save is not None:
            imputer.save(save)
    completed = [imputer.transform(incomplete)] if imputations == 1 else imputer.multiple_imputations(incomplete)
    write_imputed(out, completed)
    summary = {"data": str(data), "out": str(out), "missing": missing, "imputations": imputations, "method": method}
    if getattr(imputer, "best_step_", None) is not None:
        summary["best_step"] = imputer.best_step_
    if as_json:
        emit_json(summary)
    else:
        say(f"{missing} missing value(s) imputed ({method}, {imputations} imputation(s)); written to {out}")
