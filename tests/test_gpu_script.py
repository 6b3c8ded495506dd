"""bench/gpu/run.sh in its CPU fallback: it says so, runs both trainings and evaluations on the small budget
and prints the table with a finite test NLL for each run (most of its time is the start-up of its six Python
processes)."""

from __future__ import annotations

import math
import os
import re
import subprocess
from pathlib import Path

import pytest
import torch

from conftest import REPO

pytestmark = pytest.mark.shared_data


def test_the_gpu_script_falls_back_to_the_cpu_and_prints_the_table(data_dir: Path, tmp_path: Path) -> None:
    if not (data_dir / "binarized-mnist").is_dir():
        pytest.skip(f"needs {data_dir / 'binarized-mnist'}: the shared binarized MNIST is absent")
    env = {
        **os.environ,
        "OUT": str(tmp_path / "out"),
        "DATA_DIR": str(data_dir),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MAX_STEPS": "30",  # the fallback's small budget cut further: the steps are what is tested, not the NLL
        "K": "20",
        "EVAL_LIMIT": "300",
    }
    if torch.cuda.is_available():  # the fallback is what is tested here; on a GPU machine ask for it
        env["DEVICE"] = "cpu"
    done = subprocess.run(
        ["bash", str(REPO / "bench" / "gpu" / "run.sh")], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("fallback: ") for line in lines), done.stdout
    if "DEVICE" not in env:
        assert any(line.startswith("fallback: no CUDA") for line in lines), done.stdout
    assert sum(line.startswith("machine: ") for line in lines) == 1, done.stdout

    header = "| run | device | precision | batch | epochs | samples/s | whole train s | test NLL (nats) | eval s |"
    assert header in lines, done.stdout
    rows = [line.split("|")[1:-1] for line in lines[lines.index(header) + 2 :] if line.startswith("| ")]
    assert [cells[0].strip() for cells in rows] == ["classic", "large-batch"], done.stdout
    for cells in rows:
        assert cells[1].strip() == "cpu" and cells[2].strip() == "fp32", cells
        match = re.match(r"\s*(-?[\d.]+) ± ([\d.]+)", cells[7])
        assert match is not None, cells
        nll = float(match.group(1))
        assert math.isfinite(nll) and 50 < nll < 600, cells  # nats per binarized MNIST image, after little training
        assert float(cells[5].replace(",", "")) > 0, cells
    assert (tmp_path / "out" / "table.md").read_text(encoding="utf-8").startswith(header)
