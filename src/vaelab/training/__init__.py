"""Training: the loop, schedules, checkpoints and seeding. The exported names are imported on first use
(``vaelab.lazy``), so the light modules of this package (the run directory's names) load without torch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vaelab.lazy import lazy_exports

if TYPE_CHECKING:
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

__getattr__ = lazy_exports(
    __name__,
    {
        name: "vaelab.training.schedules"
        if name in {"Constant", "Cyclical", "LinearRamp", "Schedule"}
        else "vaelab.training.trainer"
        for name in __all__
    },
)
