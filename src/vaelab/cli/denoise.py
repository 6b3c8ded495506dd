"""``vaelab denoise``: clean noisy images with a saved model, E[x | z = E_q[z | x~]]."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vaelab.cli.output import emit_json, say
from vaelab.errors import UserError

if TYPE_CHECKING:
    import torch

    from vaelab.models import VAE

Opt = typer.Option
OUT_SUFFIXES = (".npy", ".png")
ROWS_PER_CHUNK = 4096  # images encoded and decoded at a time
PAIRS_PER_ROW = 8  # a .png shows rows of this many inputs above their denoised images


def read_images(path: Path, model: VAE) -> torch.Tensor:
    """The images in ``path`` (``(N, H, W)`` or ``(N, C, H, W)``; uint8 0..255, booleans, or floats in [0, 1]) in
    model space, ``(N, *model.data_shape)``. Unlike ``vaelab reconstruct``, values need not lie in the
    likelihood's support (noise makes binary images grey). A one-line ``UserError`` on anything else."""
    import numpy as np

    from vaelab.data.batch import dataset_rows
    from vaelab.data.files import load_file

    dataset = load_file(path, "all")
    batch = dataset_rows(dataset, np.arange(len(dataset)), "cpu")
    x = batch.x  # (N, ...)
    if tuple(x.shape[1:]) != model.data_shape:
        raise UserError(
            f"{path}: images of shape {tuple(x.shape[1:])} but the model expects {model.data_shape}; "
            "give images like those the model was trained on"
        )
    if batch.mask is not None:
        raise UserError(f"{path}: holds missing values (NaN); fill them first, e.g. with vaelab impute")
    if bool(((x < 0) | (x > 1)).any()):
        raise UserError(f"{path}: values outside [0, 1]; scale the images to [0, 1] or store them as uint8 0..255")
    return x


def denoise(
    run_dir: Annotated[Path, typer.Argument(help="run directory of a model trained on clean images")],
    data: Annotated[Path | None, Opt(help=".npy of noisy images (N, H, W) or (N, C, H, W): uint8 or [0, 1]")] = None,
    out: Annotated[Path | None, Opt(help="output .npy (N, C, H, W) in [0, 1], or .png (inputs above outputs)")] = None,
    noise: Annotated[
        str | None, Opt(help="corrupt clean --data first and report PSNR: gaussian:STD | salt-and-pepper:RATE")
    ] = None,
    seed: Annotated[int, Opt(help="seed of --noise")] = 0,
    as_json: Annotated[bool, Opt("--json", help="print a summary as JSON on stdout")] = False,
) -> None:
    """Denoise images: decode the posterior mean of each noisy image, E[x | z = E_q[z|x~]] (best with a model
    trained with objective.name=denoising)."""
    import torch

    from vaelab.cli.common import load_run
    from vaelab.cli.model_output import write_output
    from vaelab.data.corruption import parse_corruption
    from vaelab.evaluation.psnr import psnr

    if data is None or out is None:
        raise UserError("give --data NOISY.npy and --out DENOISED.npy (or .png)")
    if out.suffix not in OUT_SUFFIXES:
        raise UserError(f"--out must end in {' or '.join(OUT_SUFFIXES)}, got {out.name}")
    corruption = None if noise is None else parse_corruption(noise)
    model = load_run(run_dir)
    if model.data_kind != "image":
        raise UserError(f"vaelab denoise works on images; this model's data are of kind {model.data_kind!r}")
    if model.is_conditional:
        raise UserError("vaelab denoise takes unconditional models; this one needs labels (trained with --model cvae)")
    x = read_images(data, model)  # (N, C, H, W)
    clean = x
    if corruption is not None:
        x = corruption(x, torch.Generator().manual_seed(seed))
    denoised = torch.cat([model.reconstruct(x[i : i + ROWS_PER_CHUNK]) for i in range(0, len(x), ROWS_PER_CHUNK)])
    if out.suffix == ".npy":
        write_output(out, denoised.numpy(), PAIRS_PER_ROW, model)
    else:
        rows = [
            torch.cat([x[i : i + PAIRS_PER_ROW], denoised[i : i + PAIRS_PER_ROW]])
            for i in range(0, len(x), PAIRS_PER_ROW)
        ]
        write_output(out, torch.cat(rows).numpy(), min(len(x), PAIRS_PER_ROW), model)
    summary: dict[str, float | int | str] = {"out": str(out), "n": len(x)}
    if corruption is not None:
        summary["psnr_noisy_db"] = float(psnr(x.numpy(), clean.numpy()).mean())
        summary["psnr_denoised_db"] = float(psnr(denoised.numpy(), clean.numpy()).mean())
    if as_json:
        emit_json(summary)
    elif corruption is None:
        say(f"wrote {len(x)} denoised images to {out}")
    else:
        noisy_db, denoised_db = summary["psnr_noisy_db"], summary["psnr_denoised_db"]
        say(
            f"wrote {len(x)} denoised images to {out}; mean PSNR {noisy_db:.2f} dB noisy, {denoised_db:.2f} dB denoised"
        )
