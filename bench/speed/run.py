"""Training and evaluation speed against the plain PyTorch example loop, pythae and the machine's ceiling.

For the classic MLP (784-400-20) and a conv model on binarized MNIST, at batch 128 and a large batch,
each trainer runs in its own process (`worker.py`) on the identical networks and data; samples/second
are medians over repeats. The ceiling is the same step's matrix work timed bare (`ceiling.py`), so the
table states the fraction of the achievable FLOP rate each trainer reaches. Evaluation throughput is the
importance-sampled NLL in (examples x K) per second against the decoder's bare forward pass.

    bench/speed/setup.sh   # once: bench/speed/.venv with vaelab and pythae
    bench/speed/.venv/bin/python bench/speed/run.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from vaelab.data.registry import load_dataset

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from ceiling import (  # noqa: E402
    bare_matmul_seconds,
    bare_network_seconds,
    decoder_forward_flops,
    median_seconds,
    step_flops,
)
from worker import vaelab_model  # noqa: E402

TRAINERS = ("reference", "pythae", "vaelab")


# vaelab's hardware options (vaelab.training.hardware), each timed against the defaults in one run.
OPTIONS: dict[str, list[str]] = {
    "defaults": [],
    "fused Adam": ["optimizer_impl=fused"],
    "foreach Adam": ["optimizer_impl=foreach"],
    "torch.compile": ["compile=true"],
    "bf16 autocast": ["precision=bf16"],
    "channels-last": ["channels_last=on"],
}


def run_worker(
    trainer: str, network: str, batch_size: int, args: argparse.Namespace, options: Sequence[str] = ()
) -> dict[str, float]:
    command = [
        sys.executable,
        str(HERE / "worker.py"),
        "--trainer",
        trainer,
        "--network",
        network,
        "--batch-size",
        str(batch_size),
        "--examples",
        str(args.examples),
        "--repeats",
        str(args.repeats),
        "--data-dir",
        args.data_dir,
        *(f"--option={option}" for option in options),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def ceiling_flop_rate(network: str, batch_size: int) -> tuple[int, float]:
    """(FLOPs of one vaelab training step, the bare FLOP rate the machine reaches on that work)."""
    torch.manual_seed(0)
    model = vaelab_model(network)
    x = (torch.rand(batch_size, 1, 28, 28) > 0.5).float()
    flops = step_flops(model, x)
    if network == "mlp":
        gemm_flops = sum(6 * batch_size * m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))
        return flops, gemm_flops / bare_matmul_seconds(model, batch_size)
    return flops, flops / bare_network_seconds(model, x)


def eval_throughput(data_dir: str, num_samples: int, examples: int) -> dict[str, float]:
    torch.manual_seed(0)
    model = vaelab_model("mlp").eval()
    test = load_dataset("binarized-mnist", "test", data_dir)
    index = np.random.default_rng(0).choice(len(test), size=examples, replace=False)
    x = torch.from_numpy(test.x[np.sort(index)]).float()
    seconds = median_seconds(lambda: model.log_likelihood(x, num_samples=num_samples), repeats=3, number=1)
    rows = examples * num_samples
    decoder_flops, decoder_seconds = decoder_forward_flops(model, 8192)
    achieved = decoder_flops / 8192 * rows / seconds
    return {"rows_per_s": rows / seconds, "achieved": achieved, "ceiling": decoder_flops / decoder_seconds}


def options_table(args: argparse.Namespace) -> None:
    """vaelab samples/s with each hardware option against its defaults (channels-last: conv nets only)."""
    batch_size = int(args.batch_sizes.split(",")[0])
    print("\n| network | batch | vaelab option | samples/s | x defaults |")
    print("|---|---|---|---|---|")
    for network in args.networks.split(","):
        base = None
        for name, options in OPTIONS.items():
            if name == "channels-last" and network != "conv":
                continue
            rate = run_worker("vaelab", network, batch_size, args, options)["samples_per_s"]
            base = base or rate
            print(f"| {network} | {batch_size} | {name} | {rate:,.0f} | {rate / base:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(HERE.parents[2] / "shared" / "data"))
    parser.add_argument("--examples", type=int, default=25_600, help="training examples per timed epoch")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-sizes", default="128,1024")
    parser.add_argument("--networks", default="mlp,conv")
    parser.add_argument("--eval-examples", type=int, default=200)
    parser.add_argument("--eval-samples", type=int, default=1000)
    parser.add_argument("--parts", default="trainers,options,eval", help="which tables to measure")
    args = parser.parse_args()
    parts = set(args.parts.split(","))

    started = time.time()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; binarized MNIST, "
        f"{args.examples} examples per timed epoch, median of {args.repeats}\n"
    )
    if "trainers" in parts:
        trainers_table(args)
    if "options" in parts:
        options_table(args)
    if "eval" in parts:
        eval_table(args)
    print(f"\ntotal {time.time() - started:.0f} s")


def trainers_table(args: argparse.Namespace) -> None:
    print("| network | batch | trainer | samples/s | x reference | x pythae | GFLOP/s | % of ceiling | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for network in args.networks.split(","):
        for batch_size in (int(b) for b in args.batch_sizes.split(",")):
            flops, ceiling = ceiling_flop_rate(network, batch_size)
            results = {t: run_worker(t, network, batch_size, args) for t in TRAINERS}
            for trainer, result in results.items():
                rate = result["samples_per_s"]
                gflops = flops * rate / batch_size / 1e9
                print(
                    f"| {network} | {batch_size} | {trainer} | {rate:,.0f} "
                    f"| {rate / results['reference']['samples_per_s']:.2f} "
                    f"| {rate / results['pythae']['samples_per_s']:.2f} | {gflops:.1f} "
                    f"| {100 * gflops * 1e9 / ceiling:.0f}% | {result['peak_rss_mib']:.0f} |",
                    flush=True,
                )
            print(f"| {network} | {batch_size} | ceiling (bare) | | | | {ceiling / 1e9:.1f} | 100% | |", flush=True)


def eval_table(args: argparse.Namespace) -> None:
    ev = eval_throughput(args.data_dir, args.eval_samples, args.eval_examples)
    print(
        f"\nIS evaluation (MLP, K = {args.eval_samples}, {args.eval_examples} examples): "
        f"{ev['rows_per_s']:,.0f} examples x samples per s; decoder at {ev['achieved'] / 1e9:.1f} GFLOP/s = "
        f"{100 * ev['achieved'] / ev['ceiling']:.0f}% of its bare forward ({ev['ceiling'] / 1e9:.1f} GFLOP/s)"
    )


if __name__ == "__main__":
    main()
