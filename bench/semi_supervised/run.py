"""Semi-supervised MNIST classification: vaelab's M2 against the same classifier on the labels alone, scikit-learn's
LabelSpreading and self-training, and M1, on the protocol of ``protocol.py``.

    .venv/bin/python bench/semi_supervised/run.py --data-dir ../shared/data [--n 100 600 1000 3000]
        [--draws 0 1 2 3 4] [--methods m2 supervised label_spreading self_training m1] [--epochs 50]
        [--max-minutes M] [--alpha 0.1] [--lr 4.2e-4] [--batch-size 100] [--labelled-per-batch 0]
        [--supervised-steps 2000] [--device cpu]
        [--baseline-unlabelled R] [--unlabelled-limit R] [--out bench/semi_supervised/out] [--force]
    .venv/bin/python bench/semi_supervised/table.py --write bench/semi_supervised/results.md

Each (method, N, draw) result is written as ``--out/<method>-n<N>-draw<d>.json`` (atomically) as soon as it is
done, with the settings it ran with; a result already there is not run again (``--force`` redoes it), so an
interrupted run resumes. The draw seeds both the choice of labels and the training. ``--unlabelled-limit R``
keeps a seeded R of the 50,000 unlabelled rows for every method (smoke tests; results say so), and
``--baseline-unlabelled R`` only for LabelSpreading and self-training.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from methods import METHODS, Settings
from protocol import load_protocol

from vaelab.atomic import atomic_write_text

DEFAULT_OUT = Path(__file__).resolve().parent / "out"


def result_path(out: Path, method: str, num_labelled: int, draw: int) -> Path:
    return out / f"{method}-n{num_labelled}-draw{draw}.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = Settings()
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[100, 600, 1000, 3000], help="numbers of labels")
    parser.add_argument("--draws", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="label draws (seeds)")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--data-dir", default=None, help="the shared data folder (default: $VAELAB_DATA_DIR)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--force", action="store_true", help="redo results that are already there")
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--max-minutes", type=float, default=defaults.max_minutes, help="each VAE's training budget")
    parser.add_argument("--alpha", type=float, default=defaults.alpha)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--labelled-per-batch", type=int, default=defaults.labelled_per_batch)
    parser.add_argument("--hidden", type=int, default=defaults.hidden)
    parser.add_argument("--latent-dim", type=int, default=defaults.latent_dim)
    parser.add_argument("--supervised-steps", type=int, default=defaults.supervised_steps)
    parser.add_argument("--device", default=defaults.device)
    parser.add_argument("--baseline-unlabelled", type=int, default=None, help="label_spreading, self_training")
    parser.add_argument("--unlabelled-limit", type=int, default=None, help="every method (smoke tests)")
    parser.add_argument("--m1-hidden", type=int, nargs="+", default=list(defaults.m1_hidden), help="m1_m2")
    parser.add_argument("--m1-epochs", type=int, default=defaults.m1_epochs, help="m1_m2")
    parser.add_argument("--stacked-alpha", type=float, default=defaults.stacked_alpha, help="m1_m2")
    parser.add_argument(
        "--m1-active", type=float, default=defaults.m1_active, help="m1_m2: the units' variance threshold (0: keep all)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    for num_labelled in args.n:
        for draw in args.draws:
            todo = [m for m in args.methods if args.force or not result_path(args.out, m, num_labelled, draw).exists()]
            if not todo:
                continue
            protocol = load_protocol(num_labelled, draw, args.data_dir, args.unlabelled_limit)
            settings = Settings(
                epochs=args.epochs,
                max_minutes=args.max_minutes,
                lr=args.lr,
                batch_size=args.batch_size,
                labelled_per_batch=args.labelled_per_batch,
                alpha=args.alpha,
                hidden=args.hidden,
                latent_dim=args.latent_dim,
                seed=draw,
                device=args.device,
                supervised_steps=args.supervised_steps,
                baseline_unlabelled=args.baseline_unlabelled,
                m1_hidden=tuple(args.m1_hidden),
                m1_epochs=args.m1_epochs,
                stacked_alpha=args.stacked_alpha,
                m1_active=args.m1_active or None,
            )
            for method in todo:
                result = METHODS[method](protocol, settings)
                record = {
                    "method": method,
                    "n": num_labelled,
                    "draw": draw,
                    "accuracy": result.accuracy,
                    "seconds": result.seconds,
                    "evaluation_rows": len(protocol.evaluation),
                    "unlabelled_limit": args.unlabelled_limit,
                    "settings": asdict(settings),
                    **result.details,
                }
                args.out.mkdir(parents=True, exist_ok=True)
                atomic_write_text(result_path(args.out, method, num_labelled, draw), json.dumps(record, indent=1))
                print(
                    f"{method} N={num_labelled} draw {draw}: accuracy {100 * result.accuracy:.2f} % "
                    f"in {result.seconds / 60:.1f} min",
                    flush=True,
                )


if __name__ == "__main__":
    main()
