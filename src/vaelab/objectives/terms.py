"""The terms every objective reports, so runs with different objectives stay comparable."""

from __future__ import annotations

import torch

from vaelab.models.vae import ModelPass


def elbo_terms(out: ModelPass) -> dict[str, torch.Tensor]:
    """The beta = 1 ELBO per example (B,) in nats, ``E_q log p(x|z) - KL(q(z|x) || p(z))`` (Kingma &
    Welling 2014, eq. 3), with its ``reconstruction`` and ``kl`` parts; the KL is closed form where torch
    has one."""
    reconstruction = out.log_p_x.mean(0)  # (B,)
    kl = out.kl()  # (B,)
    return {"elbo": reconstruction - kl, "reconstruction": reconstruction, "kl": kl}
