"""``vaelab config show`` and ``vaelab env``: what a run would use, and what this machine has."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Annotated

import typer

from vaelab.cli.output import emit_json

config_app = typer.Typer(help="Inspect configurations.", no_args_is_help=True)


@config_app.command("show")
def show(
    config: Annotated[Path | None, typer.Option("--config", help="YAML config file")] = None,
    assignments: Annotated[list[str] | None, typer.Option("--set", help="override: key=value")] = None,
) -> None:
    """Print the fully resolved configuration (defaults + file + --set) as YAML."""
    import yaml

    from vaelab.config.files import parse_assignments, read_yaml, resolve_config

    layers = [read_yaml(config)] if config else []
    resolved = resolve_config(*layers, parse_assignments(assignments or []))
    print(yaml.safe_dump(resolved.model_dump(), sort_keys=False), end="")


@config_app.command("models")
def models() -> None:
    """List the model presets (--model NAME) and the parts a model is assembled from, each with its options and
    their defaults (--set model.likelihood=gaussian, --set model.likelihood.scale=decoder)."""
    from vaelab.config.build import OBJECTIVES
    from vaelab.config.presets import PRESETS
    from vaelab.models.build import REGISTRIES

    width = max(map(len, PRESETS))
    for name, preset in PRESETS.items():
        print(f"{name:{width}s} {preset.description} ({preset.paper})")
    print()
    for field, registry in REGISTRIES.items():
        parts = []
        for name, part in registry.items():
            defaults = ", ".join(f"{key}={value.default}" for key, value in part.options.model_fields.items())
            parts.append(f"{name} ({defaults})" if defaults else name)
        print(f"model.{field}: {' | '.join(parts)}")
    print(f"objective.name: {' | '.join(OBJECTIVES)}")


def env() -> None:
    """Versions of vaelab, Python, torch and the devices torch can see, as JSON."""
    import numpy
    import torch

    import vaelab

    emit_json(
        {
            "vaelab": vaelab.__version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "torch": torch.__version__,
            "numpy": numpy.__version__,
            "threads": torch.get_num_threads(),
            "cuda_available": torch.cuda.is_available(),
            "cuda_devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
        }
    )
