"""The ``molecules`` metric of ``vaelab eval``: MOSES's figures of molecules sampled from a sequence model.

``molecule_samples`` codes are drawn from the prior and decoded token by token: sampled, as MOSES's models
generate, greedily (the most likely token at each step, as ``vaelab sample`` writes them by default) or by a
beam search, optionally under the SMILES syntax constraint (``vaelab.nn.smiles_syntax``). Their texts are
scored by :func:`vaelab.evaluation.molecules.molecule_metrics` against the evaluated split as the reference (its
statistics cached by its canonical SMILES, so SMILES and SELFIES models share them) and the training split for
novelty (its canonical set cached by the stored ids). Polykovskiy et al. 2020 sample 30,000 molecules; the
default does the same. The reconstruction accuracy follows JT-VAE's protocol (1,000 test molecules, 10
encodings x 10 decodings).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from vaelab.atomic import atomic_write
from vaelab.data.dataset import ArrayDataset
from vaelab.data.download import default_cache_dir
from vaelab.data.tokens import TOKENIZERS
from vaelab.models import VAE
from vaelab.nn.sequence_decoding import TokenDecoding

if TYPE_CHECKING:
    from vaelab.evaluation.molecules.reference import ReferenceStatistics

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


def sampled_texts(model: VAE, n: int, decoding: TokenDecoding) -> list[str]:
    """``n`` molecules from the prior, decoded as ``decoding`` says; "" where no molecule decodes."""
    assert model.vocabulary is not None
    texts: list[str] = []
    for start in range(0, n, SAMPLE_BATCH):
        ids = model.sample(min(SAMPLE_BATCH, n - start), decoding=decoding).cpu().numpy()
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
    model: VAE,
    reference: ArrayDataset,
    train: ArrayDataset,
    n: int,
    cache_dir: Path | None,
    reconstructed: int,
    decoding: TokenDecoding,
    seed: int = 0,
) -> dict[str, float]:
    """MOSES's figures of ``n`` molecules from the prior, decoded as ``decoding`` says, against ``reference``
    (novelty against ``train``), and the reconstruction accuracy of ``reconstructed`` reference molecules; the
    codes and the sampled decodings are drawn under ``seed``."""
    from vaelab.evaluation.molecules import molecule_metrics

    folder = (cache_dir or default_cache_dir()) / "molecule-references"
    statistics = dataclasses.replace(reference_of(reference, folder), training=training_set(train, folder))
    torch.manual_seed(seed)
    figures = molecule_metrics(sampled_texts(model, n, decoding), statistics)
    return {**figures, "reconstruction_accuracy": reconstruction_accuracy(model, reference, reconstructed)}


def reference_of(data: ArrayDataset, folder: Path) -> ReferenceStatistics:
    """The statistics of the reference molecules ``data``, cached in ``folder`` by their canonical SMILES, so
    models with other tokens (SMILES, SELFIES) or vocabularies share one entry (22 minutes for MOSES's test)."""
    from vaelab.evaluation.molecules import load_reference, reference_statistics, save_reference
    from vaelab.evaluation.molecules.parsing import canonical_smiles

    texts = [text for text in map(canonical_smiles, dataset_texts(data)) if text is not None]
    path = folder / f"{_key(texts)}.safetensors"
    if path.is_file():
        return load_reference(path)
    statistics = reference_statistics(texts)
    save_reference(statistics, path)
    return statistics


def training_set(data: ArrayDataset, folder: Path) -> frozenset[str]:
    """The canonical SMILES of the training molecules ``data`` (for novelty), cached in ``folder`` by the
    stored ids and vocabulary: canonicalising MOSES's 1.6M molecules takes minutes."""
    from vaelab.evaluation.molecules.novelty import canonical_set

    assert data.vocabulary is not None
    digest = hashlib.sha256(json.dumps(data.vocabulary.to_dict(), sort_keys=True).encode())
    for chunk in data.row_chunks(1 << 16):
        digest.update(np.ascontiguousarray(chunk).tobytes())
    path = folder / f"training-{digest.hexdigest()[:32]}.txt.gz"
    if path.is_file():
        return frozenset(gzip.decompress(path.read_bytes()).decode().split("\n"))
    molecules = canonical_set(dataset_texts(data))
    atomic_write(path, lambda tmp: tmp.write_bytes(gzip.compress("\n".join(sorted(molecules)).encode())))
    return molecules


def _key(texts: list[str]) -> str:
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()[:32]
