"""Training: the loop, schedules, checkpoints and seeding."""

from vaelab.training.schedules import Constant, Cyclical, LinearRamp, Schedule
from vaelab.training.trainer import TrainingDiverged, TrainResult, TrainSettings, evaluate_objective, fit

__all__ = [
    "Constant",
    "Cyclical",
    "LinearRamp",
    "Schedule",
    "TrainResult",
    "TrainSettings",
    "TrainingDiverged",
    "evaluate_objective",
    "fit",
]
