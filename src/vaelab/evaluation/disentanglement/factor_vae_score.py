"""The FactorVAE disentanglement score (Kim & Mnih 2018, "Disentangling by Factorising", §4).

Each code dimension is divided by its standard deviation over the data, so the scores do not depend
on the codes' scales. One vote: pick a factor k uniformly; draw ``batch_size`` examples that all share
one value of factor k and are independent otherwise; the code dimension d* with the smallest
normalised variance Var_batch(z_d) / Var_data(z_d) over that batch votes for k. A majority-vote
classifier maps each dimension to the factor it got most training votes for; the score is the
fraction of fresh votes it gets right.

Estimator pinned as in disentanglement_lib (Locatello et al. 2019, ``factor_vae.py``): codes are the
latent *means*; Var_data is estimated on ``num_variance_estimate = 10,000`` examples, variances use
ddof = 1; ``batch_size = 64`` examples per vote, ``num_train = 10,000`` and ``num_eval = 5,000``
votes. Collapsed dimensions (Kim & Mnih prune them before voting) are those whose standard deviation
over the data is below ``prune_threshold = 0.05``: an absolute threshold, suited to the latent means of
a VAE with a standard-normal prior, whose active dimensions have a spread of order 1
(disentanglement_lib's threshold of 0 prunes nothing). With no dimension left the score is 0.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np

from vaelab.evaluation.disentanglement._validation import check_positive
from vaelab.evaluation.disentanglement.oracle import Encoder, FactorOracle, encode_factors


class FactorVAEScores(TypedDict):
    factor_vae_score: float
    train_accuracy: float
    num_active_dims: int


def _draw_votes(
    oracle: FactorOracle,
    encode: Encoder,
    num_votes: int,
    batch_size: int,
    active: np.ndarray,
    data_variance: np.ndarray,
    rng: np.random.Generator,
    chunk_size: int,
) -> np.ndarray:
    """Vote counts (K factors, A active dimensions) from ``num_votes`` fixed-factor batches.

    ``active`` masks the D code dimensions; ``data_variance`` (A,) holds the active ones' variances.
    """
    votes = np.zeros((len(oracle.factor_sizes), data_variance.size), dtype=np.int64)
    labels = rng.integers(len(oracle.factor_sizes), size=num_votes)
    votes_per_chunk = max(1, chunk_size // batch_size)
    for start in range(0, num_votes, votes_per_chunk):
        chunk_labels = labels[start : start + votes_per_chunk]
        fixed = np.repeat(chunk_labels, batch_size)  # (m * L,)
        factors = oracle.sample_factors(fixed.size, rng)
        rows = np.arange(fixed.size)
        first_of_batch = rows - rows % batch_size
        factors[rows, fixed] = factors[first_of_batch, fixed]  # one value of factor k per batch
        codes = encode_factors(oracle, encode, factors, chunk_size)[:, active]  # (m * L, A)
        batches = codes.reshape(-1, batch_size, codes.shape[1])  # (m, L, A)
        batch_variance = batches.var(axis=1, ddof=1)  # (m, A)
        winners = np.argmin(batch_variance / data_variance, axis=1)  # (m,)
        np.add.at(votes, (chunk_labels, winners), 1)
    return votes


def factor_vae_score(
    oracle: FactorOracle,
    encode: Encoder,
    *,
    batch_size: int = 64,
    num_train: int = 10_000,
    num_eval: int = 5_000,
    num_variance_estimate: int = 10_000,
    prune_threshold: float = 0.05,
    chunk_size: int = 4096,
    seed: int = 0,
) -> FactorVAEScores:
    """FactorVAE score of ``encode`` on data from ``oracle``: held-out vote accuracy in [0, 1]."""
    check_positive(num_train=num_train, num_eval=num_eval, chunk_size=chunk_size)
    if batch_size < 2 or num_variance_estimate < 2:
        raise ValueError("batch_size and num_variance_estimate must be at least 2 to estimate a variance")
    rng = np.random.default_rng(seed)
    sample = oracle.sample_factors(num_variance_estimate, rng)
    variance = encode_factors(oracle, encode, sample, chunk_size).var(axis=0, ddof=1)  # (D,)
    active = np.sqrt(variance) >= prune_threshold
    if not active.any():
        return {"factor_vae_score": 0.0, "train_accuracy": 0.0, "num_active_dims": 0}
    kept = variance[active]
    train_votes = _draw_votes(oracle, encode, num_train, batch_size, active, kept, rng, chunk_size)
    eval_votes = _draw_votes(oracle, encode, num_eval, batch_size, active, kept, rng, chunk_size)
    classifier = np.argmax(train_votes, axis=0)  # (A,): the factor each active dimension stands for
    dims = np.arange(classifier.size)
    return {
        "factor_vae_score": float(eval_votes[classifier, dims].sum() / eval_votes.sum()),
        "train_accuracy": float(train_votes[classifier, dims].sum() / train_votes.sum()),
        "num_active_dims": int(active.sum()),
    }
