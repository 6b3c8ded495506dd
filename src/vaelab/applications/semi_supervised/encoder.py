"""``VAEEncoder``: a plain VAE as a scikit-learn transformer, rows -> posterior means E_q[z|x].

Kingma et al. 2014's M1 (§3.1.1) is a VAE trained on every row whose codes feed a classifier trained on the
labelled ones; their M1+M2 (§3.1.3) trains M2 on M1's codes. Both are pipelines:

- M1: ``make_pipeline(VAEEncoder(latent_dim=50), LogisticRegression())`` (on labelled rows);
- M1+M2: ``make_pipeline(VAEEncoder(hidden_dims=(600, 600), latent_dim=50), StandardScaler(), VAEClassifier())``
  fitted on ``(X, y)`` with ``y = -1`` for the unlabelled rows: the encoder ignores ``y`` and learns from every row.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

from vaelab.applications.anomaly.validation import InvalidInput
from vaelab.applications.semi_supervised.array_vae import CHUNK_ROWS, ArrayVAE, sklearn_errors
from vaelab.objectives.elbo import ELBO


class VAEEncoder(TransformerMixin, ArrayVAE):
    """The VAE of Kingma & Welling 2014 (Gaussian posterior q(z|x), standard normal prior p(z), trained on the
    ELBO, eq. 3) as a scikit-learn transformer: ``fit(X)`` learns from every row (``y`` is ignored, so a pipeline
    on partly labelled data fits it on all rows), ``transform(X)`` gives the posterior means E_q[z|x].

    ``X``: an array ``(N, D)`` of numbers or a DataFrame of numeric columns (a table), or images ``(N, C, H, W)``;
    the likelihood and the standardisation of a Gaussian model's entries (``loc_``, ``scale_``) follow the same
    rule as :class:`VAEClassifier`'s (:class:`~.array_vae.ArrayVAE`).

    - ``transform(X)``: ``(N, latent_dim)`` float64, E_q[z|x]; deterministic.
    - ``inverse_transform(Z)``: ``(N, *data_shape_)`` float64, E[x|z] in the units of the training X.
    - ``save(directory)`` / ``VAEEncoder.load(directory)``: JSON and safetensors, no pickle (:mod:`.saving`).

    Parameters
    ----------
    latent_dim, hidden_dims : size of z and the MLP encoder's layer widths (the decoder mirrors them); the
        paper's M1 has 50 and two layers of 600. Images of 32 pixels a side and more get conv nets instead.
    epochs, batch_size, lr : Adam's training on batches of ``batch_size`` rows of an epoch's permutation.
    max_minutes : wall-clock budget of the fit (None: all ``epochs``).
    random_state : seeds the weights and the training's batches; None draws a seed.
    threads : torch intra-op threads while fitting and transforming (None: torch's setting).
    device : torch device of the model. ``verbose``: show the training's progress.

    Attributes
    ----------
    model_ : the trained ``vaelab.VAE``. likelihood_ : the likelihood's name. ``loc_``, ``scale_`` : the
    standardisation of a Gaussian model's entries, ``(prod(data_shape_),)``, else None. ``data_shape_`` : the
    shape of one row. ``seed_`` : the seed the fit used. ``n_features_in_``, ``feature_names_in_`` : as in
    scikit-learn (tables).
    """

    noun: ClassVar[str] = "encoder"
    saved_file: ClassVar[str] = "encoder.json"
    saved_format: ClassVar[str] = "vaelab.encoder"

    def __init__(
        self,
        *,
        latent_dim: int = 50,
        hidden_dims: tuple[int, ...] = (600, 600),
        epochs: int = 100,
        batch_size: int = 100,
        lr: float = 1e-3,
        max_minutes: float | None = None,
        random_state: int | np.random.RandomState | None = None,
        threads: int | None = None,
        device: str = "cpu",
        verbose: bool = False,
    ) -> None:
        self.latent_dim = latent_dim
        self.hidden_dims = hidden_dims
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.max_minutes = max_minutes
        self.random_state = random_state
        self.threads = threads
        self.device = device
        self.verbose = verbose

    def fit(self, X: Any, y: Any = None) -> VAEEncoder:
        """Train the VAE on every row of ``X`` with the ELBO; ``y`` is ignored (labels, -1s or None)."""
        self._check_params()
        data = self._dataset(self._array(X, reset=True))
        self._train(self._model_config("vae"), ELBO(), data)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """``(N, latent_dim)`` float64: the posterior means E_q[z|x] of the rows of ``X``."""
        x = self._tensor(X)
        with self._inference():
            chunks = [self.model_.encode(part).mean for part in x.split(CHUNK_ROWS)]
        return torch.cat(chunks).double().cpu().numpy()

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Codes ``X (N, latent_dim)`` -> ``(N, *data_shape_)`` float64: E[x|z] in the units of the training X (a
        Bernoulli model's means are probabilities)."""
        check_is_fitted(self)
        with sklearn_errors():
            z = check_array(X, dtype=np.float32)
        if z.shape[1] != self.latent_dim:
            raise InvalidInput(f"the codes have {z.shape[1]} columns; the encoder's latent_dim is {self.latent_dim}")
        codes = torch.from_numpy(z).to(self._device())
        with self._inference():
            chunks = [self.model_.examples(part, mean=True) for part in codes.split(CHUNK_ROWS)]
        return self._user_units(torch.cat(chunks))
