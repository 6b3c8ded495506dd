"""Parts with their own options: how a config names a part and sets its options, and how configs and saved
models written before parts had options (flat fields) still read."""

from __future__ import annotations

import numpy as np
import pytest

from vaelab.config.build import build_model, model_spec
from vaelab.config.files import resolve_config
from vaelab.data.dataset import ArrayDataset
from vaelab.errors import UserError
from vaelab.models.spec import ModelConfig

DIGITS_LIKE = ArrayDataset(np.zeros((4, 1, 28, 28), np.uint8), None, 2, "binary")

FLAT_SPEC = {  # model.json of an hvae-vamp run saved before parts had options
    "model": {
        "preset": "hvae-vamp",
        "network": "mlp",
        "latent_dim": 20,
        "hidden_dims": [300, 300],
        "conv_channels": [32, 32, 64, 64],
        "conv_hidden": 256,
        "likelihood": "bernoulli",
        "prior": "vamp",
        "posterior": "ladder",
        "gaussian_scale": "learned",
        "logistic_components": 1,
        "min_scale": 0.0001,
        "prior_components": 50,
        "flow_steps": 4,
        "hierarchy": None,
    },
    "data_shape": [1, 28, 28],
    "levels": 2,
    "num_classes": None,
    "condition_dim": 0,
}


def test_a_spec_saved_with_flat_fields_builds_the_same_model() -> None:
    old = build_model(FLAT_SPEC)
    config = ModelConfig.model_validate(FLAT_SPEC["model"])
    assert config.network.options == {"hidden_dims": [300, 300]}  # conv fields did not apply to the mlp
    assert config.prior.options == {"components": 50} and config.posterior.name == "ladder"
    nested = {
        "preset": "hvae-vamp",
        "latent_dim": 20,
        "network": {"name": "mlp", "hidden_dims": [300, 300]},
        "likelihood": "bernoulli",
        "prior": {"name": "vamp", "components": 50},
        "posterior": "ladder",
    }
    new = build_model(model_spec(ModelConfig.model_validate(nested), DIGITS_LIKE))
    assert {k: v.shape for k, v in old.state_dict().items()} == {k: v.shape for k, v in new.state_dict().items()}
    assert old.data_kind == "image" and new.spec["model"]["prior"] == {"name": "vamp", "components": 50}


def test_a_run_config_with_flat_fields_and_nulls_still_resolves() -> None:
    flat = {"preset": "planar", "network": "auto", "hidden_dims": [64], "prior": None, "posterior": None}
    config = resolve_config({"model": {**flat, "flow_steps": 7, "prior_components": 9, "min_scale": 0.01}}).model
    assert config.posterior.name == "auto" and config.posterior.options == {"steps": 7, "min_scale": 0.01}
    spec = model_spec(config, DIGITS_LIKE)
    assert spec["model"]["posterior"] == {"name": "planar", "min_scale": 0.01, "steps": 7}
    assert spec["model"]["prior"] == {"name": "standard-normal"}  # the preset's prior takes no components
    assert spec["model"]["network"] == {"name": "mlp", "hidden_dims": [64], "continuous_input": "standardised"}


def test_a_later_layer_sets_options_and_keeps_the_earlier_name() -> None:
    config = resolve_config(
        {"model": {"network": "conv", "likelihood": {"name": "gaussian", "scale": "decoder"}}},
        {"model": {"network": {"channels": [8, 8]}, "likelihood": {"min_scale": 0.1}}},
    ).model
    assert config.network.name == "conv" and config.network.options == {"channels": [8, 8]}
    assert config.likelihood.options == {"scale": "decoder", "min_scale": 0.1}
    replaced = resolve_config(
        {"model": {"likelihood": {"name": "gaussian", "scale": 0.5}}}, {"model": {"likelihood": "bernoulli"}}
    )
    assert replaced.model.likelihood.name == "bernoulli"


def test_options_a_named_part_does_not_take_are_one_line_errors() -> None:
    data = ArrayDataset(np.zeros((4, 3), np.float32), None, None, "table")
    with pytest.raises(
        UserError,
        match=r"model.network.channels does not apply to the mlp network \(it takes hidden_dims, continuous_input\)",
    ):
        model_spec(ModelConfig.model_validate({"network": {"name": "mlp", "channels": [4]}}), data)
    with pytest.raises(UserError, match=r"bad config value for model.likelihood.scale"):
        model_spec(ModelConfig.model_validate({"likelihood": {"name": "gaussian", "scale": -1.0}}), data)
    with pytest.raises(UserError, match="unknown prior 'cauchy'"):
        model_spec(ModelConfig.model_validate({"prior": "cauchy"}), data)
    auto = model_spec(ModelConfig.model_validate({"network": {"channels": [4], "hidden_dims": [5]}}), data)
    network = {"name": "mlp", "hidden_dims": [5], "continuous_input": "standardised"}
    assert auto["model"]["network"] == network  # auto: the chosen part's options apply
    with pytest.raises(UserError, match=r"bad config value for model.network"):
        resolve_config({"model": {"network": 5}})
