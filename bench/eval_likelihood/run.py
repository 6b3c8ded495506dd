"""Benchmark of vaelab's evaluation figures (GitHub issue 3, part 1); writes ``results.md`` beside it.

    .venv/bin/python bench/eval_likelihood/run.py --data-dir /work/shared/data

Models are trained once into ``--work-dir`` (default ``bench/eval_likelihood/runs``, gitignored) and
reused by later runs of the script:

- ``classic``: ``configs/mnist-classic.yaml`` (784-400-20 MLP, Bernoulli, Adam 1e-3, batch 128, 10 epochs
  on binarized MNIST); ``classic-1epoch`` (the same for 1 epoch); ``classic-20epochs`` (the classic run
  resumed to 20 epochs); ``beta50`` (the classic config with beta = 50, ``--beta-epochs`` epochs);
- ``grey-gaussian``: a Gaussian-likelihood VAE (20 epochs) on grey-level MNIST test images split
  8000/1000/1000.

Measured: (1) the importance-sampled NLL for K = 1 ... 5000 on a seeded random test subset, with -ELBO;
(2) ``vaelab eval`` of the full test set at K = 5000 in a child process: wall time and peak resident
memory (``os.wait4`` rusage of that child); (3) active units with beta = 1 and beta = 50; (4) the
Fréchet distance of held-out real data, the 1-epoch and the 20-epoch model; (5) ``vaelab eval --all``
of the grey-level Gaussian run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

import vaelab
from vaelab.data.dataset import to_model_space
from vaelab.data.registry import load_dataset
from vaelab.evaluation.likelihood import likelihood_per_example
from vaelab.evaluation.reference_classifier import reference_classifier
from vaelab.evaluation.sample_quality import frechet_distance, precision_recall

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CONFIG = REPO / "configs" / "mnist-classic.yaml"
VAELAB = [sys.executable, "-m", "vaelab"]
K_VALUES = (1, 2, 5, 10, 50, 100, 500, 1000, 5000)


def run_vaelab(*args: str | Path) -> dict[str, Any]:
    """``vaelab ARGS --json`` in a child process; its JSON output."""
    done = subprocess.run([*VAELAB, *map(str, args), "--json"], capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"vaelab {' '.join(map(str, args))} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def epochs_done(run_dir: Path) -> int:
    metrics = run_dir / "metrics.jsonl"
    return len(metrics.read_text().splitlines()) if metrics.is_file() else 0


def train(run_dir: Path, epochs: int, *args: str | Path) -> None:
    """Train (or resume) ``run_dir`` until it holds ``epochs`` epochs and its final weights."""
    if epochs_done(run_dir) >= epochs and (run_dir / "model.safetensors").is_file():
        return
    resume = ["--resume"] if run_dir.exists() else []
    print(f"training {run_dir.name} to {epochs} epochs", file=sys.stderr, flush=True)
    run_vaelab("train", *args, "--epochs", str(epochs), "--out", run_dir, "--no-progress", "--no-report", *resume)


def grey_mnist(data_dir: Path, path: Path) -> Path:
    """The MNIST test images (grey levels, labelled) split 8000/1000/1000 by a seeded permutation."""
    if not path.is_file():
        mnist = load_dataset("mnist", "test", data_dir)
        order = np.random.default_rng(0).permutation(len(mnist))
        parts = {"train": order[:8000], "valid": order[8000:9000], "test": order[9000:]}
        arrays = {split: mnist.x[index] for split, index in parts.items()}
        assert mnist.y is not None
        labels = {f"y_{split}": mnist.y[index] for split, index in parts.items()}
        np.savez(path, **arrays, **labels)
    return path


def k_sweep(run_dir: Path, data_dir: Path, subset: int) -> list[dict[str, float]]:
    model = vaelab.load(run_dir)
    test = load_dataset("binarized-mnist", "test", data_dir)
    data = test.subset(np.sort(np.random.default_rng(0).choice(len(test), size=subset, replace=False)))
    rows, previous = [], None
    for k in K_VALUES:
        torch.manual_seed(0)
        start = time.perf_counter()
        values = likelihood_per_example(model, data, num_samples=k)
        seconds = time.perf_counter() - start
        nll, neg_elbo = values["nll"], -values["elbo"]
        row = {
            "k": k,
            "nll": nll.mean(),
            "nll_stderr": nll.std(ddof=1) / np.sqrt(len(nll)),
            "neg_elbo": neg_elbo.mean(),
            "bits_per_dim": values["bits_per_dim"].mean(),
            "seconds": seconds,
        }
        if previous is not None:  # paired change against the previous K, with its standard error
            change = nll - previous
            row["change"], row["change_stderr"] = change.mean(), change.std(ddof=1) / np.sqrt(len(change))
        rows.append(row)
        previous = nll
        print(f"K={k}: nll {row['nll']:.3f}  ({seconds:.1f}s)", file=sys.stderr, flush=True)
    return rows


def measure_full_eval(run_dir: Path, num_samples: int) -> dict[str, Any]:
    """``vaelab eval`` of the whole test set in a child process: its JSON, wall seconds and peak RSS."""
    args = [*VAELAB, "eval", str(run_dir), "--split", "test", "--num-samples", str(num_samples)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen([*args, "--metrics", "likelihood", "--json"], stdout=out, stderr=err, cwd=REPO)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise SystemExit(f"full evaluation failed:\n{err.read().decode()}")
        result = json.loads(out.read())
    cpu_seconds = usage.ru_utime + usage.ru_stime
    return {"result": result, "seconds": seconds, "cpu_seconds": cpu_seconds, "peak_rss_mib": usage.ru_maxrss / 1024}


def real_vs_real(data_dir: Path, cache_dir: Path) -> dict[str, float]:
    """Quality figures of held-out real data (valid split) against the test split, same classifier."""
    train = load_dataset("binarized-mnist", "train", data_dir)
    network = reference_classifier(train, cache_dir).network
    features = {}
    for split in ("test", "valid"):
        data = load_dataset("binarized-mnist", split, data_dir)
        features[split] = network.features(to_model_space(torch.from_numpy(data.x), data.levels))
    return {
        "frechet_distance": frechet_distance(features["test"], features["valid"]),
        **precision_recall(features["test"], features["valid"]),
    }


def _load_note(r: dict[str, Any]) -> str:
    """Whether other jobs shared the cores: a 1-minute load average above 2.5 on 2 cores says they did."""
    busy = max(float(r["load_before"].split()[0]), float(r["load_after"].split()[0])) > 2.5
    if busy:
        return "**Other jobs shared the 2 cores during the run**, so the times are upper bounds of an idle machine's."
    return "Nothing else ran on the machine: the benchmark's own two threads make a load of about 2."


def write_results(path: Path, r: dict[str, Any], command: str) -> None:
    full, sweep = r["full"], r["sweep"]
    lines = [
        "# Evaluation figures: results",
        "",
        f"Command: `{command}` (from the repository root). Written by the script; nothing here is typed by hand.",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
        f"{torch.__version__} with {torch.get_num_threads()} threads; load average {r['load_before']} at the "
        f"start and {r['load_after']} at the end (1, 5 and 15 minutes). {_load_note(r)}",
        "",
        f"## 1. Importance-sampled NLL against K (classic model, {r['subset']} random test images, seed 0)",
        "",
        "NLL = -log p̂(x) in nats (mean ± standard error over the images); the change is the paired mean",
        "difference from the previous K. The bound is stochastic: it should fall (or stay) as K grows, and",
        "stay at or below -ELBO.",
        "",
        "| K | NLL (nats) | change vs previous K | -ELBO (nats) | NLL ≤ -ELBO | bits/dim | time (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in sweep:
        change = f"{row['change']:+.3f} ± {row['change_stderr']:.3f}" if "change" in row else ""
        lines.append(
            f"| {row['k']} | {row['nll']:.3f} ± {row['nll_stderr']:.3f} | {change} | {row['neg_elbo']:.3f} | "
            f"{'yes' if row['nll'] <= row['neg_elbo'] else 'no'} | {row['bits_per_dim']:.4f} | {row['seconds']:.1f} |"
        )
    rising = [row["k"] for row in sweep if row.get("change", 0.0) > 3 * row.get("change_stderr", 0.0)]
    monotone = "yes" if not rising else f"no, at K = {rising}"
    time_bar = "met" if full["seconds"] <= 900 else "NOT met"
    memory_bar = "met" if full["peak_rss_mib"] < 4096 else "NOT met"
    lines += [
        "",
        f"NLL non-increasing in K (no rise beyond 3 standard errors): {monotone}.",
        "",
        "## 2. Full test set, K = 5000 (`vaelab eval RUN --split test --num-samples 5000 --metrics likelihood`)",
        "",
        "| examples | NLL (nats) | -ELBO (nats) | bits/dim | wall time | CPU time (user + sys) | peak memory (RSS) |",
        "|---|---|---|---|---|---|---|",
        f"| {full['result']['num_examples']} | {full['result']['nll']:.2f} ± {full['result']['nll_stderr']:.2f} | "
        f"{-full['result']['elbo']:.2f} | {full['result']['bits_per_dim']:.4f} | {full['seconds'] / 60:.1f} min | "
        f"{full['cpu_seconds'] / 60:.1f} min | {full['peak_rss_mib']:.0f} MiB |",
        "",
        "CPU time is what the evaluation process itself used (both threads). Other jobs competing for the",
        "cores stretch the wall time but hardly the CPU time, so CPU time / 2 estimates (it does not",
        "measure) the wall time on an idle 2-core machine, assuming both threads stay busy.",
        "",
        f"Bars: within 15 minutes and under 4 GB of memory: time {time_bar}, memory {memory_bar}.",
        "",
        "## 3. Active units and posterior collapse (full test set, `--metrics latent`)",
        "",
        "| model | active units (Var_x E_q[z_j] > 0.01) | I(x; z) (nats; ceiling log N) | KL per dimension (nats) "
        "| warning |",
        "|---|---|---|---|---|",
    ]
    for name, latent in r["latent"].items():
        kl = " ".join(f"{v:.2f}" for v in latent["kl_per_dim"])
        warning = "; ".join(latent["warnings"]) or "none"
        lines.append(
            f"| {name} | {latent['active_units']} of {latent['latent_dim']} | {latent['mutual_information']:.2f} "
            f"({latent['mutual_information_max']:.2f}) | {kl} | {warning} |"
        )
    lines += [
        "",
        "I(x; z) is taken with x uniform over the N evaluated images, so it cannot exceed log N; an estimate",
        "at that ceiling means the posteriors of different images hardly overlap (the code identifies the image).",
        "",
        "## 4. Sample quality: Fréchet distance ranking (test split, 10000 real vs 10000 generated)",
        "",
        f"Reference classifier: {r['classifier']['labels']} (binarized MNIST has no labels), held-out "
        f"accuracy {r['classifier']['holdout_accuracy']:.3f}. Generated examples are draws x ~ p(x|z), z ~ p(z).",
        "",
        "| compared with the test split | Fréchet distance | precision | recall |",
        "|---|---|---|---|",
    ]
    for name, q in r["quality"].items():
        lines.append(f"| {name} | {q['frechet_distance']:.3f} | {q['precision']:.3f} | {q['recall']:.3f} |")
    fd = {name: q["frechet_distance"] for name, q in r["quality"].items()}
    ranked = fd["held-out real data (valid split)"] < fd["samples after 20 epochs"] < fd["samples after 1 epoch"]
    lines += [
        "",
        f"Ranking real < 20 epochs < 1 epoch: {'yes' if ranked else 'no'}.",
        "",
        "## 5. Gaussian likelihood on grey-level images (`vaelab eval RUN --all`)",
        "",
        "MNIST test images (256 levels, labelled) split 8000/1000/1000, Gaussian likelihood with a learned",
        "per-pixel scale; bits/dim uses the change of variables to 8-bit integers (-log p(k) = -log p(x) +",
        "D log 255; the test images are not dequantised).",
        "",
        "| key | value |",
        "|---|---|",
    ]
    for key, value in r["grey"].items():
        if key in {"kl_per_dim", "posterior_mean_variance", "reference_classifier", "metrics"}:
            continue
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        lines.append(f"| {key} | {shown} |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--work-dir", type=Path, default=HERE / "runs")
    parser.add_argument("--subset", type=int, default=1000, help="test images in the K sweep")
    parser.add_argument("--beta-epochs", type=int, default=5, help="epochs of the beta = 50 run")
    parser.add_argument("--report-only", action="store_true", help="rewrite results.md from WORK_DIR/results.json")
    args = parser.parse_args()
    work, data_dir = args.work_dir.resolve(), args.data_dir.resolve()
    command = "python bench/eval_likelihood/run.py --data-dir " + str(args.data_dir)
    if args.report_only:
        write_results(HERE / "results.md", json.loads((work / "results.json").read_text()), command)
        return
    work.mkdir(parents=True, exist_ok=True)
    cache = work / "classifiers"
    results: dict[str, Any] = {"load_before": " ".join(f"{v:.1f}" for v in os.getloadavg()), "subset": args.subset}

    classic = work / "classic"
    train(classic, 10, "--config", CONFIG, "--data-dir", data_dir)
    train(work / "classic-1epoch", 1, "--config", CONFIG, "--data-dir", data_dir)
    if not (work / "classic-20epochs").exists():
        shutil.copytree(classic, work / "classic-20epochs")
    train(work / "classic-20epochs", 20)
    train(work / "beta50", args.beta_epochs, "--config", CONFIG, "--data-dir", data_dir, "--beta", "50")
    grey = grey_mnist(data_dir, work / "grey-mnist.npz")
    train(work / "grey-gaussian", 20, "--data", grey, "--likelihood", "gaussian")

    results["sweep"] = k_sweep(classic, data_dir, args.subset)
    print("full test set, K = 5000", file=sys.stderr, flush=True)
    results["full"] = measure_full_eval(classic, 5000)
    results["latent"] = {
        "classic (beta = 1, 10 epochs)": run_vaelab("eval", classic, "--metrics", "latent"),
        f"beta = 50 ({args.beta_epochs} epochs)": run_vaelab("eval", work / "beta50", "--metrics", "latent"),
    }
    quality = {
        name: run_vaelab("eval", work / run, "--metrics", "quality", "--cache-dir", cache)
        for name, run in (("samples after 1 epoch", "classic-1epoch"), ("samples after 20 epochs", "classic-20epochs"))
    }
    results["classifier"] = quality["samples after 1 epoch"]["reference_classifier"]
    results["quality"] = {"held-out real data (valid split)": real_vs_real(data_dir, cache), **quality}
    results["grey"] = run_vaelab("eval", work / "grey-gaussian", "--all", "--cache-dir", cache)
    results["load_after"] = " ".join(f"{v:.1f}" for v in os.getloadavg())
    (work / "results.json").write_text(json.dumps(results, indent=2, default=float))
    write_results(HERE / "results.md", results, command)
    print(f"wrote {HERE / 'results.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
