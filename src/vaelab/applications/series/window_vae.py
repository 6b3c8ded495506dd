"""A VAE over sliding windows of a series, built from the library's parts and trained by its one loop: the
Donut design (Xu et al. 2018, "Unsupervised Anomaly Detection via Variational Auto-Encoder for Seasonal KPIs
in Web Applications": an MLP VAE over windows, a Gaussian per value with the decoder's scale, missing values
left out of the reconstruction term) or the same with GRU networks over the window's steps."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from vaelab.applications.anomaly.training import isolated_global_rng, torch_threads
from vaelab.applications.series.scores import AGGREGATIONS, point_scores, window_log_likelihoods
from vaelab.data.dataset import ArrayDataset
from vaelab.data.series import Scaler, sliding_windows
from vaelab.errors import UserError
from vaelab.models import VAE
from vaelab.models.build import build_model, resolve_spec
from vaelab.models.spec import ModelConfig
from vaelab.objectives import ELBO
from vaelab.training import TrainSettings, fit

NETWORKS = ("donut", "gru")
"""``donut``: MLPs over the flattened window (Xu et al. 2018); ``gru``: a bidirectional GRU encoder over the
window's steps and a GRU decoder of every step's Gaussian."""

SCORES = ("reconstruction", "prediction")
LATENTS = ("window", "step", "state-space")
"""``window``: one latent of ``latent_dim`` per window; ``step`` (``gru`` only): one of ``latent_dim`` per step
of the window, read from that step's encoder features, the decoder's GRU reading them in turn, each step's
prior N(0, I); ``state-space``: the same with OmniAnomaly's prior, a linear Gaussian state-space model that
ties each step's latent to the one before (Su et al. 2019)."""

# What a setting left at None becomes. The gru network with latents under the state-space prior is the default:
# chosen over donut on NAB's corpus, leaving each category out in turn, at 300 steps per fit and 3 latents per
# step against donut's measured 1,500 steps and 8 per window (bench/series/results.md).
DEFAULT_LATENTS = {"donut": "window", "gru": "state-space"}
DEFAULT_LATENT_DIMS = {"window": 8, "step": 3, "state-space": 3}
DEFAULT_STEPS = {"donut": 1500, "gru": 300}


@dataclass(frozen=True)
class WindowVAESettings:
    """The model and its training. ``steps`` optimisation steps per fit, whatever the training length, so a
    refit on a longer history costs the same. ``latents``, ``latent_dim`` and ``steps`` left at None take the
    network's defaults (``DEFAULT_LATENTS``, ``DEFAULT_LATENT_DIMS``, ``DEFAULT_STEPS``)."""

    network: str = "gru"
    latents: str | None = None
    window: int = 60  # chosen on NAB's corpus, leaving each category out in turn (bench/series/results.md)
    latent_dim: int | None = None  # per window, or per step with latents per step
    hidden: int = 100
    steps: int | None = None
    batch_size: int = 128
    lr: float = 1e-3
    min_scale: float = 1e-2  # the Gaussian's scale floor, in units of the scaled values
    num_samples: int = 16  # posterior samples per window for the reconstruction probability
    imputation_steps: int = 10  # Donut's masked-reconstruction rounds for windows with missing values
    score: str = "reconstruction"  # or "prediction": a window's last point imputed from the others, then scored
    seed: int = 0
    threads: int | None = 1

    def __post_init__(self) -> None:
        if self.network not in NETWORKS:
            raise UserError(f"unknown series network {self.network!r}; use one of: {', '.join(NETWORKS)}")
        if self.latents is None:
            object.__setattr__(self, "latents", DEFAULT_LATENTS[self.network])
        if self.latents not in LATENTS:
            raise UserError(f"unknown series latents {self.latents!r}; use one of: {', '.join(LATENTS)}")
        if self.latents != "window" and self.network != "gru":
            raise UserError("latents per step need the gru network: set network=gru")
        if self.latent_dim is None:
            object.__setattr__(self, "latent_dim", DEFAULT_LATENT_DIMS[self.latents])
        if self.steps is None:
            object.__setattr__(self, "steps", DEFAULT_STEPS[self.network])
        for name in ("window", "latent_dim", "hidden", "steps", "batch_size", "num_samples"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.score not in SCORES:
            raise UserError(f"unknown series score {self.score!r}; use one of: {', '.join(SCORES)}")
        if self.window < 2:
            raise UserError(f"the window must hold at least 2 points, not {self.window}")


class WindowVAE:
    """A VAE over the windows of one series, with the scaling fitted on its training part.

    ``fit(values)`` trains on every window of ``values`` (N, C) (NaN where missing); ``step_log_likelihoods``
    and ``scores`` read later or the same values through the fitted scaling."""

    def __init__(self, settings: WindowVAESettings) -> None:
        self.settings = settings
        self.model: VAE | None = None
        self.scaler: Scaler | None = None

    def fit(self, values: np.ndarray) -> WindowVAE:
        s = self.settings
        self.scaler = Scaler.fit(values)
        windows = sliding_windows(self.scaler(values), s.window)  # a view: no window is copied
        rows = ArrayDataset(windows, None, None, "series-windows", kind="series")
        batches_per_epoch = math.ceil(len(rows) / s.batch_size)
        assert s.steps is not None  # set by WindowVAESettings.__post_init__
        train = TrainSettings(
            epochs=math.ceil(s.steps / batches_per_epoch),
            max_steps=s.steps,
            batch_size=s.batch_size,
            lr=s.lr,
            grad_clip=10.0,
            seed=s.seed,
            in_memory=False,  # batches read from the view
            progress=False,
        )
        with torch_threads(s.threads), isolated_global_rng(torch.device("cpu")):
            torch.manual_seed(s.seed)
            self.model = build_model(resolve_spec(ModelConfig.model_validate(self._model_config()), rows))
            fit(self.model, ELBO(), rows, None, train)
        return self

    def _model_config(self) -> dict[str, Any]:
        s = self.settings
        assert s.latent_dim is not None  # set by WindowVAESettings.__post_init__
        network: dict[str, Any] = (
            {"name": "mlp", "hidden_dims": [s.hidden, s.hidden]}
            if s.network == "donut"
            else {
                "name": "gru",
                "embedding_dim": s.hidden,
                "encoder_hidden": s.hidden,
                "decoder_hidden": s.hidden,
                "latents": "window" if s.latents == "window" else "step",
            }
        )
        return {
            "latent_dim": s.latent_dim * (1 if s.latents == "window" else s.window),
            "network": network,
            "likelihood": {"name": "gaussian", "scale": "decoder", "min_scale": s.min_scale},
            "prior": "state-space" if s.latents == "state-space" else "standard-normal",
            "posterior": "gaussian",
        }

    def step_log_likelihoods(self, values: np.ndarray, hidden: np.ndarray | None = None) -> np.ndarray:
        """(n, T): the reconstruction probability of every step of every window of ``values`` (N, C); ``hidden``
        (N,) bool: points imputed rather than read wherever they are not the window's last step."""
        if self.model is None or self.scaler is None:
            raise RuntimeError("fit the WindowVAE before scoring")
        s = self.settings
        windows = sliding_windows(self.scaler(values), s.window)
        hidden_windows = None if hidden is None else sliding_windows(hidden[:, None], s.window)[..., 0]
        with torch_threads(s.threads), isolated_global_rng(torch.device("cpu")):
            torch.manual_seed(s.seed)
            return window_log_likelihoods(
                self.model, windows, s.num_samples, s.imputation_steps, hidden_windows, s.score == "prediction"
            )

    def scores(self, values: np.ndarray, aggregation: str = "last", hidden: np.ndarray | None = None) -> np.ndarray:
        """(N,) anomaly scores of the points of ``values``, minus the reconstruction probability (higher = more
        anomalous; NaN where no window gives one); ``hidden`` as in :meth:`step_log_likelihoods`."""
        if aggregation not in AGGREGATIONS:
            raise UserError(f"unknown score aggregation {aggregation!r}; use one of: {', '.join(AGGREGATIONS)}")
        return point_scores(self.step_log_likelihoods(values, hidden), 1, len(values), aggregation)
