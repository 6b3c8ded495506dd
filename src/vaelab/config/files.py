"""Reading and writing run configurations: YAML files plus dotted ``key=value`` overrides."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from vaelab.atomic import atomic_write_text
from vaelab.config.schema import RunConfig
from vaelab.errors import UserError
from vaelab.models.spec import PART_FIELDS, read_flat_fields

CONFIG_NAME = "config.yaml"


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no such config file: {path}")
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise UserError(f"{path} is not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(content, dict):
        raise UserError(f"{path} must hold a mapping of sections (data, model, objective, schedule, train)")
    return content


def set_dotted(tree: dict[str, Any], key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    node = tree
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise UserError(f"cannot set {key}: {part} is not a section")
    node[leaf] = value


def parse_assignments(assignments: Iterable[str]) -> dict[str, Any]:
    """``["train.epochs=3", "model.hidden_dims=[512, 256]"]`` -> nested dict (values parsed as YAML)."""
    tree: dict[str, Any] = {}
    for item in assignments:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--set expects key=value (for example train.epochs=3), got {item!r}")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        set_dotted(tree, key.strip(), value)
    return tree


def merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in update.items():
        out[k] = merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), dict) else v
    return out


def _forget_replaced_parts(tree: dict[str, Any], model: Mapping[str, Any]) -> dict[str, Any]:
    """``tree`` without the parts that ``model`` names differently: another part starts from its own defaults."""
    earlier = tree.get("model", {})
    replaced = {
        field
        for field in PART_FIELDS
        if isinstance(model.get(field), dict)
        and "name" in model[field]
        and isinstance(earlier.get(field), dict)
        and earlier[field].get("name") != model[field]["name"]
    }
    if not replaced:
        return tree
    return {**tree, "model": {k: v for k, v in earlier.items() if k not in replaced}}


def resolve_config(*layers: Mapping[str, Any]) -> RunConfig:
    """Merge layers (later wins) and validate; a bad key or value is one line naming it."""
    tree: dict[str, Any] = {}
    try:
        for layer in layers:
            model = layer.get("model")
            if isinstance(model, dict):  # parts as {name, **options}, so a later layer's option keeps the name
                model = read_flat_fields(model)
                layer = {**layer, "model": model}
                tree = _forget_replaced_parts(tree, model)
            tree = merge(tree, layer)
        return RunConfig.model_validate(tree)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UserError(f"bad config value for {where}: {first['msg']}") from None


def write_config(directory: Path, config: RunConfig) -> None:
    atomic_write_text(directory / CONFIG_NAME, yaml.safe_dump(config.model_dump(), sort_keys=False))


def read_run_config(directory: Path) -> RunConfig:
    return resolve_config(read_yaml(directory / CONFIG_NAME))
