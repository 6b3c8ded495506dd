"""Denoising benchmark (issue 22): PSNR of denoised MNIST digits against the clean ones.

For each dataset and noise, the mean per-image PSNR (``vaelab.evaluation.psnr``, peak 1) over the test images of:
the noisy input, a 3x3 median filter (``scipy.ndimage.median_filter``), a plain VAE trained on clean images
(ELBO) reconstructing the noisy input, and a denoising VAE trained with the denoising ELBO of Im et al. 2017
under the same noise (``vaelab.objectives.denoising.DenoisingELBO``). A VAE's output is E[x | z = E_q[z|x~]]
(``VAE.reconstruct``), as ``vaelab denoise`` writes it.

- grey MNIST: the 10,000 MNIST test images (the only grey-level MNIST images in ../shared/data), the first
  8,000 for training and the last 2,000 for testing, scaled to [0, 1]; continuous Bernoulli likelihood.
- binarized MNIST: its train split (50,000) for training, its test split (10,000) for testing; Bernoulli.

Every VAE: MLP 784-512-256 with a 16-dimensional Gaussian code, Adam 1e-3, batch 128, seed 0, trained by
``vaelab.training.fit`` on one thread (on 2 busy cores, two threads are several times slower).

    .venv/bin/python bench/denoising/run.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import median_filter

from vaelab.config.build import build_model, model_spec
from vaelab.config.schema import ModelConfig
from vaelab.data.corruption import parse_corruption
from vaelab.data.dataset import ArrayDataset, to_model_space
from vaelab.data.idx import read_idx
from vaelab.data.registry import load_dataset
from vaelab.evaluation.psnr import psnr
from vaelab.models import VAE
from vaelab.objectives import ELBO, Objective
from vaelab.objectives.denoising import DenoisingELBO
from vaelab.training import TrainSettings, fit

REPO = Path(__file__).resolve().parents[2]
GREY_TRAIN = 8000  # of the 10,000 MNIST test images; the rest are the grey test set
NOISES = ("gaussian:0.3", "gaussian:0.5", "salt-and-pepper:0.2", "salt-and-pepper:0.4")
METHODS = ("noisy input", "median 3x3", "VAE (clean ELBO)", "denoising VAE")


def grey_mnist(data_dir: Path) -> tuple[ArrayDataset, torch.Tensor]:
    """Training images (uint8, 256 levels) and test images in [0, 1], (N, 1, 28, 28)."""
    images = read_idx(data_dir / "mnist" / "t10k-images-idx3-ubyte.gz")[:, None]  # (10000, 1, 28, 28) uint8
    train = ArrayDataset(images[:GREY_TRAIN], None, 256, "mnist-t10k-first-8000", None)
    return train, to_model_space(torch.from_numpy(images[GREY_TRAIN:]), 256)


def binarized_mnist(data_dir: Path) -> tuple[ArrayDataset, torch.Tensor]:
    train, test = (load_dataset("binarized-mnist", split, str(data_dir)) for split in ("train", "test"))
    return train, to_model_space(torch.from_numpy(np.asarray(test.x)), test.levels)


def trained_vae(train: ArrayDataset, likelihood: str, objective: Objective, epochs: int) -> VAE:
    torch.manual_seed(0)
    config = ModelConfig(likelihood=likelihood, network="mlp", hidden_dims=[512, 256], latent_dim=16)
    model = build_model(model_spec(config, train))
    fit(model, objective, train, settings=TrainSettings(epochs=epochs, batch_size=128, seed=0, progress=False))
    return model.eval()


def mean_psnr(estimate: torch.Tensor | np.ndarray, clean: torch.Tensor) -> float:
    return float(psnr(np.asarray(estimate), clean.numpy()).mean())


def median_3x3(images: torch.Tensor) -> np.ndarray:
    """Each (1, 28, 28) image filtered by the median of its 3x3 neighbourhood (edges reflected)."""
    return median_filter(images.numpy(), size=(1, 1, 3, 3), mode="reflect")


def benchmark(
    name: str, train: ArrayDataset, test: torch.Tensor, likelihood: str, noises: list[str], epochs: int
) -> list[tuple[str, str, list[float]]]:
    """Rows (dataset, noise, mean PSNR of each method in ``METHODS``)."""
    started = time.perf_counter()
    plain = trained_vae(train, likelihood, ELBO(), epochs)
    print(f"{name}: plain VAE trained in {time.perf_counter() - started:.0f} s", flush=True)
    rows = []
    for seed, noise in enumerate(noises, start=1):
        corruption = parse_corruption(noise)
        noisy = corruption(test, torch.Generator().manual_seed(seed))  # (N, 1, 28, 28)
        started = time.perf_counter()
        denoiser = trained_vae(train, likelihood, DenoisingELBO(corruption), epochs)
        print(f"{name} {noise}: denoising VAE trained in {time.perf_counter() - started:.0f} s", flush=True)
        estimates = (noisy, median_3x3(noisy), plain.reconstruct(noisy), denoiser.reconstruct(noisy))
        rows.append((name, noise, [mean_psnr(estimate, test) for estimate in estimates]))
        print(markdown_table(rows[-1:]), flush=True)
    return rows


def markdown_table(rows: list[tuple[str, str, list[float]]]) -> str:
    lines = [f"| data | noise | {' | '.join(METHODS)} |", "|---|---|" + "---:|" * len(METHODS)]
    lines += [f"| {data} | {noise} | {' | '.join(f'{v:.2f}' for v in values)} |" for data, noise, values in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--noises", nargs="+", default=list(NOISES), help="corruptions NAME:LEVEL")
    parser.add_argument("--grey-epochs", type=int, default=40, help="epochs over the 8,000 grey training images")
    parser.add_argument("--binary-epochs", type=int, default=10, help="epochs over the 50,000 binarized images")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for noise in args.noises:
        parse_corruption(noise)  # a typo fails here, not after the first training runs
    started = time.perf_counter()
    rows = benchmark("grey MNIST", *grey_mnist(args.data_dir), "continuous-bernoulli", args.noises, args.grey_epochs)
    rows += benchmark("binarized MNIST", *binarized_mnist(args.data_dir), "bernoulli", args.noises, args.binary_epochs)
    print(f"\nmean PSNR (dB) over the test images; total {time.perf_counter() - started:.0f} s\n")
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
