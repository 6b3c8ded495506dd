"""The rest of the family on binarized MNIST under the shared budget (GitHub issue 27); writes
``results-family.md`` beside it.

    .venv/bin/python bench/mnist_variants/family.py --data-dir ../shared/data [--variants vae,vae-gan] [--epochs 30]

Every variant is trained by ``vaelab train`` in a one-thread child process with the recipe of ``run.py``
(784-300-300 ReLU MLPs, Bernoulli likelihood, Adam 1e-3, batch 128, KL warm-up over 10 epochs, ``--epochs``
passes over the 50,000 training images, the weights of the best validation epoch kept), and the plain VAE is
trained again in the same run as the reference. Then, on the 10,000 test images:

- **sample quality** for every variant (``vaelab eval --metrics quality``): the Fréchet distance, precision and
  recall of 10,000 generated images against the test images in the features of vaelab's reference classifier,
  once for binary samples x ~ p(x|z) and once for the decoder means E[x|z];
- **the importance-sampled NLL** (``--metrics likelihood``, K = ``--num-samples``, 1000 by default) for the
  variants whose objective bounds log p(x) (the third field of ``FAMILY``); the others' figure would not be a
  likelihood, so it is left out. ``run.py``'s table uses K = 5000, which takes five times as long; on the classic
  model the K = 1000 estimate is 0.32 nats above the K = 5000 one (``bench/eval_likelihood/results.md``), and the
  reference VAE here is measured at the same K.

Finished variants are kept in ``--work-dir`` (``OUT/NAME/bench.json``) and not run again, so invocations with
disjoint ``--variants`` may run side by side (one per core); each rewrites the results file from every finished
variant.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import torch
from run import SHARED, history, vaelab

HERE = Path(__file__).resolve().parent
NUM_SAMPLES = 0  # stands for --num-samples in FAMILY

# name -> (what differs from the plain VAE, its vaelab arguments, importance samples for its NLL: None when its
# objective does not bound log p(x), 1 when the posterior is a point mass, so that every weight is the same)
FAMILY: dict[str, tuple[str, list[str], int | None]] = {
    "vae": ("ELBO, N(0, I) prior (the reference)", ["--model", "vae", "--latent-dim", "40"], NUM_SAMPLES),
    "vq-vae": (
        "5 positions of 4-dimensional codes from a codebook of 512 (EMA), GRU prior over the codes",
        ["--model", "vq-vae", "--latent-dim", "20", "--kl-schedule", "constant"],  # no KL weight to warm up
        1,
    ),
    "vae-gan": (
        "reconstruction in an image discriminator's features + GAN loss on reconstructions and prior samples "
        "(relaxed Bernoulli samples, MLP discriminator, 0.3·log p(x\\|z))",
        ["--model", "vae-gan", "--latent-dim", "40"],
        None,
    ),
    "gumbel-vae": (
        "30 categorical variables of 10 classes (Jang et al.'s MNIST size), Gumbel-softmax τ annealed 1 → 0.5",
        ["--model", "gumbel-vae", "--latent-dim", "300"],
        NUM_SAMPLES,
    ),
    "joint-vae": (
        "10 Gaussian + 1 categorical of 10 classes, capacities ramped to 5 nats each over half the run (γ = 30)",
        ["--model", "joint-vae", "--latent-dim", "20", "--kl-schedule", "constant"],  # the capacities ramp instead
        NUM_SAMPLES,
    ),
    "svae": (
        "von Mises-Fisher posterior, uniform prior on the sphere S^39",
        ["--model", "svae", "--latent-dim", "40"],
        NUM_SAMPLES,
    ),
    "hamiltonian-vae": (
        "5 tempered leapfrog steps after the Gaussian q(z0\\|x), learned step sizes and β0; trained on the HVAE bound",
        [
            "--model",
            "hamiltonian-vae",
            "--latent-dim",
            "40",
            "--kl-schedule",
            "constant",  # its bound has no KL weight
            "--set",
            "train.monitor=hamiltonian_elbo",
        ],
        NUM_SAMPLES,
    ),
    "wae-mmd": (
        "deterministic codes; reconstruction + 100·MMD²(q(z), p(z)), inverse multiquadratics kernel at 7 scales",
        ["--model", "wae-mmd", "--latent-dim", "40", "--kl-schedule", "constant"],  # no KL term to warm up
        None,
    ),
    "wae-gan": (
        "deterministic codes; reconstruction + a latent discriminator's −log D(z) (4 × 512 units)",
        ["--model", "wae-gan", "--latent-dim", "40", "--kl-schedule", "constant"],
        None,
    ),
    "swae": (
        "deterministic codes; reconstruction + 100·sliced Wasserstein distance (50 directions) to prior draws",
        ["--model", "swae", "--latent-dim", "40", "--kl-schedule", "constant"],
        None,
    ),
    "rae": (
        "deterministic codes; reconstruction + ‖z‖²/2 + 1e-3·‖decoder weights‖²; sampled from a 10-component "
        "Gaussian mixture fitted to the training codes",
        ["--model", "rae", "--latent-dim", "40", "--kl-schedule", "constant"],
        None,
    ),
    "msssim-vae": (
        "1000·(1 − MS-SSIM(E[x\\|z], x)) + KL instead of log p(x\\|z): likelihood-free, 2 scales at 28×28",
        ["--model", "msssim-vae", "--latent-dim", "40"],
        None,
    ),
}

PUBLISHED = {
    "vae": "89.78 (pythae, K = 200)",
    "svae": "93.27 (pythae, dynamically binarized MNIST, K = 500)",
    "hamiltonian-vae": "86.21 (pythae's HVAE, 4 leapfrog steps, K = 1000)",
}
"""Published test NLLs of binarized MNIST (pythae's reproduced models, README "Reproducibility"), after far
longer training than this budget: listed for scale, not as a same-budget comparison."""

RESULTS = HERE / "results-family.md"


def run_variant(name: str, work_dir: Path, data_dir: str, epochs: int, num_samples: int) -> None:
    run_dir = work_dir / name
    if (run_dir / "bench.json").is_file():
        return
    shutil.rmtree(run_dir, ignore_errors=True)  # an interrupted earlier attempt
    _, variant_args, samples = FAMILY[name]
    train_args = [*SHARED, *variant_args, "--epochs", str(epochs), "--data-dir", data_dir]
    print(f"{time.strftime('%H:%M:%S')} {name}: training {epochs} epochs", file=sys.stderr, flush=True)
    trained, train_wall_s = vaelab("train", *train_args, "--out", run_dir, "--no-progress", "--no-report")
    evaluate = ["eval", run_dir, "--data-dir", data_dir, "--split", "test"]
    figures: dict[str, Any] = {
        "command": "vaelab train " + " ".join(train_args),
        "train_wall_s": train_wall_s,
        "epochs": len(history(run_dir)),
        "best_epoch": trained["best_epoch"],
    }
    for mean in (False, True):
        print(f"{time.strftime('%H:%M:%S')} {name}: sample quality, means={mean}", file=sys.stderr, flush=True)
        quality, _ = vaelab(*evaluate, "--metrics", "quality", "--sample-mean" if mean else "--no-sample-mean")
        figures["means" if mean else "samples"] = {k: quality[k] for k in ("frechet_distance", "precision", "recall")}
    if samples is not None:
        samples = samples or num_samples
        print(f"{time.strftime('%H:%M:%S')} {name}: NLL, K = {samples}", file=sys.stderr, flush=True)
        likelihood, eval_s = vaelab(*evaluate, "--metrics", "likelihood", "--num-samples", samples)
        figures.update({k: likelihood[k] for k in ("nll", "nll_stderr", "elbo", "num_samples")}, nll_eval_s=eval_s)
    (run_dir / "bench.json").write_text(json.dumps(figures, indent=2))


def _quality(figures: dict[str, Any], which: str) -> str:
    q = figures[which]
    return f"{q['frechet_distance']:.2f} / {q['precision']:.3f} / {q['recall']:.3f}"


def write_results(work_dir: Path, epochs: int) -> None:
    done = {
        n: json.loads((work_dir / n / "bench.json").read_text())
        for n in FAMILY
        if (work_dir / n / "bench.json").is_file()
    }
    lines = [
        "# The rest of the family on binarized MNIST: results",
        "",
        "Command: `python bench/mnist_variants/family.py --data-dir ../shared/data` (from the repository root). "
        "Written by the script.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}; every training and "
        "evaluation process used one thread. Wall times were taken while other processes shared the two cores, "
        "so they are not a speed comparison.",
        "",
        f"Shared budget: {epochs} epochs of the 50,000 training images per variant, the recipe of `run.py` "
        "(784-300-300 MLPs, Bernoulli, Adam 1e-3, batch 128, KL warm-up over 10 epochs), the best validation "
        "epoch kept. Sample quality: 10,000 generated images against the 10,000 test images in the features of "
        "vaelab's reference classifier (Fréchet distance, lower is better; precision and recall, k = 3). NLL: "
        "importance-sampled on the test images, only for objectives that bound log p(x), with K = 1000 samples where "
        "`results.md` uses 5000 (on the classic model the K = 1000 estimate is 0.32 nats higher: "
        "`bench/eval_likelihood/results.md`); the VQ-VAE's posterior is a point mass, so all its importance "
        "weights are equal and its NLL is its bound (K = 1).",
        "",
        "Variants with no KL weight to warm up train with a constant schedule: vq-vae, joint-vae (its capacities "
        "ramp instead), hamiltonian-vae (its bound has no KL weight) and the deterministic autoencoders "
        "(wae-mmd, wae-gan, swae, rae); gumbel-vae has 300 latent entries (30 variables of 10 classes). Each run's "
        "training command is listed at the end. hamiltonian-vae's -ELBO column is the plain bound of q(z0|x); "
        "its NLL is importance-sampled with that q as the proposal.",
        "",
        "| variant | what differs | FD / precision / recall, samples x ~ p(x\\|z) | FD / precision / recall, "
        "means E[x\\|z] | test NLL (nats) | test -ELBO | best epoch | train wall time (min) | published NLL |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, figures in done.items():
        what = FAMILY[name][0]
        nll = (
            f"{figures['nll']:.2f} ± {figures['nll_stderr']:.2f} (K = {figures['num_samples']})"
            if "nll" in figures
            else "not a bound"
        )
        elbo = f"{-figures['elbo']:.2f}" if "elbo" in figures else "—"
        lines.append(
            f"| {name} | {what} | {_quality(figures, 'samples')} | {_quality(figures, 'means')} | {nll} | {elbo} | "
            f"{figures['best_epoch']}/{figures['epochs']} | {figures['train_wall_s'] / 60:.1f} | "
            f"{PUBLISHED.get(name, '—')} |"
        )
    missing = [name for name in FAMILY if name not in done]
    if missing:
        lines += ["", f"Not measured yet: {', '.join(missing)}."]
    if "vae" in done:
        lines += ["", "## Bars", ""]
        reference = done["vae"]["samples"]["frechet_distance"]
        for name in ("vae-gan", "vq-vae"):
            if name in done:
                distance = done[name]["samples"]["frechet_distance"]
                verdict = "met" if distance < reference else "not met"
                lines.append(
                    f"- {name} reaches a lower Fréchet distance than the plain VAE in the same run (samples): "
                    f"{distance:.2f} against {reference:.2f}: {verdict}."
                )
    lines += ["", "## Training commands", ""]
    lines += [f"- {name}: `{figures['command']}`" for name, figures in done.items()]
    RESULTS.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--work-dir", type=Path, default=HERE / "out-family")
    parser.add_argument("--variants", default=",".join(FAMILY), help="comma-separated subset of " + ", ".join(FAMILY))
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--num-samples", type=int, default=1000, help="importance samples K for the NLL")
    args = parser.parse_args()
    names = args.variants.split(",")
    unknown = sorted(set(names) - FAMILY.keys())
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {list(FAMILY)}")
    for name in names:
        run_variant(name, args.work_dir, args.data_dir, args.epochs, args.num_samples)
        write_results(args.work_dir, args.epochs)


if __name__ == "__main__":
    main()
