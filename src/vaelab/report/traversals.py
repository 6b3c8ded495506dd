"""The report's latent traversal section: one labelled row per latent dimension, most informative first."""

from __future__ import annotations

import numpy as np
import torch

from vaelab.applications.traversal import order_by_kl, traverse
from vaelab.data.dataset import ArrayDataset
from vaelab.evaluation.inputs import model_device
from vaelab.models import VAE
from vaelab.report.html import Gallery, Image, LabelledRows, Note, Section
from vaelab.report.images import png_bytes
from vaelab.report.model_sections import tile_scale
from vaelab.report.pictures import pick_examples

LOW, HIGH, STEPS = -3.0, 3.0, 11
MAX_ROWS = 12
TITLE = "Latent traversals"


@torch.inference_mode()
def traversal_section(model: VAE, data: ArrayDataset | None, kl: np.ndarray | None) -> Section:
    """Rows vary one dimension over [LOW, HIGH] from the posterior mean of one example, the others fixed;
    ordered by KL when the KL per dimension is known (at most ``MAX_ROWS`` rows)."""
    lead = (
        f"Each row sets one latent dimension to {STEPS} values from {LOW:g} to {HIGH:g} (left to right) and keeps "
        "the others at the posterior mean of one example (Higgins et al. 2017). A row that does not change "
        "belongs to an inactive dimension."
    )
    if data is None:
        return Section("traversals", TITLE, lead, [Note("Traversals start from an example of the run's data.")])
    device = model_device(model)
    x0, y0 = pick_examples(data, 1, seed=2, device=device)
    y0 = y0 if model.is_conditional else None
    base = model.embed(x0, y0)[0]  # (D,)
    dims = order_by_kl(torch.from_numpy(kl)) if kl is not None else list(range(model.latent_dim))
    dims = dims[:MAX_ROWS]
    values = torch.linspace(LOW, HIGH, STEPS, device=device)
    images = traverse(model, base, dims, values, y0).cpu().numpy()  # (R, T, C, H, W)
    scale = tile_scale(model)
    rows = [
        (
            f"z{d}" + ("" if kl is None else f" · KL {kl[d]:.2f}"),
            Image(png_bytes(images[row], STEPS, scale), f"traversal of z{d}"),
        )
        for row, d in enumerate(dims)
    ]
    caption = f"{len(dims)} of {model.latent_dim} dimensions, " + (
        "by decreasing KL (each label gives the dimension's mean KL in nats)." if kl is not None else "in index order."
    )
    base_pictures = Gallery(
        [
            Image(png_bytes(x0.cpu().numpy(), 1, scale), "base example", "base example"),
            Image(png_bytes(model.decode(base[None], y0).mean.cpu().numpy(), 1, scale), "decoded base", "decoded"),
        ]
    )
    return Section("traversals", TITLE, lead, [base_pictures, LabelledRows(rows, caption)])
