"""Where the seconds of one whole `vaelab train` of the classic model go: the command line's import, the
training code's import, reading the data, the training loop (with its steps, validation passes and set-up
from `metrics.jsonl`), the pictures and the report, and the rest (saving, exit).

It runs the command in this process with timers wrapped around those phases:

    .venv/bin/python bench/classic_vae/phases.py --data-dir ../shared/data --out /tmp/phases
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()
import vaelab.cli.main as cli  # noqa: E402  (timed: the command line's own import)

CLI_IMPORTED = time.perf_counter()
import vaelab.config.run as run  # noqa: E402  (timed: what `vaelab train` imports when it runs)
import vaelab.report.build as report  # noqa: E402
import vaelab.report.pictures as pictures  # noqa: E402

RUN_IMPORTED = time.perf_counter()
SECONDS: dict[str, float] = {}


def timed(module: Any, name: str) -> None:
    """Replace ``module.name`` by the same function adding its seconds to ``SECONDS[name]``."""
    function: Callable[..., Any] = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            SECONDS[name] = SECONDS.get(name, 0.0) + time.perf_counter() - started

    setattr(module, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    for module, name in ((run, "load_split"), (run, "fit"), (pictures, "write_pictures"), (report, "write_report")):
        timed(module, name)
    config = str(Path(__file__).resolve().parents[2] / "configs" / "mnist-classic.yaml")
    sys.argv = ["vaelab", "train", "--config", config, "--data-dir", args.data_dir, "--epochs", str(args.epochs)]
    sys.argv += ["--out", str(args.out), "--no-progress"]
    try:
        cli.main()
    except SystemExit as exit_:
        if exit_.code:
            raise
    total = time.perf_counter() - STARTED
    records = [json.loads(line) for line in (args.out / "metrics.jsonl").read_text().splitlines()]
    steps = sum(r["train_time_s"] for r in records)
    epochs = sum(r["time_s"] for r in records)
    rows = {
        "import the command line": CLI_IMPORTED - STARTED,
        "import torch and the training code": RUN_IMPORTED - CLI_IMPORTED,
        "read the data": SECONDS["load_split"],
        "training steps": steps,
        "validation passes": epochs - steps,
        "loop set-up (optimizer: its first use imports torch._dynamo)": SECONDS["fit"] - epochs,
        "pictures (images/)": SECONDS["write_pictures"],
        "report.html": SECONDS["write_report"],
    }
    rows["the rest (config, saving, exit of the command)"] = total - sum(rows.values())
    print("| phase | seconds |\n|---|---|\n" + "".join(f"| {k} | {v:.2f} |\n" for k, v in rows.items()), end="")
    print(f"| **whole process** | **{total:.2f}** |")


if __name__ == "__main__":
    main()
