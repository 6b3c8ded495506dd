"""The model's description: the plain data a saved model is rebuilt from, and what ``--set model.…`` sets.

It lives with the model (not in ``vaelab.config``) because it is part of the saved-model format: ``vaelab.load``
and the anomaly detector build from it without any run configuration.

Each part is chosen by name from its registry (``vaelab.models.build``) together with its own options:
``model.likelihood: {name: gaussian, scale: decoder}``, or just ``model.likelihood: gaussian`` for the
defaults. The part's entry in the registry says which options it takes (a pydantic model), so a part added
to a registry brings its options with it. ``auto`` lets vaelab choose the network and the likelihood from
the data, and the preset choose the prior and the posterior; options given with ``auto`` apply when the
chosen part takes them.

Configs and saved models written before parts had their own options used flat fields (``hidden_dims``,
``gaussian_scale``, ``prior_components``, ...); :data:`FLAT_FIELDS` reads them into the parts' options.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vaelab.data.limits import MAX_CLASSES
from vaelab.errors import UserError

AUTO = "auto"


class PartChoice(BaseModel):
    """A part by registry name, with its options (checked against the part's own options when it is built)."""

    model_config = ConfigDict(extra="allow")

    name: str = AUTO

    @model_validator(mode="before")
    @classmethod
    def _name_alone(cls, value: Any) -> Any:
        if value is None:  # configs written before parts had options: null meant the preset's part
            return {"name": AUTO}
        return {"name": value} if isinstance(value, str) else value

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


FLAT_FIELDS: dict[str, tuple[str, str, frozenset[str]]] = {
    "hidden_dims": ("network", "hidden_dims", frozenset({"mlp"})),
    "conv_channels": ("network", "channels", frozenset({"conv"})),
    "conv_hidden": ("network", "hidden", frozenset({"conv"})),
    "gaussian_scale": ("likelihood", "scale", frozenset({"gaussian"})),
    "logistic_components": ("likelihood", "components", frozenset({"logistic"})),
    "prior_components": ("prior", "components", frozenset({"mog", "vamp"})),
    "flow_steps": ("posterior", "steps", frozenset({"planar", "iaf"})),
    "hierarchy": ("posterior", "hierarchy", frozenset({"ladder"})),
    "min_scale": ("posterior", "min_scale", frozenset({"gaussian", "planar", "iaf", "ladder"})),
}
"""Flat field of earlier configs -> (part, option, the built-in parts that take it). A flat field set for a
part that does not take it was ignored then and is dropped now; with ``auto`` it is kept for the chosen part.
``min_scale`` also set the mixture prior's scale floor (see :func:`read_flat_fields`)."""
PART_FIELDS = ("network", "likelihood", "prior", "posterior")


def _part_choice(field: str, value: Any) -> PartChoice:
    try:
        return PartChoice.model_validate(value)
    except ValidationError:
        raise UserError(
            f"bad config value for model.{field}: {value!r}; give a name, or a mapping with name and options"
        ) from None


def read_flat_fields(tree: dict[str, Any]) -> dict[str, Any]:
    """A model config tree with its parts as ``{name, **options}`` and flat fields moved into the options of
    the parts that take them; a part's name appears only where the tree names it (so that merging layers of
    a config keeps a name given in one layer and options given in another)."""
    tree = dict(tree)
    parts = {field: _part_choice(field, tree.get(field, AUTO)) for field in PART_FIELDS}
    options = {field: part.options for field, part in parts.items()}
    for flat, (field, option, takers) in FLAT_FIELDS.items():
        value = tree.pop(flat, None)
        if value is None:
            continue
        if parts[field].name in takers | {AUTO}:
            options[field].setdefault(option, value)
        if flat == "min_scale" and parts["prior"].name in {"mog", AUTO}:
            options["prior"].setdefault("min_scale", value)
    for field, part in parts.items():
        raw = tree.get(field)
        named = isinstance(raw, str) or (isinstance(raw, dict) and "name" in raw)
        if named or options[field]:
            tree[field] = {**({"name": part.name} if named else {}), **options[field]}
    return tree


class ModelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    preset: str = "vae"  # see vaelab.config.presets.PRESETS
    latent_dim: int = Field(20, ge=1, le=1 << 16)
    network: PartChoice = PartChoice(name=AUTO)  # auto: conv for images of 32 x 32 and more, else mlp
    likelihood: PartChoice = PartChoice(name=AUTO)  # auto: from the data's values (see auto_likelihood)
    prior: PartChoice = PartChoice(name=AUTO)  # auto: the preset's
    posterior: PartChoice = PartChoice(name=AUTO)  # auto: the preset's
    fill: Literal["zero", "mean"] = "zero"  # what the encoder sees in a missing entry (mean: the training data's)
    mask_input: bool = False  # the encoder also sees which entries are observed (Nazabal et al. 2020, §3.2)
    classifier: bool = False  # q(y|x) beside q(z|x, y): a network of the encoder's kind (M2, Kingma et al. 2014)

    @model_validator(mode="before")
    @classmethod
    def _flat_fields(cls, value: Any) -> Any:
        return read_flat_fields(value) if isinstance(value, dict) else value


MAX_DATA_ELEMENTS = 1 << 31  # values in one example: far beyond any dataset, small enough that sizes stay int64


Share = Annotated[float, Field(ge=0, le=1)]


class DataFields(BaseModel):
    """The data fields of a spec (``resolve_spec`` writes them, a saved ``model.json`` holds them), checked
    before anything is sized by them: a damaged or hostile file must not ask for a negative or absurd size."""

    data_shape: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1, max_length=4)]
    kind: str | None = None  # None: specs saved before kinds existed
    levels: int | None = Field(None, ge=2)
    num_classes: int | None = Field(None, ge=0, le=MAX_CLASSES)
    condition_dim: int = Field(0, ge=0, le=1 << 16)
    vocabulary: dict[str, Any] | None = None  # sequences: the tokens (Vocabulary.to_dict), read by the builder
    columns: list[dict[str, Any]] | None = None  # mixed tables: one feature per column (schema.feature_dict)
    condition_columns: list[Annotated[int, Field(ge=0)]] | None = None  # categorical columns a model conditions on
    # ColumnsCondition's training shares (rows with nothing given, each column's chance in the others); None: its own
    condition_shares: Annotated[list[Share], Field(min_length=2, max_length=2)] | None = None
    fill_values: list[float] | None = None  # fill="mean": each entry's training mean, flattened

    @field_validator("data_shape")
    @classmethod
    def _bounded(cls, shape: list[int]) -> list[int]:
        if math.prod(shape) > MAX_DATA_ELEMENTS:
            raise ValueError(f"{shape} holds more than {MAX_DATA_ELEMENTS:,} values per example")
        return shape
