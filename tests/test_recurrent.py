"""Sequence networks: encoders blind to padding, a causal teacher-forced decoder, and decoding that agrees
with the decoder's own probabilities (greedy = argmax, a beam at least as likely as greedy)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vaelab.nn.recurrent import PAD_ID, ConvSequenceEncoder, GRUDecoder, GRUEncoder, sequence_lengths
from vaelab.nn.sequence_decoding import decode_tokens
from vaelab.nn.smiles_syntax import SmilesSyntax

VOCAB, START, END, UNKNOWN = 12, 1, 2, 3


def tokens(rows: list[list[int]], steps: int) -> torch.Tensor:
    out = torch.full((len(rows), steps), PAD_ID, dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.tensor(row)
    return out


def decoder(seed: int = 0, word_dropout: float = 0.0) -> GRUDecoder:
    torch.manual_seed(seed)
    return GRUDecoder(latent_dim=3, vocab_size=VOCAB, embedding_dim=8, hidden_dim=16, num_layers=2,
                      start_id=START, unknown_id=UNKNOWN, word_dropout=word_dropout).eval()  # fmt: skip


def sequence_log_prob(model: GRUDecoder, z: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """log p(ids | z) summed over each row's non-padding tokens, padding and start ruled out as decoding does: (N,)."""
    logits = model(z, ids).index_fill(-1, torch.tensor([PAD_ID, START]), float("-inf"))
    log_p = torch.log_softmax(logits, dim=-1).gather(-1, ids.unsqueeze(-1)).squeeze(-1)
    return log_p.masked_fill(ids == PAD_ID, 0.0).sum(-1)


@pytest.mark.parametrize(
    "encoder", [GRUEncoder(nn.Embedding(VOCAB, 8, padding_idx=0), 16, 2), ConvSequenceEncoder(VOCAB, 8, [16, 16], 3)]
)
def test_encoders_do_not_see_padding(encoder: torch.nn.Module) -> None:
    rows = [[5, 6, 7, END], [4, 9, END], [8, END]]
    short, long = encoder(tokens(rows, 5)), encoder(tokens(rows, 11))
    assert short.shape == (3, encoder.features)
    torch.testing.assert_close(short, long)
    assert torch.equal(sequence_lengths(tokens(rows, 5)), torch.tensor([4, 3, 2]))


def test_the_gru_encoder_computes_a_packed_bidirectional_gru() -> None:
    torch.manual_seed(0)
    encoder = GRUEncoder(nn.Embedding(VOCAB, 8, padding_idx=0), 16, num_layers=2)
    packed_gru = torch.nn.GRU(8, 16, 2, batch_first=True, bidirectional=True)
    with torch.no_grad():  # the same weights: direction d of layer l is its own unidirectional GRU
        for layer in range(2):
            for suffix, grus in (("", encoder.forward_layers), ("_reverse", encoder.backward_layers)):
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(packed_gru, f"{name}_l{layer}{suffix}").copy_(getattr(grus[layer], f"{name}_l0"))
    ids = tokens([[5, 6, 7, 8, END], [4, 9, END], [END]], 7)
    lengths = sequence_lengths(ids)
    packed = torch.nn.utils.rnn.pack_padded_sequence(encoder.embedding(ids), lengths, True, enforce_sorted=False)
    _, final = packed_gru(packed)  # (layers * 2, B, H)
    torch.testing.assert_close(encoder(ids), torch.cat([final[-2], final[-1]], dim=-1))


def test_the_decoder_is_causal_and_broadcasts_over_samples() -> None:
    model = decoder()
    z = torch.randn(2, 4, 3)  # (S, B, D)
    x = torch.randint(4, VOCAB, (4, 6))
    logits = model(z, x)
    assert logits.shape == (2, 4, 6, VOCAB)
    torch.testing.assert_close(logits[1], model(z[1], x))
    changed = x.clone()
    changed[:, 3] = (changed[:, 3] + 1 - 4) % (VOCAB - 4) + 4  # token 3 changes: steps 0..3 must not
    torch.testing.assert_close(model(z, changed)[..., :4, :], logits[..., :4, :])
    assert not torch.allclose(model(z, changed)[..., 4, :], logits[..., 4, :])


def test_word_dropout_replaces_only_real_tokens_and_only_in_training() -> None:
    model = decoder(word_dropout=1.0)
    z, x = torch.randn(2, 3), tokens([[5, 6, END], [7, END]], 5)
    assert torch.equal(model(z, x), model(z, x))  # eval mode: no dropout
    model.train()
    everything_unknown = tokens([[5, 6, END], [7, END]], 5)
    everything_unknown[x != PAD_ID] = UNKNOWN
    # with p = 1 every input token but the start token reads as unknown, so the logits do not depend on x
    torch.testing.assert_close(model(z, x), model(z, everything_unknown))


def test_greedy_decoding_is_the_argmax_of_the_decoders_own_probabilities() -> None:
    model, z = decoder(), torch.randn(5, 3)
    ids = decode_tokens(model, z, END, max_length=8, method="greedy")
    logits = model(z, ids)
    real = ids != PAD_ID
    assert torch.equal(logits.argmax(-1)[real], ids[real])
    beam_1 = decode_tokens(model, z, END, max_length=8, method="beam", beam_width=1)
    assert torch.equal(beam_1, ids)


def test_a_beam_finds_sequences_at_least_as_likely_as_greedy() -> None:
    model, z = decoder(seed=3), torch.randn(16, 3)
    greedy = decode_tokens(model, z, END, max_length=6, method="greedy")
    beam = decode_tokens(model, z, END, max_length=6, method="beam", beam_width=4)
    assert (sequence_log_prob(model, z, beam) >= sequence_log_prob(model, z, greedy) - 1e-4).all()


def test_sampling_is_seeded_and_ends_with_padding() -> None:
    model, z = decoder(), torch.randn(6, 3)
    first = decode_tokens(model, z, END, 9, "sample", generator=torch.Generator().manual_seed(1))
    again = decode_tokens(model, z, END, 9, "sample", generator=torch.Generator().manual_seed(1))
    assert torch.equal(first, again)
    for row in first.tolist():
        if END in row:
            assert all(t == PAD_ID for t in row[row.index(END) + 1 :])
    cold = decode_tokens(model, z, END, 9, "sample", temperature=1e-4, generator=torch.Generator().manual_seed(2))
    assert torch.equal(cold, decode_tokens(model, z, END, 9, "greedy"))


SMILES_TOKENS = ("<pad>", "<bos>", "<eos>", "<unk>", "(", ")", "1", "2", "C", "O", "N", "=")  # VOCAB of them


def well_formed(row: list[int]) -> bool:
    """Every ``)`` closes an open branch, and nothing is open at the end token."""
    depth, rings = 0, set()
    for token in row:
        if token == END:
            return depth == 0 and not rings
        depth += (token == 4) - (token == 5)
        if depth < 0:
            return False
        if token in (6, 7):
            rings ^= {token}
    return True  # no end token within the length: the syntax cannot force one


@pytest.mark.parametrize("method", ["greedy", "sample", "beam"])
def test_the_smiles_syntax_closes_branches_and_rings_before_the_end(method: str) -> None:
    assert len(SMILES_TOKENS) == VOCAB
    model, z = decoder(seed=0), torch.randn(64, 3)
    with torch.no_grad():  # push the decoder towards ")" and the end token, which it would emit anywhere
        model.logits.bias[5] += 3.0
        model.logits.bias[[END, 4, 6, 7]] += 1.5
    syntax = SmilesSyntax(SMILES_TOKENS)
    free = decode_tokens(model, z, END, 12, method, beam_width=3, generator=torch.Generator().manual_seed(0))
    held = decode_tokens(model, z, END, 12, method, beam_width=3, generator=torch.Generator().manual_seed(0),
                         syntax=syntax)  # fmt: skip
    assert not all(well_formed(row) for row in free.tolist())  # the case the constraint exists for
    assert all(well_formed(row) for row in held.tolist())
    assert (held == END).any()  # the end token stays reachable


def test_the_smiles_syntax_changes_nothing_a_well_formed_decoding_would_emit() -> None:
    model, z = decoder(seed=1), torch.randn(32, 3)
    greedy = decode_tokens(model, z, END, 10, "greedy")
    held = decode_tokens(model, z, END, 10, "greedy", syntax=SmilesSyntax(SMILES_TOKENS))
    for free_row, held_row in zip(greedy.tolist(), held.tolist(), strict=True):
        if well_formed(free_row) and END in free_row:
            assert free_row == held_row


def test_the_tokens_likelihood_scores_each_real_token_once_and_never_padding() -> None:
    from vaelab.likelihoods import TokensLikelihood

    model, z = decoder(), torch.randn(3, 3)
    x = tokens([[5, 6, 7, END], [4, END], [9, 9, 9, 9, END]], 5)
    likelihood = TokensLikelihood((5,), VOCAB)
    assert likelihood.param_shape == (5, VOCAB)
    log_p = likelihood.log_prob(likelihood(model(z, x)), x)
    expected = torch.log_softmax(model(z, x), -1).gather(-1, x.unsqueeze(-1)).squeeze(-1)
    torch.testing.assert_close(log_p, expected.masked_fill(x == PAD_ID, 0.0).sum(-1))
    wider = tokens([[5, 6, 7, END], [4, END], [9, 9, 9, 9, END]], 9)  # more padding: the same values
    torch.testing.assert_close(TokensLikelihood((9,), VOCAB).log_prob(likelihood(model(z, wider)), wider), log_p)
    assert likelihood.support_problem(x) is None and likelihood.support_problem(x + VOCAB) is not None
