"""The command line starts without its heavy libraries: ``vaelab --help`` and every command's ``--help``
import neither torch, scikit-learn, matplotlib nor pandas, and the names the help lists are the registries'."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import get_args

import pytest

from vaelab.cli import choices

HEAVY = ("torch", "sklearn", "matplotlib", "pandas", "scipy")
COMMANDS = [
    [],
    ["train"],
    ["eval"],
    ["sample"],
    ["reconstruct"],
    ["interpolate"],
    ["encode"],
    ["detect"],
    ["synth"],
    ["impute"],
    ["denoise"],
    ["traverse"],
    ["report"],
    ["env"],
    ["config"],
    ["config", "show"],
    ["config", "models"],
]
PROBE = """
import contextlib, io, json, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["vaelab", *json.loads(sys.argv[1]), "--help"]
from vaelab.cli.main import app
with contextlib.redirect_stdout(io.StringIO()) as shown:
    try:
        app()
    except SystemExit:
        pass
print(json.dumps({"help": shown.getvalue(), "heavy": [m for m in heavy if m in sys.modules]}))
"""


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "vaelab")
def test_help_imports_no_heavy_library(command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(command), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    assert "Usage" in result["help"]
    assert result["heavy"] == [], f"vaelab {' '.join(command)} --help imported {result['heavy']}"


def test_help_names_are_the_registries() -> None:
    from vaelab.applications.anomaly.defaults import IMAGE_RATE_WEIGHT, MAX_TRAIN_ROWS, TABLE_RATE_WEIGHT
    from vaelab.applications.anomaly.scores import SCORES
    from vaelab.config.schema import ScheduleConfig
    from vaelab.data.schema import KINDS
    from vaelab.data.splits import FILE_SPLITS
    from vaelab.evaluation import suite
    from vaelab.evaluation.reference_classifier import ClassifierSettings
    from vaelab.models.build import REGISTRIES
    from vaelab.models.latent_paths import PATHS
    from vaelab.nn.sequence_decoding import DECODING_METHODS
    from vaelab.report.build import MAX_EXAMPLES
    from vaelab.training.hardware import PRECISIONS

    assert tuple(REGISTRIES["likelihood"]) == choices.LIKELIHOODS
    assert tuple(REGISTRIES["network"]) == choices.NETWORKS
    assert tuple(KINDS) == choices.KINDS
    assert get_args(ScheduleConfig.model_fields["kl"].annotation) == choices.KL_SCHEDULES
    assert tuple(PRECISIONS) == choices.PRECISIONS
    assert tuple(SCORES) == choices.SCORES
    assert tuple(PATHS) == choices.LATENT_PATHS
    assert DECODING_METHODS == choices.DECODINGS
    assert tuple(FILE_SPLITS) == choices.FILE_SPLITS
    assert tuple(suite.METRICS) == choices.METRICS
    assert suite.EvalSettings.votes == choices.DISENTANGLEMENT_VOTES
    assert ClassifierSettings.steps == choices.CLASSIFIER_STEPS
    assert choices.REPORT_EXAMPLES == MAX_EXAMPLES
    assert choices.DETECT_TRAIN_ROWS == MAX_TRAIN_ROWS
    assert choices.DETECT_RATE_WEIGHTS == (TABLE_RATE_WEIGHT, IMAGE_RATE_WEIGHT)


def test_import_vaelab_is_light_and_exports_resolve() -> None:
    probe = f"import sys, vaelab; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    import vaelab
    from vaelab.models.vae import VAE

    assert vaelab.VAE is VAE
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = vaelab.nothing  # type: ignore[attr-defined]
