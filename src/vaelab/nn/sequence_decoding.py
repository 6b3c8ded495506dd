"""Turning codes into token sequences with an autoregressive decoder: greedy, sampled and beam decoding.

The decoder is any module with ``initial_state(z)`` and ``step(tokens, z, state) -> (logits, state)``, as
``GRUDecoder``. Each output row ends with the end token (when produced within ``max_length``) followed by
padding (id 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import torch

from vaelab.nn.recurrent import PAD_ID
from vaelab.nn.smiles_syntax import SmilesSyntax

DecodingMethod = Literal["greedy", "sample", "beam"]
DECODING_METHODS: tuple[DecodingMethod, ...] = ("sample", "greedy", "beam")


@dataclass(frozen=True)
class TokenDecoding:
    """How codes become tokens: ``method``, the beam's ``width``, and ``smiles_syntax`` (decode a SMILES-token
    model under :class:`~vaelab.nn.smiles_syntax.SmilesSyntax`: branches and ring bonds closed before the end)."""

    method: DecodingMethod = "greedy"
    width: int = 5
    smiles_syntax: bool = False

    def __post_init__(self) -> None:
        if self.method not in DECODING_METHODS:
            raise ValueError(f"unknown decoding {self.method!r}; use one of: {', '.join(DECODING_METHODS)}")
        if self.width < 1:
            raise ValueError(f"a beam needs a width of at least 1, not {self.width}")

    def describe(self) -> str:
        """``"sampled"``, ``"greedy"`` or ``"beam of 5"``, with ``", SMILES syntax"`` when constrained."""
        name = {"sample": "sampled", "greedy": "greedy", "beam": f"beam of {self.width}"}[self.method]
        return f"{name}, SMILES syntax" if self.smiles_syntax else name


class StepDecoder(Protocol):
    start_id: int

    def initial_state(self, z: torch.Tensor) -> torch.Tensor: ...

    def step(self, tokens: torch.Tensor, z: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...


@torch.no_grad()  # not inference_mode: the ids may be fed to a model that trains
def decode_tokens(
    decoder: StepDecoder,
    z: torch.Tensor,
    end_id: int,
    max_length: int,
    method: DecodingMethod = "greedy",
    temperature: float = 1.0,
    beam_width: int = 5,
    generator: torch.Generator | None = None,
    syntax: SmilesSyntax | None = None,
) -> torch.Tensor:
    """``z: (N, D)`` -> token ids ``(N, max_length)``: the most likely token at each step (``greedy``), a draw
    from the softmax at ``temperature`` (``sample``), or the most likely whole sequence found by a beam of
    ``beam_width`` (``beam``); with ``syntax``, only among the tokens it allows at each step."""
    if method == "beam":
        return _beam(decoder, z, end_id, max_length, beam_width, syntax)
    rows = z.shape[0]
    tokens = torch.full((rows, max_length), PAD_ID, dtype=torch.long, device=z.device)
    previous = torch.full((rows, 1), decoder.start_id, dtype=torch.long, device=z.device)
    state = decoder.initial_state(z)
    ended = torch.zeros(rows, dtype=torch.bool, device=z.device)
    rules = None if syntax is None else syntax.start(rows, z.device)
    for t in range(max_length):
        logits, state = decoder.step(previous, z, state)
        logits = _never_padding_or_start(logits[:, -1], decoder.start_id)  # (N, V)
        if rules is not None:
            logits = rules.allowed(logits)
        if method == "greedy":
            chosen = logits.argmax(dim=-1)
        else:
            probabilities = torch.softmax(logits / temperature, dim=-1)
            chosen = torch.multinomial(probabilities, 1, generator=generator).squeeze(1)
        tokens[:, t] = chosen.masked_fill(ended, PAD_ID)
        if rules is not None:
            rules = rules.advanced(chosen)
        ended |= chosen == end_id
        if bool(ended.all()):
            break
        previous = chosen.unsqueeze(1)
    return tokens


def _never_padding_or_start(logits: torch.Tensor, start_id: int) -> torch.Tensor:
    """``logits (N, V)`` with padding and the start token ruled out: neither is ever a next token."""
    return logits.index_fill(-1, torch.tensor([PAD_ID, start_id], device=logits.device), float("-inf"))


def _beam(
    decoder: StepDecoder, z: torch.Tensor, end_id: int, max_length: int, width: int, syntax: SmilesSyntax | None
) -> torch.Tensor:
    """Beam search over whole sequences by their summed log-probability; a hypothesis that has produced the
    end token keeps its score and extends only with padding."""
    rows = z.shape[0]
    z_beams = z.repeat_interleave(width, dim=0)  # (N * W, D)
    state = decoder.initial_state(z_beams)
    previous = torch.full((rows * width, 1), decoder.start_id, dtype=torch.long, device=z.device)
    scores = torch.full((rows, width), float("-inf"), device=z.device)
    scores[:, 0] = 0.0  # all beams start equal: keep one so the first step does not pick W copies
    history = torch.full((rows, width, 0), PAD_ID, dtype=torch.long, device=z.device)
    ended = torch.zeros(rows, width, dtype=torch.bool, device=z.device)
    rules = None if syntax is None else syntax.start(rows * width, z.device)
    for _ in range(max_length):
        logits, state = decoder.step(previous, z_beams, state)
        logits = _never_padding_or_start(logits[:, -1].float(), decoder.start_id)
        if rules is not None:
            logits = rules.allowed(logits)
        log_p = torch.log_softmax(logits, dim=-1)
        vocab = log_p.shape[-1]
        log_p = log_p.reshape(rows, width, vocab)
        finished = torch.full_like(log_p, float("-inf"))
        finished[..., PAD_ID] = 0.0  # an ended hypothesis continues with padding at no cost
        log_p = torch.where(ended.unsqueeze(-1), finished, log_p)
        candidates = (scores.unsqueeze(-1) + log_p).reshape(rows, width * vocab)
        scores, flat = candidates.topk(width, dim=-1)  # (N, W)
        beam, token = flat // vocab, flat % vocab
        history = torch.cat(
            [history.gather(1, beam.unsqueeze(-1).expand(-1, -1, history.shape[-1])), token.unsqueeze(-1)], -1
        )
        ended = ended.gather(1, beam) | (token == end_id)
        state = (
            state.reshape(state.shape[0], rows, width, -1)
            .gather(2, beam.reshape(1, rows, width, 1).expand(state.shape[0], -1, -1, state.shape[-1]))
            .reshape(state.shape[0], rows * width, -1)
        )
        previous = token.reshape(rows * width, 1)
        if rules is not None:
            kept = (beam + torch.arange(rows, device=z.device).unsqueeze(-1) * width).reshape(-1)  # (N * W,)
            rules = rules.selected(kept).advanced(previous.squeeze(1))
        if bool(ended.all()):
            break
    best = history[torch.arange(rows, device=z.device), scores.argmax(dim=-1)]  # (N, steps)
    out = torch.full((rows, max_length), PAD_ID, dtype=torch.long, device=z.device)
    out[:, : best.shape[1]] = best
    return out
