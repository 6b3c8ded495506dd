"""Training speed of vaelab's SMILES VAE against the same architecture in a plain PyTorch loop, in one run.

Both train one epoch over the same MOSES molecules (SMILES tokens, ``--molecules`` of them) with the same
networks and sizes (``vaelab --network gru``: a bidirectional GRU encoder, a GRU decoder fed z at every step;
the parameter counts are printed and must agree), Adam at 1e-3, batches of 256, one thread count.

- **plain**: the loop tutorials write: a DataLoader over lists of token ids whose ``collate_fn`` pads each batch
  to its longest sequence, ``pack_padded_sequence`` into the bidirectional encoder, summed cross-entropy with
  ``ignore_index`` for padding plus the closed-form KL, and ``loss.item()`` read every step.
- **vaelab**: ``vaelab.training.fit`` on the ``gru`` model with its defaults (batches cut at their longest row,
  rows of similar length batched together: ``train.length_buckets``), and again with
  ``train.length_buckets=false``.

The figure is molecules per second over the timed steps: one epoch, or with ``--steps N`` each trainer's first
N steps of its epoch (so the data can be large enough for length buckets of full size, 64 batches, as on all of
MOSES, while the timing stays short); the variants alternate within each round and the table gives medians over
rounds and the ratio to plain.

    .venv/bin/python bench/molecules/speed.py --data-dir ../shared/data --molecules 65536 --steps 30 --rounds 3
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence
from torch.utils.data import DataLoader

from vaelab.config.build import build_model, model_spec
from vaelab.config.schema import ModelConfig
from vaelab.data.dataset import ArrayDataset
from vaelab.data.registry import load_dataset
from vaelab.data.sequences import SequenceOptions
from vaelab.data.vocabulary import BOS, PAD, sequence_lengths
from vaelab.objectives import ELBO
from vaelab.training import TrainSettings, fit

LATENT, EMBEDDING, ENCODER_HIDDEN, DECODER_HIDDEN, BATCH = 128, 64, 256, 512, 256


class PlainSequenceVAE(nn.Module):
    """Bowman et al. 2016's VAE as a tutorial writes it, with vaelab's ``gru`` sizes."""

    def __init__(self, vocab_size: int) -> None:
        super().__init__()
        self.encoder_embedding = nn.Embedding(vocab_size, EMBEDDING, padding_idx=PAD)
        self.encoder = nn.GRU(EMBEDDING, ENCODER_HIDDEN, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * ENCODER_HIDDEN, 2 * LATENT)
        self.decoder_embedding = nn.Embedding(vocab_size, EMBEDDING, padding_idx=PAD)
        self.initial = nn.Linear(LATENT, DECODER_HIDDEN)
        self.decoder = nn.GRU(EMBEDDING + LATENT, DECODER_HIDDEN, batch_first=True)
        self.logits = nn.Linear(DECODER_HIDDEN, vocab_size)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The negative ELBO per sequence, averaged over the batch."""
        packed = pack_padded_sequence(self.encoder_embedding(x), lengths, batch_first=True, enforce_sorted=False)
        _, final = self.encoder(packed)
        mu, logvar = self.head(torch.cat([final[0], final[1]], dim=-1)).chunk(2, dim=-1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        start = torch.full((x.shape[0], 1), BOS, dtype=x.dtype)
        inputs = self.decoder_embedding(torch.cat([start, x[:, :-1]], dim=1))
        inputs = torch.cat([inputs, z.unsqueeze(1).expand(-1, x.shape[1], -1)], dim=-1)
        out, _ = self.decoder(inputs, torch.tanh(self.initial(z)).unsqueeze(0))
        logits = self.logits(out)
        reconstruction = F.cross_entropy(logits.flatten(0, 1), x.flatten(), ignore_index=PAD, reduction="sum")
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return (reconstruction + kl) / x.shape[0]


def pad_batch(rows: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    return pad_sequence(rows, batch_first=True, padding_value=PAD), torch.tensor([len(r) for r in rows])


def train_plain(data: ArrayDataset, steps: int) -> float:
    """``steps`` steps of the tutorial loop; their seconds."""
    vocabulary = data.vocabulary
    assert vocabulary is not None
    ids = torch.from_numpy(np.asarray(data.x)).long()
    rows = [row[: int(length)] for row, length in zip(ids, sequence_lengths(ids), strict=True)]
    model = PlainSequenceVAE(len(vocabulary))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(rows, batch_size=BATCH, shuffle=True, collate_fn=pad_batch)  # type: ignore[arg-type]
    started = time.perf_counter()
    for x, lengths in itertools.islice(loader, steps):
        optimizer.zero_grad()
        loss = model(x, lengths)
        loss.backward()
        loss.item()
        optimizer.step()
    return time.perf_counter() - started


def vaelab_model(data: ArrayDataset) -> nn.Module:
    config = ModelConfig(network="gru", latent_dim=LATENT)  # type: ignore[arg-type]
    return build_model(model_spec(config, data))


def train_vaelab(data: ArrayDataset, steps: int, buckets: bool) -> float:
    """``steps`` steps of ``vaelab.training.fit``; their training seconds."""
    settings = TrainSettings(
        epochs=1, max_steps=steps, batch_size=BATCH, lr=1e-3, progress=False, length_buckets=buckets
    )
    result = fit(vaelab_model(data), ELBO(), data, None, settings)  # type: ignore[arg-type]
    return float(result.history[-1]["train_time_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--molecules", type=int, default=5120)
    parser.add_argument("--steps", type=int, default=None, help="steps timed per trainer (default: one epoch)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    options = SequenceOptions(tokens="smiles", limit=args.molecules)
    data = load_dataset("moses", "train", args.data_dir, sequences=options)
    assert data.vocabulary is not None
    tokens = int(sequence_lengths(torch.from_numpy(np.asarray(data.x))).sum())
    plain_parameters = sum(p.numel() for p in PlainSequenceVAE(len(data.vocabulary)).parameters())
    vaelab_parameters = sum(p.numel() for p in vaelab_model(data).parameters())
    assert plain_parameters == vaelab_parameters, (plain_parameters, vaelab_parameters)
    steps = min(args.steps or len(data), -(-len(data) // BATCH))
    molecules = min(len(data), steps * BATCH)
    variants: dict[str, Callable[[], float]] = {
        "plain PyTorch loop": lambda: train_plain(data, steps),
        "vaelab (default)": lambda: train_vaelab(data, steps, buckets=True),
        "vaelab, length_buckets=false": lambda: train_vaelab(data, steps, buckets=False),
    }
    for train in variants.values():  # warm-up: first imports, allocator, kernels
        train()
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, train in variants.items():
            torch.manual_seed(0)
            seconds[name].append(train())
    print(f"{len(data):,} MOSES SMILES ({tokens:,} tokens), {steps} steps of {BATCH} timed, "
          f"{plain_parameters:,} parameters each, {torch.get_num_threads()} threads, "
          f"medians of {args.rounds} rounds\n")  # fmt: skip
    print("| trainer | molecules/s | ratio to plain |")
    print("|---|---|---|")
    plain = molecules / statistics.median(seconds["plain PyTorch loop"])
    for name, times in seconds.items():
        rate = molecules / statistics.median(times)
        print(f"| {name} | {rate:,.0f} | {rate / plain:.2f}x |")


if __name__ == "__main__":
    main()
