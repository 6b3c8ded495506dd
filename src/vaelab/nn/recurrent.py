"""Networks over sequences: a bidirectional GRU encoder, a 1-D convolutional encoder, an autoregressive GRU
decoder conditioned on z (Bowman et al. 2016, "Generating sentences from a continuous space";
Gómez-Bombarelli et al. 2018, "Automatic chemical design using a data-driven continuous representation of
molecules"), and a GRU decoder of real-valued windows.

Tokens are int64 ids ``(B, T)`` in the stored layout of ``vaelab.data.vocabulary``: a row's tokens, the end
token, then padding (id 0), so a row's length is its number of non-padding ids and no network needs
lengths passed beside the ids. Real-valued sequences are ``(B, T, C)`` floats, every row of full length.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import nn

from vaelab.data.vocabulary import PAD as PAD_ID
from vaelab.data.vocabulary import sequence_lengths


class GRUEncoder(nn.Module):
    """``(B, T)`` ids or ``(B, T, C)`` values -> ``(B, features)``: each step embedded (``embedding``: an
    ``nn.Embedding`` of the ids or an ``nn.Linear`` of the values) and read by a bidirectional GRU over each
    row's own length; the last layer's final states of both directions, concatenated.

    The same function as ``nn.GRU(bidirectional=True)`` over packed sequences, computed on padded batches,
    which run several times faster on a CPU: each direction is its own unidirectional GRU, the backward one
    reading every row reversed within its length (padding stays behind it), so no output at a real position
    depends on padding; a layer's input is both directions' outputs of the layer below.
    """

    def __init__(self, embedding: nn.Embedding | nn.Linear, hidden_dim: int, num_layers: int = 1) -> None:
        super().__init__()
        self.embedding = embedding
        embedding_dim = embedding.embedding_dim if isinstance(embedding, nn.Embedding) else embedding.out_features
        widths = [embedding_dim] + [2 * hidden_dim] * (num_layers - 1)
        self.forward_layers = nn.ModuleList(nn.GRU(width, hidden_dim, batch_first=True) for width in widths)
        self.backward_layers = nn.ModuleList(nn.GRU(width, hidden_dim, batch_first=True) for width in widths)
        self.features = 2 * hidden_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, lengths = self.step_outputs(x)
        ahead, back = h.chunk(2, dim=-1)  # the last layer's two directions, (B, T, H) each
        last = ahead.gather(1, (lengths - 1).view(-1, 1, 1).expand(-1, 1, ahead.shape[-1])).squeeze(1)
        return torch.cat([last, back[:, 0]], dim=-1)  # the backward state after reading a whole row sits at 0

    def step_outputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The last layer's outputs at every step, both directions in reading order ``(B, T, 2H)``, and the
        rows' lengths ``(B,)``."""
        if x.is_floating_point():
            lengths = torch.full(x.shape[:1], x.shape[1], device=x.device)  # (B,)
        else:
            lengths = sequence_lengths(x).clamp(min=1)  # (B,); an empty row still gets one step
        reverse = _reversal_index(lengths, x.shape[1])  # (B, T)
        h = self.embedding(x)  # (B, T, E)
        for forward_gru, backward_gru in zip(self.forward_layers, self.backward_layers, strict=True):
            ahead, _ = forward_gru(h)  # (B, T, H)
            back, _ = backward_gru(_gather_steps(h, reverse))
            back = _gather_steps(back, reverse)  # in reading order again: the reversal is its own inverse
            h = torch.cat([ahead, back], dim=-1)
        return h, lengths


def _reversal_index(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """``(B, T)`` positions that reverse each row's first ``lengths`` steps and keep the rest in place."""
    t = torch.arange(steps, device=lengths.device)
    return torch.where(t < lengths.unsqueeze(1), lengths.unsqueeze(1) - 1 - t, t)


def _gather_steps(h: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``h: (B, T, F)`` reordered along T by ``index: (B, T)``."""
    return h.gather(1, index.unsqueeze(-1).expand(-1, -1, h.shape[-1]))


class ConvSequenceEncoder(nn.Module):
    """``(B, T)`` ids -> ``(B, channels[-1])``: embeddings through 1-D convolutions (length kept, ReLU), then
    the maximum over each row's non-padding positions."""

    def __init__(self, vocab_size: int, embedding_dim: int, channels: Sequence[int], kernel_size: int = 9) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_ID)
        layers: list[nn.Module] = []
        widths = [embedding_dim, *channels]
        for c_in, c_out in itertools.pairwise(widths):
            layers += [nn.Conv1d(c_in, c_out, kernel_size, padding=kernel_size // 2), nn.ReLU()]
        self.net = nn.Sequential(*layers)
        self.features = widths[-1]

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        h = self.net(self.embedding(tokens).transpose(1, 2))  # (B, C, T)
        padding = (tokens == PAD_ID).unsqueeze(1)  # (B, 1, T)
        padding[..., 0] = False  # an empty row keeps its first position
        return h.masked_fill(padding, float("-inf")).amax(dim=-1)


class GRUDecoder(nn.Module):
    """``z: (..., B, D)`` and the input ids ``x: (B, T)`` -> logits ``(..., B, T, V)`` of each next token.

    The initial state is ``tanh(W z)`` and z joins the embedding at every step (Bowman et al. 2016, §3).
    Trained with teacher forcing: step t reads token t-1 of x (a start token at t = 0); with word dropout
    (their §3.2) each input token is replaced by the unknown token with probability ``word_dropout`` while
    training, which makes the decoder lean on z.
    """

    takes_context = True

    def __init__(
        self,
        latent_dim: int,
        vocab_size: int,
        embedding_dim: int,
        hidden_dim: int,
        num_layers: int,
        start_id: int,
        unknown_id: int,
        word_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_ID)
        self.initial = nn.Linear(latent_dim, num_layers * hidden_dim)
        self.gru = nn.GRU(embedding_dim + latent_dim, hidden_dim, num_layers, batch_first=True)
        self.logits = nn.Linear(hidden_dim, vocab_size)
        self.num_layers, self.hidden_dim = num_layers, hidden_dim
        self.start_id, self.unknown_id, self.word_dropout = start_id, unknown_id, word_dropout

    def initial_state(self, z: torch.Tensor) -> torch.Tensor:
        """``z: (N, D)`` -> the GRU's initial state ``(num_layers, N, H)``."""
        h = torch.tanh(self.initial(z)).reshape(z.shape[0], self.num_layers, self.hidden_dim)
        return h.transpose(0, 1).contiguous()

    def step(self, tokens: torch.Tensor, z: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Read ``tokens: (N, T)`` given ``z: (N, D)`` from ``state``: logits ``(N, T, V)`` and the new state."""
        embedded = self.embedding(tokens)
        inputs = torch.cat([embedded, z.unsqueeze(1).expand(-1, tokens.shape[1], -1)], dim=-1)
        out, state = self.gru(inputs, state)
        return self.logits(out), state

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        lead, (batch, steps) = z.shape[:-2], x.shape
        z_flat = z.reshape(-1, z.shape[-1])  # (S * B, D)
        samples = z_flat.shape[0] // batch
        start = torch.full((batch, 1), self.start_id, dtype=x.dtype, device=x.device)
        inputs = torch.cat([start, x[:, :-1]], dim=1)  # teacher forcing: step t reads token t - 1
        inputs = inputs.repeat(samples, 1)  # (S * B, T), sample-major as z_flat
        if self.training and self.word_dropout > 0:
            dropped = torch.rand(inputs.shape, device=inputs.device) < self.word_dropout
            dropped[:, 0] = False  # the start token stays
            inputs = inputs.masked_fill(dropped & (inputs != PAD_ID), self.unknown_id)
        logits, _ = self.step(inputs, z_flat, self.initial_state(z_flat))
        return logits.reshape(*lead, batch, steps, -1)


class GRUWindowDecoder(nn.Module):
    """``z: (..., B, D)`` -> decoder output ``(..., B, P, T, C)`` for windows of T steps of C values, P
    parameters per value (the likelihood's layout ``(P, T, C)``).

    A GRU reads z at every step from the initial state ``tanh(W z)`` (as :class:`GRUDecoder`, without
    feeding back the values: each step's distribution depends on z only, so the likelihood of a window
    factorises over steps given z, as in the recurrent VAEs for anomaly detection of Su et al. 2019,
    "Robust anomaly detection for multivariate time series through stochastic recurrent neural network").
    """

    def __init__(self, latent_dim: int, steps: int, channels: int, params: int, hidden_dim: int, num_layers: int = 1):
        super().__init__()
        self.initial = nn.Linear(latent_dim, num_layers * hidden_dim)
        self.gru = nn.GRU(latent_dim, hidden_dim, num_layers, batch_first=True)
        self.out = nn.Linear(hidden_dim, channels * params)
        self.steps, self.channels, self.params = steps, channels, params
        self.num_layers, self.hidden_dim = num_layers, hidden_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        lead = z.shape[:-1]
        z_flat = z.reshape(-1, z.shape[-1])  # (N, D)
        state = torch.tanh(self.initial(z_flat)).reshape(-1, self.num_layers, self.hidden_dim)
        inputs = z_flat.unsqueeze(1).expand(-1, self.steps, -1)  # (N, T, D)
        h, _ = self.gru(inputs, state.transpose(0, 1).contiguous())  # (N, T, H)
        eta = self.out(h).reshape(-1, self.steps, self.channels, self.params)  # (N, T, C, P)
        return eta.movedim(-1, 1).reshape(*lead, self.params, self.steps, self.channels)


class GRUStepEncoder(GRUEncoder):
    """``(B, T, C)`` values -> ``(B, T * 2H)``: the bidirectional GRU's outputs at every step, so each step's
    latent can be read from its own features (one latent per step, as OmniAnomaly's; Su et al. 2019).
    ``steps`` tells the posterior that its input is ``steps`` blocks of ``features // steps``."""

    def __init__(self, embedding: nn.Linear, hidden_dim: int, steps: int, num_layers: int = 1) -> None:
        super().__init__(embedding, hidden_dim, num_layers)
        self.steps = steps
        self.features = steps * 2 * hidden_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.step_outputs(x)[0].flatten(1)


class GRUStepDecoder(nn.Module):
    """``z: (..., B, T * D)``, one latent ``z_t`` of D per step -> decoder output ``(..., B, P, T, C)``.

    A GRU reads ``z_1 .. z_T`` from a zero state, and step t's distribution comes from its state
    ``d_t = GRU(z_t, d_{t-1})``, so it depends on ``z_1 .. z_t`` only: OmniAnomaly's generative network
    (Su et al. 2019, §3.2, eq. 2), without its linear Gaussian state-space prior (each ``z_t`` is given the
    model's prior, a standard normal by default).
    """

    def __init__(
        self, step_latent_dim: int, steps: int, channels: int, params: int, hidden_dim: int, num_layers: int = 1
    ):
        super().__init__()
        self.gru = nn.GRU(step_latent_dim, hidden_dim, num_layers, batch_first=True)
        self.out = nn.Linear(hidden_dim, channels * params)
        self.steps, self.channels, self.params, self.step_latent_dim = steps, channels, params, step_latent_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        lead = z.shape[:-1]
        z_steps = z.reshape(-1, self.steps, self.step_latent_dim)  # (N, T, D)
        h, _ = self.gru(z_steps)  # (N, T, H)
        eta = self.out(h).reshape(-1, self.steps, self.channels, self.params)  # (N, T, C, P)
        return eta.movedim(-1, 1).reshape(*lead, self.params, self.steps, self.channels)
