"""Objectives: one estimator per file, each a frozen object ``(model, batch) -> ObjectiveOutput``."""

from vaelab.objectives.aae import AdversarialAutoencoder
from vaelab.objectives.base import Objective, ObjectiveOutput
from vaelab.objectives.beta_tcvae import BetaTCVAE
from vaelab.objectives.ciwae import CIWAE
from vaelab.objectives.dip_vae import DIPVAE
from vaelab.objectives.elbo import ELBO
from vaelab.objectives.factor_vae import FactorVAE
from vaelab.objectives.info_vae import InfoVAE
from vaelab.objectives.iwae import IWAE
from vaelab.objectives.m2 import M2
from vaelab.objectives.miwae import MIWAE
from vaelab.objectives.protocols import AdversarialObjective, BindableObjective, LabelledShareObjective

__all__ = [
    "CIWAE",
    "DIPVAE",
    "ELBO",
    "IWAE",
    "M2",
    "MIWAE",
    "AdversarialAutoencoder",
    "AdversarialObjective",
    "BetaTCVAE",
    "BindableObjective",
    "FactorVAE",
    "InfoVAE",
    "LabelledShareObjective",
    "Objective",
    "ObjectiveOutput",
]
