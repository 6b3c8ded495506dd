"""Shared test set-up: one torch thread (tiny models are up to 10x slower with thread contention on
2 cores) and the location of ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    candidates = [os.environ.get("VAELAB_DATA_DIR"), REPO.parent / "shared" / "data"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


@pytest.fixture
def data_dir() -> Path:
    found = shared_data_dir()
    if found is None:
        pytest.skip("needs ../shared/data (or VAELAB_DATA_DIR): the shared real datasets are absent")
    return found
