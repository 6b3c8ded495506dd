"""One trainer on one configuration, timed; prints one JSON line. Run by run.py in its own process so
each trainer's peak memory is its own.

    python worker.py --trainer vaelab --network mlp --batch-size 128 --examples 25600 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from vaelab.config.build import build_model, model_spec
from vaelab.config.schema import ModelConfig
from vaelab.data.dataset import ArrayDataset
from vaelab.data.registry import load_dataset
from vaelab.models import VAE
from vaelab.objectives import ELBO
from vaelab.training import TrainSettings, fit

LATENT = 20


def vaelab_model(network: str) -> VAE:
    config = ModelConfig(network=network, latent_dim=LATENT, hidden_dims=[400], likelihood="bernoulli")  # type: ignore[arg-type]
    spec_data = ArrayDataset(np.zeros((2, 1, 28, 28), np.uint8), None, 2, "binarized-mnist")
    return build_model(model_spec(config, spec_data))


class PlainVAE(nn.Module):
    """The identical networks driven the way the PyTorch example does: (mu, logvar), sigmoid outputs."""

    def __init__(self, model: VAE) -> None:
        super().__init__()
        self.encoder, self.head, self.decoder = model.encoder, model.posterior.linear, model.decoder

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.head(self.encoder(x)).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(z)[:, 0])  # (B, 1, 28, 28)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(z), mu, logvar


def train_reference(model: VAE, x: torch.Tensor, batch_size: int) -> float:
    """The classic example loop (DataLoader over tensors, summed BCE + KLD, loss.item() per step)."""
    plain = PlainVAE(model)
    optimizer = torch.optim.Adam(plain.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(x), batch_size=batch_size, shuffle=True)
    started = time.perf_counter()
    for (data,) in loader:
        optimizer.zero_grad()
        recon, mu, logvar = plain(data)
        bce = F.binary_cross_entropy(recon, data, reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        loss = bce + kld
        loss.backward()
        loss.item()
        optimizer.step()
    return time.perf_counter() - started


def train_pythae(model: VAE, x: torch.Tensor, batch_size: int) -> float:
    """pythae's BaseTrainer on pythae's VAE with the identical networks."""
    from pythae.data.datasets import BaseDataset
    from pythae.models import VAE as PythaeVAE
    from pythae.models import VAEConfig
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn import BaseDecoder, BaseEncoder
    from pythae.trainers import BaseTrainer, BaseTrainerConfig

    plain = PlainVAE(model)

    class Encoder(BaseEncoder):
        def __init__(self) -> None:
            super().__init__()
            self.plain = plain

        def forward(self, x: torch.Tensor) -> ModelOutput:
            mu, logvar = self.plain.encode(x)
            return ModelOutput(embedding=mu, log_covariance=logvar)

    class Decoder(BaseDecoder):
        def __init__(self) -> None:
            super().__init__()
            self.plain = plain

        def forward(self, z: torch.Tensor) -> ModelOutput:
            return ModelOutput(reconstruction=self.plain.decode(z))

    config = VAEConfig(input_dim=(1, 28, 28), latent_dim=LATENT, reconstruction_loss="bce")
    pythae_model = PythaeVAE(config, encoder=Encoder(), decoder=Decoder())
    with tempfile.TemporaryDirectory() as out:
        training = BaseTrainerConfig(
            output_dir=out,
            num_epochs=1,
            learning_rate=1e-3,
            per_device_train_batch_size=batch_size,
            per_device_eval_batch_size=batch_size,
            no_cuda=True,
            steps_saving=None,
        )
        trainer = BaseTrainer(pythae_model, train_dataset=BaseDataset(x, torch.zeros(len(x))), training_config=training)
        started = time.perf_counter()
        trainer.train()
        return time.perf_counter() - started


def train_vaelab(model: VAE, data: ArrayDataset, batch_size: int, options: dict[str, Any]) -> float:
    """One epoch of vaelab's trainer; ``options`` set TrainSettings fields (hardware options).

    With ``compile`` the first steps pay for compilation, so 20 warm-up steps run before the timed epoch."""
    settings = TrainSettings(epochs=1, batch_size=batch_size, progress=False, **options)
    if options.get("compile"):
        fit(model, ELBO(), data.subset(np.arange(20 * batch_size)), None, settings)
    result = fit(model, ELBO(), data, None, settings)
    return float(result.history[0]["train_time_s"])


def parse_option(text: str) -> tuple[str, Any]:
    """``name=value`` -> (name, bool/str value) for a TrainSettings field."""
    name, _, value = text.partition("=")
    return name, {"true": True, "false": False}.get(value, value)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trainer", choices=["reference", "pythae", "vaelab"], required=True)
    parser.add_argument("--network", choices=["mlp", "conv"], required=True)
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--examples", type=int, default=25_600)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--option", action="append", default=[], help="vaelab TrainSettings field=value")
    args = parser.parse_args()
    options = dict(parse_option(text) for text in args.option)

    train = load_dataset("binarized-mnist", "train", args.data_dir)
    data = train.subset(np.arange(args.examples))
    x = torch.from_numpy(data.x).float()
    seconds = []
    for repeat in range(args.repeats):
        torch.manual_seed(repeat)
        model = vaelab_model(args.network)
        if args.trainer == "reference":
            seconds.append(train_reference(model, x, args.batch_size))
        elif args.trainer == "pythae":
            seconds.append(train_pythae(model, x, args.batch_size))
        else:
            seconds.append(train_vaelab(model, data, args.batch_size, options))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "trainer": args.trainer,
                "network": args.network,
                "batch_size": args.batch_size,
                "samples_per_s": args.examples / statistics.median(seconds),
                "seconds": seconds,
                "peak_rss_mib": peak_mib,
                "options": options,
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
