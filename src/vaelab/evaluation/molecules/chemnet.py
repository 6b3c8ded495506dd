"""ChemNet (Preuer et al. 2018, "Fréchet ChemNet Distance", J. Chem. Inf. Model. 58:1736), the network
whose penultimate activations the FCD compares, as ``fcd_torch`` 1.0.7 ships and runs it.

The network: two 1-D convolutions (32 channels, kernel 4, stride 2, "same" padding, SELU) over the
one-hot SMILES, then two LSTMs (128 and 512 units) that read the sequence backwards (Keras's
``go_backwards``); the activation is the last output of the second LSTM, 512 numbers a molecule.

Input: a canonical SMILES split into fcd_torch's 35 tokens (``Cl``, ``Br``, ``Si`` are one token; unknown
characters become ``X``), ended by ``.``, one-hot encoded on 350 positions and divided by 35, exactly as
``fcd_torch.utils.SmilesDataset`` does (its ``get_one_hot``).

Weights: ``ChemNet_v0.13_pretrained.pt`` inside the fcd_torch package, a list of (layer type, (state dict,
constructor arguments, options)) that ``fcd_torch.FCD`` reads with a plain ``torch.load``. Here it is read
with ``torch.load(..., weights_only=True)``, which builds only tensors and plain containers and never runs
code from the file, and the network is assembled by fcd_torch's own ``load_imported_model``.
"""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from fcd_torch.utils import get_one_hot, load_imported_model
from torch import nn

WEIGHTS = "ChemNet_v0.13_pretrained.pt"
SEQUENCE_LENGTH = 350
VOCABULARY = 35
ACTIVATIONS = 512


@functools.cache
def load_chemnet() -> nn.Module:
    """The pretrained ChemNet in evaluation mode, on the CPU (module docstring)."""
    with importlib.resources.as_file(importlib.resources.files("fcd_torch") / WEIGHTS) as path:
        layers = torch.load(path, map_location="cpu", weights_only=True)
    return load_imported_model(layers).eval()


def one_hot(smiles: Sequence[str]) -> torch.Tensor:
    """fcd_torch's input encoding of canonical SMILES, float32 (N, VOCABULARY, SEQUENCE_LENGTH)."""
    codes = np.stack([get_one_hot(s, SEQUENCE_LENGTH) for s in smiles]) / VOCABULARY  # (N, L, V)
    return torch.from_numpy(codes).float().transpose(1, 2)


@torch.inference_mode()
def chemnet_activations(
    smiles: Sequence[str], batch_size: int = 512, device: str | torch.device = "cpu"
) -> Iterator[torch.Tensor]:
    """Yield the activations of batches of canonical SMILES, float32 (batch, ACTIVATIONS), on ``device``."""
    network = load_chemnet().to(device)
    for start in range(0, len(smiles), batch_size):
        yield network(one_hot(smiles[start : start + batch_size]).to(device))
