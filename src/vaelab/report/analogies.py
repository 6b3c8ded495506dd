"""The report's analogies of an image model with a classifier q(y|x) (Kingma et al. 2014, M2, figure 1 right):
the style z of a few examples held fixed while the class changes, so each column shows one style in every class."""

from __future__ import annotations

import numpy as np
import torch

from vaelab.data.batch import dataset_rows
from vaelab.data.dataset import ArrayDataset
from vaelab.evaluation.inputs import model_device
from vaelab.models import VAE
from vaelab.report.html import Image, LabelledRows, Note, Section
from vaelab.report.images import png_bytes
from vaelab.report.model_sections import is_image_model, tile_scale

NUM_STYLES = 8  # columns: examples whose style is kept
MAX_CLASSES_SHOWN = 20  # rows: the first classes, so a model of many classes keeps a readable picture
TITLE = "Analogies"
SEED = 4  # the examples drawn (other report pictures use seeds 0 to 3)


def has_analogies(model: VAE) -> bool:
    """Whether the report draws analogies for ``model``: an image model with a classifier."""
    return is_image_model(model) and model.classifier is not None and bool(model.num_classes)


@torch.inference_mode()
def analogy_images(model: VAE, data: ArrayDataset, num_styles: int = NUM_STYLES) -> tuple[np.ndarray, np.ndarray]:
    """``(examples, grid)``: ``num_styles`` examples of ``data`` drawn with a fixed seed, ``(M, *data_shape)``, and
    ``(K', M, *data_shape)`` with ``grid[k, j] = E[x | z_j, y = k]`` for the first ``K'`` classes, where the style
    ``z_j`` is the mean of q(z | x_j, y_j), ``y_j`` the example's label when known, else ``argmax_y q(y|x_j)``."""
    device = model_device(model)
    index = np.sort(np.random.default_rng(SEED).choice(len(data), size=min(num_styles, len(data)), replace=False))
    batch = dataset_rows(data, index, device)
    y = model.known_or_predicted_classes(batch)  # (M,)
    z = model.encode(batch.x, y, batch.mask).mean  # (M, D)
    num_classes = min(model.num_classes or 0, MAX_CLASSES_SHOWN)
    classes = torch.arange(num_classes, device=device).repeat_interleave(len(z))  # (K' M,) class-major
    grid = model.examples(z.repeat(num_classes, 1), classes)  # (K' M, *data_shape)
    return batch.x.cpu().numpy(), grid.reshape(num_classes, len(z), *model.data_shape).cpu().numpy()


def analogy_sections(model: VAE, data: ArrayDataset | None) -> list[Section]:
    """The analogies section for an image model with a classifier; nothing for other models."""
    if not has_analogies(model):
        return []
    lead = (
        "Each column keeps the style of one example, z = E[q(z | x, y)] with y its label (or the classifier's "
        "guess where it has none), and each row decodes it with one class y, so a column is the same style "
        "written in every class (Kingma et al. 2014, figure 1)."
    )
    if data is None:
        return [Section("analogies", TITLE, lead, [Note("Analogies start from examples of the run's data.")])]
    examples, grid = analogy_images(model, data)
    scale, columns = tile_scale(model), len(examples)
    rows = [("examples", Image(png_bytes(examples, columns, scale), "the examples whose style is kept"))]
    rows += [
        (f"class {k}", Image(png_bytes(images, columns, scale), f"the styles decoded as class {k}"))
        for k, images in enumerate(grid)
    ]
    shown = len(grid) if len(grid) == model.num_classes else f"the first {len(grid)} of {model.num_classes}"
    caption = f"{columns} styles (columns) decoded in {shown} classes (rows)."
    return [Section("analogies", TITLE, lead, [LabelledRows(rows, caption)])]
