"""Sequences and molecules as data: tokenizers, the vocabulary, sequence files and the named molecule datasets,
padding and lengths in a Batch, the cache, and every refusal as one line."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import math
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from vaelab.data import sequence_cache, sequences
from vaelab.data.batch import dataset_batches, dataset_rows, stored_batch
from vaelab.data.dataset import to_model_space
from vaelab.data.download import download
from vaelab.data.moses import MOSES
from vaelab.data.named_sequences import DatasetNotice, load_named_sequences
from vaelab.data.registry import SEQUENCE_DATASETS, load_dataset
from vaelab.data.schema import DataSchema
from vaelab.data.sequences import SequenceOptions, SkippedMoleculesWarning
from vaelab.data.splits import hold_out, random_split_indices, seeded_subset
from vaelab.data.tokens import SMILES_PATTERN, TOKENIZERS, split_smiles
from vaelab.data.vocabulary import BOS, EOS, PAD, SPECIAL_TOKENS, UNK, Vocabulary
from vaelab.data.zinc import ZINC
from vaelab.errors import UserError

Chem = pytest.importorskip("rdkit.Chem", reason="needs RDKit (vaelab[molecules])")
pytest.importorskip("selfies", reason="needs selfies (vaelab[molecules])")

MOLECULES = [
    "CCO",
    "c1ccccc1Cl",
    "CC(=O)Nc1ccc(O)cc1",
    "C[C@@H](N)C(=O)O",
    "c1cc[nH]c1",
    "BrCCBr",
    "OC1CCCCC1",
    "CC(C)Cc1ccc(C(C)C(=O)O)cc1",
    "N#Cc1ccccc1",
    "O=C1CCCN1",
    "CCN(CC)CC",
    "c1ccc2ccccc2c1",
]


def canonical(smiles: str) -> str:
    return str(Chem.MolToSmiles(Chem.MolFromSmiles(smiles)))


def one_line_error(load: Callable[..., object], *args: object, **kwargs: object) -> str:
    """The message of the UserError ``load`` raises, checked to be one line."""
    with pytest.raises(UserError) as info:
        load(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.fixture(autouse=True)
def private_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The cache under tmp_path, VAELAB_DATA_DIR unset."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("VAELAB_DATA_DIR", raising=False)


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- tokenizers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("smiles", "tokens"),
    [
        ("CC(Cl)Br", ["C", "C", "(", "Cl", ")", "Br"]),
        ("c1cc[nH]c1", ["c", "1", "c", "c", "[nH]", "c", "1"]),
        ("C[C@@H](N)O", ["C", "[C@@H]", "(", "N", ")", "O"]),
        ("C%10CC%10", ["C", "%10", "C", "C", "%10"]),
        ("[NH3+]CC(=O)[O-]", ["[NH3+]", "C", "C", "(", "=", "O", ")", "[O-]"]),
        ("F/C=C/F", ["F", "/", "C", "=", "C", "/", "F"]),
    ],
)
def test_the_smiles_pattern_keeps_multi_character_tokens_whole(smiles: str, tokens: list[str]) -> None:
    assert split_smiles(smiles) == tokens
    assert "".join(split_smiles(smiles)) == smiles


def test_the_smiles_pattern_is_schwaller_et_al() -> None:
    assert SMILES_PATTERN == (
        r"(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|\/|:|~|@|\?|>|\*|\$|\%[0-9]{2}|[0-9])"
    )


def test_a_character_no_smiles_token_covers_is_named() -> None:
    with pytest.raises(ValueError, match=r"the character 'x' at position 3 is not a SMILES token"):
        split_smiles("CCxC")


@pytest.mark.parametrize("name", list(TOKENIZERS))
def test_joining_the_tokens_gives_the_text_or_the_same_molecule(name: str) -> None:
    tokenizer = TOKENIZERS[name]
    for smiles in MOLECULES:
        joined = tokenizer.join(tokenizer.split(smiles))
        assert joined == smiles if name != "selfies" else canonical(joined) == canonical(smiles)


# --- vocabulary ---------------------------------------------------------------------------------------------


def test_the_vocabulary_puts_the_special_tokens_first_and_stores_eos_then_padding() -> None:
    vocabulary = Vocabulary.build([["C", "O"], ["C", "Cl"]], "smiles")
    assert vocabulary.tokens == (*SPECIAL_TOKENS, "C", "Cl", "O")
    assert (PAD, BOS, EOS, UNK) == (0, 1, 2, 3) and vocabulary.dtype == np.uint8
    ids = vocabulary.ids([["C", "O"], ["Cl"], ["Br"]], width=4)
    assert ids.tolist() == [[4, 6, EOS, PAD], [5, EOS, PAD, PAD], [UNK, EOS, PAD, PAD]]
    assert vocabulary.decode(ids[0]) == ["C", "O"]
    assert vocabulary.texts(ids[:2]) == ["CO", "Cl"]


def test_the_vocabulary_round_trips_through_json(tmp_path: Path) -> None:
    vocabulary = Vocabulary.build([split_smiles(s) for s in MOLECULES], "smiles")
    vocabulary.save(tmp_path / "vocabulary.json")
    assert Vocabulary.load(tmp_path / "vocabulary.json") == vocabulary
    assert json.loads((tmp_path / "vocabulary.json").read_text())["tokenizer"] == "smiles"
    schema = DataSchema("sequence", (9,), vocabulary=vocabulary)
    assert DataSchema.from_dict(json.loads(json.dumps(schema.to_dict()))) == schema
    (tmp_path / "bad.json").write_text('{"tokenizer": "smiles", "tokens": ["C"]}')
    assert "starts with the special tokens" in one_line_error(Vocabulary.load, tmp_path / "bad.json")
    (tmp_path / "broken.json").write_text("{")
    assert "cannot read a vocabulary" in one_line_error(Vocabulary.load, tmp_path / "broken.json")


def test_only_sequences_have_a_vocabulary() -> None:
    vocabulary = Vocabulary.build([["a"]], "chars")
    with pytest.raises(ValueError, match="vocabulary"):
        DataSchema("sequence", (4,))
    with pytest.raises(ValueError, match="vocabulary"):
        DataSchema("table", (4,), vocabulary=vocabulary)


def test_selfies_rows_that_do_not_decode_give_none() -> None:
    vocabulary = Vocabulary.build([["[C]", "[O]"]], "selfies")
    ids = vocabulary.ids([["[C]", "[O]"], ["[C]", "<unk>"]], width=3)
    texts = vocabulary.texts(torch.from_numpy(ids))
    assert canonical(str(texts[0])) == "CO" and texts[1] is None


# --- sequence files into batches ----------------------------------------------------------------------------


def test_padding_and_lengths_reach_the_batch_and_observed_masks_the_padding(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "mols.smi", [f"{s} name{i}" for i, s in enumerate(MOLECULES)])
    data = load_dataset(str(path), "all")
    assert data.schema.kind == "sequence" and data.levels is None and data.x.dtype == np.uint8
    assert data.vocabulary is not None and data.vocabulary.tokenizer == "smiles"
    tokens = [split_smiles(canonical(s)) for s in MOLECULES]
    longest = max(map(len, tokens))
    assert data.data_shape == (math.ceil(sequences.LENGTH_HEADROOM * longest) + 1,)  # the end token's place
    batch = dataset_rows(data, np.arange(len(data)), "cpu")
    assert batch.x.dtype == torch.int64 and torch.equal(batch.x, torch.from_numpy(data.x).long())
    assert batch.lengths is not None and batch.lengths.tolist() == [len(t) + 1 for t in tokens]
    observed = batch.observed
    assert observed is not None and observed.sum(1).tolist() == batch.lengths.tolist()
    assert not batch.x[~observed].any() and (batch.x[observed] != PAD).all()
    assert data.vocabulary.texts(data.x) == [canonical(s) for s in MOLECULES]
    chunks = list(dataset_batches(data, 5, "cpu"))
    assert torch.equal(torch.cat([b.lengths for b in chunks if b.lengths is not None]), batch.lengths)


def test_token_ids_stay_integer_ids_and_grids_still_scale() -> None:
    ids = torch.tensor([[4, 5, EOS, PAD]], dtype=torch.uint8)
    assert to_model_space(ids, None).dtype == torch.int64
    assert stored_batch(ids.numpy(), None, None, "cpu").lengths.tolist() == [3]  # type: ignore[union-attr]
    grid = stored_batch(np.array([[0, 255]], dtype=np.uint8), None, 256, "cpu")
    assert grid.lengths is None and grid.x.tolist() == [[0.0, 1.0]]


def test_characters_of_a_text_file_split_80_10_10_share_the_training_vocabulary(tmp_path: Path) -> None:
    lines = [f"hello {i}" for i in range(30)]
    path = write_lines(tmp_path / "words.txt", lines)
    train, test = load_dataset(str(path), "train"), load_dataset(str(path), "test")
    assert train.vocabulary == test.vocabulary and train.vocabulary is not None
    assert train.vocabulary.tokenizer == "chars" and train.data_shape == test.data_shape == (11,)  # 8 + 2 + end
    expected = [lines[i] for i in random_split_indices(30)["test"]]
    assert train.vocabulary.texts(test.x) == expected


def test_a_csv_column_holds_the_sequences(tmp_path: Path) -> None:
    path = tmp_path / "mols.csv"
    path.write_text("id,SMILES\n" + "".join(f"{i},{s}\n" for i, s in enumerate(MOLECULES)) + "\n")
    data = load_dataset(str(path), "all", sequences=SequenceOptions(column="SMILES", tokens="selfies"))
    assert data.vocabulary is not None and data.vocabulary.tokenizer == "selfies"
    assert [canonical(str(t)) for t in data.vocabulary.texts(data.x)] == [canonical(s) for s in MOLECULES]
    message = one_line_error(load_dataset, str(path), "all", sequences=SequenceOptions(column="smiles"))
    assert "has no column 'smiles' (columns: id, SMILES)" in message
    path.write_text("id,SMILES\n1,CCO\n2,\n")
    message = one_line_error(load_dataset, str(path), "all", sequences=SequenceOptions(column="SMILES"))
    assert "column 'SMILES' is empty at line 3" in message


def test_molecules_are_canonicalised_unless_kept_as_given(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "mols.smi", ["OCC", "C(C)O"] * 5)
    data = load_dataset(str(path), "all")
    assert data.vocabulary is not None and set(data.vocabulary.texts(data.x)) == {"CCO"}
    kept = load_dataset(str(path), "all", sequences=SequenceOptions(canonical=False))
    assert kept.vocabulary is not None and kept.vocabulary.texts(kept.x) == ["OCC", "C(C)O"] * 5


# --- refusals, each one line --------------------------------------------------------------------------------


def one_odd_line(folder: Path, usual: str, odd: str, split: str) -> tuple[Path, int]:
    """A 20-line text file of ``usual`` lines but one, ``odd``, which the 80/10/10 split puts in ``split``:
    the file and the odd line's index."""
    lines = [usual] * 20
    row = int(random_split_indices(20)[split][0])
    lines[row] = odd
    return write_lines(folder / "words.txt", lines), row


def test_a_token_unseen_in_training_is_mapped_with_a_warning_or_named_with_its_line(tmp_path: Path) -> None:
    path, row = one_odd_line(tmp_path, "abc", "abZ", "test")
    with pytest.warns(SkippedMoleculesWarning, match=rf"1 of \d+ rows hold tokens read as <unk> \(line {row + 1}: "):
        mapped = load_dataset(str(path), "test")  # a held-out split maps by default
    assert (mapped.x == UNK).sum() == 1
    message = one_line_error(load_dataset, str(path), "test", sequences=SequenceOptions(unknown="error"))
    assert f"line {row + 1}: the token 'Z' is not in the vocabulary of the train split" in message
    assert "unknown='map'" in message
    assert mapped.vocabulary is not None
    given = SequenceOptions(vocabulary=mapped.vocabulary)  # a trained model's vocabulary: an error by default
    assert "the token 'Z' is not in the given vocabulary" in one_line_error(
        load_dataset, str(path), "test", sequences=given
    )


def test_an_over_long_sequence_is_named_with_its_line_and_length(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_lines(tmp_path / "words.txt", ["ab", "", "abcdef", "a"])
    message = one_line_error(load_dataset, str(path), "all", sequences=SequenceOptions(max_length=4))
    assert "line 3: a sequence of 6 tokens is longer than max_length 4" in message
    assert load_dataset(str(path), "all", sequences=SequenceOptions(max_length=8)).data_shape == (9,)
    monkeypatch.setattr(sequences, "MAX_LENGTH", 5)
    message = one_line_error(load_dataset, str(path), "all")
    assert (
        "line 3: a sequence of 6 tokens, more than the 5 a sequence may hold by default; pass max_length=6" in message
    )


def test_a_sequence_longer_than_the_training_splits_longest_is_refused(tmp_path: Path) -> None:
    path, row = one_odd_line(tmp_path, "ab", "abab", "valid")
    message = one_line_error(load_dataset, str(path), "valid")
    assert (
        f"line {row + 1}: a sequence of 4 tokens is longer than max_length 3 (by default the training split's longest "
        "plus a quarter)" in message
    )


def test_blank_lines_are_skipped_and_a_file_without_sequences_is_refused(tmp_path: Path) -> None:
    data = load_dataset(str(write_lines(tmp_path / "gaps.txt", ["ab", "", "  ", "cd"])), "all")
    assert len(data) == 2
    message = one_line_error(load_dataset, str(write_lines(tmp_path / "blank.txt", ["", " "])), "all")
    assert "holds no sequences" in message


def test_invalid_molecules_are_skipped_in_one_warning_or_refused(tmp_path: Path) -> None:
    lines = ["CCO", "C1CC", "c1ccccc1", "not-a-molecule", "CCN"]
    path = write_lines(tmp_path / "mols.smi", lines)
    with pytest.warns(SkippedMoleculesWarning) as caught:
        data = load_dataset(str(path), "all")
    message = str(caught[0].message)
    assert len(data) == 3 and "\n" not in message
    assert "skipped 2 of 5 lines" in message and "line 2: 'C1CC'" in message and "also lines 4" in message
    message = one_line_error(load_dataset, str(path), "all", sequences=SequenceOptions(invalid="error"))
    assert "line 2: 'C1CC': RDKit cannot read it as a molecule" in message
    none = write_lines(tmp_path / "none.smi", ["xyz", "C1CC"])
    assert "none of its 2 lines holds a usable molecule" in one_line_error(load_dataset, str(none), "all")


def test_without_rdkit_or_selfies_one_line_says_how_to_install_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_lines(tmp_path / "mols.smi", MOLECULES)
    monkeypatch.setitem(sys.modules, "selfies", None)
    message = one_line_error(load_dataset, str(path), "all", sequences=SequenceOptions(tokens="selfies"))
    assert "pip install 'vaelab[molecules]'" in message
    monkeypatch.setitem(sys.modules, "rdkit", None)
    monkeypatch.setitem(sys.modules, "rdkit.Chem", None)
    assert "pip install 'vaelab[molecules]'" in one_line_error(load_dataset, str(path), "all")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"tokens": "bpe"}, "unknown tokens 'bpe'; use one of: chars, smiles, selfies"),
        ({"invalid": "drop"}, "unknown invalid='drop'"),
        ({"unknown": "skip"}, "unknown unknown='skip'"),
        ({"limit": 0}, "limit=0: give a whole number of at least 1"),
        ({"max_length": -1}, "max_length=-1"),
        ({"tokens": "chars", "vocabulary": Vocabulary.build([["C"]], "smiles")}, "differ from the given vocabulary"),
    ],
)
def test_bad_options_are_one_line(options: dict[str, object], expected: str) -> None:
    assert expected in one_line_error(SequenceOptions, **options)


def test_sequences_are_never_stated_onto_arrays_and_options_fit_their_data(tmp_path: Path) -> None:
    np.save(tmp_path / "ids.npy", np.ones((20, 5), dtype=np.int64))
    assert "sequence data come from text" in one_line_error(load_dataset, str(tmp_path / "ids.npy"), kind="sequence")
    smi = write_lines(tmp_path / "mols.smi", MOLECULES)
    assert "not table data" in one_line_error(load_dataset, str(smi), "all", kind="table")
    assert load_dataset(str(smi), "all", kind="sequence").schema.kind == "sequence"
    message = one_line_error(load_dataset, "digits", sequences=SequenceOptions(tokens="chars"))
    assert "sequence options (tokens, column, limit, ...) apply to sequence data" in message
    assert load_dataset(str(tmp_path / "ids.npy"), "all", sequences=SequenceOptions()).schema.kind == "table"
    csv = tmp_path / "t.csv"
    csv.write_text("a,b\n1,2\n")
    assert "column=" in one_line_error(load_dataset, str(csv), "all", kind="sequence")


def test_a_given_vocabulary_encodes_new_text(tmp_path: Path) -> None:
    vocabulary = Vocabulary.build([list("abc")], "chars")
    path = write_lines(tmp_path / "new.txt", ["cab", "abd"])
    options = SequenceOptions(vocabulary=vocabulary, max_length=5)
    message = one_line_error(load_dataset, str(path), "all", sequences=options)
    assert "line 2: the token 'd' is not in the given vocabulary" in message
    data = load_dataset(str(path), "all", sequences=dataclasses.replace(options, unknown="map"))
    assert data.vocabulary == vocabulary and data.data_shape == (6,) and vocabulary.texts(data.x) == ["cab", "ab<unk>"]


# --- the cache ----------------------------------------------------------------------------------------------


def test_a_cached_load_reads_no_molecule_again_and_repeats_its_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sequences, "CACHE_MIN_ROWS", 1)
    path = write_lines(tmp_path / "mols.smi", [*MOLECULES, "C1CC"])
    with pytest.warns(SkippedMoleculesWarning):
        first = load_dataset(str(path), "all")
    entries = list((tmp_path / "cache" / "vaelab" / "sequences").iterdir())
    assert len(entries) == 1 and sorted(p.name for p in entries[0].iterdir()) == ["ids.npy", "meta.json"]

    def unreachable(*args: object) -> None:
        raise AssertionError("a cached load read molecules again")

    read_molecules = sequences.rdkit_smiles
    monkeypatch.setattr(sequences, "rdkit_smiles", unreachable)
    with pytest.warns(SkippedMoleculesWarning):
        again = load_dataset(str(path), "all")
    assert np.array_equal(again.x, first.x) and again.vocabulary == first.vocabulary
    (entries[0] / "ids.npy").write_bytes(b"not an array")
    monkeypatch.setattr(sequences, "rdkit_smiles", read_molecules)
    with pytest.warns(SkippedMoleculesWarning):
        rebuilt = load_dataset(str(path), "all")
    assert np.array_equal(rebuilt.x, first.x)
    assert sequence_cache.read_cached(entries[0]) is not None


# --- named datasets -----------------------------------------------------------------------------------------


def write_moses_like(folder: Path, molecules: list[str]) -> None:
    """A moses folder with the published file names: a one-column SMILES CSV each, gzipped."""
    folder.mkdir(parents=True)
    for name in MOSES.files.values():
        with gzip.open(folder / name, "wt") as file:
            file.write("SMILES\n" + "".join(f"{s}\n" for s in molecules))


def test_moses_limit_is_a_seeded_nested_subset_and_valid_is_held_out_of_train(tmp_path: Path) -> None:
    molecules = [f"{'C' * (i % 9 + 1)}{'O' * (i % 3)}N" for i in range(120)]
    write_moses_like(tmp_path / "moses", molecules)
    assert set(SEQUENCE_DATASETS) == {"moses", "zinc"} and MOSES.splits == ("train", "valid", "test", "test_scaffolds")

    def texts(split: str, limit: int | None) -> list[str | None]:
        data = load_dataset("moses", split, tmp_path, sequences=SequenceOptions(limit=limit, tokens="chars"))
        assert data.vocabulary is not None
        return data.vocabulary.texts(data.x)

    held = hold_out(120)
    assert texts("train", None) == [canonical(molecules[i]) for i in held["train"]]
    assert texts("valid", None) == [canonical(molecules[i]) for i in held["valid"]]
    small, large = texts("train", 20), texts("train", 50)
    assert len(small) == 20 and small == texts("train", 20) and set(small) <= set(large)
    assert len(texts("test_scaffolds", 30)) == 30
    assert "unknown split 'scaffolds'" in one_line_error(load_dataset, "moses", "scaffolds", tmp_path)


def test_the_other_splits_take_the_encoding_from_the_cached_training_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_moses_like(tmp_path / "moses", MOLECULES * 3)
    monkeypatch.setattr(sequences, "CACHE_MIN_ROWS", 1)
    read_molecules, calls = sequences.rdkit_smiles, []

    def counted(texts: list[str], canonical: bool) -> list[str | None]:
        calls.append(len(texts))
        return read_molecules(texts, canonical)

    monkeypatch.setattr(sequences, "rdkit_smiles", counted)
    train = load_dataset("moses", "train", tmp_path)
    test = load_dataset("moses", "test", tmp_path)
    assert calls == [len(train), len(test)] and test.vocabulary == train.vocabulary
    load_dataset("moses", "test", tmp_path)
    assert len(calls) == 2
    load_dataset("moses", "test", tmp_path, sequences=SequenceOptions(unknown="error"))  # train's entry serves
    assert calls == [len(train), len(test), len(test)]
    assert train.vocabulary is not None
    as_model = SequenceOptions(vocabulary=train.vocabulary, max_length=train.data_shape[0] - 1)  # a trained model's
    for split, data in (("train", train), ("test", test)):  # the entries loaded for training serve the model
        np.testing.assert_array_equal(load_dataset("moses", split, tmp_path, sequences=as_model).x, data.x)
    assert len(calls) == 3
    longer = dataclasses.replace(as_model, max_length=as_model.max_length + 1)  # another layout: encoded again
    assert load_dataset("moses", "train", tmp_path, sequences=longer).data_shape == (train.data_shape[0] + 1,)
    assert len(calls) == 4


def test_missing_files_are_downloaded_with_their_sha256_checked(tmp_path: Path) -> None:
    source = tmp_path / "mirror"
    source.mkdir()
    write_lines(source / "valid.txt", MOLECULES * 3)
    write_lines(source / "test.txt", MOLECULES)
    fake = dataclasses.replace(
        ZINC,
        sha256={name: hashlib.sha256((source / name).read_bytes()).hexdigest() for name in ZINC.files.values()},
        mirrors=(source.as_uri(),),
    )
    with pytest.warns(DatasetNotice, match="not comparable with published ones"):
        data = load_named_sequences(fake, "test", tmp_path / "data", SequenceOptions())
    assert len(data) == len(MOLECULES) and (tmp_path / "data" / "zinc" / "valid.txt").is_file()
    wrong = dataclasses.replace(fake, sha256={name: "0" * 64 for name in ZINC.files.values()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatasetNotice)
        message = one_line_error(load_named_sequences, wrong, "train", tmp_path / "other", SequenceOptions())
    assert "could not download it" in message and "sha256" in message and "differs from the published" in message
    assert not (tmp_path / "other" / "zinc" / "valid.txt").exists()


@pytest.mark.shared_data
@pytest.mark.parametrize("dataset", [MOSES, ZINC], ids=["moses", "zinc"])
def test_the_local_copies_match_the_published_sha256(dataset, data_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mirror = (data_dir / dataset.name).as_uri()
    for name, sha256 in dataset.sha256.items():
        assert download(name, [mirror], tmp_path, sha256=sha256).is_file()


@pytest.mark.shared_data
def test_zinc_trains_on_valid_txt_and_says_so(data_dir: Path) -> None:
    options = SequenceOptions(limit=300)
    with pytest.warns(DatasetNotice) as caught:
        train = load_dataset("zinc", "train", data_dir, sequences=options)
    assert "\n" not in str(caught[0].message)
    assert len(train) == 300 and train.vocabulary is not None and train.vocabulary.tokenizer == "smiles"
    lines = np.array((data_dir / "zinc" / "valid.txt").read_text().splitlines())
    rows = lines[hold_out(len(lines))["train"]][seeded_subset(22_001, 300)]
    assert train.vocabulary.texts(train.x) == [canonical(s) for s in rows]
    with pytest.warns(DatasetNotice):
        test = load_dataset(
            "zinc", "test", data_dir, sequences=dataclasses.replace(options, unknown="map", max_length=120)
        )
    assert len(test) == 300 and test.vocabulary == train.vocabulary


@pytest.mark.slow
@pytest.mark.shared_data
def test_moses_from_the_published_files_through_the_download_path(data_dir: Path, tmp_path: Path) -> None:
    options = SequenceOptions(limit=2000, max_length=100, unknown="map")  # 2,000 molecules miss rare ring bonds
    data = load_named_sequences(MOSES, "test", tmp_path, options, mirrors=[(data_dir / "moses").as_uri()])
    assert data.x.shape == (2000, 101) and data.vocabulary is not None
    assert sorted(p.name for p in (tmp_path / "moses").iterdir()) == ["test.csv.gz", "train.csv.gz"]
    train = load_dataset("moses", "train", data_dir, sequences=options)
    assert train.vocabulary == data.vocabulary and len(train) == 2000
