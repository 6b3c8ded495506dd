"""Do two versions of vaelab train every preset to the same model? A check for changes meant to keep results.

Every preset (``vaelab config models``) trains for a few epochs on the embedded digits with the same seed
under each source tree (a checkout, e.g. a ``git worktree`` of an older commit), through the command line;
the table compares the validation ELBO of every epoch and a hash of the saved weights. Training on a CPU
with the same torch and the same thread count is deterministic, so a refactoring that keeps the arithmetic
gives identical figures.

    git worktree add ../vaelab-before <commit>
    .venv/bin/python bench/compat/presets.py --before ../vaelab-before --after .
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = ["--data", "digits", "--latent-dim", "4", "--hidden-dims", "64", "--no-progress", "--no-report"]
SMALL = {"vamp": ["--set", "model.prior_components=20"], "hvae-vamp": ["--set", "model.prior_components=20"]}


def train(tree: Path, preset: str, epochs: int, out: Path) -> tuple[list[float], str]:
    """Validation ELBO per epoch and the SHA-256 of ``model.safetensors`` of one run under ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "OMP_NUM_THREADS": "1"}
    args = [sys.executable, "-m", "vaelab", "train", "--model", preset, "--epochs", str(epochs), "--out", str(out)]
    subprocess.run([*args, *FLAGS, *SMALL.get(preset, [])], env=env, cwd=tree, check=True, capture_output=True)
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    digest = hashlib.sha256((out / "model.safetensors").read_bytes()).hexdigest()[:12]
    return [r["valid"]["elbo"] for r in records], digest


def presets(tree: Path) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    listing = subprocess.run(
        [sys.executable, "-m", "vaelab", "config", "models"], env=env, check=True, capture_output=True, text=True
    )
    return [line.split()[0] for line in listing.stdout.splitlines() if line.strip() and ":" not in line.split()[0]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    print(f"before: {trees['before']}\nafter: {trees['after']}\n")
    print("| preset | valid ELBO per epoch, before | after | identical | weights before | weights after |")
    print("|---|---|---|---|---|---|")
    same = 0
    names = presets(trees["before"])
    with tempfile.TemporaryDirectory() as scratch:
        for preset in names:
            runs = {v: train(t, preset, args.epochs, Path(scratch) / f"{v}-{preset}") for v, t in trees.items()}
            (before, hash_before), (after, hash_after) = runs["before"], runs["after"]
            identical = before == after and hash_before == hash_after
            same += identical
            curve = [", ".join(f"{v:.4f}" for v in values) for values in (before, after)]
            verdict = "yes" if identical else "NO"
            print(f"| {preset} | {curve[0]} | {curve[1]} | {verdict} | {hash_before} | {hash_after} |")
    print(f"\n{same} of {len(names)} presets identical")


if __name__ == "__main__":
    main()
