"""Where one vaelab training step spends its CPU time: matrix multiplications, the optimizer, the rest.

Profiles ``--steps`` steps of the classic 784-400-20 model (ELBO, Adam with the trainer's default
implementation) with torch.profiler and groups the operators' self CPU time, so the fraction of the GEMM
ceiling that a step can reach at all is visible: a step can never run faster than its GEMMs plus the
optimizer's pass over the parameters. The cap is stated twice: with the GEMMs as fast as inside the
profiled steps, and with them as fast as bare (``ceiling.py``) next to Adam's step timed alone, with the
time that 80% of the ceiling would leave for the step's other operator calls.

Then the same bound for importance-sampled evaluation: per chunk of the estimator, the decoder's forward
pass against the one elementwise pass a Bernoulli log-likelihood cannot avoid (softplus over every logit,
summed), each timed alone.

    .venv/bin/python bench/speed/breakdown.py --batch-size 128
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch
from torch.profiler import profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ceiling import bare_matmul_rate, median_seconds, step_flops
from torch.nn import functional as F
from worker import vaelab_model

from vaelab.data.batch import Batch
from vaelab.models import VAE
from vaelab.objectives import ELBO
from vaelab.training.hardware import optimizer_implementation

GEMMS = {"aten::mm", "aten::addmm", "aten::bmm"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()

    torch.manual_seed(0)
    model = vaelab_model("mlp")
    implementation = optimizer_implementation("auto", torch.device("cpu"))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, **implementation)
    x = (torch.rand(args.batch_size, 1, 28, 28) > 0.5).float()
    objective = ELBO()
    batch = Batch(x)

    def step() -> None:
        out = objective(model, batch)
        optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        optimizer.step()

    for _ in range(10):
        step()
    with profile() as prof:
        for _ in range(args.steps):
            step()
    groups = {"matrix multiplications": 0.0, "optimizer (Adam)": 0.0, "everything else": 0.0}
    other_calls = 0
    for event in prof.key_averages():
        if event.key in GEMMS:
            groups["matrix multiplications"] += event.self_cpu_time_total
        elif "adam" in event.key.lower():
            groups["optimizer (Adam)"] += event.self_cpu_time_total
        else:
            groups["everything else"] += event.self_cpu_time_total
            other_calls += event.count
    total = sum(groups.values())
    print(f"classic MLP, batch {args.batch_size}, Adam {next(iter(implementation))}, {args.steps} profiled steps")
    print("| part | ms per step | share |\n|---|---|---|")
    for name, micros in groups.items():
        print(f"| {name} | {micros / args.steps / 1e3:.2f} | {100 * micros / total:.0f}% |")
    print(f"| total (self CPU time) | {total / args.steps / 1e3:.2f} | 100% |")
    gemm, adam = groups["matrix multiplications"], groups["optimizer (Adam)"]
    print(
        f"\nGEMMs are {100 * gemm / total:.0f}% of the step; even with zero cost for everything else, the "
        f"optimizer's pass alone caps a step at {100 * gemm / (gemm + adam):.0f}% of the GEMM ceiling"
    )
    ideal_gemm_s = step_flops(model, x) / bare_matmul_rate(model, args.batch_size)
    out = objective(model, batch)
    out.loss.backward()
    adam_s = median_seconds(optimizer.step)
    cap = ideal_gemm_s / (ideal_gemm_s + adam_s)
    spare_s = ideal_gemm_s / 0.8 - ideal_gemm_s - adam_s
    spare = f"{spare_s * 1e3:.2f} ms" if spare_s > 0 else "no time"
    print(
        f"with the step's GEMMs at the bare rate ({ideal_gemm_s * 1e3:.2f} ms) and Adam's step timed alone "
        f"({adam_s * 1e3:.2f} ms): at most {100 * cap:.0f}% of the GEMM ceiling. 80% leaves {spare} "
        f"for the {other_calls / args.steps:.0f} other operator calls of a step, which took "
        f"{groups['everything else'] / args.steps / 1e3:.2f} ms in the profile"
    )
    evaluation_bound(model.eval())


def evaluation_bound(model: VAE, rounds: int = 9) -> None:
    """Decoder forward against softplus + sum over one chunk of the IS estimator, alternating rounds."""
    rows = model.rows_per_chunk()
    z = torch.randn(rows, model.latent_dim)
    with torch.inference_mode():
        logits = model.decoder(z).reshape(rows, -1)
        decoder_s, softplus_s = [], []
        for _ in range(rounds):
            decoder_s.append(median_seconds(lambda: model.decoder(z), repeats=3))
            softplus_s.append(median_seconds(lambda: F.softplus(logits).sum(-1), repeats=3))
    decoder, softplus = statistics.median(decoder_s), statistics.median(softplus_s)
    print(
        f"\nIS evaluation, one chunk of {rows} rows: decoder forward {decoder * 1e3:.2f} ms, softplus + sum over "
        f"its logits {softplus * 1e3:.2f} ms (medians of {rounds} rounds): with everything else free, the "
        f"estimate reaches at most {100 * decoder / (decoder + softplus):.0f}% of the bare decoder"
    )


if __name__ == "__main__":
    main()
