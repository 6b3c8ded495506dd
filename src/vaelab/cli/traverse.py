"""``vaelab traverse``: latent traversals, one row per latent dimension varied around a base code."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vaelab.cli.output import emit_json, say
from vaelab.cli.train import _parse_ints
from vaelab.errors import UserError

if TYPE_CHECKING:
    import torch

    from vaelab.data.dataset import ArrayDataset
    from vaelab.models import VAE

Opt = typer.Option
ORDERS = ("kl", "index")
BASES = ("example", "prior")


def _kl_order(model: VAE, dataset: ArrayDataset, limit: int, seed: int) -> tuple[list[int], torch.Tensor]:
    """Dimensions by decreasing KL, estimated on a seeded subset of at most ``limit`` examples."""
    import numpy as np

    from vaelab.applications.traversal import order_by_kl
    from vaelab.cli.common import model_inputs
    from vaelab.report.analysis import mean_kl_per_dimension

    index = np.sort(np.random.default_rng(seed).choice(len(dataset), min(limit, len(dataset)), replace=False))
    kl = mean_kl_per_dimension(model, *model_inputs(model, dataset.subset(index)))
    if kl is None:
        raise UserError("--order kl needs a posterior and prior that factorise over dimensions; use --order index")
    return order_by_kl(kl), kl


def _base_code(
    model: VAE, dataset: ArrayDataset | None, index: int, label: str | None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The base code ``(D,)`` and the condition ``(1, ...)``: the posterior mean of example ``index``,
    or the prior mean (with ``label`` for a class-conditional model) when there is no dataset."""
    import numpy as np
    import torch

    from vaelab.cli.common import class_index, model_inputs

    y = class_index(model, label)
    if dataset is not None:
        if not 0 <= index < len(dataset):
            raise UserError(f"--index must be in 0..{len(dataset) - 1} for this split")
        x0, y0 = model_inputs(model, dataset.subset(np.array([index])))
        return model.embed(x0, y0)[0], y0
    if model.is_conditional and y is None:
        raise UserError("a conditional model with --base prior needs --label (class-conditional models only)")
    return model.p_z().mean.detach(), None if y is None else torch.tensor([y])


def traverse_command(
    run_dir: Annotated[Path, typer.Argument(help="run directory")],
    data: Annotated[str | None, Opt(help="dataset name or path (default: the run's)")] = None,
    data_dir: Annotated[str | None, Opt()] = None,
    split: Annotated[str, Opt(help="split of the base example and of the KL estimate")] = "test",
    base: Annotated[
        str, Opt(help="example: the posterior mean of example --index | prior: the prior mean")
    ] = "example",
    index: Annotated[int, Opt(help="which example of the split is the base code")] = 0,
    label: Annotated[str | None, Opt(help="class of a conditional model with --base prior, by name or index")] = None,
    dims: Annotated[str | None, Opt(help="latent dimensions to show, in order, e.g. 0,3,5 (default: all)")] = None,
    order: Annotated[str, Opt(help="kl: most informative dimensions first | index")] = "kl",
    max_dims: Annotated[int | None, Opt(help="show at most this many dimensions")] = 10,
    steps: Annotated[int, Opt(help="values per row")] = 11,
    low: Annotated[float, Opt(help="first value of the varied dimension")] = -3.0,
    high: Annotated[float, Opt(help="last value of the varied dimension")] = 3.0,
    limit: Annotated[int, Opt(help="examples used to estimate the KL per dimension (--order kl)")] = 1000,
    out: Annotated[Path, Opt(help="output .png (one row per dimension) or .npy (rows, steps, *shape)")] = Path(
        "traversal.png"
    ),
    seed: Annotated[int, Opt(help="seed of the KL subset")] = 0,
    as_json: Annotated[bool, Opt("--json", help="print the result as JSON on stdout")] = False,
) -> None:
    """Decode latent traversals: each row sets one latent dimension to values from --low to --high while
    the others stay at the base code; rows are ordered by KL (most informative first) unless --dims is given."""
    import torch

    from vaelab.applications.traversal import traverse
    from vaelab.cli.common import load_run, run_data
    from vaelab.cli.model_output import check_out, write_output

    check_out(out)
    if order not in ORDERS or base not in BASES:
        raise UserError(f"--order must be one of {', '.join(ORDERS)} and --base one of {', '.join(BASES)}")
    if steps < 2 or not low < high or (max_dims is not None and max_dims < 1) or limit < 1:
        raise UserError("--steps must be at least 2, --low below --high, and --max-dims and --limit at least 1")
    model = load_run(run_dir, not_for_graphs="traverse")
    check_out(out, model)
    chosen = None if dims is None else _parse_ints(dims, "--dims")
    need_data = base == "example" or (chosen is None and order == "kl")
    dataset = run_data(run_dir, model, data, split, data_dir) if need_data else None
    kl = None
    if chosen is None and order == "kl":
        assert dataset is not None
        chosen, kl = _kl_order(model, dataset, limit, seed)
    elif chosen is None:
        chosen = list(range(model.latent_dim))
    chosen = chosen[:max_dims]
    base_code, y0 = _base_code(model, dataset if base == "example" else None, index, label)
    values = torch.linspace(low, high, steps)
    images = traverse(model, base_code, chosen, values, y0).numpy()  # (R, T, *data_shape)
    array = images if out.suffix == ".npy" else images.reshape(-1, *model.data_shape)
    write_output(out, array, steps, model)
    result = {
        "out": str(out),
        "dims": chosen,
        "kl": None if kl is None else [float(kl[d]) for d in chosen],
        "values": values.tolist(),
        "base": f"example {index} of the {split} split" if base == "example" else "prior mean",
    }
    if as_json:
        emit_json(result)
    else:
        say(f"wrote {len(chosen)} rows ({', '.join(f'z{d}' for d in chosen)}) x {steps} values to {out}")
