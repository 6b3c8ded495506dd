"""``moses``: the MOSES benchmark molecules (Polykovskiy et al. 2020, "Molecular Sets (MOSES): A Benchmarking
Platform for Molecular Generation Models", Frontiers in Pharmacology 11, 565644), drawn from ZINC Clean Leads.

Files ``train.csv.gz`` (1,584,663 SMILES), ``test.csv.gz`` (176,074) and ``test_scaffolds.csv.gz`` (176,225;
molecules whose Bemis-Murcko scaffolds do not occur in ``train``), one ``SMILES`` column each, as in the
``molsets`` package (``moses/dataset/data/`` of molecularsets/moses, MIT licence). Splits: ``train`` and
``valid`` (a seeded 10,000 molecules held out of ``train.csv.gz``: MOSES publishes no validation split),
``test`` and ``test_scaffolds``. In the repository the files are Git LFS objects, so they are downloaded from GitHub's
LFS media host (``raw.githubusercontent.com`` serves only the pointers); the sha256 are those of the LFS
objects, which are the files of the ``molsets`` 0.3.1 sdist byte for byte. Loading all of ``train`` reads and
canonicalises 1.58 M molecules with RDKit once (minutes), then comes from the cache; ``limit=`` keeps a
seeded subset.
"""

from __future__ import annotations

from vaelab.data.named_sequences import NamedSequences

MOSES = NamedSequences(
    name="moses",
    files={"train": "train.csv.gz", "test": "test.csv.gz", "test_scaffolds": "test_scaffolds.csv.gz"},
    sha256={
        "train.csv.gz": "786f0313aa6b9ba5514df685f885742a70ea8d86f1a4fa48115f7f80a634265c",
        "test.csv.gz": "f896fbf3764f88d94670b9959e5872c600c12152a18233823e820761b7a791b2",
        "test_scaffolds.csv.gz": "adffb2192c1bfe31ab0e13154d4af19a37dc18bdbf3cd7b4491e04405128adde",
    },
    mirrors=(
        "https://media.githubusercontent.com/media/molecularsets/moses/master/moses/dataset/data/",
        "https://github.com/molecularsets/moses/raw/master/moses/dataset/data/",
    ),
    column="SMILES",
    molecules=True,
)
