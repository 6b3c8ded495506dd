"""Where one vaelab training step spends its CPU time: matrix multiplications, the optimizer, the rest.

Profiles ``--steps`` steps of the classic 784-400-20 model (ELBO, Adam with the trainer's default
implementation) with torch.profiler and groups the operators' self CPU time, so the fraction of the GEMM
ceiling that a step can reach at all is visible: a step can never run faster than its GEMMs plus the
optimizer's pass over the parameters.

    .venv/bin/python bench/speed/breakdown.py --batch-size 128
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch.profiler import profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from worker import vaelab_model

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

    def step() -> None:
        out = objective(model, x)
        optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        optimizer.step()

    for _ in range(10):
        step()
    with profile() as prof:
        for _ in range(args.steps):
            step()
    groups = {"matrix multiplications": 0.0, "optimizer (Adam)": 0.0, "everything else": 0.0}
    for event in prof.key_averages():
        if event.key in GEMMS:
            groups["matrix multiplications"] += event.self_cpu_time_total
        elif "adam" in event.key.lower():
            groups["optimizer (Adam)"] += event.self_cpu_time_total
        else:
            groups["everything else"] += event.self_cpu_time_total
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


if __name__ == "__main__":
    main()
