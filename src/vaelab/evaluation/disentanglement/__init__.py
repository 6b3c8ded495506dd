"""Disentanglement metrics, one estimator per file, each pinned to disentanglement_lib's choices.

MIG, DCI and SAP score a table of latent means ``codes`` (N, D) against ground-truth ``factors``
(N, K). The BetaVAE and FactorVAE scores intervene on the factors, so they take a ``FactorOracle`` that
draws and renders factors, and an ``encode`` function. Every metric returns a dict of named scores.
"""

from vaelab.evaluation.disentanglement.beta_vae_score import beta_vae_score
from vaelab.evaluation.disentanglement.dci import dci
from vaelab.evaluation.disentanglement.factor_vae_score import factor_vae_score
from vaelab.evaluation.disentanglement.mig import mig
from vaelab.evaluation.disentanglement.oracle import Encoder, FactorOracle
from vaelab.evaluation.disentanglement.sap import sap

__all__ = ["Encoder", "FactorOracle", "beta_vae_score", "dci", "factor_vae_score", "mig", "sap"]
