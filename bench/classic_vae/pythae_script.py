"""The classic 784-400-20 Bernoulli VAE trained by pythae's ``TrainingPipeline``, as a whole program.

What a pythae user writes for this model: a ``VAE`` with ``VAEConfig(input_dim=(1, 28, 28), latent_dim=20,
reconstruction_loss="bce")`` and a custom MLP encoder/decoder (the layers of the PyTorch example: 784-400
ReLU, then 400-20 for the mean and the log-variance; 20-400 ReLU, then 400-784 and a sigmoid), trained with
``BaseTrainerConfig`` (Adam 1e-3, batch 128) on the 50,000 binarized-MNIST train rows, with the 10,000
valid rows as pythae's eval set (it keeps the model with the best eval loss and saves it, with checkpoint
folder, configs and pickled networks, under --out). Runs in pythae's own environment, where vaelab is not
installed, so it reads ``<data-dir>/binarized-mnist/binarized_mnist_uint8.npz`` itself.

For the benchmark it also writes to --out: ``timing.json`` (the seconds of pythae's training steps, from
each epoch's ``on_train_step_begin`` to its ``on_eval_step_begin``) and ``weights.npz``, the final model's
weights keyed as the example's state dict (``fc1.weight``, ...; see ``reference.load_weights``).

    /work/bench-envs/pythae/bin/python bench/classic_vae/pythae_script.py --data-dir ../shared/data --out /tmp/p
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pythae.models import VAE, VAEConfig
from pythae.models.base.base_utils import ModelOutput
from pythae.models.nn import BaseDecoder, BaseEncoder
from pythae.pipelines import TrainingPipeline
from pythae.trainers import BaseTrainerConfig
from pythae.trainers.training_callbacks import TrainingCallback
from torch import nn
from torch.nn import functional as F


class Encoder(BaseEncoder):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        h1 = F.relu(self.fc1(x.reshape(-1, 784)))
        return ModelOutput(embedding=self.fc21(h1), log_covariance=self.fc22(h1))


class Decoder(BaseDecoder):
    def __init__(self) -> None:
        super().__init__()
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def forward(self, z: torch.Tensor) -> ModelOutput:
        return ModelOutput(reconstruction=torch.sigmoid(self.fc4(F.relu(self.fc3(z)))).reshape(-1, 1, 28, 28))


class TrainingClock(TrainingCallback):
    """Adds up the seconds of each epoch's training steps (pythae calls ``on_train_step_begin`` once before
    an epoch's training batches and ``on_eval_step_begin`` once after them)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def on_train_step_begin(self, training_config: BaseTrainerConfig, **kwargs: Any) -> None:
        self._started = time.perf_counter()

    def on_eval_step_begin(self, training_config: BaseTrainerConfig, **kwargs: Any) -> None:
        self.seconds += time.perf_counter() - self._started


def load_split(data_dir: Path, split: str) -> np.ndarray:
    """One split of the fixed binarization as uint8 (N, 1, 28, 28) of 0/1."""
    with np.load(data_dir / "binarized-mnist" / "binarized_mnist_uint8.npz", allow_pickle=False) as arrays:
        return arrays[split].reshape(-1, 1, 28, 28)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True, help="folder holding binarized-mnist/")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    torch.manual_seed(args.seed)  # pythae seeds only when training starts, after the networks are built
    model = VAE(
        VAEConfig(input_dim=(1, 28, 28), latent_dim=20, reconstruction_loss="bce"),
        encoder=Encoder(),
        decoder=Decoder(),
    )
    config = BaseTrainerConfig(
        output_dir=str(args.out),
        num_epochs=args.epochs,
        learning_rate=1e-3,
        per_device_train_batch_size=128,
        per_device_eval_batch_size=128,
        optimizer_cls="Adam",
        seed=args.seed,
    )
    pipeline = TrainingPipeline(model=model, training_config=config)
    clock = TrainingClock()
    pipeline(
        train_data=load_split(args.data_dir, "train"),
        eval_data=load_split(args.data_dir, "valid"),
        callbacks=[clock],
    )

    (args.out / "timing.json").write_text(json.dumps({"train_s": clock.seconds}))
    final = torch.load(Path(pipeline.trainer.training_dir) / "final_model" / "model.pt", weights_only=True)
    weights = {name.split(".", 1)[1]: value.numpy() for name, value in final["model_state_dict"].items()}
    np.savez(args.out / "weights.npz", **weights)


if __name__ == "__main__":
    main()
