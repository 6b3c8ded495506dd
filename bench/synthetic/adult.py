"""Reader for the original UCI Adult (Census Income) files, ``adult.data`` and ``adult.test``.

The files (see ``shared/data/adult/SOURCE.md``) have no header, a space after each comma, a blank last line,
and ``adult.test`` opens with a ``|1x3 Cross validator`` line and ends its labels with ``'.'`` (``'>50K.'``).
:func:`read_adult` strips the spaces and the dot and types the columns: the six numeric ones as ``int64``,
the eight categorical ones and the label as ``object`` strings.

Missing values are marked ``'?'`` (in workclass, occupation and native-country only). By default they are
kept as a category of their own, the string ``'?'``: that is how SDGym's Adult table and the TVAE paper
(Xu et al., 2019, "Modeling Tabular Data using Conditional GAN") treat them, so results stay comparable.
``missing="nan"`` turns them into ``NaN`` instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import pandas as pd

COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
]
NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
CATEGORICAL = [c for c in COLUMNS if c not in NUMERIC]  # the 8 categorical features and the label
TARGET = "income"
POSITIVE = ">50K"
MISSING = "?"


def data_dir() -> Path:
    """The folder holding adult.data/adult.test: ``$VAELAB_DATA_DIR/adult``, else ``shared/data/adult`` beside the
    repository (``/work/shared/data/adult`` for ``/work/main``)."""
    root = os.environ.get("VAELAB_DATA_DIR")
    return Path(root) / "adult" if root else Path(__file__).resolve().parents[3] / "shared" / "data" / "adult"


def read_adult(path: str | os.PathLike, missing: Literal["category", "nan"] = "category") -> pd.DataFrame:
    """Read ``adult.data`` or ``adult.test`` into a typed DataFrame with the :data:`COLUMNS` as header.

    ``missing="category"`` (default) keeps ``'?'`` as its own category; ``missing="nan"`` makes it ``NaN``.
    """
    if missing not in ("category", "nan"):
        raise ValueError(f"missing must be 'category' or 'nan', not {missing!r}")
    df = pd.read_csv(
        path,
        header=None,
        names=COLUMNS,
        skipinitialspace=True,  # values carry a leading space
        comment="|",  # adult.test's first line, '|1x3 Cross validator' (no other '|' in either file)
        skip_blank_lines=True,
        dtype={c: str for c in CATEGORICAL},
        keep_default_na=False,  # keep '?' (and any other string) as it is
        na_values=[],
    )
    for col in CATEGORICAL:
        df[col] = df[col].str.strip().astype(object)
    df[TARGET] = df[TARGET].str.rstrip(".")  # adult.test labels are '>50K.' / '<=50K.'
    df[NUMERIC] = df[NUMERIC].astype("int64")
    if missing == "nan":
        df[CATEGORICAL] = df[CATEGORICAL].replace(MISSING, float("nan"))
    return df


def write_adult_csv(out_path: str | os.PathLike, source: str | os.PathLike | None = None) -> Path:
    """Write adult.data (or ``source``) as a plain CSV with a header, '?' kept, for the command-line interface."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    read_adult(source if source is not None else data_dir() / "adult.data").to_csv(out, index=False)
    return out


if __name__ == "__main__":
    import sys

    print(write_adult_csv(sys.argv[1] if len(sys.argv) > 1 else "adult.csv"))
