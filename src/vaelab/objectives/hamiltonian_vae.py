"""The Hamiltonian VAE's bound (Caterini, Doucet & Sejdinovic 2018, "Hamiltonian Variational Auto-Encoder")."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import torch
from torch.distributions import Distribution, Normal

from vaelab.data.batch import Batch
from vaelab.errors import UserError
from vaelab.models import VAE, elbo_terms
from vaelab.objectives.base import ObjectiveOutput, single_process
from vaelab.posteriors.hamiltonian import HamiltonianPosterior


def log_joint(model: VAE, batch: Batch, p_z: Distribution, z: torch.Tensor) -> torch.Tensor:
    """``log p(x, z) = log p(x|z) + log p(z)`` for codes ``z (S, B, D)``, over the batch's observed entries: (S, B)."""
    p_x = model.decode(z, batch.y, context=batch.x)
    return model.likelihood.log_prob(p_x, batch.x, batch.observed) + p_z.log_prob(z)


def standard_normal_log_prob(rho: torch.Tensor, scale: torch.Tensor | float = 1.0) -> torch.Tensor:
    """``log N(ρ | 0, scale² I)`` summed over the last axis."""
    return Normal(0.0, torch.as_tensor(scale, dtype=rho.dtype, device=rho.device)).log_prob(rho).sum(-1)


@contextlib.contextmanager
def _autograd() -> Iterator[None]:
    """Gradients on, also inside ``torch.inference_mode`` (validation): the flow needs ∇_z log p(x, z)."""
    with torch.inference_mode(False), torch.enable_grad():
        yield


def _ordinary(batch: Batch) -> Batch:
    """The batch with tensors made in inference mode copied, so that autograd may save them."""

    def ordinary(t: torch.Tensor | None) -> torch.Tensor | None:
        return t.clone() if t is not None and t.is_inference() else t

    return dataclasses.replace(
        batch, x=batch.x.clone() if batch.x.is_inference() else batch.x, y=ordinary(batch.y), mask=ordinary(batch.mask)
    )


@dataclass(frozen=True)
class HamiltonianELBO:
    """The tempered HVAE bound (Caterini et al. 2018, eq. 5 with Algorithm 2), one sample per example:

    z_0 ~ q(z_0|x), γ_0 ~ N(0, I), ρ_0 = γ_0 / sqrt(β_0); K tempered leapfrog steps on U(z) = -log p(x, z)
    (``HamiltonianPosterior.flow``) give (z_K, ρ_K), and

        L = log p(x, z_K) + log N(ρ_K | 0, I) - log q(z_0|x) - log N(ρ_0 | 0, β_0^{-1} I) + (D/2) log β_0.

    The last term is the log-Jacobian of the flow: leapfrog steps preserve volume, and the k-th tempering step
    scales ρ by sqrt(β_{k-1}/β_k), a Jacobian (β_{k-1}/β_k)^{D/2}, which telescopes to (β_0/β_K)^{D/2} = β_0^{D/2}
    (β_K = 1). So q(z_K, ρ_K) = q(z_0|x) N(ρ_0 | 0, β_0^{-1} I) β_0^{-D/2} (their Algorithm 2's q̄), and L is
    E log [p(x, z_K) N(ρ_K | 0, I) / q(z_K, ρ_K)] <= log p(x), the extended target integrating ρ out to p(x).
    With K = 0 it is the ELBO estimator log p(x, z_0) - log q(z_0|x). Gradients reach the encoder, the decoder
    (also through ∇_z log p(x, z), by double back-propagation), ε and β_0.

    Reports ``hamiltonian_elbo`` (L, the trained bound) and ``elbo``, ``reconstruction``, ``kl``: the plain
    ELBO of q(z_0|x) at the same z_0 (``elbo_terms``), comparable with other runs. K, ε and β_0 belong to the
    model's posterior (``model.posterior.steps``), so this objective has no hyperparameters. Single-process
    training only: the flow calls ``model.decode``, which a ``DistributedDataParallel`` wrapper does not offer.
    """

    def __call__(self, model: VAE, batch: Batch) -> ObjectiveOutput:
        single_process(model, "hamiltonian-vae")
        posterior = model.posterior
        if not isinstance(posterior, HamiltonianPosterior):
            raise UserError(
                "the hamiltonian-vae objective runs the flow of a hamiltonian posterior: use --model hamiltonian-vae "
                "or --set model.posterior=hamiltonian"
            )
        if batch.graph is not None:
            raise UserError("the hamiltonian-vae objective does not support graphs: use another model")
        create_graph = torch.is_grad_enabled()  # training: the bound's gradient goes through the flow
        with _autograd():
            batch = _ordinary(batch)
            out = model(batch)  # z_0: (1, B, D)
            terms = elbo_terms(out)
            density = partial(log_joint, model, batch, out.p_z)
            z0_density = out.log_p_x + out.p_z.log_prob(out.z)  # (1, B)
            gamma0 = torch.randn_like(out.z)
            path = posterior.flow(out.z, gamma0, density, z0_density, create_graph)
            roots = posterior.sqrt_inverse_temperatures()
            beta0 = roots[0] ** 2
            log_q = out.q_z.log_prob(out.z) + standard_normal_log_prob(path.rho0, 1 / roots[0])
            log_q = log_q - model.latent_dim / 2 * torch.log(beta0)
            log_p = path.log_density + standard_normal_log_prob(path.rho)
            bound = (log_p - log_q)[0]  # (B,)
        if not create_graph:
            bound, terms = bound.detach(), {k: v.detach() for k, v in terms.items()}
        loss = -bound.mean()
        return ObjectiveOutput(loss, {"hamiltonian_elbo": bound, **terms})
