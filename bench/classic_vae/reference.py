"""The classic PyTorch VAE example (pytorch/examples, vae/main.py), as the reference to beat, and how the
benchmark scores a model with its weights.

Same model (784-400-20 MLP), same loss (BCE on sigmoid outputs, summed, plus the closed-form KL), Adam
1e-3, batch 128, shuffled DataLoader over in-memory tensors, ``loss.item()`` every step as in the example.
Its weights travel between processes as a plain ``.npz`` of the state dict (no pickle), which is also
what the pythae script writes, so every model is scored by the same importance-sampling code. vaelab is
imported only where a vaelab model is built, so importing this module costs the example program nothing
beyond torch and numpy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn
from torch.distributions import Independent, Normal
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

if TYPE_CHECKING:
    from vaelab.models import VAE

BATCH_SIZE = 128


class ExampleVAE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x.view(-1, 784))
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def loss_function(recon_x: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


EpochHook = Callable[[ExampleVAE, int, float], None]
"""Called after each epoch's training steps with the model, the epoch (from 1) and its summed loss."""


def train_reference(
    x_train: torch.Tensor, epochs: int, seed: int, after_epoch: EpochHook | None = None
) -> tuple[ExampleVAE, list[float]]:
    """Train as the example's ``train(epoch)`` does; return the model and the training seconds of each
    epoch (the training steps only, not ``after_epoch``)."""
    torch.manual_seed(seed)
    model = ExampleVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(x_train), batch_size=BATCH_SIZE, shuffle=True)
    epoch_seconds = []
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        model.train()
        train_loss = 0.0
        for (data,) in loader:
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
        epoch_seconds.append(time.perf_counter() - started)
        if after_epoch is not None:
            after_epoch(model, epoch, train_loss)
    return model, epoch_seconds


def save_weights(model: ExampleVAE, path: Path) -> None:
    """The state dict as a plain ``.npz`` (one float32 array per parameter, keyed as in the state dict)."""
    np.savez(path, **{name: value.detach().numpy() for name, value in model.state_dict().items()})


def load_weights(path: Path) -> ExampleVAE:
    """An ExampleVAE with the weights of a ``.npz`` written by ``save_weights`` (or the pythae script),
    read without unpickling anything."""
    with np.load(path, allow_pickle=False) as arrays:
        state = {name: torch.from_numpy(arrays[name]) for name in arrays.files}
    model = ExampleVAE()
    model.load_state_dict(state)
    return model


class _ExampleHead(nn.Module):
    """The example's (mu, logvar) head as a posterior distribution, so vaelab's estimator can score it."""

    def __init__(self, model: ExampleVAE) -> None:
        super().__init__()
        self.fc21, self.fc22 = model.fc21, model.fc22

    def forward(self, h: torch.Tensor) -> Independent:
        return Independent(Normal(self.fc21(h), torch.exp(0.5 * self.fc22(h))), 1)


def as_vaelab_model(model: ExampleVAE) -> VAE:
    """The same weights wired as a vaelab VAE (decoder logits = fc4 output before the sigmoid), so both
    models are evaluated by exactly the same importance-sampling code."""
    from vaelab.likelihoods import BernoulliLikelihood
    from vaelab.models import VAE
    from vaelab.priors import StandardNormalPrior

    shape = (1, 28, 28)
    encoder = nn.Sequential(nn.Flatten(-3), model.fc1, nn.ReLU())
    decoder = nn.Sequential(model.fc3, nn.ReLU(), model.fc4, nn.Unflatten(-1, (1, *shape)))
    return VAE(
        encoder,
        _ExampleHead(model),
        StandardNormalPrior(20),
        decoder,
        BernoulliLikelihood(shape),
        data_shape=shape,
        latent_dim=20,
    ).eval()
