"""The MOSES molecule metrics (``vaelab.evaluation.molecules``): each figure on hand-made cases whose answer
is known, the fingerprint kernels against RDKit's own Tanimoto, the FCD against fcd_torch's, the filter
screen against trying every pattern, the reference file's round trip, and the one-line error without
RDKit. The bar on the real MOSES sets is ``bench/molecules/metrics_check.py``."""

from __future__ import annotations

import importlib.util
import io
import math
import pickle
import random
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from vaelab.errors import UserError

HAVE_MOLECULES = all(importlib.util.find_spec(name) is not None for name in ("rdkit", "fcd_torch"))
needs_molecules = pytest.mark.skipif(not HAVE_MOLECULES, reason="needs the extra vaelab[molecules] (RDKit, fcd_torch)")

DRUGS = [
    "CC(=O)Nc1ccc(O)cc1",
    "CC(=O)Oc1ccccc1C(=O)O",
    "CC(C)Cc1ccc(C(C)C(=O)O)cc1",
    "CN1CCC[C@H]1c1cccnc1",
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
    "CCc1ccc(Cc2ccccc2)cc1",
    "O=C(Nc1ccccc1)c1ccncc1",
    "CC1CCN(C(=O)c2ccccc2)CC1",
    "Cc1ccc2c(c1)CCN2C(=O)C1CC1",
    "COc1ccc(CCN)cc1OC",
]


def molecules(smiles: list[str]) -> list:
    from rdkit import Chem

    return [Chem.MolFromSmiles(s) for s in smiles]


def packed(smiles: list[str]) -> np.ndarray:
    from vaelab.evaluation.molecules.fingerprints import morgan_bits

    return np.stack([morgan_bits(m) for m in molecules(smiles)])


def random_molecules(count: int, seed: int = 0) -> list[str]:
    """Valid, varied and often odd molecules (charges, rare atoms, PAINS motifs) from random SELFIES."""
    import selfies

    from vaelab.evaluation.molecules.parsing import canonical_smiles

    alphabet = sorted(selfies.get_semantic_robust_alphabet())
    rng = random.Random(seed)
    found: list[str] = []
    while len(found) < count:
        smiles = canonical_smiles(selfies.decoder("".join(rng.choices(alphabet, k=rng.randint(8, 30)))))
        if smiles is not None and "." not in smiles:
            found.append(smiles)
    return found


def test_without_rdkit_the_package_imports_and_asking_for_a_metric_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in sys.modules if name.startswith("vaelab.evaluation.molecules")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "rdkit", None)  # what an environment without RDKit looks like to imports
    package = importlib.import_module("vaelab.evaluation.molecules")
    with pytest.raises(UserError) as raised:
        package.molecule_metrics  # noqa: B018 (the attribute access is what raises)
    assert str(raised.value) == (
        "the molecule metrics need rdkit, which is not installed; pip install 'vaelab[molecules]'"
    )


@needs_molecules
def test_validity_counts_unparsable_and_empty_strings_as_invalid() -> None:
    from vaelab.evaluation.molecules.features import molecule_features
    from vaelab.evaluation.molecules.validity import fraction_valid

    features = molecule_features(["CCO", "C1CC", "", "c1ccccc1", "CC(C)(C)(C)(C)C"])
    assert features.canonical == ["CCO", None, None, "c1ccccc1", None]
    assert fraction_valid(features.canonical) == pytest.approx(0.4)
    assert features.valid == ["CCO", "c1ccccc1"]
    assert len(features.fingerprints) == len(features.properties["QED"]) == 2


@needs_molecules
def test_unusual_valid_molecules_are_described_without_error() -> None:
    from vaelab.evaluation.molecules.features import molecule_features

    unusual = ["[Na+].[Cl-]", "[H][H]", "[He]", "C[Si](C)(C)C", "[2H]C", "[CH3]", "[Fe]", "*C", "C1CC2CCC1C2"]
    features = molecule_features(unusual)
    assert None not in features.canonical
    assert features.passes_filters is not None
    assert features.passes_filters.tolist() == [False, True, False, False, True, True, False, False, True]
    assert list(features.scaffolds) == ["C1CC2CCC1C2"]  # norbornane: two rings


@needs_molecules
def test_uniqueness_compares_canonical_forms_within_the_first_k() -> None:
    from vaelab.evaluation.molecules.features import molecule_features
    from vaelab.evaluation.molecules.uniqueness import fraction_unique

    valid = molecule_features(["CCO", "OCC", "c1ccccc1", "C1=CC=CC=C1"]).valid  # each molecule twice
    with pytest.warns(UserWarning, match="unique@1000 is computed on only 4 valid molecules"):
        assert fraction_unique(valid, 1000) == 0.5
    assert fraction_unique(valid, 2) == 0.5
    assert fraction_unique(valid * 500, 1000) == 0.002  # only the first 1000 count


@needs_molecules
def test_novelty_is_zero_for_the_training_set_and_one_for_new_molecules() -> None:
    from vaelab.evaluation.molecules.novelty import canonical_set, novelty

    training = canonical_set([*DRUGS, "not a molecule"])
    assert len(training) == len(DRUGS)
    assert novelty(sorted(training), training) == 0.0
    assert novelty(sorted(canonical_set(["OCC", "CC(=O)Oc1ccccc1C(O)=O"])), training) == 0.5  # ethanol is new


@needs_molecules
def test_fragments_and_scaffolds_of_known_molecules() -> None:
    from vaelab.evaluation.molecules.fragments import brics_fragments
    from vaelab.evaluation.molecules.scaffolds import murcko_scaffold

    ethyl_benzoate, diphenylmethane, toluene = molecules(["CCOC(=O)c1ccccc1", "CCc1ccc(Cc2ccccc2)cc1", "Cc1ccccc1"])
    assert sorted(brics_fragments(ethyl_benzoate)) == ["[1*]C([6*])=O", "[16*]c1ccccc1", "[3*]O[3*]", "[4*]CC"]
    assert brics_fragments(toluene) == ["Cc1ccccc1"]  # nothing BRICS may cut
    assert murcko_scaffold(diphenylmethane) == "c1ccc(Cc2ccccc2)cc1"
    assert murcko_scaffold(toluene) is None  # one ring: MOSES counts scaffolds of two rings or more


@needs_molecules
def test_cosine_similarity_of_counts() -> None:
    from vaelab.evaluation.molecules.counts import cosine_similarity

    assert cosine_similarity({"a": 2, "b": 4}, {"a": 1, "b": 2}) == pytest.approx(1.0)
    assert cosine_similarity({"a": 1}, {"b": 3}) == 0.0
    assert cosine_similarity({"a": 1, "b": 1}, {"a": 5}) == pytest.approx(1 / math.sqrt(2))
    assert math.isnan(cosine_similarity({}, {"a": 1}))


@needs_molecules
def test_fingerprints_are_the_bits_moses_asks_rdkit_for() -> None:
    from rdkit.Chem import AllChem

    expected = [
        np.packbits(np.array(list(AllChem.GetMorganFingerprintAsBitVect(m, 2, nBits=1024)), dtype=np.uint8))
        for m in molecules(DRUGS)
    ]
    np.testing.assert_array_equal(packed(DRUGS), np.stack(expected))


@needs_molecules
def test_blocked_tanimoto_equals_rdkit_bulk_tanimoto(monkeypatch: pytest.MonkeyPatch) -> None:
    from rdkit import DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    from vaelab.evaluation.molecules import tanimoto
    from vaelab.evaluation.molecules.diversity import internal_diversity
    from vaelab.evaluation.molecules.snn import snn

    monkeypatch.setattr(tanimoto, "QUERY_BLOCK", 7)  # several uneven blocks each way
    monkeypatch.setattr(tanimoto, "REFERENCE_BLOCK", 5)
    generated, reference = random_molecules(23, seed=1), random_molecules(17, seed=2) + DRUGS
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    gen_fps, ref_fps = ([generator.GetFingerprint(m) for m in molecules(s)] for s in (generated, reference))
    similarity = np.array([DataStructs.BulkTanimotoSimilarity(fp, ref_fps) for fp in gen_fps])  # (23, 27)
    among = np.array([DataStructs.BulkTanimotoSimilarity(fp, gen_fps) for fp in gen_fps])
    assert snn(packed(generated), packed(reference)) == pytest.approx(similarity.max(1).mean(), abs=1e-6)
    assert internal_diversity(packed(generated), 1) == pytest.approx(1 - among.mean(), abs=1e-6)
    expected_2 = 1 - np.sqrt((among**2).mean(1)).mean()  # MOSES: the root per molecule, then the mean
    assert internal_diversity(packed(generated), 2) == pytest.approx(expected_2, abs=1e-6)


@needs_molecules
def test_snn_of_a_set_with_itself_is_one_and_intdiv_of_copies_is_zero() -> None:
    from vaelab.evaluation.molecules.diversity import internal_diversity
    from vaelab.evaluation.molecules.snn import snn
    from vaelab.evaluation.molecules.tanimoto import max_similarity

    assert snn(packed(DRUGS), packed(DRUGS)) == pytest.approx(1.0)
    assert internal_diversity(packed(["CCO"] * 5), 1) == pytest.approx(0.0)
    assert internal_diversity(packed(["CCO"] * 5), 2) == pytest.approx(0.0)
    empty, ethanol = np.zeros((1, 128), np.uint8), packed(["CCO"])
    assert max_similarity(np.repeat(empty, 2, 0), np.repeat(empty, 3, 0)).tolist() == [1.0, 1.0]  # MOSES: 0/0 = 1
    assert max_similarity(empty, ethanol).tolist() == [0.0]
    assert max_similarity(empty, np.concatenate([ethanol, empty])).tolist() == [1.0]
    assert max_similarity(ethanol, empty).tolist() == [0.0]


@needs_molecules
def test_filters_reject_pains_charges_foreign_atoms_and_large_rings() -> None:
    from vaelab.evaluation.molecules.filters import fraction_passing, matching_patterns, passes_filters

    rhodanine, catechol, paracetamol = molecules(["S=C1SC(=Cc2ccccc2)C(=O)N1", "Oc1ccccc1O", "CC(=O)Nc1ccc(O)cc1"])
    assert matching_patterns(rhodanine) == ["<regId=ene_rhod_A(235)>"]
    assert matching_patterns(catechol) == ["<regId=catechol_A(92)>"]
    flags = [passes_filters(m) for m in molecules(["C[N+](C)(C)C", "CCP", "C1CCCCCCC1", "C1CCCCCC1"])]
    assert flags == [False, False, False, True]  # charge, phosphorus, 8-ring; a 7-ring passes
    passed = np.array([passes_filters(m) for m in (rhodanine, catechol, paracetamol)])
    assert passed.tolist() == [False, False, True]
    assert fraction_passing(passed) == pytest.approx(1 / 3)


@needs_molecules
def test_filter_screen_gives_the_answer_of_trying_every_pattern() -> None:
    from rdkit import Chem

    from vaelab.evaluation.molecules.filters import matching_patterns, patterns

    hits = 0
    for molecule in molecules(random_molecules(300, seed=3)):
        with_hydrogens = Chem.AddHs(molecule)
        every = [name for name, query, _ in patterns() if with_hydrogens.HasSubstructMatch(query)]
        assert matching_patterns(molecule) == every
        hits += bool(every)
    assert hits >= 10  # the random molecules do match patterns, so the screen is tested on matches too


@needs_molecules
def test_properties_are_moses_rdkit_calls_and_wasserstein_of_identical_sets_is_zero() -> None:
    from rdkit.Chem import Crippen, Descriptors

    from vaelab.evaluation.molecules.properties import property_distance, property_values

    for molecule in molecules(DRUGS):
        values = property_values(molecule)
        assert values["logP"] == Crippen.MolLogP(molecule)
        assert values["weight"] == Descriptors.MolWt(molecule)
        assert 1 <= values["SA"] <= 10 and 0 < values["QED"] < 1
    values = np.array([3.0, 1.0, 2.5, 7.0])
    assert property_distance(values, values[::-1].copy()) == 0.0
    assert property_distance(values, values + 0.5) == pytest.approx(0.5)


@needs_molecules
def test_sa_score_matches_the_published_values_and_reads_its_table_without_unpickling() -> None:
    import rdkit.Contrib.SA_Score

    from vaelab.evaluation.molecules.sa_score import _NumbersOnly, sa_score

    table = Path(next(iter(rdkit.Contrib.SA_Score.__path__))) / "data" / "zim.100.txt"
    rows = [line.split("\t") for line in table.read_text().splitlines()[1:]]  # SMILES, name, SA to 3 decimals
    scores = [sa_score(m) for m in molecules([row[0] for row in rows])]
    np.testing.assert_allclose(scores, [float(row[2]) for row in rows], atol=6e-4)
    with pytest.raises(pickle.UnpicklingError, match=r"refused builtins\.print"):
        _NumbersOnly(io.BytesIO(pickle.dumps(print))).load()


@needs_molecules
def test_chemnet_weights_are_read_with_weights_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from vaelab.evaluation.molecules import chemnet

    calls = []
    real_load = torch.load

    def spying_load(*args, **kwargs):
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spying_load)
    chemnet.load_chemnet.cache_clear()
    network = chemnet.load_chemnet()
    assert calls and all(call.get("weights_only") is True for call in calls)
    assert network(chemnet.one_hot(["CCO"])).shape == (1, chemnet.ACTIVATIONS)


@needs_molecules
def test_fcd_equals_fcd_torch_and_is_zero_for_a_set_with_itself() -> None:
    import rdkit.Contrib.SA_Score
    from fcd_torch import FCD

    from vaelab.evaluation.molecules.fcd import chemnet_moments, fcd
    from vaelab.evaluation.molecules.parsing import canonical_smiles

    table = Path(next(iter(rdkit.Contrib.SA_Score.__path__))) / "data" / "zim.100.txt"
    zinc = [canonical_smiles(line.split("\t")[0]) for line in table.read_text().splitlines()[1:]]
    first, second = [s for s in zinc[:25] if s], [s for s in zinc[25:50] if s]
    ours = fcd(chemnet_moments(first), chemnet_moments(second))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fcd_torch uses numpy's deprecated row_stack
        theirs = FCD(device="cpu", n_jobs=1)(first, second)
    assert ours == pytest.approx(theirs, rel=1e-4)
    assert ours > 1
    assert fcd(chemnet_moments(first), chemnet_moments(first)) == pytest.approx(0.0, abs=1e-6)


@needs_molecules
def test_molecule_metrics_of_the_reference_itself(tmp_path: Path) -> None:
    from vaelab.evaluation.molecules import load_reference, molecule_metrics, reference_statistics, save_reference

    reference = reference_statistics(DRUGS, train=DRUGS[:5])
    path = tmp_path / "reference.safetensors"
    save_reference(reference, path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unique@k of fewer than k molecules
        metrics = molecule_metrics(DRUGS, path)
        novelty_given_train = molecule_metrics(DRUGS[:3], reference, train=DRUGS)["Novelty"]
    assert metrics["valid"] == metrics["unique@1000"] == metrics["Filters"] == 1.0
    assert metrics["SNN/Test"] == pytest.approx(1.0)
    assert metrics["Frag/Test"] == pytest.approx(1.0) and metrics["Scaf/Test"] == pytest.approx(1.0)
    assert metrics["FCD/Test"] == pytest.approx(0.0, abs=1e-6)
    assert all(metrics[name] == 0.0 for name in ("logP", "SA", "QED", "weight"))
    assert metrics["Novelty"] == 0.5  # five of the ten are training molecules
    assert novelty_given_train == 0.0  # a training set given in the call wins over the cached one
    assert 0.5 < metrics["IntDiv"] < 1 and 0.5 < metrics["IntDiv2"] < metrics["IntDiv"]
    loaded = load_reference(path)
    assert loaded.fragments == reference.fragments and loaded.scaffolds == reference.scaffolds
    assert loaded.training == reference.training and loaded.molecules == len(DRUGS)
    np.testing.assert_array_equal(loaded.fingerprints, reference.fingerprints)
    np.testing.assert_array_equal(loaded.chemnet.covariance, reference.chemnet.covariance)


@needs_molecules
def test_molecule_metrics_with_fewer_than_two_valid_molecules_are_nan_but_validity(tmp_path: Path) -> None:
    from vaelab.evaluation.molecules import molecule_metrics, reference_statistics

    metrics = molecule_metrics(["CCO", "xyz", "C1CC"], reference_statistics(DRUGS))
    assert metrics["valid"] == pytest.approx(1 / 3)
    assert "Novelty" not in metrics
    assert all(math.isnan(value) for name, value in metrics.items() if name != "valid")


@needs_molecules
def test_bad_inputs_are_one_line_user_errors(tmp_path: Path) -> None:
    from vaelab.evaluation.molecules import load_reference, molecule_metrics, reference_statistics
    from vaelab.evaluation.molecules.parallel import map_smiles

    with pytest.raises(UserError, match=r"not valid molecules .* at index 1, is 'SMILES'"):
        reference_statistics(["CCO", "SMILES"])
    with pytest.raises(UserError, match="unreadable molecule reference"):
        load_reference(tmp_path / "missing.safetensors")
    (tmp_path / "foreign.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(UserError, match="unreadable molecule reference"):
        molecule_metrics(["CCO"], tmp_path / "foreign.safetensors")
    with pytest.raises(UserError, match="non-empty list of SMILES"):
        molecule_metrics("CCO", tmp_path / "foreign.safetensors")
    with pytest.raises(UserError, match="n_jobs"):
        map_smiles(len, ["CCO"], n_jobs=0)


@needs_molecules
@pytest.mark.slow
def test_worker_processes_give_the_features_of_one_process() -> None:
    from vaelab.evaluation.molecules.features import molecule_features

    smiles = [*random_molecules(600, seed=4), "not a molecule"]
    alone, spread = molecule_features(smiles), molecule_features(smiles, n_jobs=2)
    assert alone.canonical == spread.canonical
    assert alone.fragments == spread.fragments and alone.scaffolds == spread.scaffolds
    np.testing.assert_array_equal(alone.fingerprints, spread.fingerprints)
    np.testing.assert_array_equal(alone.passes_filters, spread.passes_filters)
    for name, values in alone.properties.items():
        np.testing.assert_array_equal(values, spread.properties[name])
