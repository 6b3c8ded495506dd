"""Objectives: one estimator per file, each a frozen object ``(model, x, y) -> ObjectiveOutput``."""

from vaelab.objectives.base import Objective, ObjectiveOutput
from vaelab.objectives.elbo import ELBO
from vaelab.objectives.iwae import IWAE

OBJECTIVES: dict[str, type] = {"elbo": ELBO, "iwae": IWAE}

__all__ = ["ELBO", "IWAE", "OBJECTIVES", "Objective", "ObjectiveOutput"]
