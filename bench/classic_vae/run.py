"""Quality parity and training speed: `vaelab train` against the classic PyTorch example loop.

Both train the 784-400-20 Bernoulli VAE on binarized MNIST (Adam 1e-3, batch 128, 10 epochs), alternating
runs in one process tree so both see the same machine state. Reported: training samples/second (median
over runs, training steps only; the vaelab figure also excludes its per-epoch validation pass), wall
time of the whole command, and the importance-sampled test NLL (K = 1000 on the same random 2000-example
test subset, the same estimator code for both). `whole_process.py` times whole processes instead (the
report included), against the example as a program and against pythae.

    .venv/bin/python bench/classic_vae/run.py --data-dir ../shared/data --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference import ExampleVAE, as_vaelab_model, train_reference
from whole_process import REPO, test_nll, vaelab_command

import vaelab
from vaelab.data.registry import load_dataset


def run_vaelab(data_dir: str, epochs: int, seed: int, out: Path) -> dict[str, float]:
    command = [*vaelab_command(data_dir, epochs, seed, out), "--no-report"]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - started
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return {"train_s": sum(r["train_time_s"] for r in records), "wall_s": wall}


def run_reference(data_dir: str, epochs: int, seed: int) -> tuple[dict[str, float], ExampleVAE]:
    started = time.perf_counter()
    train = load_dataset("binarized-mnist", "train", data_dir)
    x_train = torch.from_numpy(train.x).float()
    model, seconds = train_reference(x_train, epochs, seed)
    return {"train_s": sum(seconds), "wall_s": time.perf_counter() - started}, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--num-samples", type=int, default=1000)
    args = parser.parse_args()

    n_train = len(load_dataset("binarized-mnist", "train", args.data_dir))
    rows: dict[str, list[dict[str, float]]] = {"reference": [], "vaelab": []}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            timing, reference_model = run_reference(args.data_dir, args.epochs, seed=repeat)
            timing["nll"] = test_nll(as_vaelab_model(reference_model), args.data_dir, args.limit, args.num_samples)
            rows["reference"].append(timing)
            out = Path(tmp) / f"run{repeat}"
            timing = run_vaelab(args.data_dir, args.epochs, repeat, out)
            timing["nll"] = test_nll(vaelab.load(out), args.data_dir, args.limit, args.num_samples)
            rows["vaelab"].append(timing)
            print(f"repeat {repeat}: " + json.dumps(rows), file=sys.stderr)

    samples = n_train * args.epochs
    print(
        f"\nclassic 784-400-20 Bernoulli VAE, binarized MNIST ({n_train} train), {args.epochs} epochs, "
        f"batch 128, {args.repeats} runs each, torch threads {torch.get_num_threads()}"
    )
    print("medians over runs; samples/s counts training steps only")
    print(f"test NLL: importance-sampled, K = {args.num_samples}, random {args.limit}-example test subset\n")
    print("| trainer | samples/s | training s | wall s | test NLL (nats) | NLL per run |")
    print("|---|---|---|---|---|---|")
    medians = {}
    for name, runs in rows.items():
        train_s = statistics.median(r["train_s"] for r in runs)
        medians[name] = {"rate": samples / train_s, "nll": statistics.median(r["nll"] for r in runs)}
        per_run = ", ".join(f"{r['nll']:.2f}" for r in runs)
        print(
            f"| {name} | {samples / train_s:,.0f} | {train_s:.1f} | {statistics.median(r['wall_s'] for r in runs):.1f} "
            f"| {medians[name]['nll']:.2f} | {per_run} |"
        )
    speedup = medians["vaelab"]["rate"] / medians["reference"]["rate"]
    print(
        f"\nspeed ratio vaelab / reference: {speedup:.2f}x; "
        f"NLL difference vaelab - reference: {medians['vaelab']['nll'] - medians['reference']['nll']:+.2f} nats"
    )


if __name__ == "__main__":
    main()
