"""A molecule VAE trained on all of MOSES within a wall-clock budget, with snapshots for its learning curve.

The run trains through the command line in ``--segments`` stretches: the first a plain ``vaelab train``, each
next one ``vaelab train --resume`` with a longer ``train.max_minutes`` (the budget counts training and
validation, summed over resumes; a resumed stretch starts a new pass over a fresh permutation). A stretch whose
snapshot exists is skipped, so the same command with a larger ``--minutes`` and as many more ``--segments``
trains an earlier run on (20-minute stretches: ``--minutes 200 --segments 10`` after 120 and 6). After each
stretch the model as trained so far (the checkpoint's weights: the run's ``model.safetensors`` holds the
epoch of the best β = 1 bound, which a β < 1 run can pass early) is saved, with the run's config, into
``OUT/snapshots/MINUTES/``, a folder that
``vaelab eval`` reads like a run directory, so every metric can be measured against training time
(``bench/molecules/learning_curve.py``). The run directory is ``OUT/run``, the training log ``OUT/train.log``.

    .venv/bin/python bench/molecules/train_moses.py --tokens selfies --out runs/moses-selfies \\
        --data-dir ../shared/data --minutes 120 --threads 1
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

SNAPSHOT_FILES = ("config.yaml", "model.json", "model.safetensors")

TRAINING = [
    "--network", "gru",
    "--latent-dim", "128",
    "--batch-size", "256",
    "--lr", "0.001",
    "--beta", "0.1",
    "--grad-clip", "10",
    "--set", "train.length_buckets=true",
]  # fmt: skip
"""The settings of the measured runs (results.md explains the choices)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", choices=["smiles", "selfies"], required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--minutes", type=float, default=120.0, help="the training budget")
    parser.add_argument("--segments", type=int, default=6, help="stretches, each ending in a snapshot")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args()

    run = args.out / "run"
    args.out.mkdir(parents=True, exist_ok=True)
    log = (args.out / "train.log").open("a", encoding="utf-8")
    common = ["--data", "moses", "--tokens", args.tokens, "--data-dir", args.data_dir, "--out", str(run)]
    machine = [] if args.threads is None else ["--set", f"train.threads={args.threads}"]
    for segment in range(1, args.segments + 1):
        minutes = args.minutes * segment / args.segments
        snapshot = args.out / "snapshots" / f"{minutes:g}"
        if snapshot.exists():  # an earlier call of this script trained this stretch: go on from its checkpoint
            continue
        length = ["--epochs", "1000", "--set", f"train.max_minutes={minutes:g}", "--no-report", "--no-progress"]
        resume = ["--resume"] if segment > 1 else [*TRAINING, *machine]
        command = [sys.executable, "-m", "vaelab", "train", *common, *length, *resume]
        print(f"[{time.strftime('%H:%M:%S')}] {' '.join(command)}", file=log, flush=True)
        subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=True)
        save_snapshot(run, snapshot)
        print(f"[{time.strftime('%H:%M:%S')}] snapshot {snapshot}", file=log, flush=True)
    log.close()


def save_snapshot(run: Path, snapshot: Path) -> None:
    """The run's config and model, with the weights of its checkpoint (the latest), into ``snapshot``."""
    from vaelab import load
    from vaelab.training.checkpoint import CHECKPOINT_NAME, load_checkpoint

    snapshot.mkdir(parents=True, exist_ok=True)
    for name in SNAPSHOT_FILES:
        shutil.copy2(run / name, snapshot / name)
    model = load(snapshot)
    model.load_state_dict(load_checkpoint(run / CHECKPOINT_NAME)["model"])
    model.save(snapshot)


if __name__ == "__main__":
    main()
