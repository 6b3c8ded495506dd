"""The PyTorch VAE example (pytorch/examples, vae/main.py) as a whole program, on binarized MNIST.

As the example: parse the arguments, seed, load the train and test sets, then each epoch train
(``loss.item()`` every step, the average loss printed), run the test pass (the test loss printed, the first
test batch's inputs and reconstructions saved as an image) and save 64 samples from the prior as an image.
The model and the training loop are the example's (``reference.py``). What differs: the data is vaelab's
binarized MNIST (the 50,000 train rows, the 10,000 test rows) instead of torchvision's grey MNIST, the
images are written by vaelab's PNG helper (one pixel per pixel, 8 a row) instead of torchvision's
``save_image``, the per-10-batch progress lines are left out, and for the benchmark it writes its training
seconds (``timing.json``) and the trained weights (``weights.npz``, see ``reference.save_weights``) to --out.

    .venv/bin/python bench/classic_vae/example_script.py --data-dir ../shared/data --out /tmp/example
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from reference import BATCH_SIZE, ExampleVAE, loss_function, save_weights, train_reference
from torch.utils.data import DataLoader, TensorDataset

from vaelab.data.registry import load_dataset
from vaelab.report.images import save_png


def load_split(split: str, data_dir: str | None) -> torch.Tensor:
    """One binarized-MNIST split as float (N, 1, 28, 28) of 0/1, the layout of the example's tensors."""
    return torch.from_numpy(np.asarray(load_dataset("binarized-mnist", split, data_dir).x)).float()


def test(model: ExampleVAE, loader: DataLoader, epoch: int, out: Path) -> None:
    """The example's ``test(epoch)``."""
    model.eval()
    test_loss, count = 0.0, 0
    with torch.no_grad():
        for i, (data,) in enumerate(loader):
            recon_batch, mu, logvar = model(data)
            test_loss += loss_function(recon_batch, data, mu, logvar).item()
            count += len(data)
            if i == 0:
                n = min(data.size(0), 8)
                comparison = torch.cat([data[:n], recon_batch.view(-1, 1, 28, 28)[:n]])
                save_png(out / f"reconstruction_{epoch}.png", comparison.numpy(), ncols=n, scale=1)
    print(f"====> Test set loss: {test_loss / count:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="folder holding binarized-mnist/ (default: $VAELAB_DATA_DIR)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    x_train = load_split("train", args.data_dir)
    test_loader = DataLoader(TensorDataset(load_split("test", args.data_dir)), batch_size=BATCH_SIZE, shuffle=False)

    def after_epoch(model: ExampleVAE, epoch: int, train_loss: float) -> None:
        print(f"====> Epoch: {epoch} Average loss: {train_loss / len(x_train):.4f}")
        test(model, test_loader, epoch, args.out)
        with torch.no_grad():
            sample = model.decode(torch.randn(64, 20))
        save_png(args.out / f"sample_{epoch}.png", sample.view(64, 1, 28, 28).numpy(), ncols=8, scale=1)

    model, epoch_seconds = train_reference(x_train, args.epochs, args.seed, after_epoch)
    (args.out / "timing.json").write_text(json.dumps({"train_s": sum(epoch_seconds), "epoch_s": epoch_seconds}))
    save_weights(model, args.out / "weights.npz")


if __name__ == "__main__":
    main()
