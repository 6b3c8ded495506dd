"""Report sections drawn from the model: pictures, the latent map, KL per dimension, the ELBO histogram."""

from __future__ import annotations

import numpy as np

from vaelab.data.dataset import ArrayDataset
from vaelab.evaluation.inputs import model_device
from vaelab.models import VAE
from vaelab.report import plots
from vaelab.report.analysis import LatentAnalysis, project_2d
from vaelab.report.html import Gallery, Image, Note, Section
from vaelab.report.images import png_bytes
from vaelab.report.pictures import (
    inpainting_images,
    interpolation_images,
    latent_grid_images,
    pick_examples,
    reconstruction_pair,
    sample_images,
)

TILE_PIXELS = 64  # pictures are enlarged by pixel repetition to about this many pixels a side
GRID_SIZE, GRID_TILE_PIXELS = 15, 28  # the decoded grid of a 2-D latent space: 15 x 15 pictures, smaller


def tile_scale(model: VAE, pixels: int = TILE_PIXELS) -> int:
    return max(1, pixels // max(model.data_shape[-2:]))


def is_image_model(model: VAE) -> bool:
    return model.data_kind == "image"


def picture_sections(model: VAE, data: ArrayDataset | None, missing: str) -> list[Section]:
    """Reconstructions beside their inputs, samples, and lerp/slerp interpolation strips."""
    scale = tile_scale(model)
    if not is_image_model(model):
        note = Note(
            f"The data are not images (each example has shape {model.data_shape}), so the report leaves out "
            "reconstructions, samples, interpolations, the decoded latent grid and traversals."
        )
        return [Section("pictures", "Pictures", "Pictures need image data.", [note])]
    samples, cols = sample_images(model)
    sample_caption = "one row per class" if model.num_classes else f"{len(samples)} samples"
    samples_section = Section(
        "samples",
        "Samples",
        "Decoder means E[x|z] for codes z drawn from the prior p(z).",
        [Image(png_bytes(samples, cols, scale), "samples", sample_caption)],
    )
    if data is None:
        note = Note(f"Reconstructions and interpolations need the run's data, which could not be loaded: {missing}")
        return [samples_section, Section("reconstructions", "Reconstructions", "Inputs and reconstructions.", [note])]
    x, x_hat = reconstruction_pair(model, data, 32)
    reconstructions = Section(
        "reconstructions",
        "Reconstructions",
        f"Examples from the {data.name} data (left) beside their reconstructions E[x | z = E_q[z|x]] (right), "
        "in the same positions.",
        [
            Gallery(
                [
                    Image(png_bytes(x, 8, scale), "inputs", "inputs"),
                    Image(png_bytes(x_hat, 8, scale), "reconstructions", "reconstructions"),
                ]
            )
        ],
    )
    strips = [
        Image(
            png_bytes(*interpolation_images(model, data, methods=(method,)), scale), f"{method} interpolation", caption
        )
        for method, caption in (
            ("lerp", "lerp: straight lines between the posterior means"),
            ("slerp", "slerp: great-circle paths, which keep the norm typical of prior samples"),
        )
    ]
    interpolations = Section(
        "interpolations",
        "Interpolations",
        "Each row decodes points on a path between the posterior means of two examples (the first and last "
        "columns decode those means).",
        [Gallery(strips)],
    )
    inpainting = Section(
        "inpainting",
        "Inpainting",
        "Each row: an example with only its left half observed (the hidden half grey), the example itself, the "
        "importance-sampled conditional mean of the hidden half given the observed one, and draws from p(x_m | x_o) "
        "by sampling importance resampling (500 proposals from q(z | x_o) each).",
        [Image(png_bytes(*inpainting_images(model, data), scale), "inpainting", "completions of the right half")],
    )
    return [reconstructions, samples_section, interpolations, inpainting]


def latent_section(model: VAE, analysis: LatentAnalysis | None, data: ArrayDataset | None) -> Section:
    """The 2-D map of posterior means (the latent itself when it is 2-D, else PCA), coloured by label,
    and for a 2-D latent space the decoded grid over the prior."""
    lead = "Posterior means E_q[z|x] of the examples, one point each."
    notes, images = [], []
    if analysis is None:
        notes.append(Note("The map of posterior means needs the run's data, which could not be loaded."))
    elif model.latent_dim < 2:
        notes.append(Note("The latent space is 1-D, so there is no 2-D map; see the traversals instead."))
    else:
        points, axes = project_2d(analysis.codes)
        how = "the latent coordinates" if model.latent_dim == 2 else "the first two principal components"
        coloured = "coloured by label" if analysis.labels is not None else "(the data have no labels)"
        caption = f"{len(points)} examples on {how}, {coloured}."
        images.append(Image(plots.latent_map(points, analysis.labels, axes), "map of latent means", caption))
    if model.latent_dim == 2 and is_image_model(model):
        y = None
        if model.is_conditional and data is not None:
            y = pick_examples(data, 1, seed=2, device=model_device(model))[1]
        grid, cols = latent_grid_images(model, GRID_SIZE, y)
        caption = (
            f"Decoded grid: z0 grows to the right, z1 upwards, over the standard normal quantiles "
            f"1/{2 * GRID_SIZE} … {2 * GRID_SIZE - 1}/{2 * GRID_SIZE} (Kingma & Welling 2014, figure 4)."
        )
        images.append(Image(png_bytes(grid, cols, tile_scale(model, GRID_TILE_PIXELS)), "decoded latent grid", caption))
    return Section("latent", "Latent space", lead, [*notes, Gallery(images)])


def elbo_section(analysis: LatentAnalysis | None, split: str) -> Section:
    lead = "How well the model explains each example: low outliers are the examples it finds least likely."
    if analysis is None:
        return Section("elbo", "ELBO per example", lead, [Note("The histogram needs the run's data.")])
    elbo = analysis.elbo
    caption = (
        f"ELBO of {len(elbo)} examples of the {split} split, one posterior sample each: mean {np.mean(elbo):.2f}, "
        f"standard deviation {np.std(elbo):.2f}, 1st percentile {np.percentile(elbo, 1):.2f} nats."
    )
    return Section("elbo", "ELBO per example", lead, [Image(plots.elbo_histogram(elbo), "ELBO histogram", caption)])
