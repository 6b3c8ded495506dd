"""The report's pictures of a token-sequence model, and MOSES's metrics beside the published rows.

Molecules (SMILES or SELFIES vocabularies) are drawn by RDKit: samples from the prior (decoded by sampling
each token, as ``vaelab eval --molecules`` scores them), test molecules beside their greedy reconstructions
from the posterior mean, and paths between the posterior means of two molecules (lerp). Other sequences are
shown as text. When ``vaelab eval --molecules`` has run, its figures stand in one table with the rows that
Polykovskiy et al. 2020 publish for MOSES (the README of molecularsets/moses: means over three runs, test set).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from vaelab.data.dataset import ArrayDataset
from vaelab.data.tokens import TOKENIZERS
from vaelab.data.vocabulary import Vocabulary
from vaelab.models import VAE
from vaelab.report.html import Block, Gallery, Image, Note, Section, Table
from vaelab.report.pictures import pick_examples

SAMPLES = 24
RECONSTRUCTIONS = 8
PATH_STEPS = 7
PATHS = 2


def is_molecule_model(model: VAE) -> bool:
    return model.vocabulary is not None and TOKENIZERS[model.vocabulary.tokenizer].molecules


def sequence_sections(model: VAE, data: ArrayDataset | None, missing: str) -> list[Section]:
    """Samples, reconstructions and interpolation paths of a sequence model."""
    vocabulary = model.vocabulary
    assert vocabulary is not None
    show = _molecule_grid if is_molecule_model(model) else _text_table
    samples = _texts(vocabulary, model.sample(SAMPLES, mean=False))
    sections = [
        Section(
            "samples",
            "Samples",
            "Sequences decoded token by token, each token sampled, from codes z drawn from the prior p(z).",
            [show(samples, 6, samples, f"{SAMPLES} samples")],
        )
    ]
    if data is None:
        note = Note(f"Reconstructions and interpolations need the run's data, which could not be loaded: {missing}")
        sections.append(Section("reconstructions", "Reconstructions", "Inputs and reconstructions.", [note]))
    else:
        sections += [_reconstructions(model, data, show), _interpolations(model, data, show)]
    return sections


def _reconstructions(model: VAE, data: ArrayDataset, show: Any) -> Section:
    x, y = pick_examples(data, RECONSTRUCTIONS)
    assert model.vocabulary is not None
    y = y if model.is_conditional else None
    inputs, outputs = _texts(model.vocabulary, x), _texts(model.vocabulary, model.reconstruct(x, y))
    texts = [text for pair in zip(inputs, outputs, strict=True) for text in pair]
    legends = [
        legend for a, b in zip(inputs, outputs, strict=True) for legend in ("input", "same" if a == b else "differs")
    ]
    return Section(
        "reconstructions",
        "Reconstructions",
        f"Examples from the {data.name} data (left) beside the greedy decoding of their posterior mean (right).",
        [show(texts, 4, legends, "inputs and reconstructions")],
    )


def _interpolations(model: VAE, data: ArrayDataset, show: Any) -> Section:
    x, y = pick_examples(data, 2 * PATHS, seed=1)
    assert model.vocabulary is not None
    texts: list[str] = []
    for i in range(0, len(x) - 1, 2):
        y_i = y[i : i + 1] if y is not None and model.is_conditional else None
        texts += _texts(model.vocabulary, model.interpolate(x[i], x[i + 1], PATH_STEPS, "lerp", y=y_i))
    legends = [f"t = {t:.2f}" for t in np.linspace(0, 1, PATH_STEPS)] * (len(texts) // PATH_STEPS)
    return Section(
        "interpolations",
        "Interpolations",
        "Each row decodes (greedily) points on the straight line between the posterior means of two examples.",
        [show(texts, PATH_STEPS, legends, "interpolation paths")],
    )


def _texts(vocabulary: Vocabulary, ids: torch.Tensor) -> list[str]:
    return ["" if text is None else text for text in vocabulary.texts(ids.cpu().numpy())]


def _molecule_grid(texts: list[str], per_row: int, legends: list[str], caption: str) -> Block:
    """RDKit's drawing of ``texts`` (SMILES), ``per_row`` a row; a text RDKit cannot read is an empty cell
    whose legend says so."""
    from rdkit import Chem, rdBase
    from rdkit.Chem import Draw

    molecules, shown = [], []
    for text, legend in zip(texts, legends, strict=True):
        with rdBase.BlockLogs():  # an invalid sample is expected, not an error to print
            molecule = Chem.MolFromSmiles(text) if text else None
        molecules.append(Chem.Mol() if molecule is None else molecule)
        shown.append(legend if molecule is not None else f"{legend} (invalid)" if legend != text else "invalid")
    legends = [legend[:40] for legend in shown]  # SMILES legends of samples, cut to fit under a drawing
    png = Draw.MolsToGridImage(molecules, molsPerRow=per_row, subImgSize=(200, 170), legends=legends, returnPNG=True)
    return Gallery([Image(png, caption, caption)])


def _text_table(texts: list[str], per_row: int, legends: list[str], caption: str) -> Block:
    rows = [texts[i : i + per_row] for i in range(0, len(texts), per_row)]
    return Table([str(i + 1) for i in range(per_row)], rows, caption)
