"""The VQ-VAE (van den Oord et al. 2017): the quantiser's straight-through gradient, nearest codes, EMA codebook
and restarts, the autoregressive code prior's normalisation and sampling, the objective, saving, the CLI."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import vaelab
from helpers import run_cli
from vaelab.config.build import model_spec
from vaelab.config.schema import ModelConfig
from vaelab.data.batch import as_batch
from vaelab.data.dataset import ArrayDataset
from vaelab.errors import UserError
from vaelab.models import VAE
from vaelab.models.build import build_model
from vaelab.objectives.vq_vae import VQVAE, code_perplexity
from vaelab.posteriors.vector_quantizer import QuantizedCodes, VectorQuantizer
from vaelab.priors.code_prior import CodePrior
from vaelab.training import TrainSettings, fit


def quantizer(latent_dim: int = 6, code_dim: int = 2, codebook_size: int = 5, **kwargs: float) -> VectorQuantizer:
    torch.manual_seed(0)
    return VectorQuantizer(4, latent_dim, code_dim, codebook_size, **kwargs)  # type: ignore[arg-type]


def images(n: int = 24) -> ArrayDataset:
    x = np.random.default_rng(0).integers(0, 2, size=(n, 1, 8, 8)).astype(np.uint8)
    return ArrayDataset(x, None, 2, "grid")


def vq_model(data: ArrayDataset, **posterior: int) -> VAE:
    torch.manual_seed(0)
    config = ModelConfig(
        preset="vq-vae",
        latent_dim=4,
        hidden_dims=[16],
        posterior={"name": "vector-quantized", "code_dim": 2, "codebook_size": 8, **posterior},  # type: ignore[arg-type]
        prior={"name": "autoregressive-codes", "embedding_dim": 4, "hidden": 8},  # type: ignore[arg-type]
    )
    return build_model(model_spec(config, data))


def test_the_straight_through_gradient_of_z_e_is_the_gradient_at_z_q() -> None:
    vq = quantizer().eval()
    q_z = vq(torch.randn(3, 4))
    z = q_z.rsample()  # (B, D)
    assert torch.equal(z, vq.lookup(q_z.indices))  # the value is the snapped code
    q_z.z_e.retain_grad()
    weights = torch.randn(6)
    (z.pow(3) * weights).sum().backward()  # a loss whose gradient depends on where it is taken
    z_q = vq.lookup(q_z.indices).requires_grad_()
    (expected,) = torch.autograd.grad((z_q.pow(3) * weights).sum(), z_q)
    assert q_z.z_e.grad is not None and torch.allclose(q_z.z_e.grad, expected)
    assert not torch.allclose(expected, 3 * q_z.z_e.detach().pow(2) * weights)  # z_e itself would differ


def test_each_code_vector_goes_to_its_nearest_codebook_vector() -> None:
    vq = quantizer(latent_dim=6, code_dim=2, codebook_size=7)
    z = torch.randn(10, 6)
    indices = vq.indices_of(z)  # (10, 3)
    for b, position in itertools.product(range(10), range(3)):
        vector = z[b, 2 * position : 2 * position + 2]
        distances = [float(((vector - code) ** 2).sum()) for code in vq.codebook]
        assert indices[b, position] == min(range(7), key=distances.__getitem__)
    assert torch.equal(vq.indices_of(vq.lookup(indices)), indices)  # codes map back to their indices


def test_the_ema_update_follows_the_papers_formulas() -> None:
    vq = quantizer(latent_dim=2, code_dim=2, codebook_size=3, decay=0.9, epsilon=0.1, restart_after=1000)
    vq.ema_count.copy_(torch.tensor([2.0, 1.0, 0.5]))
    vq.ema_sum.copy_(torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    z_e = torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
    vq.update(z_e, torch.tensor([0, 0, 2]))
    # N_i = 0.9 N_i + 0.1 n_i; m_i = 0.9 m_i + 0.1 sum of the z_e assigned to i (appendix A.1, eqs. 6-7)
    counts = [0.9 * 2.0 + 0.1 * 2, 0.9 * 1.0, 0.9 * 0.5 + 0.1 * 1]
    sums = [[0.9 * 2 + 0.1 * 4, 0.9 * 0 + 0.1 * 1], [0.0, 0.9], [0.9 + 0.05, 0.9 + 0.05]]
    n = sum(counts)
    smoothed = [(c + 0.1) / (n + 3 * 0.1) * n for c in counts]  # Laplace smoothing
    assert torch.allclose(vq.ema_count, torch.tensor(counts))
    assert torch.allclose(vq.ema_sum, torch.tensor(sums))
    expected = torch.tensor([[s / c for s in row] for row, c in zip(sums, smoothed, strict=True)])
    assert torch.allclose(vq.codebook, expected)  # eq. 8 with the smoothed counts
    assert vq.idle_steps.tolist() == [0, 1, 0]


def test_codes_idle_for_restart_after_steps_restart_at_encoder_outputs() -> None:
    vq = quantizer(latent_dim=2, code_dim=2, codebook_size=4, restart_after=3)
    vq.codebook.copy_(torch.tensor([[0.0, 0.0], [50.0, 50.0], [60.0, 60.0], [70.0, 70.0]]))
    vq.train()
    z_e = 0.1 * torch.randn(8, 2)  # every output nearest to code 0
    for step in range(3):
        assert vq.indices_of(z_e).eq(0).all()
        before = vq.codebook.clone()
        vq.update(z_e, vq.indices_of(z_e).reshape(-1))
        assert (vq.idle_steps[1:] == 0).all() == (step == 2)
    restarted = vq.codebook[1:]
    assert not torch.equal(restarted, before[1:])
    for code in restarted:  # each revived code is one of the batch's encoder outputs, and they are distinct
        assert (z_e == code).all(-1).any()
    assert len(torch.unique(restarted, dim=0)) == 3
    assert torch.equal(vq.ema_count[1:], torch.ones(3)) and torch.equal(vq.ema_sum[1:], restarted)


def test_the_code_prior_sums_to_one_over_every_index_sequence() -> None:
    vq = quantizer(latent_dim=3, code_dim=1, codebook_size=3)
    prior = CodePrior(vq, embedding_dim=4, hidden=5)
    sequences = torch.tensor(list(itertools.product(range(3), repeat=3)))  # all 27 grids
    log_p = prior.log_prob_indices(sequences)
    assert math.isclose(torch.logsumexp(log_p, 0).item(), 0.0, abs_tol=1e-5)
    assert torch.allclose(prior().log_prob(vq.lookup(sequences)), log_p)  # p(z) at the codes is p(c)


def test_prior_samples_are_codebook_vectors_of_the_sample_shape() -> None:
    vq = quantizer(latent_dim=6, code_dim=2, codebook_size=5)
    z = CodePrior(vq, embedding_dim=4, hidden=5)().sample((2, 3))
    assert z.shape == (2, 3, 6)
    assert torch.equal(vq.lookup(vq.indices_of(z)), z)
    model = vq_model(images())
    assert model.sample(5).shape == (5, 1, 8, 8)


def test_the_objective_adds_commitment_and_the_prior_nll_without_pulling_the_encoder() -> None:
    data = images()
    model = vq_model(data).eval()
    batch = as_batch(torch.from_numpy(data.x[:6]).float())
    out = VQVAE(commitment=0.25)(model, batch)
    terms = out.terms
    q_z = model.encode(batch.x)
    assert isinstance(q_z, QuantizedCodes)
    commitment = (q_z.z_e - model.posterior.lookup(q_z.indices)).pow(2).sum(-1)
    assert torch.allclose(terms["commitment"], commitment)
    assert torch.allclose(terms["kl"], -model.prior().log_prob(q_z.mean))  # KL of a one-hot q: -log p(c)
    assert torch.allclose(terms["elbo"], terms["reconstruction"] - terms["kl"])
    assert torch.allclose(out.loss, -terms["elbo"].mean() + 0.25 * commitment.mean())
    encoder = list(model.encoder.parameters()) + list(model.posterior.parameters())
    grads = torch.autograd.grad(terms["kl"].mean(), encoder, allow_unused=True)
    assert all(g is None or not g.any() for g in grads)  # the prior's NLL reaches its own weights only
    assert any(g is not None and g.any() for g in torch.autograd.grad(terms["kl"].mean(), model.prior.parameters()))


def test_the_perplexity_is_exp_of_the_entropy_of_code_use() -> None:
    indices = torch.tensor([[0, 0], [1, 2]])  # use 1/2, 1/4, 1/4 of 5 codes
    entropy = -(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25))
    assert math.isclose(code_perplexity(indices, 5).item(), math.exp(entropy), rel_tol=1e-9)
    assert math.isclose(code_perplexity(torch.arange(4), 4).item(), 4.0, rel_tol=1e-9)


def test_log_likelihood_of_a_point_posterior_is_the_elbo_bound() -> None:
    data = images()
    model = vq_model(data).eval()
    x = torch.from_numpy(data.x[:5]).float()
    assert torch.allclose(model.log_likelihood(x, num_samples=7), model.elbo(x), atol=1e-5)


def test_training_moves_the_codebook_and_saving_keeps_it(tmp_path: Path) -> None:
    data = images()
    model = vq_model(data, restart_after=2)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    fit(model, VQVAE(), data, None, TrainSettings(epochs=3, batch_size=8, progress=False))
    buffers = [f"posterior.{name}" for name in ("codebook", "ema_count", "ema_sum", "idle_steps")]
    assert all(not torch.equal(model.state_dict()[k], initial[k]) for k in buffers)
    model.save(tmp_path)
    assert set(buffers) <= set(load_file(str(tmp_path / "model.safetensors")))
    loaded = vaelab.load(tmp_path)
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    x = torch.from_numpy(data.x[:4]).float()
    assert torch.equal(loaded.elbo(x), model.elbo(x))


@pytest.mark.parametrize(
    ("posterior", "prior", "message"),
    [
        ("vector-quantized", "vamp", "and the autoregressive-codes prior go together"),
        ("vector-quantized", "standard-normal", "and the autoregressive-codes prior go together"),
        ("gaussian", "autoregressive-codes", "and the autoregressive-codes prior go together"),
    ],
)
def test_nonsensical_pairings_are_refused(posterior: str, prior: str, message: str) -> None:
    config = ModelConfig(latent_dim=4, hidden_dims=[8], posterior=posterior, prior=prior)  # type: ignore[arg-type]
    with pytest.raises(UserError, match=message):
        build_model(model_spec(config, images()))


def test_a_code_dim_that_does_not_divide_latent_dim_is_refused() -> None:
    parts = {"posterior": {"name": "vector-quantized", "code_dim": 2}, "prior": "autoregressive-codes"}
    config = ModelConfig(latent_dim=5, **parts)  # type: ignore[arg-type]
    with pytest.raises(UserError, match=r"not a multiple of model\.posterior\.code_dim"):
        build_model(model_spec(config, images()))


def test_the_cli_trains_loads_and_samples(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    args = ["train", "--model", "vq-vae", "--epochs", "2", "--hidden-dims", "16", "--latent-dim", "8"]
    code, _, err = run_cli([*args, "--no-progress", "--no-report", "--out", str(run)], capsys, monkeypatch)
    assert code == 0, err
    record = [line for line in (run / "metrics.jsonl").read_text().splitlines() if line][-1]
    assert '"perplexity"' in record and '"commitment"' in record
    model = vaelab.load(run)
    assert isinstance(model.posterior, VectorQuantizer) and model.posterior.codes == 2  # 8 = 2 codes of 4
    code, _, err = run_cli(["sample", str(run), "-n", "4", "--out", str(tmp_path / "s.npy")], capsys, monkeypatch)
    assert code == 0, err
    assert np.load(tmp_path / "s.npy").shape[0] == 4
