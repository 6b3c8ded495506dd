"""``zinc``: the standard held-out subsets of ZINC-250k, the 250,000 drug-like ZINC molecules of Gómez-Bombarelli
et al. (2018, "Automatic Chemical Design Using a Data-Driven Continuous Representation of Molecules", ACS
Central Science 4, 268), with the split of Kusner et al. (2017, Grammar VAE) and Jin et al. (2018, "Junction
Tree Variational Autoencoder for Molecular Graph Generation", ICML).

Files ``valid.txt`` (24,445 SMILES) and ``test.txt`` (5,000), one per line, from ``data/zinc/`` of
wengong-jin/icml18-jtnn at commit d4c425a8a28fce7d0e8f5da741d27d3fce4a7ec0 (MIT licence). **This is not the
published protocol's training set**: the published models train on the remaining ~220 k molecules, which are
not fetched here. Here ``train`` is ``valid.txt`` less a seeded 10 % held out as ``valid``, and ``test`` is
``test.txt``, so figures are not comparable with published ones; every load says so in one line.
``test.txt`` holds tokens the training part lacks (the ring bond ``7`` at line 687 and ``[OH+]`` at line 3126,
after canonicalisation): load ``test`` with ``unknown="map"`` to read them as ``<unk>``.
"""

from __future__ import annotations

from vaelab.data.named_sequences import NamedSequences

ZINC = NamedSequences(
    name="zinc",
    files={"train": "valid.txt", "test": "test.txt"},
    sha256={
        "valid.txt": "ad7d9c2bfebd93ffda6c32ed0e89d1714ae1f592f6340c0e6ae057521bbae30d",
        "test.txt": "31f6ce92914814db33bf0dbfc45f3836193e27cb80a59c54d88bc05a1f5fab83",
    },
    mirrors=(
        "https://raw.githubusercontent.com/wengong-jin/icml18-jtnn/d4c425a8a28fce7d0e8f5da741d27d3fce4a7ec0/data/zinc/",
    ),
    column=None,
    molecules=True,
    notice=(
        "zinc: trains on ZINC-250k's standard validation subset (valid.txt) and tests on its test subset, not on the "
        "published protocol's ~220k training molecules; figures are not comparable with published ones"
    ),
)
