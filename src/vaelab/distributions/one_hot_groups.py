"""Discrete latents as one-hot groups, exact or relaxed (Gumbel-softmax / concrete), and the joint latent of
a diagonal Gaussian followed by such groups (JointVAE).

A code ``z`` of ``N * K`` dimensions is ``N`` categorical variables of ``K`` categories each, every one written
as a one-hot vector of ``K`` entries. :class:`OneHotGroups` is that code either exactly (a one-hot categorical
per group: the discrete model) or relaxed at a temperature ``tau`` (the concrete distribution of Maddison et
al. 2017, eq. in §3.1, = the Gumbel-softmax of Jang et al. 2017, eq. 1-2: a point inside each group's simplex,
differentiable in the logits). Its KL to another :class:`OneHotGroups` is registered with torch as the
closed-form KL of the *underlying categoricals*, summed over groups, whether or not the pair is relaxed: Jang
et al. 2017 (§3.1, their VAE experiments) train with the relaxed sample in the reconstruction and this KL,
since the KL between two concrete densities has no closed form.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch.distributions import (
    Distribution,
    Independent,
    OneHotCategorical,
    RelaxedOneHotCategorical,
    constraints,
    kl_divergence,
    register_kl,
)


class OneHotGroups(Distribution):
    """``N`` independent categoricals of ``K`` categories over a flat code of ``N * K`` dimensions.

    ``logits``: ``(*batch, N, K)``. ``temperature`` None: each group is an exact one-hot categorical
    (``OneHotCategorical``; ``log_prob`` is the log-probability mass of one-hot codes). A positive
    ``temperature``: each group is the concrete relaxation ``RelaxedOneHotCategorical(temperature, logits)``
    (``log_prob`` is its density on the simplex, Maddison et al. 2017, §3.1). ``mean`` is the *mode*, the
    one-hot code of each group's most probable category: the code ``VAE.embed`` and ``VAE.reconstruct`` decode
    (as Dupont 2018 reconstructs), not the categoricals' probabilities.
    """

    arg_constraints: dict[str, constraints.Constraint] = {}  # the logits are unconstrained reals
    support = constraints.unit_interval  # each entry of a code; a group sums to 1

    def __init__(self, logits: torch.Tensor, temperature: float | None = None) -> None:
        self.logits = logits - logits.logsumexp(-1, keepdim=True)  # (*batch, N, K), normalised per group
        self.temperature = temperature
        self.groups, self.categories = logits.shape[-2:]
        super().__init__(logits.shape[:-2], torch.Size([self.groups * self.categories]), validate_args=False)

    @property
    def has_rsample(self) -> bool:  # type: ignore[override]
        return self.temperature is not None

    @property
    def base(self) -> Independent:
        """The groups as torch's distribution over ``(*batch, N, K)``: exact or relaxed."""
        if self.temperature is None:
            return Independent(OneHotCategorical(logits=self.logits, validate_args=False), 1)
        tau = torch.tensor(self.temperature, dtype=self.logits.dtype, device=self.logits.device)
        return Independent(RelaxedOneHotCategorical(tau, logits=self.logits, validate_args=False), 1)

    def _flat(self, groups: torch.Tensor) -> torch.Tensor:
        return groups.flatten(-2)  # (..., N, K) -> (..., N * K)

    def _grouped(self, value: torch.Tensor) -> torch.Tensor:
        return value.unflatten(-1, (self.groups, self.categories))  # (..., N * K) -> (..., N, K)

    def rsample(self, sample_shape: torch.Size | list[int] | tuple[int, ...] = ()) -> torch.Tensor:
        """A relaxed sample (reparameterised); for the exact groups a one-hot sample, which carries no
        gradient to the logits (the exact model is for evaluation; training uses the relaxation)."""
        if self.temperature is None:
            return self.sample(sample_shape)
        return self._flat(self.base.rsample(sample_shape))

    def sample(self, sample_shape: torch.Size | list[int] | tuple[int, ...] = ()) -> torch.Tensor:
        with torch.no_grad():
            return self._flat(self.base.sample(sample_shape))

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        return self.base.log_prob(self._grouped(value))

    @property
    def probs(self) -> torch.Tensor:
        """Each group's category probabilities, ``(*batch, N, K)``."""
        return self.logits.exp()

    @property
    def mean(self) -> torch.Tensor:
        """The mode (see the class): each group's most probable category as a one-hot code, ``(*batch, N * K)``."""
        return self.mode

    @property
    def mode(self) -> torch.Tensor:
        one_hot = torch.nn.functional.one_hot(self.logits.argmax(-1), self.categories)
        return self._flat(one_hot.to(self.logits.dtype))

    def entropy(self) -> torch.Tensor:
        """The underlying categoricals' entropy, summed over groups, ``batch_shape``."""
        return -(self.probs * self.logits).sum((-2, -1))

    def expand(self, batch_shape: torch.Size | list[int] | tuple[int, ...], _instance: Any = None) -> OneHotGroups:
        logits = self.logits.expand(*batch_shape, self.groups, self.categories)
        return OneHotGroups(logits, self.temperature)


@register_kl(OneHotGroups, OneHotGroups)
def categorical_kl(q: OneHotGroups, p: OneHotGroups) -> torch.Tensor:
    """``sum_n KL(Cat(pi_n) || Cat(rho_n)) = sum_n sum_k pi_nk (log pi_nk - log rho_nk)``, ``batch_shape``: the
    closed-form KL of the underlying categoricals (Jang et al. 2017, §3.1), also for relaxed groups. Against a
    uniform prior it is ``sum_n (log K - H(pi_n))``, at most ``N log K``."""
    return (q.probs * (q.logits - p.logits)).sum((-2, -1))


def max_categorical_kl(q: OneHotGroups) -> float:
    """The largest KL any posterior of this shape can have from the uniform categoricals: ``N log K`` nats
    (Dupont 2018, §3: the discrete capacity is capped there)."""
    return q.groups * math.log(q.categories)


class JointLatent(Distribution):
    """A code ``[z, c]``: a diagonal Gaussian ``z`` (``continuous``, event ``(D_z,)``) first, then the one-hot
    groups ``c`` (``discrete``, event ``(N * K,)``), independent (Dupont 2018, §3: q(z, c|x) = q(z|x) q(c|x)).
    Sampling and densities are those of the parts side by side; the mean is the Gaussian's mean beside the
    groups' mode. Its KL to another ``JointLatent`` is registered as the sum of the parts' closed forms
    (:func:`joint_kl_parts` gives them apart)."""

    arg_constraints: dict[str, constraints.Constraint] = {}
    support = constraints.real

    def __init__(self, continuous: Distribution, discrete: OneHotGroups) -> None:
        self.continuous = continuous
        self.discrete = discrete
        self.continuous_dim = continuous.event_shape[0]
        dim = self.continuous_dim + discrete.event_shape[0]
        super().__init__(discrete.batch_shape, torch.Size([dim]), validate_args=False)

    @property
    def has_rsample(self) -> bool:  # type: ignore[override]
        return self.discrete.has_rsample

    def _split(self, value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return value[..., : self.continuous_dim], value[..., self.continuous_dim :]

    def rsample(self, sample_shape: torch.Size | list[int] | tuple[int, ...] = ()) -> torch.Tensor:
        return torch.cat([self.continuous.rsample(sample_shape), self.discrete.rsample(sample_shape)], -1)

    def sample(self, sample_shape: torch.Size | list[int] | tuple[int, ...] = ()) -> torch.Tensor:
        return torch.cat([self.continuous.sample(sample_shape), self.discrete.sample(sample_shape)], -1)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        z, c = self._split(value)
        return self.continuous.log_prob(z) + self.discrete.log_prob(c)

    @property
    def mean(self) -> torch.Tensor:
        return torch.cat([self.continuous.mean.expand(*self.batch_shape, -1), self.discrete.mean], -1)

    @property
    def mode(self) -> torch.Tensor:
        return self.mean

    def expand(self, batch_shape: torch.Size | list[int] | tuple[int, ...], _instance: Any = None) -> JointLatent:
        return JointLatent(self.continuous.expand(batch_shape), self.discrete.expand(batch_shape))


def joint_kl_parts(q: JointLatent, p: JointLatent) -> tuple[torch.Tensor, torch.Tensor]:
    """``KL(q(z|x) || p(z))`` and ``KL(q(c|x) || p(c))``, each ``batch_shape``, in closed form (Dupont 2018,
    eq. 7 penalises them apart)."""
    return kl_divergence(q.continuous, p.continuous), kl_divergence(q.discrete, p.discrete)


@register_kl(JointLatent, JointLatent)
def joint_kl(q: JointLatent, p: JointLatent) -> torch.Tensor:
    """KL of independent parts is the sum of their KLs: ``KL(q(z|x) || p(z)) + KL(q(c|x) || p(c))``."""
    continuous, discrete = joint_kl_parts(q, p)
    return continuous + discrete
