"""Small models for tests (a tiny MLP VAE and an exactly solvable linear-Gaussian VAE) and an in-process
runner of the ``vaelab`` command."""

from __future__ import annotations

import contextlib
import io
import math
import sys

import numpy as np
import pytest
import torch
from torch import nn

from vaelab.cli.main import main
from vaelab.config.build import build_model, model_spec
from vaelab.config.schema import ModelConfig
from vaelab.data.dataset import ArrayDataset
from vaelab.likelihoods import GaussianLikelihood
from vaelab.models import VAE
from vaelab.posteriors import DiagonalGaussianPosterior
from vaelab.priors import StandardNormalPrior


def tiny_vae(
    data_shape: tuple[int, ...] = (1, 4, 4),
    likelihood: str = "bernoulli",
    levels: int | None = 2,
    num_classes: int | None = None,
    **model: object,
) -> VAE:
    """A small MLP VAE built through the same builders as the CLI."""
    config = ModelConfig(likelihood=likelihood, latent_dim=3, hidden_dims=[16], network="mlp", **model)  # type: ignore[arg-type]
    x = np.zeros((2, *data_shape), dtype=np.uint8 if levels else np.float32)
    y = None if num_classes is None else np.zeros(2, dtype=np.int64)
    return build_model(model_spec(config, ArrayDataset(x, y, levels, "tiny", num_classes)))


class LinearGaussian:
    """p(z) = N(0, I), p(x|z) = N(W z + b, sigma^2 I) with orthogonal columns of W, so that the exact
    posterior N(mu, Sigma), Sigma = (I + W^T W / sigma^2)^-1, mu = Sigma W^T (x - b) / sigma^2, is diagonal
    and the marginal is p(x) = N(b, W W^T + sigma^2 I) (Bishop 2006, eqs. 2.113-2.117)."""

    def __init__(self, data_dim: int = 5, latent_dim: int = 2, sigma: float = 0.7, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        q, _ = torch.linalg.qr(torch.randn(data_dim, latent_dim, generator=g, dtype=torch.float64))
        self.W = q * torch.tensor([1.5, 0.8], dtype=torch.float64)[:latent_dim]
        self.b = torch.randn(data_dim, generator=g, dtype=torch.float64)
        self.sigma = sigma
        self.data_dim, self.latent_dim = data_dim, latent_dim

    def log_marginal(self, x: torch.Tensor) -> torch.Tensor:
        cov = self.W @ self.W.T + self.sigma**2 * torch.eye(self.data_dim, dtype=torch.float64)
        return torch.distributions.MultivariateNormal(self.b, cov).log_prob(x.double())

    def sample(self, n: int, seed: int = 1) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.latent_dim, generator=g, dtype=torch.float64)
        return z @ self.W.T + self.b + self.sigma * torch.randn(n, self.data_dim, generator=g, dtype=torch.float64)

    def vae(self, posterior_shift: float = 0.0) -> VAE:
        """The VAE whose posterior head computes the exact posterior (shifted by ``posterior_shift``)."""
        d, k, s2 = self.data_dim, self.latent_dim, self.sigma**2
        sigma_post = torch.linalg.inv(torch.eye(k, dtype=torch.float64) + self.W.T @ self.W / s2)
        posterior = DiagonalGaussianPosterior(d, k, min_scale=1e-4).double()
        with torch.no_grad():
            gain = sigma_post @ self.W.T / s2  # (k, d)
            posterior.linear.weight.zero_()
            posterior.linear.weight[:k] = gain
            posterior.linear.bias[:k] = -gain @ self.b + posterior_shift
            scale = torch.sqrt(torch.diagonal(sigma_post)) - 1e-4
            posterior.linear.bias[k:] = torch.log(torch.expm1(scale))  # softplus^-1
        decoder = nn.Linear(k, d).double()
        with torch.no_grad():
            decoder.weight.copy_(self.W)
            decoder.bias.copy_(self.b)

        class Unflatten(nn.Module):
            def forward(self, h: torch.Tensor) -> torch.Tensor:
                return decoder(h).unsqueeze(-2)  # (..., 1, d): one parameter per element

        model = VAE(
            nn.Identity(),
            posterior,
            StandardNormalPrior(k).double(),
            Unflatten(),
            GaussianLikelihood((d,), scale=self.sigma),
            data_shape=(d,),
            latent_dim=k,
        )
        model.add_module("decoder_linear", decoder)
        assert math.isclose(self.sigma, model.likelihood.scale_mode)  # type: ignore[arg-type]
        return model.double()


def run_cli(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    """Run ``vaelab ARGS`` in-process through the real entry point; return (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["vaelab", *args])
    code = 0
    try:
        main()
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def vaelab(args: list[str]) -> tuple[int, str, str]:
    """``vaelab ARGS`` in this process through the real entry point, without pytest fixtures: (exit code,
    stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        patch.setattr(sys, "argv", ["vaelab", *args])
        try:
            main()
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    return code, out.getvalue(), err.getvalue()


PROGRESS_LINES = ("training ", "epoch ")  # the run's opening line and its per-epoch lines


def failure_line(err: str) -> str:
    """The one line a failed ``vaelab train`` ends with; every line before it is a progress line."""
    *progress, last = err.rstrip("\n").split("\n")
    assert all(line.startswith(PROGRESS_LINES) for line in progress), err
    return last
