"""The encoder's view of a mixed table's rows: one-hot categories, log1p counts, scaled ordinal levels, and
continuous columns as they are or through asinh."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaelab.config.build import build_model, model_spec
from vaelab.config.schema import ModelConfig
from vaelab.data.dataset import ArrayDataset
from vaelab.data.schema import Feature
from vaelab.errors import UserError
from vaelab.nn.columns import ColumnEncoding

FEATURES = [
    Feature("size", "continuous"),
    Feature("colour", "categorical", categories=("red", "green", "blue")),
    Feature("visits", "count"),
    Feature("grade", "ordinal", levels=5),
    Feature("member", "binary", levels=2),
]
ROWS = torch.tensor([[-30.0, 2.0, 9.0, 4.0, 1.0], [0.5, 0.0, 0.0, 2.0, 0.0]])  # (B=2, D=5) model space


@pytest.mark.parametrize("asinh", [False, True])
def test_each_kind_enters_the_encoder_as_documented(asinh: bool) -> None:
    out = ColumnEncoding(FEATURES, asinh=asinh)(ROWS)  # numbers (size, visits, grade, member), then one-hot colour
    size = torch.asinh(ROWS[:, 0]) if asinh else ROWS[:, 0]
    expected = torch.stack([size, torch.log1p(ROWS[:, 2]), ROWS[:, 3] / 4, ROWS[:, 4], *torch.eye(3)[[2, 0]].T], dim=-1)
    assert torch.allclose(out, expected)
    if asinh:  # the same near 0, logarithmic in the tails: 30 standard deviations read as about 4.1
        assert out[1, 0] == pytest.approx(0.4812, abs=1e-4) and out[0, 0] == pytest.approx(-4.0946, abs=1e-4)


def test_asinh_input_is_a_network_option_of_tables_only() -> None:
    images = ArrayDataset(np.zeros((4, 1, 4, 4), np.uint8), None, 2, "toy")
    config = ModelConfig(network={"name": "mlp", "continuous_input": "asinh"}, latent_dim=2)  # type: ignore[arg-type]
    with pytest.raises(UserError, match="continuous_input applies to tables"):
        build_model(model_spec(config, images))


def test_a_tabular_vae_keeps_its_asinh_input_through_save_and_load(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    from vaelab import TabularVAE

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"income": rng.lognormal(0, 2, 200), "city": rng.choice(["a", "b"], 200)})
    model = TabularVAE(epochs=2, latent_dim=2, hidden_dims=[8], threads=1, continuous_input="asinh", validation=0)
    model.fit(frame)
    model.save(tmp_path)
    loaded = TabularVAE.load(tmp_path)
    assert loaded.settings.continuous_input == "asinh"
    assert loaded.model.encoder[0].squashed.tolist() == [True]
    assert loaded.sample(20, random_state=1).equals(model.sample(20, random_state=1))


def test_vaelab_train_takes_asinh_input_integer_floor_and_atoms_for_a_csv(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import json

    from tests.helpers import run_cli

    import vaelab

    rng = np.random.default_rng(0)
    lines = ["income,city,visits"] + [
        f"{rng.lognormal(0, 2):.3f},{rng.choice(['a', 'b'])},{rng.integers(0, 5)}" for _ in range(80)
    ]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    run_dir = tmp_path / "run"
    args = ["train", "--data", str(tmp_path / "t.csv"), "--epochs", "1", "--no-progress"]  # the report included
    asinh = ["--set", "model.network.continuous_input=asinh", "--set", "model.likelihood.integer_floor=0.1"]
    asinh += ["--set", "model.likelihood.atom_share=0.05"]
    code, _, err = run_cli([*args, *asinh, "--out", str(run_dir)], capsys, monkeypatch)
    assert code == 0, err
    assert (run_dir / "report.html").stat().st_size > 0
    code, _, err = run_cli(["eval", str(run_dir), "--synthetic"], capsys, monkeypatch)  # atoms drawn, then scored
    assert code == 0, err
    assert (run_dir / "eval-synthetic.json").exists()
    spec = json.loads((run_dir / "model.json").read_text())["spec"]
    assert spec["model"]["network"]["continuous_input"] == "asinh"
    assert spec["model"]["likelihood"]["integer_floor"] == 0.1
    model = vaelab.load(run_dir)
    encoding = model.encoder[0]
    assert isinstance(encoding, ColumnEncoding)
    assert encoding.squashed.tolist() == [True, True]  # income and visits, both read as continuous numbers here
    floors = model.likelihood.families[0].floors  # income (3 decimals) keeps min_scale; visits is whole numbers
    visits = next(f for f in model.likelihood.features if f.name == "visits")
    assert floors.tolist() == pytest.approx([1e-3, min(1e-3, 0.1 / visits.scale)])
    atoms = model.likelihood.families[0].atoms.tolist()  # visits' most frequent count; income's values all differ
    assert np.isnan(atoms[0]) and atoms[1] == pytest.approx((visits.mode - visits.loc) / visits.scale)


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        (["model.likelihood.continuous=gaussian", "model.likelihood.atom_share=0.05"], "atom_share needs"),
        (["model.likelihood.atom_share=1.5"], "atom_share"),
    ],
)
def test_vaelab_train_names_a_bad_atom_share_in_one_line(tmp_path, capsys, monkeypatch, setting, needle) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import run_cli

    (tmp_path / "t.csv").write_text("gain,city\n" + "".join(f"{i % 3 * 100},{'ab'[i % 2]}\n" for i in range(40)))
    args = ["train", "--data", str(tmp_path / "t.csv"), "--epochs", "1", "--no-progress", "--no-report"]
    sets = [part for item in setting for part in ("--set", item)]
    code, _, err = run_cli([*args, *sets, "--out", str(tmp_path / "run")], capsys, monkeypatch)
    assert code != 0 and needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "run").exists()
