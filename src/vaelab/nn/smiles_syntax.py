"""A decoding constraint for SMILES tokens: every branch and ring bond is closed before the end token.

Character models of SMILES often stop with a ``(`` or a ring-bond label left open, a string no parser reads
(Gómez-Bombarelli et al. 2018 report most of their invalid decodings as such syntax errors). Grammar and
syntax-directed VAEs (Kusner et al. 2017; Dai et al. 2018, "Syntax-Directed Variational Autoencoder for
Structured Data") rule them out while decoding; this constraint does the same for the two rules a token
stream can track with two counters: ``)`` only inside an open branch, and the end token only when no branch
and no ring bond is open. It cannot rule out a wrong valence or an aromatic ring that does not kekulize.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from vaelab.data.vocabulary import EOS


class SmilesSyntax:
    """Built from a vocabulary's tokens (SMILES tokenizer: ``(``, ``)``, ring labels ``1``-``9`` and ``%nn``)."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self.open_id = tokens.index("(") if "(" in tokens else -1
        self.close_id = tokens.index(")") if ")" in tokens else -1
        ring_ids = [i for i, token in enumerate(tokens) if token.isdigit() or token.startswith("%")]
        self.ring_label = torch.full((len(tokens),), -1, dtype=torch.long)  # token id -> ring label index, or -1
        self.ring_label[ring_ids] = torch.arange(len(ring_ids))
        self.labels = len(ring_ids)

    def start(self, rows: int, device: torch.device) -> SyntaxState:
        """The state of ``rows`` sequences before their first token: nothing open."""
        return SyntaxState(
            self,
            torch.zeros(rows, dtype=torch.long, device=device),
            torch.zeros(rows, self.labels, dtype=torch.bool, device=device),
        )


@dataclass(frozen=True)
class SyntaxState:
    """Per row: ``depth (N,)`` open branches; ``rings (N, R)`` which of the R ring-bond labels are open."""

    syntax: SmilesSyntax
    depth: torch.Tensor
    rings: torch.Tensor

    def allowed(self, logits: torch.Tensor) -> torch.Tensor:
        """``logits (N, V)`` with ``)`` ruled out outside a branch and the end token while anything is open."""
        logits = logits.clone()
        close = self.syntax.close_id
        if close >= 0:
            logits[:, close] = logits[:, close].masked_fill(self.depth == 0, float("-inf"))
        still_open = (self.depth > 0) | self.rings.any(-1)
        logits[:, EOS] = logits[:, EOS].masked_fill(still_open, float("-inf"))
        return logits

    def advanced(self, chosen: torch.Tensor) -> SyntaxState:
        """The state after each row's token ``chosen (N,)``: a ring label opens its ring bond or closes it."""
        syntax = self.syntax
        depth = self.depth + (chosen == syntax.open_id).long() - (chosen == syntax.close_id).long()
        label = syntax.ring_label.to(chosen.device)[chosen]  # (N,), -1 for a token that is no ring label
        toggled = label.unsqueeze(-1) == torch.arange(syntax.labels, device=chosen.device)  # (N, R)
        return SyntaxState(syntax, depth, self.rings ^ toggled)

    def selected(self, rows: torch.Tensor) -> SyntaxState:
        """The states of ``rows`` (a beam search keeping its best hypotheses)."""
        return SyntaxState(self.syntax, self.depth[rows], self.rings[rows])
