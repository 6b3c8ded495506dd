"""Write binarized MNIST with the validation images moved into the training split: ``train`` = the 50,000
training + 10,000 validation images, ``test`` = the untouched 10,000 test images, no ``valid`` key (so
``vaelab train`` trains without validation and keeps the last epoch). The arrays are stored as bool, which
vaelab reads as binary data (uint8 would read as 8-bit grey levels).

    .venv/bin/python bench/mnist_variants/train_plus_valid.py ../shared/data OUT.npz
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from vaelab.atomic import atomic_write
from vaelab.data.registry import load_dataset


def main() -> None:
    data_dir, out = sys.argv[1], Path(sys.argv[2])
    train, valid, test = (load_dataset("binarized-mnist", split, data_dir).x for split in ("train", "valid", "test"))

    def write(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            np.savez(handle, train=np.concatenate([train, valid]).astype(bool), test=test.astype(bool))

    atomic_write(out, write)
    print(f"{out}: train {len(train) + len(valid)}, test {len(test)}")


if __name__ == "__main__":
    main()
