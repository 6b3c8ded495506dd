"""What the commands that apply a saved model write: arrays, image grids, table rows or texts; and the
texts ``--between`` hands a sequence model."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np
import torch

from vaelab.atomic import atomic_save_npy, atomic_write_text
from vaelab.data.schema import feature_from_dict
from vaelab.data.sequences import encode_texts
from vaelab.data.vocabulary import Vocabulary
from vaelab.errors import UserError
from vaelab.models import VAE
from vaelab.report.images import save_png

TEXT_SUFFIXES = {".smi", ".txt"}


def write_output(out: Path, array: np.ndarray, ncols: int, model: VAE) -> None:
    """``array`` as ``.npy``; as a ``.png`` grid of ``ncols`` for images; as text for sequences, one line per
    ``ncols`` rows (tab-separated), each row decoded by the model's vocabulary."""
    check_out(out, model)
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


def check_out(out: Path, model: VAE | None = None) -> None:
    """Refuse, before any work, an output the command cannot write for this model's data."""
    if out.suffix not in {".png", ".npy", ".csv", *TEXT_SUFFIXES}:
        raise UserError(f"--out must end in .png, .npy, .csv, .smi or .txt, got {out.name}")
    if model is not None and out.suffix == ".csv" and model.spec.get("columns") is None:
        raise UserError(f"{out.name}: .csv output is for models of a table read from a .csv; write a .npy file instead")
    if model is not None and out.suffix == ".png" and model.data_kind != "image":
        raise UserError(f"{out.name}: the model's data are not images; write a .npy file instead")
    if model is not None and out.suffix in TEXT_SUFFIXES and model.vocabulary is None:
        raise UserError(f"{out.name}: text output is for sequence models; write a .npy file instead")


def given_pair(model: VAE, texts: list[str]) -> torch.Tensor:
    """The two texts of ``--between`` as ``(2, T)`` ids of a sequence model's vocabulary."""
    if model.vocabulary is None:
        raise UserError("--between takes texts, for sequence models; for other data pick --data, --split and --pairs")
    if len(texts) != 2:
        raise UserError(f"--between takes exactly two texts (--between A --between B), got {len(texts)}")
    if model.is_conditional:
        raise UserError("--between does not take a condition; use --data with the condition's column instead")
    ids = encode_texts(texts, "--between", model.vocabulary, model.data_shape[0] - 1)
    return torch.from_numpy(ids).long()
