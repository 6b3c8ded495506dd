"""The ``molecules`` metric of ``vaelab eval``: MOSES's figures of molecules sampled from a sequence model.

``molecule_samples`` codes are drawn from the prior and decoded token by token (sampled, as MOSES's
models generate); their texts are scored by :func:`vaelab.evaluation.molecules.molecule_metrics` against
the evaluated split as the reference (its statistics cached by content) and the training split for
novelty. Polykovskiy et al. 2020 sample 30,000 molecules; the default does the same. The reconstruction
accuracy follows JT-VAE's protocol (1,000 test molecules, 10 encodings x 10 decodings).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from vaelab.data.dataset import ArrayDataset
from vaelab.data.download import default_cache_dir
from vaelab.data.tokens import TOKENIZERS
from vaelab.models import VAE

SAMPLE_BATCH = 1000


def not_molecules(data: ArrayDataset) -> str | None:
    """Why ``data`` are not molecules (None when they are)."""
    if data.vocabulary is None or not TOKENIZERS[data.vocabulary.tokenizer].molecules:
        return "the data are not molecules (SMILES or SELFIES tokens)"
    return None


def dataset_texts(data: ArrayDataset) -> list[str]:
    """Every row of a sequence dataset as text (SMILES for molecules); rows that do not decode are left out."""
    assert data.vocabulary is not None
    texts = data.vocabulary.texts(np.asarray(data.x))
    return [text for text in texts if text]


def sampled_texts(model: VAE, n: int) -> list[str]:
    """``n`` molecules from the prior, decoded by sampling each token; "" where no molecule decodes."""
    assert model.vocabulary is not None
    texts: list[str] = []
    for start in range(0, n, SAMPLE_BATCH):
        ids = model.sample(min(SAMPLE_BATCH, n - start), mean=False).cpu().numpy()
        texts += ["" if text is None else text for text in model.vocabulary.texts(ids)]
    return texts


def reconstruction_accuracy(
    model: VAE, data: ArrayDataset, molecules: int, encodings: int = 10, decodings: int = 10
) -> float:
    """The fraction of decodings that give back their molecule, by the protocol of Jin et al. 2018 (JT-VAE,
    §4.1): for each of ``molecules`` seeded test molecules, ``encodings`` codes z ~ q(z|x), each decoded
    ``decodings`` times by sampling; a decoding counts when its canonical SMILES equals the input's."""
    from vaelab.evaluation.molecules.parsing import canonical_smiles

    assert model.vocabulary is not None
    rows = np.sort(np.random.default_rng(0).permutation(len(data))[: min(molecules, len(data))])
    hits, total = 0, 0
    for start in range(0, len(rows), max(1, SAMPLE_BATCH // (encodings * decodings))):
        chunk = rows[start : start + max(1, SAMPLE_BATCH // (encodings * decodings))]
        x = torch.from_numpy(np.asarray(data.x[chunk])).long()
        wanted = [canonical_smiles(text or "") for text in model.vocabulary.texts(x.numpy())]
        z = model.encode(x).sample((encodings,))  # (E, B, D)
        z = z.unsqueeze(1).expand(encodings, decodings, *z.shape[1:]).reshape(-1, z.shape[-1])  # (E * R * B, D)
        decoded = model.vocabulary.texts(model.examples(z, mean=False).cpu().numpy())
        for i, text in enumerate(decoded):
            target = wanted[i % len(chunk)]
            hits += target is not None and text is not None and canonical_smiles(text) == target
            total += 1
    return hits / total


def molecule_figures(
    model: VAE, reference: ArrayDataset, train: ArrayDataset, n: int, cache_dir: Path | None, reconstructed: int
) -> dict[str, float]:
    """MOSES's figures of ``n`` sampled molecules against ``reference`` (novelty against ``train``), and the
    reconstruction accuracy of ``reconstructed`` reference molecules."""
    from vaelab.evaluation.molecules import load_reference, molecule_metrics, reference_statistics, save_reference

    test = dataset_texts(reference)
    key = hashlib.sha256("\n".join(test).encode()).hexdigest()[:32]
    path = (cache_dir or default_cache_dir()) / "molecule-references" / f"{key}.safetensors"
    if path.is_file():
        statistics = load_reference(path)
    else:
        statistics = reference_statistics(test)
        save_reference(statistics, path)
    torch.manual_seed(0)
    figures = molecule_metrics(sampled_texts(model, n), statistics, dataset_texts(train))
    return {**figures, "reconstruction_accuracy": reconstruction_accuracy(model, reference, reconstructed)}
