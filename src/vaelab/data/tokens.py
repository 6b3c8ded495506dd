"""Tokenizers: a text becomes a list of tokens, and tokens join back into the text.

- ``chars``: one token per character; joining the tokens gives the text back.
- ``smiles``: the SMILES regular expression of Schwaller et al. (2019), "Molecular Transformer: A Model for
  Uncertainty-Calibrated Chemical Reaction Prediction", ACS Central Science 5, 1572 (the pattern of their code).
  Bracket atoms (``[nH]``, ``[C@@H]``, ``[NH3+]``), ``Br``, ``Cl`` and two-digit ring closures (``%12``)
  are single tokens, every other character its own token; joining the tokens gives the text back.
- ``selfies``: the SELFIES symbols (Krenn et al. 2020, "Self-referencing embedded strings (SELFIES): a 100%
  robust molecular string representation", Machine Learning: Science and Technology 1, 045024) of a SMILES,
  written with the ``selfies`` package (``encoder``, ``split_selfies``); joining the symbols decodes them
  back to a SMILES (``decoder``) of the same molecule, not necessarily the same string.

``split`` raises ValueError (one line saying why) for a text it cannot tokenize, ``join`` for tokens that do
not form a text (SELFIES symbols the decoder refuses). ``molecules``: the tokenizer reads SMILES molecules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vaelab.data.download import one_line
from vaelab.data.molecules import import_selfies

SMILES_PATTERN = (
    r"(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|\/|:|~|@|\?|>|\*|\$|\%[0-9]{2}|[0-9])"
)
"""The SMILES token pattern of Schwaller et al. 2019, as in their code."""

_SMILES_TOKEN = re.compile(SMILES_PATTERN)


@dataclass(frozen=True)
class Tokenizer:
    """A name, a ``split`` from text to tokens, a ``join`` back, and whether it reads molecules."""

    name: str
    split: Callable[[str], list[str]]
    join: Callable[[Sequence[str]], str]
    molecules: bool


def split_smiles(smiles: str) -> list[str]:
    """The tokens of ``smiles`` under :data:`SMILES_PATTERN`; ValueError naming a character no token covers."""
    tokens: list[str] = _SMILES_TOKEN.findall(smiles)
    if sum(map(len, tokens)) != len(smiles):  # the matches are disjoint and in order: a gap means a stray character
        position = 0
        for match in _SMILES_TOKEN.finditer(smiles):
            if match.start() != position:
                break
            position = match.end()
        raise ValueError(f"the character {smiles[position]!r} at position {position + 1} is not a SMILES token")
    return tokens


def split_selfies(smiles: str) -> list[str]:
    """The SELFIES symbols of the molecule ``smiles``; ValueError when SELFIES cannot write it."""
    selfies = import_selfies()
    try:
        return list(selfies.split_selfies(selfies.encoder(smiles)))
    except selfies.EncoderError as error:
        raise ValueError(f"SELFIES cannot write it ({one_line(error)})") from error


def join_selfies(symbols: Sequence[str]) -> str:
    """The SMILES that SELFIES ``symbols`` decode to; ValueError when the decoder refuses them."""
    selfies = import_selfies()
    try:
        return str(selfies.decoder("".join(symbols)))
    except selfies.DecoderError as error:
        raise ValueError(f"the SELFIES symbols do not decode ({one_line(error)})") from error


TOKENIZERS: dict[str, Tokenizer] = {
    "chars": Tokenizer("chars", list, "".join, molecules=False),
    "smiles": Tokenizer("smiles", split_smiles, "".join, molecules=True),
    "selfies": Tokenizer("selfies", split_selfies, join_selfies, molecules=True),
}
"""Tokenizer name (``tokens=``) -> tokenizer."""
