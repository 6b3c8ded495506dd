"""MOSES metrics of each snapshot of ``train_moses.py`` against training time: the learning curve.

Every snapshot ``OUT/snapshots/MINUTES/`` is scored by ``vaelab eval --metrics molecules`` on MOSES's test
split (``--samples`` codes drawn from the prior and decoded as ``--decoding`` says: sampled token by token,
greedily, or by a beam, with ``--smiles-syntax`` under the SMILES syntax constraint; ``--reconstructed`` test
molecules for the JT-VAE reconstruction accuracy), and one table row per snapshot is printed in markdown, the
training minutes first. The figures are kept in the snapshot as ``molecules-sampled.json``,
``molecules-greedy.json`` or ``molecules-beam5.json`` (``-syntax`` added when constrained); a snapshot already
scored is read, not scored again, so the script can run while training goes on.

    .venv/bin/python bench/molecules/learning_curve.py runs/moses-selfies --data-dir ../shared/data \\
        --samples 10000 --reconstructed 100 [--decoding greedy] [--smiles-syntax]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from vaelab.atomic import atomic_write_text

COLUMNS = ("valid", "unique@1000", "unique@10000", "Novelty", "FCD/Test", "SNN/Test", "Frag/Test", "Scaf/Test",
           "IntDiv", "IntDiv2", "Filters", "logP", "SA", "QED", "weight", "reconstruction_accuracy")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="the --out folder of train_moses.py")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--reconstructed", type=int, default=100)
    parser.add_argument("--decoding", choices=("sample", "greedy", "beam"), default="sample")
    parser.add_argument("--beam-width", type=int, default=5)
    parser.add_argument("--smiles-syntax", action="store_true", help="close branches and rings before the end")
    args = parser.parse_args()

    snapshots = sorted((args.out / "snapshots").iterdir(), key=lambda path: float(path.name))
    print("| minutes | samples | decoding | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 3) + "|")
    for snapshot in snapshots:
        figures = _scored(snapshot, args)
        row = [_shown(figures.get(f"molecules/{name}")) for name in COLUMNS]
        head = f"| {snapshot.name} | {figures['molecule_samples']} | {figures['molecule_decoding']} | "
        print(head + " | ".join(row) + " |", flush=True)


def _scored(snapshot: Path, args: argparse.Namespace) -> dict[str, float]:
    """The snapshot's molecule figures: read from its figures file, else measured by ``vaelab eval``."""
    name = {"sample": "sampled", "greedy": "greedy", "beam": f"beam{args.beam_width}"}[args.decoding]
    kept = snapshot / f"molecules-{name}{'-syntax' if args.smiles_syntax else ''}.json"
    if kept.is_file():
        return dict(json.loads(kept.read_text()))
    metrics = [
        *("--metrics", "molecules", "--data-dir", args.data_dir, "--json"),
        *("--molecule-samples", str(args.samples), "--reconstructed-molecules", str(args.reconstructed)),
        *("--decoding", args.decoding, "--beam-width", str(args.beam_width)),
        *(["--smiles-syntax"] if args.smiles_syntax else []),
    ]
    done = subprocess.run(
        [sys.executable, "-m", "vaelab", "eval", str(snapshot), *metrics], capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"vaelab eval {snapshot} failed: {done.stderr.strip().splitlines()[-1]}")
    atomic_write_text(kept, done.stdout)
    return dict(json.loads(done.stdout))


def _shown(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


if __name__ == "__main__":
    main()
