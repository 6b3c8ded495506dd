"""Map a per-molecule function over many SMILES in this process or in ``n_jobs`` worker processes.

Most RDKit calls hold the GIL, so parallel work needs processes. Workers are *spawned* (fresh
interpreters that import this package), never forked from a process that may hold torch's thread pool,
and receive SMILES strings, which are cheap to send, rather than molecules. Results come back in order.
As with any spawned worker, a script that asks for ``n_jobs > 1`` must start its work under
``if __name__ == "__main__":`` (the workers import the script's module).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from typing import TypeVar

from vaelab.errors import UserError

Result = TypeVar("Result")

CHUNK = 256
"""SMILES sent to a worker at a time: large enough that sending costs little next to the RDKit work."""


def check_jobs(n_jobs: int) -> None:
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise UserError(f"n_jobs must be a whole number of processes >= 1, got {n_jobs!r}")


def map_smiles(function: Callable[[str], Result], smiles: Sequence[str], n_jobs: int = 1) -> list[Result]:
    """``[function(s) for s in smiles]``, computed by ``n_jobs`` processes when ``n_jobs > 1``.

    ``function`` must be a module-level function, so that spawned workers can import it.
    """
    check_jobs(n_jobs)
    if n_jobs == 1 or len(smiles) <= CHUNK:
        return [function(s) for s in smiles]
    with multiprocessing.get_context("spawn").Pool(n_jobs) as pool:
        return pool.map(function, smiles, chunksize=CHUNK)
