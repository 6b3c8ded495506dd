"""The machine's ceiling for a model: its training step's floating-point work timed bare.

``step_flops`` counts the FLOPs of one forward + backward pass of a vaelab training step with torch's
FlopCounterMode (matrix multiplications and convolutions). ``bare_matmul_rate`` and
``bare_network_seconds`` time exactly those matrix multiplications (for MLPs) or the networks' forward +
backward alone (for conv nets), with no distributions, optimizer, data or Python loop around them: what the
hardware achieves on this work.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from vaelab.data.batch import Batch
from vaelab.models import VAE
from vaelab.objectives import ELBO


def median_seconds(fn: Callable[[], object], repeats: int = 7, number: int = 20) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - started) / number)
    return statistics.median(times)


def step_flops(model: VAE, x: torch.Tensor) -> int:
    counter = FlopCounterMode(display=False)
    with counter:
        ELBO()(model, Batch(x)).loss.backward()
    model.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())


def bare_matmul_rate(model: VAE, batch_size: int) -> float:
    """FLOP/s of the forward and backward GEMMs of every Linear layer (x W^T; dY W; dY^T x: 2 B in out
    FLOPs each) at this batch size, timed bare."""
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    flops = sum(6 * batch_size * layer.weight.numel() for layer in layers)
    operands = []
    for layer in layers:
        out_f, in_f = layer.weight.shape
        operands.append((torch.randn(batch_size, in_f), layer.weight.detach().clone(), torch.randn(batch_size, out_f)))

    def gemms() -> None:
        for x, w, dy in operands:
            torch.mm(x, w.t())
            torch.mm(dy, w)
            torch.mm(dy.t(), x)

    return flops / median_seconds(gemms)


def bare_network_seconds(model: VAE, x: torch.Tensor) -> float:
    """Encoder, posterior linear map and decoder forward + backward, nothing else."""
    encoder, head, decoder = model.encoder, model.posterior.linear, model.decoder
    latent = model.latent_dim

    def step() -> None:
        h = head(encoder(x))
        out = decoder(h[:, :latent])
        out.sum().backward()

    return median_seconds(step, number=5)


def decoder_forward_flops(model: VAE, rows: int) -> tuple[int, float]:
    """FLOPs and bare seconds of the decoder's forward pass on ``rows`` codes (the cost of IS evaluation)."""
    z = torch.randn(rows, model.latent_dim)
    counter = FlopCounterMode(display=False)
    with torch.inference_mode():
        with counter:
            model.decoder(z)
        seconds = median_seconds(lambda: model.decoder(z), number=5)
    return int(counter.get_total_flops()), seconds
