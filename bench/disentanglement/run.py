"""Disentanglement of the plain VAE, β-TCVAE and FactorVAE on procedural dSprites-style shapes.

Each model is the same conv VAE (``--network conv``, Burgess et al. 2018's layout, Bernoulli likelihood,
10 latent dimensions) built through the presets, trained for the same number of optimisation steps on
the same images with Adam (lr 1e-3, batch 64), then scored on held-out shapes with MIG (posterior means
of ``--num-codes`` test images, 20 bins) and the FactorVAE score (``--votes`` training votes, half as many
evaluation votes, 64 images per vote). Prints a table and writes ``results.json`` beside ``--out``.

    .venv/bin/python bench/disentanglement/run.py --resolution 32 --steps 500 --out bench/disentanglement/out
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaelab.applications.traversal import order_by_kl, traverse
from vaelab.config.build import build_model, build_objective, model_spec
from vaelab.config.files import parse_assignments
from vaelab.config.schema import ModelConfig, ObjectiveConfig
from vaelab.data.dataset import ArrayDataset, to_model_space
from vaelab.data.shapes import ShapesOracle, load_shapes
from vaelab.evaluation.disentanglement import factor_vae_score, mig
from vaelab.evaluation.inputs import stored_rows_encoder
from vaelab.models import VAE
from vaelab.report.analysis import mean_kl_per_dimension
from vaelab.report.images import save_png
from vaelab.training import TrainSettings, fit


def run_one(
    preset: str, args: argparse.Namespace, train: ArrayDataset, codes_x: np.ndarray, factors: np.ndarray
) -> dict[str, Any]:
    torch.manual_seed(args.seed)
    config = ModelConfig(preset=preset, network="conv", latent_dim=args.latent_dim, likelihood="bernoulli")
    model = build_model(model_spec(config, train))
    objective = build_objective(ObjectiveConfig(**args.objective.get(preset, {})), preset)
    steps_per_epoch = -(-len(train) // args.batch_size)
    epochs = -(-args.steps // steps_per_epoch)
    settings = TrainSettings(epochs=epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed, progress=False)
    started = time.perf_counter()
    result = fit(model, objective, train, None, settings)
    train_s = time.perf_counter() - started
    encode = stored_rows_encoder(model, levels=2)
    started = time.perf_counter()
    scores = {
        **mig(encode(codes_x), factors),
        **factor_vae_score(
            ShapesOracle(args.resolution),
            encode,
            num_train=args.votes,
            num_eval=args.votes // 2,
            num_variance_estimate=args.num_codes,
            seed=args.seed,
        ),
    }
    save_traversal(model, codes_x, args.out / f"traversal-{preset}.png")
    last = result.history[-1]["train"]
    return {
        "preset": preset,
        "objective": args.objective.get(preset, {}),
        "steps": epochs * steps_per_epoch,
        "train_s": round(train_s, 1),
        "eval_s": round(time.perf_counter() - started, 1),
        "train_elbo_last_epoch": last["elbo"],
        "train_kl_last_epoch": last["kl"],
        **scores,
    }


def save_traversal(model: VAE, codes_x: np.ndarray, path: Path, steps: int = 9) -> None:
    """Latent traversal picture: one row per latent dimension (most KL first), each moving that dimension
    from -2.5 to 2.5 around the posterior mean of a held-out image, the others fixed."""
    x = to_model_space(torch.from_numpy(codes_x[:256]), 2)
    dims = order_by_kl(mean_kl_per_dimension(model, x, None))
    with torch.inference_mode():
        base = model.embed(x[:1])[0]  # (D,)
        images = traverse(model, base, dims, torch.linspace(-2.5, 2.5, steps))  # (D, T, C, H, W)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_png(path, images.reshape(-1, *images.shape[2:]).numpy(), ncols=steps, scale=2)


def objective_overrides(items: list[str]) -> dict[str, Any]:
    """``["beta-tcvae:beta=4", ...]`` -> ``{"beta-tcvae": {"beta": 4}}``: ObjectiveConfig fields per preset,
    values parsed as ``vaelab train --set`` parses them."""
    if bad := [item for item in items if "=" not in item or ":" not in item.partition("=")[0]]:
        raise SystemExit(f"--objective {bad[0]!r}: write PRESET:FIELD=VALUE, e.g. beta-tcvae:beta=4")
    return parse_assignments(item.replace(":", ".", 1) for item in items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["vae", "beta-tcvae", "factor-vae"])
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--steps", type=int, default=2000, help="optimisation steps per model (whole epochs)")
    parser.add_argument("--num-train", type=int, default=50_000)
    parser.add_argument("--num-codes", type=int, default=5000, help="test images for MIG")
    parser.add_argument("--votes", type=int, default=800, help="FactorVAE-score training votes")
    parser.add_argument("--latent-dim", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument(
        "--objective", nargs="*", default=[], metavar="PRESET:FIELD=VALUE", help="e.g. beta-tcvae:beta=4"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.objective = objective_overrides(args.objective)

    train = load_shapes("train", num_examples=args.num_train, resolution=args.resolution)
    test = load_shapes("test", num_examples=args.num_codes, resolution=args.resolution)
    rows = [run_one(preset, args, train, test.x, test.factors) for preset in args.presets]

    print(f"{'model':<12} {'steps':>6} {'train s':>8} {'MIG':>6} {'FactorVAE score':>16} {'active dims':>12}")
    for r in rows:
        print(
            f"{r['preset']:<12} {r['steps']:>6} {r['train_s']:>8.0f} {r['mig']:>6.3f} "
            f"{r['factor_vae_score']:>16.3f} {r['num_active_dims']:>12}"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    (args.out / "results.json").write_text(json.dumps({"settings": settings, "results": rows}, indent=2))


if __name__ == "__main__":
    main()
