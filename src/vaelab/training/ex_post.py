"""Ex-post density estimation: once training has ended, fit the model's prior to the training set's codes
(Ghosh et al. 2020, "From variational to deterministic autoencoders", §4); ``fit`` calls it last."""

from __future__ import annotations

import torch

from vaelab.data.batch import dataset_batches
from vaelab.data.dataset import ArrayDataset
from vaelab.models import VAE
from vaelab.priors.fitted_mixture import ExPostPrior

CODES_BATCH = 1000  # rows encoded at a time


@torch.no_grad()
def fit_ex_post_prior(model: VAE, data: ArrayDataset, device: torch.device) -> bool:
    """Fit ``model.prior`` to the posterior means of every example of ``data`` when it is an ``ExPostPrior``;
    return whether it was. The model is left as it was (in evaluation mode, on ``device``)."""
    prior = model.prior
    if not isinstance(prior, ExPostPrior):
        return False
    codes = [
        model.encode(batch.x, batch.y, batch.mask, batch.graph).mean
        for batch in dataset_batches(data, CODES_BATCH, device)
    ]
    prior.fit_codes(torch.cat(codes))  # (N, D)
    return True
