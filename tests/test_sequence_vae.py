"""The sequence VAE end to end: it learns token sequences, combines with other objectives, saves and
loads, and refuses parts that do not fit sequences with one line."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import run_cli
from vaelab import load
from vaelab.config.build import build_model, model_spec
from vaelab.config.schema import ModelConfig
from vaelab.data.registry import load_dataset
from vaelab.data.sequences import SequenceOptions
from vaelab.errors import UserError
from vaelab.evaluation.molecule_samples import reconstruction_accuracy
from vaelab.objectives import ELBO, IWAE
from vaelab.training import TrainSettings, fit

MOLECULES = ["CCO", "c1ccccc1", "CC(=O)O", "CCN(CC)CC", "Clc1ccccc1", "CC(C)Br", "c1ccc2[nH]ccc2c1", "C1CCCCC1"]
SMALL = {"embedding_dim": 16, "encoder_hidden": 32, "decoder_hidden": 64}


@pytest.fixture(scope="module")
def molecules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("smiles") / "molecules.smi"
    path.write_text("\n".join(MOLECULES * 12) + "\n", encoding="utf-8")
    return path


def sequence_vae(data, network: str = "gru", **model: object):  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    config = ModelConfig(network={"name": network, **SMALL}, latent_dim=4, **model)  # type: ignore[arg-type]
    return build_model(model_spec(config, data))


@pytest.mark.parametrize("network", ["gru", "conv1d"])
def test_the_sequence_vae_learns_to_reconstruct_its_molecules(molecules: Path, network: str) -> None:
    data = load_dataset(str(molecules), "all", sequences=SequenceOptions())
    model = sequence_vae(data, network)
    before = model.elbo(torch.from_numpy(np.asarray(data.x)).long()).mean()
    # free bits keep the autoregressive decoder from ignoring z (Kingma et al. 2016; Bowman et al. 2016, §3.1)
    fit(model, ELBO(free_bits=1.0), data, None, TrainSettings(epochs=60, batch_size=32, lr=3e-3, progress=False))
    x = torch.from_numpy(np.asarray(data.x[:8])).long()
    assert model.elbo(x).mean() > before + 5
    texts = data.vocabulary.texts(model.reconstruct(x).numpy())
    assert sum(t == m for t, m in zip(texts, MOLECULES, strict=True)) >= 7, texts
    # JT-VAE's protocol (codes drawn from q, tokens sampled) on the 8 molecules: most decodings come back
    assert reconstruction_accuracy(model, data.subset(np.arange(8)), 8, encodings=3, decodings=3) > 0.5


def test_sequences_combine_with_iwae_and_a_mixture_prior(molecules: Path) -> None:
    data = load_dataset(str(molecules), "all", sequences=SequenceOptions())
    model = sequence_vae(data, prior={"name": "mog", "components": 3})
    result = fit(model, IWAE(num_samples=3), data, None, TrainSettings(epochs=2, batch_size=32, progress=False))
    assert np.isfinite(result.history[-1]["train"]["elbo"])
    x = torch.from_numpy(np.asarray(data.x[:4])).long()
    assert torch.isfinite(model.elbo(x, num_samples=5)).all()


def test_a_saved_sequence_model_loads_with_its_vocabulary(molecules: Path, tmp_path: Path) -> None:
    data = load_dataset(str(molecules), "all", sequences=SequenceOptions())
    model = sequence_vae(data)
    model.save(tmp_path)
    loaded = load(tmp_path)
    assert loaded.vocabulary == data.vocabulary
    x = torch.from_numpy(np.asarray(data.x[:4])).long()
    torch.manual_seed(1)
    first = model.elbo(x)
    torch.manual_seed(1)
    torch.testing.assert_close(loaded.elbo(x), first)
    assert torch.equal(loaded.reconstruct(x), model.reconstruct(x))


def test_parts_that_do_not_fit_sequences_are_one_line(molecules: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    data = load_dataset(str(molecules), "all", sequences=SequenceOptions())
    with pytest.raises(UserError, match="need a sequence network"):
        build_model(model_spec(ModelConfig(network="mlp"), data))
    code, _, err = run_cli(["train", "--network", "gru", "--epochs", "1", "--no-progress"], capsys, monkeypatch)
    assert code == 1 and "needs token sequences" in err and err.count("\n") == 1


def test_interpolate_goes_between_two_given_molecules(molecules: Path, tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    run, out = tmp_path / "run", tmp_path / "path.smi"
    small = ["--set", "model.network.decoder_hidden=32", "--set", "model.network.encoder_hidden=16"]
    args = ["train", "--data", str(molecules), "--epochs", "1", "--no-progress", "--no-report", *small]
    assert run_cli([*args, "--out", str(run)], capsys, monkeypatch)[0] == 0
    between = ["interpolate", str(run), "--steps", "5", "--method", "lerp", "--out", str(out)]
    code, _, err = run_cli([*between, "--between", "OCC", "--between", "c1ccccc1"], capsys, monkeypatch)
    assert code == 0, err
    assert len(out.read_text().splitlines()) == 1 and out.read_text().count("\t") == 4  # one path of 5 points
    for texts, message in [
        (["CCO"], "--between takes exactly two texts"),
        (["CCO", "C[Si](C)C"], "--between line 2: the token '[Si]' is not in the given vocabulary"),
        (["CCO", "C1CC"], "--between line 2: 'C1CC': RDKit cannot read it"),
    ]:
        out.unlink(missing_ok=True)
        code, _, err = run_cli([*between, *(f"--between={text}" for text in texts)], capsys, monkeypatch)
        assert code == 1 and message in err and err.count("\n") == 1, err
        assert not out.exists()


def test_the_canonical_training_set_is_cached_by_the_stored_ids(molecules: Path, tmp_path: Path) -> None:
    from vaelab.evaluation.molecule_samples import training_set

    data = load_dataset(str(molecules), "all", sequences=SequenceOptions())
    first = training_set(data, tmp_path)
    assert first == frozenset(MOLECULES)  # canonical already
    (cached,) = tmp_path.glob("training-*.txt.gz")
    cached.write_bytes(gzip.compress(b"CCO"))  # what the cache holds is what comes back
    assert training_set(data, tmp_path) == frozenset({"CCO"})
    assert training_set(data.subset(np.arange(3)), tmp_path) == frozenset(MOLECULES[:3])  # other rows, other key


def test_the_report_draws_molecules_and_sets_the_moses_figures_beside_the_published_rows(molecules: Path) -> None:
    from vaelab.report.html import Gallery, Table
    from vaelab.report.molecule_table import MOSES_PUBLISHED, molecule_metrics_section, moses_table
    from vaelab.report.sequence_sections import sequence_sections

    data = load_dataset(str(molecules), "all", sequences=SequenceOptions())
    evals = {"test": {"molecules/valid": 0.5, "molecules/FCD/Test": 3.25, "molecule_samples": 40}}
    sections = sequence_sections(sequence_vae(data), data, "")
    assert [s.title for s in sections] == ["Samples", "Reconstructions", "Interpolations"]
    for section in sections:  # RDKit's drawings, untrained samples (mostly invalid) included
        (gallery,) = section.blocks
        assert isinstance(gallery, Gallery) and gallery.images[0].png.startswith(b"\x89PNG")
    metrics = molecule_metrics_section(evals)
    assert metrics is not None and metrics.title == "Molecule metrics"
    table = moses_table(evals)
    assert isinstance(table, Table) and len(table.rows) == 1 + len(MOSES_PUBLISHED)
    assert table.rows[0][:4] == ["this run, test (40 sampled)", "0.500", "—", "3.250"]
    assert molecule_metrics_section({"test": {"nll": 1.0}}) is None
    assert moses_table({"test": {"nll": 1.0}}) is None


@pytest.mark.slow  # about 11 s, most of it ChemNet and RDKit's first use
def test_eval_molecules_scores_sampled_molecules_with_the_moses_figures(
    molecules: Path, tmp_path: Path, capsys, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import json

    run = tmp_path / "run"
    small = ["--set", "model.network.decoder_hidden=64", "--set", "model.network.encoder_hidden=32"]
    args = ["train", "--data", str(molecules), "--epochs", "2", "--no-progress", "--no-report", *small]
    assert run_cli([*args, "--out", str(run)], capsys, monkeypatch)[0] == 0
    eval_args = [
        "eval",
        str(run),
        "--molecules",
        "--molecule-samples",
        "40",
        "--reconstructed-molecules",
        "3",
        "--json",
    ]
    code, out, err = run_cli([*eval_args, "--cache-dir", str(tmp_path / "cache")], capsys, monkeypatch)
    assert code == 0, err
    figures = json.loads(out)
    assert 0 <= figures["molecules/valid"] <= 1 and figures["molecule_samples"] == 40
    assert 0 <= figures["molecules/reconstruction_accuracy"] <= 1
    assert {"molecules/FCD/Test", "molecules/SNN/Test", "molecules/IntDiv", "molecules/Novelty"} <= set(figures)
    assert list((tmp_path / "cache" / "molecule-references").glob("*.safetensors"))  # the reference, cached
    assert list((tmp_path / "cache" / "molecule-references").glob("training-*.txt.gz"))  # and the training set
    assert figures["molecule_decoding"] == "sampled"
    for options, decoding in ((["--decoding", "greedy"], "greedy"), (["--decoding", "beam", "--beam-width", "2",
                               "--smiles-syntax"], "beam of 2, SMILES syntax")):  # fmt: skip
        code, out, err = run_cli([*eval_args, *options, "--cache-dir", str(tmp_path / "cache")], capsys, monkeypatch)
        assert code == 0, err
        assert json.loads(out)["molecule_decoding"] == decoding and 0 <= json.loads(out)["molecules/valid"] <= 1
    code, _, err = run_cli([*eval_args, "--decoding", "best"], capsys, monkeypatch)
    assert code == 1 and "unknown --decoding 'best'" in err
    code, _, err = run_cli(["eval", str(run), "--molecules", "--molecule-samples", "0"], capsys, monkeypatch)
    assert code == 1 and "--molecule-samples and --reconstructed-molecules must be at least 1" in err


def test_greedy_molecule_samples_are_the_most_likely_tokens_of_prior_codes(molecules: Path) -> None:
    from vaelab.evaluation.molecule_samples import sampled_texts
    from vaelab.nn.sequence_decoding import TokenDecoding

    model = sequence_vae(load_dataset(str(molecules), "all", sequences=SequenceOptions())).eval()
    torch.manual_seed(3)
    z = model.prior_sample(6)  # (6, D): the codes sampled_texts draws under the same seed
    expected = model.vocabulary.texts(model.examples(z, mean=True).numpy())
    torch.manual_seed(3)
    assert sampled_texts(model, 6, TokenDecoding("greedy")) == ["" if text is None else text for text in expected]
