"""Seed summary of several ``run.py`` output folders: per model, MIG and FactorVAE score on each seed, their
mean and standard deviation, and on how many seeds the model is ahead of the plain VAE of the same seed.

    python bench/disentanglement/summary.py bench/disentanglement/out bench/disentanglement/out-seed*

Folders must share the budget (resolution, steps, training images, batch size, learning rate, latent size):
the comparison is only fair at an equal budget.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

BUDGET_KEYS = ("resolution", "steps", "num_train", "batch_size", "lr", "latent_dim")
METRICS = (("mig", "MIG"), ("factor_vae_score", "FactorVAE score"))


def model_name(row: dict) -> str:
    """The preset with its objective overrides, e.g. ``factor-vae (discriminator_lr=0.001)``."""
    objective = row.get("objective", {})  # results written before run.py had --objective carry none
    overrides = ", ".join(f"{key}={value}" for key, value in sorted(objective.items()))
    return f"{row['preset']} ({overrides})" if overrides else row["preset"]


def load(folders: list[Path]) -> dict[str, dict[int, dict]]:
    """{model name: {seed: result row}} from the folders' ``results.json``; stops on unequal budgets."""
    by_model: dict[str, dict[int, dict]] = {}
    budget = None
    for folder in folders:
        if not (folder / "results.json").is_file():
            sys.exit(f"error: {folder} has no results.json; pass folders that run.py --out wrote")
        data = json.loads((folder / "results.json").read_text())
        settings = data["settings"]
        this_budget = {key: settings[key] for key in BUDGET_KEYS}
        if budget is not None and this_budget != budget:
            sys.exit(f"error: {folder} has budget {this_budget}, unlike {budget}; summarise equal budgets only")
        budget = this_budget
        for row in data["results"]:
            by_model.setdefault(model_name(row), {})[settings["seed"]] = row
    return by_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path)
    by_model = load(parser.parse_args().folders)
    baseline = by_model.get("vae", {})
    header = ["model", "seeds"]
    for _, label in METRICS:
        header += [f"{label} per seed", f"{label} mean ± std", f"{label}: seeds ahead of vae"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, rows in by_model.items():
        seeds = sorted(rows)
        cells = [name, " ".join(map(str, seeds))]
        for key, _ in METRICS:
            values = [rows[seed][key] for seed in seeds]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            paired = [seed for seed in seeds if seed in baseline]
            ahead = sum(rows[seed][key] > baseline[seed][key] for seed in paired)
            cells += [
                " ".join(f"{value:.3f}" for value in values),
                f"{statistics.mean(values):.3f} ± {spread:.3f}",
                "" if name == "vae" else f"{ahead} of {len(paired)}",
            ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
