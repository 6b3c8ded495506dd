"""Inpainting binarized-MNIST test digits: the negative conditional log-likelihood of the hidden quadrants given
1, 2 or 3 observed ones, and pictures of completions.

    .venv/bin/python bench/inpainting/run.py --data-dir ../shared/data [--epochs 30] [--test-images 1000]

Two models, the same networks (784-300-300 ReLU MLPs, 40 latent dimensions, Bernoulli likelihood, Adam 1e-3,
batch 128, ``--epochs`` passes over the 50,000 training images):

- ``complete``: the plain VAE trained on complete images; at test time the encoder reads the hidden quadrants as
  0 (zero imputation) and does not know they are hidden;
- ``incomplete``: trained on the same images with 0 to 3 of their 4 quadrants missing (drawn per image, uniformly;
  the masked ELBO scores only what is observed), with the mask as an encoder input and zero fill (Nazabal et al.
  2020; Mattei & Frellsen 2019): the model never sees a complete image of most digits.

Each test image's hidden quadrants are scored by ``-log p(x_h | x_o)``, estimated by self-normalised importance
sampling with K proposals from q(z | x_o) (``vaelab.applications.imputation.conditional_log_likelihood``), on the
quadrant layout of Pyro's CVAE tutorial (``observed_quadrants``). Results go to ``results.md`` beside this file,
and the pictures to ``completions.png``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from vaelab.applications.imputation import conditional_log_likelihood, conditional_mean, resampled_imputations
from vaelab.applications.imputation.quadrants import observed_quadrants
from vaelab.atomic import atomic_write_text
from vaelab.data.batch import Batch
from vaelab.data.dataset import ArrayDataset
from vaelab.data.registry import load_dataset
from vaelab.models.build import build_model, resolve_spec
from vaelab.models.load import load
from vaelab.models.spec import ModelConfig
from vaelab.objectives import ELBO
from vaelab.report.images import save_png
from vaelab.training import TrainSettings, fit

HERE = Path(__file__).resolve().parent
PYRO = {1: (100.4, 71.8), 2: (61.9, 51.0), 3: (25.4, 24.2)}  # Pyro's CVAE tutorial: NN baseline, CVAE


def hide_quadrants(images: np.ndarray, seed: int) -> np.ndarray:
    """float32 copies of ``images (N, 1, 28, 28)`` with 0-3 random quadrants per image set to NaN (missing)."""
    rng = np.random.default_rng(seed)
    out = images.astype(np.float32)
    for i, count in enumerate(rng.integers(0, 4, len(out))):
        for quadrant in rng.choice(4, size=count, replace=False):
            top, left = divmod(int(quadrant), 2)
            out[i, :, 14 * top : 14 * top + 14, 14 * left : 14 * left + 14] = np.nan
    return out


def train(
    name: str, train_data: ArrayDataset, valid: ArrayDataset, epochs: int, mask_input: bool, folder: Path
) -> torch.nn.Module:
    """The model trained for ``epochs``; kept in ``folder`` and loaded from there when it is already there."""
    if (folder / "model.json").is_file():
        return load(folder).eval()
    torch.manual_seed(0)
    config = ModelConfig.model_validate(
        {
            "latent_dim": 40,
            "network": {"name": "mlp", "hidden_dims": [300, 300]},
            "likelihood": "bernoulli",
            "prior": "standard-normal",
            "posterior": "gaussian",
            "mask_input": mask_input,
        }
    )
    model = build_model(resolve_spec(config, train_data))
    started = time.perf_counter()
    settings = TrainSettings(epochs=epochs, batch_size=128, lr=1e-3, progress=False, log_every=10**9)
    fit(model, ELBO(), train_data, valid, settings)
    print(f"{name}: trained {epochs} epochs in {time.perf_counter() - started:.0f} s", flush=True)
    model.save(folder)
    return model.eval()


def conditional_nll(model: torch.nn.Module, test: torch.Tensor, given: int, num_samples: int) -> tuple[float, float]:
    """Mean and standard error over test images of ``-log p(x_h | x_o)`` in nats."""
    observed = observed_quadrants(test.shape[1:], given).expand_as(test)
    batch = Batch(test, mask=observed.clone())
    with torch.inference_mode():
        values = -conditional_log_likelihood(model, batch, ~observed, num_samples)  # type: ignore[arg-type]
    return float(values.mean()), float(values.std() / len(values) ** 0.5)


def completions(model: torch.nn.Module, test: torch.Tensor, path: Path) -> None:
    """Rows: for 1, 2 and 3 observed quadrants and 6 digits, the observed part (hidden grey), the digit, the
    conditional mean and 4 draws."""
    rows = []
    for given in (1, 2, 3):
        x = test[:6]
        observed = observed_quadrants(x.shape[1:], given).expand_as(x)
        batch = Batch(x, mask=observed.clone())
        mean = conditional_mean(model, batch, 1000)  # type: ignore[arg-type]
        draws = resampled_imputations(model, batch, 4, 1000)  # type: ignore[arg-type]
        rows.append(torch.stack([torch.where(observed, x, 0.5), x, mean, *draws], dim=1).flatten(0, 1))
    save_png(path, torch.cat(rows).numpy(), 7, scale=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--test-images", type=int, default=1000)
    parser.add_argument("--num-samples", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work-dir", type=Path, default=Path("/work/runs/inpainting"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train_images = load_dataset("binarized-mnist", "train", args.data_dir)
    valid_images = load_dataset("binarized-mnist", "valid", args.data_dir)
    test_images = load_dataset("binarized-mnist", "test", args.data_dir)
    rows = np.sort(np.random.default_rng(0).choice(len(test_images), args.test_images, replace=False))
    test = torch.from_numpy(np.asarray(test_images.x[rows], dtype=np.float32))  # the split is sorted by digit
    as_float = lambda d, x: ArrayDataset(x, None, None, d.name, kind="image")  # noqa: E731
    variants = {
        "complete": (train_images, valid_images, False),
        "incomplete": (
            as_float(train_images, hide_quadrants(np.asarray(train_images.x), seed=0)),
            as_float(valid_images, hide_quadrants(np.asarray(valid_images.x), seed=1)),
            True,
        ),
    }
    results: dict[str, dict[str, object]] = {}
    for name, (train_data, valid, mask_input) in variants.items():
        torch.manual_seed(0)
        model = train(name, train_data, valid, args.epochs, mask_input, args.work_dir / name)
        torch.manual_seed(1)
        results[name] = {str(given): conditional_nll(model, test, given, args.num_samples) for given in (1, 2, 3)}
        print(name, results[name], flush=True)
        if name == "incomplete":
            torch.manual_seed(2)
            completions(model, test, HERE / "completions.png")
            torch.manual_seed(3)
            check = {str(k): conditional_nll(model, test[:200], 2, k) for k in (500, 2000, 5000, 20000)}
            results["incomplete-K"] = check
            print("K check (2 quadrants, 500 images):", check, flush=True)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    (args.work_dir / "results.json").write_text(json.dumps(results, indent=2))
    write_results(results, args)


def write_results(results: dict[str, dict[str, object]], args: argparse.Namespace) -> None:
    def cell(value: object) -> str:
        mean, stderr = value  # type: ignore[misc]
        return f"{mean:.1f} ± {stderr:.1f}"

    lines = [
        "# Inpainting binarized MNIST: hidden quadrants given observed ones",
        "",
        "```",
        f".venv/bin/python bench/inpainting/run.py --data-dir ../shared/data --epochs {args.epochs} "
        f"--test-images {args.test_images} --num-samples {args.num_samples}",
        "```",
        "",
        f"{platform.processor() or platform.machine()}, {args.threads} threads, torch {torch.__version__}. "
        f"Negative conditional log-likelihood -log p(x_hidden | x_observed) in nats per image (mean ± standard "
        f"error over {args.test_images} binarized-MNIST test images drawn at random with seed 0: the split is "
        f"sorted by digit), K = {args.num_samples} importance "
        "samples from q(z | x_observed).",
        "",
        "| observed quadrants | vaelab, trained on incomplete images (mask input) | vaelab, trained on complete "
        "images (zero fill) | Pyro CVAE tutorial: CVAE | Pyro: NN baseline |",
        "|---|---|---|---|---|",
    ]
    for given in (1, 2, 3):
        nn_baseline, cvae = PYRO[given]
        lines.append(
            f"| {given} | {cell(results['incomplete'][str(given)])} | {cell(results['complete'][str(given)])} | "
            f"{cvae} | {nn_baseline} |"
        )
    check = results["incomplete-K"]
    lines += [
        "",
        "Convergence in K (incomplete-trained model, 2 observed quadrants, 200 of those test images): "
        + ", ".join(f"K = {k}: {cell(v)}" for k, v in check.items())
        + ".",
        "",
        "![completions](completions.png)",
        "",
        "`completions.png`: for 1, 2 and 3 observed quadrants, six test digits; in each row the observed part (hidden "
        "part grey), the digit, the conditional mean E[x_h | x_o] and four draws from p(x_h | x_o) by sampling "
        "importance resampling (K = 1000).",
    ]
    atomic_write_text(HERE / "results.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
