"""The importance-weighted bound (IWAE) as a training objective, with three encoder-gradient estimators."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.distributions import Distribution, Independent, MultivariateNormal, Normal

from vaelab.data.batch import Batch
from vaelab.distributions import log_mean_exp
from vaelab.errors import UserError
from vaelab.models import VAE
from vaelab.models.vae import ModelPass
from vaelab.objectives.base import ObjectiveOutput

GRADIENT_ESTIMATORS = ("standard", "stl", "dreg")

# Constructor arguments that rebuild a posterior from its parameters (see ``_stop_parameter_gradients``).
_PARAMETERS: dict[type[Distribution], tuple[str, ...]] = {
    Normal: ("loc", "scale"),
    MultivariateNormal: ("loc", "scale_tril"),
}


def _stop_parameter_gradients(q_z: Distribution) -> Distribution:
    """The same distribution with detached parameters: ``log q(z)`` then depends on the encoder only
    through the sample z (the "sticking the landing" surrogate of Roeder et al. 2017, eq. 8)."""
    if isinstance(q_z, Independent):
        return Independent(_stop_parameter_gradients(q_z.base_dist), q_z.reinterpreted_batch_ndims)
    names = _PARAMETERS.get(type(q_z))
    if names is None:
        raise UserError(
            f"the stl and dreg gradient estimators need a Gaussian posterior, not {type(q_z).__name__}; "
            "use gradient='standard'"
        )
    return type(q_z)(**{name: getattr(q_z, name).detach() for name in names}, validate_args=False)


def importance_log_weights(
    model: VAE,
    batch: Batch,
    num_bounds: int,
    num_samples: int,
    beta: float = 1.0,
    gradient: str = "standard",
) -> tuple[ModelPass, torch.Tensor, torch.Tensor]:
    """Draw ``num_bounds * num_samples`` codes per example and return the pass, the log weights
    ``log w = log p(x|z) + beta (log p(z) - log q(z|x))`` and ``log p(z) - log q(z|x)``, both (M, K, B):
    M independent groups of K samples, each group one IWAE_K bound (Burda et al. 2016, eq. 8).

    ``gradient`` picks the encoder-gradient estimator; values and decoder gradients are the same for all:

    - ``"standard"``: differentiate the bound as written; its encoder gradient includes the score term
      ``-beta sum_k w~_k d log q(z_k) / d phi`` whose variance grows with K (Rainforth et al. 2018).
    - ``"stl"``: drop the score term by detaching q's parameters (Roeder et al. 2017, eq. 8). Unbiased for
      K = 1; for K > 1 the dropped term does not vanish in expectation, so it is biased (Tucker et al.
      2019, §3).
    - ``"dreg"``: the doubly reparameterised estimator (Tucker et al. 2019, eq. 8), which rewrites the
      score term by reparameterisation: encoder gradient ``sum_k w~_k (1 - beta + beta w~_k) d log w_k /
      d z_k  d z_k / d phi`` with normalised weights w~ (w~_k^2 at beta = 1, as in the paper). It is
      implemented with q detached plus a hook that scales the gradient reaching each z_k by
      ``1 - beta + beta w~_k``; unbiased for every K. At the exact posterior log w is constant in z, so
      the STL and DReG encoder gradients are exactly zero.
    """
    if gradient not in GRADIENT_ESTIMATORS:
        raise UserError(f"unknown gradient estimator {gradient!r}; use one of {', '.join(GRADIENT_ESTIMATORS)}")
    out = model(batch, num_samples=num_bounds * num_samples)
    q_z = out.q_z if gradient == "standard" else _stop_parameter_gradients(out.q_z)
    log_ratio = out.p_z.log_prob(out.z) - q_z.log_prob(out.z)  # (M K, B)
    log_w = out.log_p_x + beta * log_ratio  # (M K, B)
    shape = (num_bounds, num_samples, -1)
    if gradient == "dreg" and out.z.requires_grad:
        normalised = torch.softmax(log_w.detach().reshape(shape), dim=1)  # w~ within each bound, (M, K, B)
        factor = (1 - beta + beta * normalised).reshape(*log_w.shape, 1)  # (M K, B, 1)
        out.z.register_hook(lambda grad: grad * factor)
    return out, log_w.reshape(shape), log_ratio.reshape(shape)


def iwae_bound(log_w: torch.Tensor) -> torch.Tensor:
    """``log (1/K) sum_k w_k`` over the K axis of log weights (M, K, B) -> (M, B)."""
    return log_mean_exp(log_w, dim=1)


def sampled_elbo_terms(out: ModelPass, log_ratio: torch.Tensor) -> dict[str, torch.Tensor]:
    """The beta = 1 ELBO terms (B,) from all the pass's samples, with the Monte Carlo KL
    ``mean_s [log q(z_s|x) - log p(z_s)]``: no extra decoder pass."""
    reconstruction = out.log_p_x.mean(0)  # (B,)
    kl = -log_ratio.flatten(0, -2).mean(0)  # (B,)
    return {"elbo": reconstruction - kl, "reconstruction": reconstruction, "kl": kl}


@dataclass(frozen=True)
class IWAE:
    """``L_K = E[log (1/K) sum_k w_k]``, ``w_k = p(x, z_k) / q(z_k|x)`` (Burda et al. 2016, eq. 8).

    L_1 is the ELBO and L_K increases with K towards log p(x) (their Theorem 1). ``beta`` is accepted
    so KL schedules can drive it; with beta != 1 the weights become p(x|z) p(z)^beta / q(z|x)^beta.
    ``gradient`` is ``"standard"``, ``"stl"`` or ``"dreg"`` (see ``importance_log_weights``).
    """

    num_samples: int = 5
    beta: float = 1.0
    gradient: str = "standard"

    def __call__(self, model: VAE, batch: Batch) -> ObjectiveOutput:
        out, log_w, log_ratio = importance_log_weights(model, batch, 1, self.num_samples, self.beta, self.gradient)
        bound = iwae_bound(log_w)[0]  # (B,)
        return ObjectiveOutput(-bound.mean(), {"iwae": bound, **sampled_elbo_terms(out, log_ratio)})
