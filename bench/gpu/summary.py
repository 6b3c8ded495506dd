"""Helper of ``bench/gpu/run.sh``: the machine line, ``vaelab eval`` with the model on a chosen device, and
the one table of the script's runs.

    python bench/gpu/summary.py machine cuda
    python bench/gpu/summary.py eval OUT/classic --device cuda --split test --num-samples 5000 [--limit N]
    python bench/gpu/summary.py table OUT

``eval`` calls the ``vaelab eval`` command's own function (``vaelab.cli.evaluate.evaluate``) with the
likelihood metric, so the figures and ``RUN/eval-SPLIT.json`` are the command's; when the command has no
``--device`` option (it loads models on the CPU) the model it loads is moved to the device first.

``table`` reads, for each run named in ``OUT/times.tsv`` (run, phase, wall seconds, written by run.sh),
the run's ``config.yaml`` (device, precision, batch size), ``metrics.jsonl`` (epochs, steps and
``train_time_s``) and ``eval-test.json`` (test NLL); samples/s counts the training examples the optimiser
saw (``min(steps x batch, N)`` per epoch, N the training split's size) over the sum of ``train_time_s``.
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import os
import platform
from pathlib import Path
from typing import Any

COLUMNS = (
    "run",
    "device",
    "precision",
    "batch",
    "epochs",
    "samples/s",
    "whole train s",
    "test NLL (nats)",
    "eval s",
)


def machine(device: str) -> str:
    import torch

    cuda = torch.version.cuda or "none (a CPU build of torch)"
    if device.startswith("cuda"):
        name = torch.cuda.get_device_name(torch.device(device))
    else:
        name = f"CPU {platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"
    return f"machine: {name} | torch {torch.__version__} | CUDA {cuda}"


def evaluate(run_dir: Path, device: str, split: str, num_samples: int, limit: int | None) -> None:
    import vaelab.cli.evaluate as command
    from vaelab.cli.common import load_run

    options: dict[str, Any] = {"split": split, "metrics": "likelihood", "num_samples": num_samples, "limit": limit}
    if "device" in inspect.signature(command.evaluate).parameters:
        options["device"] = device
    else:
        command.load_run = lambda path, *args, **kwargs: load_run(path, device)  # type: ignore[assignment]
    command.evaluate(run_dir, **options)


def _times(out: Path) -> dict[str, dict[str, float]]:
    times: dict[str, dict[str, float]] = {}
    with (out / "times.tsv").open(encoding="utf-8") as file:
        for run, phase, seconds in csv.reader(file, delimiter="\t"):
            times.setdefault(run, {})[phase] = float(seconds)
    return times


def _training_size(config: Any) -> int:
    from vaelab.data.registry import load_dataset

    return len(load_dataset(config.data.name, "train", config.data.data_dir))


def _row(run_dir: Path, times: dict[str, float]) -> list[str]:
    from vaelab.config.files import read_run_config

    config = read_run_config(run_dir)
    batch, n = config.train.batch_size, _training_size(config)
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    epochs = [json.loads(line) for line in lines if line.strip()]
    samples, previous_step = 0, 0
    for epoch in epochs:
        samples += min((epoch["step"] - previous_step) * batch, n)
        previous_step = epoch["step"]
    train_s = sum(epoch["train_time_s"] for epoch in epochs)
    full_epoch_steps = -(-n // batch)
    epochs_cell = str(len(epochs))
    if previous_step < len(epochs) * full_epoch_steps:  # stopped by train.max_steps
        epochs_cell += f" ({previous_step} steps)"
    eval_path = run_dir / "eval-test.json"
    nll = "-"
    if eval_path.is_file():
        figures = json.loads(eval_path.read_text(encoding="utf-8"))
        nll = f"{figures['nll']:.2f} ± {figures['nll_stderr']:.2f}"
    return [
        run_dir.name,
        config.train.device,
        config.train.precision,
        str(batch),
        epochs_cell,
        f"{samples / train_s:,.0f}" if train_s > 0 else "-",
        f"{times['train']:.1f}" if "train" in times else "-",
        nll,
        f"{times['eval']:.1f}" if "eval" in times else "-",
    ]


def table(out: Path) -> str:
    """The markdown table of the runs in ``out``, with a line on how the test NLL was estimated."""
    rows = [_row(out / run, phases) for run, phases in _times(out).items()]
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    notes = set()
    for run in _times(out):
        path = out / run / "eval-test.json"
        if path.is_file():
            figures = json.loads(path.read_text(encoding="utf-8"))
            notes.add(f"K={figures['num_samples']} importance samples on {figures['num_examples']} test examples")
    lines.append("")
    lines.append(
        "test NLL: mean ± standard error, "
        + "; ".join(sorted(notes) or ["not evaluated"])
        + "; samples/s: training examples seen / sum of train_time_s (metrics.jsonl); "
        + "whole train s and eval s: wall time of the command, start-up included."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    machine_parser = commands.add_parser("machine", help="one line: device name, torch and CUDA versions")
    machine_parser.add_argument("device")
    eval_parser = commands.add_parser("eval", help="vaelab eval --metrics likelihood with the model on --device")
    eval_parser.add_argument("run_dir", type=Path)
    eval_parser.add_argument("--device", default="cpu")
    eval_parser.add_argument("--split", default="test")
    eval_parser.add_argument("--num-samples", type=int, default=1000)
    eval_parser.add_argument("--limit", type=int, default=None)
    table_parser = commands.add_parser("table", help="the markdown table of run.sh's runs in OUT")
    table_parser.add_argument("out", type=Path)
    args = parser.parse_args()
    if args.command == "machine":
        print(machine(args.device))
    elif args.command == "eval":
        evaluate(args.run_dir, args.device, args.split, args.num_samples, args.limit)
    else:
        text = table(args.out)
        (args.out / "table.md").write_text(text + "\n", encoding="utf-8")
        print(text)


if __name__ == "__main__":
    main()
