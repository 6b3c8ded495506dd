"""Training from an on-disk array larger than the memory a run may use, with bounded private memory.

Writes a bool .npy (one byte per pixel; vaelab reads bool arrays as binary data) of at least
``--gigabytes`` GB (binarized-MNIST rows tiled), then trains on it with
`vaelab train` from the memory-mapped file through the DataLoader path (worker processes read batches
from disk) for ``--max-steps`` steps, sampling the private (anonymous) resident memory of the training
process and its workers every 0.2 s. Page-cache pages of the mapped file are shared and clean, so they
are not private memory.

    .venv/bin/python bench/large_data/run.py --data-dir ../shared/data --gigabytes 8
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def write_big_array(path: Path, gigabytes: float, data_dir: str) -> tuple[int, ...]:
    source = np.load(Path(data_dir) / "binarized-mnist" / "binarized_mnist_uint8.npz")["train"]  # (50000, 784)
    rows = int(np.ceil(gigabytes * 1e9 / source.shape[1]))
    if path.exists():
        existing = np.load(path, mmap_mode="r")
        if existing.shape == (rows, source.shape[1]) and existing.dtype == np.bool_:
            return (rows, source.shape[1])
    array = np.lib.format.open_memmap(path, mode="w+", dtype=np.bool_, shape=(rows, source.shape[1]))
    for start in range(0, rows, len(source)):
        stop = min(rows, start + len(source))
        array[start:stop] = source[: stop - start] > 0
    array.flush()
    del array
    return (rows, source.shape[1])


def _kib_field(path: str, field: str) -> int:
    """The KiB figure of ``field`` in a /proc file (0 once the process has gone)."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def private_kib(pid: int) -> int:
    """RssAnon of one process in KiB."""
    return _kib_field(f"/proc/{pid}/status", "RssAnon")


def proportional_anon_kib(pid: int) -> int:
    """Pss_Anon of one process in KiB: its anonymous pages, each shared page divided among its sharers (so
    pages a forked worker still shares with its parent are not counted twice)."""
    return _kib_field(f"/proc/{pid}/smaps_rollup", "Pss_Anon")


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(HERE.parents[2] / "shared" / "data"))
    parser.add_argument("--gigabytes", type=float, default=8.0)
    parser.add_argument("--max-steps", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    out = HERE / "out"
    out.mkdir(exist_ok=True)
    path = out / "big.npy"
    started = time.perf_counter()
    shape = write_big_array(path, args.gigabytes, args.data_dir)
    print(f"array {shape} bool = {path.stat().st_size / 1e9:.2f} GB on disk ({time.perf_counter() - started:.0f} s)")

    run_dir = out / f"run-{int(time.time())}"
    command = [
        sys.executable,
        "-m",
        "vaelab",
        "train",
        "--data",
        str(path),
        "--likelihood",
        "bernoulli",
        "--set",
        "train.in_memory=false",
        "--set",
        f"train.num_workers={args.workers}",
        "--set",
        f"train.max_steps={args.max_steps}",
        "--epochs",
        "1",
        "--no-progress",
        "--no-report",
        "--out",
        str(run_dir),
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    peak_main, peak_total, peak_proportional = 0, 0, 0
    while process.poll() is None:
        workers = children(process.pid)
        main_kib = private_kib(process.pid)
        total_kib = main_kib + sum(private_kib(c) for c in workers)
        proportional_kib = sum(proportional_anon_kib(p) for p in [process.pid, *workers])
        peak_main, peak_total = max(peak_main, main_kib), max(peak_total, total_kib)
        peak_proportional = max(peak_proportional, proportional_kib)
        time.sleep(0.2)
    stderr = process.stderr.read() if process.stderr else ""
    if process.returncode != 0:
        raise SystemExit(f"training failed:\n{stderr}")
    elapsed = time.perf_counter() - started
    print(
        f"trained {args.max_steps} steps of 128 from the memory-mapped file with {args.workers} workers "
        f"in {elapsed:.0f} s (including the data checks and the validation pass)"
    )
    print(
        f"peak private (anonymous) memory: training process {peak_main / 1024:.0f} MiB (RssAnon); with its "
        f"workers {peak_total / 1024:.0f} MiB summed RssAnon (counts pages shared with the parent once per "
        f"process), {peak_proportional / 1024:.0f} MiB summed Pss_Anon (shared pages divided among sharers)"
    )


if __name__ == "__main__":
    main()
