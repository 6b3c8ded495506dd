"""Reading and writing run configurations: YAML files plus dotted ``key=value`` overrides."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from vaelab.atomic import atomic_write_text
from vaelab.config.schema import RunConfig
from vaelab.errors import UserError, shown, validation_message
from vaelab.models.spec import PART_FIELDS, read_flat_fields
from vaelab.training.run_directory import CONFIG_NAME

__all__ = ["CONFIG_NAME", "read_run_config", "read_yaml", "resolve_config", "write_config"]
MAX_CONFIG_VALUES = 100_000  # values in a config once YAML aliases are expanded: real configs hold a few dozen


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no such config file: {path}")
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text; a config is a YAML file of sections") from None
    except RecursionError:
        raise UserError(f"{path} nests lists or mappings too deeply to read; a config is a few levels deep") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise UserError(f"{path} is not valid YAML{where}: {problem}; fix that line") from None
    if not isinstance(content, dict):
        raise UserError(f"{path} must hold a mapping of sections (data, model, objective, schedule, train)")
    _check_size(content, str(path))
    return content


def _check_size(content: Any, where: str) -> None:
    """UserError when ``content`` holds more than MAX_CONFIG_VALUES values once YAML aliases are expanded: a few
    lines of anchors can repeat a list a billion times (or put a list inside itself), and whatever walks the
    config afterwards (validation, writing it into the run directory) would not finish."""
    stack, count = [content], 0
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            node = [*node.keys(), *node.values()]
        if not isinstance(node, list | tuple | set):
            continue
        count += len(node)
        if count > MAX_CONFIG_VALUES:
            raise UserError(
                f"{where} expands to more than {MAX_CONFIG_VALUES:,} values (YAML aliases repeating a value, or "
                "holding it inside itself); write the values out"
            )
        stack += node


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
        except (yaml.YAMLError, RecursionError):  # not YAML (or nested too deeply to read): the text itself
            value = raw
        _check_size(value, f"--set {key.strip()}")
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
    if not isinstance(earlier, dict):  # an earlier layer's model is not a section: validation will say so
        return tree
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
        if first["type"] == "extra_forbidden":
            raise UserError(_unknown_key(tuple(str(p) for p in first["loc"]))) from None
        raise UserError(validation_message(error)) from None


def _unknown_key(loc: tuple[str, ...]) -> str:
    """The message for a config key no section has: the keys its section takes, and the closest one."""
    section: type[BaseModel] = RunConfig
    for part in loc[:-1]:
        annotation = section.model_fields[part].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            break
        section = annotation
    keys = list(section.model_fields)
    close = difflib.get_close_matches(loc[-1], keys, n=1)
    hint = f"did you mean {'.'.join((*loc[:-1], close[0]))}? " if close else ""
    where = shown(".".join(loc[:-1])) or "a config"
    return f"unknown config key {shown('.'.join(loc))}; {hint}{where} takes: {', '.join(keys)}"


def write_config(directory: Path, config: RunConfig) -> None:
    atomic_write_text(directory / CONFIG_NAME, yaml.safe_dump(config.model_dump(), sort_keys=False))


def read_run_config(directory: Path) -> RunConfig:
    return resolve_config(read_yaml(directory / CONFIG_NAME))
