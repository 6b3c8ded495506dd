"""An ex-post density estimate as the prior: a Gaussian mixture fitted to the training codes after training.

Ghosh et al. 2020 ("From variational to deterministic autoencoders", §4 "Ex-post density estimation") train a
deterministic autoencoder and only then fit a density to the codes of the training set, from which they
sample: a mixture of 10 Gaussians with full covariances. ``vaelab.training.fit`` fits every prior that
follows ``ExPostPrior`` once training ends (``vaelab.training.ex_post``), so the fitted parameters are in the
saved model's weights (safetensors; the spec in JSON says the prior is this part).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical, MixtureSameFamily, MultivariateNormal

from vaelab.errors import UserError


@runtime_checkable
class ExPostPrior(Protocol):
    """A prior fitted to the training set's codes ``(N, D)`` (posterior means) once training has ended."""

    def fit_codes(self, codes: torch.Tensor) -> None: ...


class FittedGaussianMixturePrior(nn.Module):
    """``p(z) = sum_k w_k N(z; mu_k, Sigma_k)``, K components with full covariances, its parameters buffers.

    Until ``fit_codes`` is called it is N(0, I) (weights 1/K, means 0, covariances I), so an objective that
    draws from the prior during training matches the codes to a standard normal. ``fit_codes`` runs
    scikit-learn's ``GaussianMixture`` (EM, k-means start, ``random_state`` 0) on the codes and copies the
    weights, means and Cholesky factors of the covariances into the buffers; ``fitted`` says whether it ran.
    """

    weights: torch.Tensor
    loc: torch.Tensor
    scale_tril: torch.Tensor
    fitted: torch.Tensor

    def __init__(self, latent_dim: int, num_components: int = 10) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.num_components = num_components
        self.register_buffer("weights", torch.full((num_components,), 1.0 / num_components))
        self.register_buffer("loc", torch.zeros(num_components, latent_dim))
        self.register_buffer("scale_tril", torch.eye(latent_dim).expand(num_components, -1, -1).clone())
        self.register_buffer("fitted", torch.tensor(False))

    def forward(self) -> MixtureSameFamily:
        components = MultivariateNormal(self.loc, scale_tril=self.scale_tril, validate_args=False)  # batch (K,)
        return MixtureSameFamily(Categorical(probs=self.weights, validate_args=False), components, validate_args=False)

    @torch.no_grad()
    def fit_codes(self, codes: torch.Tensor) -> None:
        """Fit the mixture to ``codes: (N, D)`` by maximum likelihood (EM) and keep its parameters."""
        if len(codes) < self.num_components:
            raise UserError(
                f"the fitted-mixture prior fits {self.num_components} components to the training codes but there "
                f"are only {len(codes)}: set model.prior.components to at most {len(codes)}"
            )
        from sklearn.mixture import GaussianMixture  # lazily: scikit-learn slows every start by about a second

        data = codes.detach().double().cpu().numpy()
        mixture = GaussianMixture(self.num_components, covariance_type="full", random_state=0).fit(data)
        covariances = torch.from_numpy(np.asarray(mixture.covariances_))  # (K, D, D), float64
        self.weights.copy_(torch.from_numpy(np.asarray(mixture.weights_)))
        self.loc.copy_(torch.from_numpy(np.asarray(mixture.means_)))
        self.scale_tril.copy_(torch.linalg.cholesky(covariances))
        self.fitted.fill_(True)
