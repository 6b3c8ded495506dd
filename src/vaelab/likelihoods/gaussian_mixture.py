"""A mixture of Gaussians per element, for continuous columns with several modes or spikes."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.distributions import MixtureSameFamily, Normal

from vaelab.distributions import AtomGaussianMixture, SoftmaxCategorical
from vaelab.likelihoods.base import Likelihood
from vaelab.likelihoods.gaussian import element_floors, positive_scale


class NormalisedMixture(MixtureSameFamily):
    """``MixtureSameFamily`` over a :class:`SoftmaxCategorical`, whose logits are already log-weights: its
    ``log_prob`` is ``logsumexp_k(log pi_k + log N(x; mu_k, sigma_k))`` without a second ``log_softmax``."""

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        log_p_x = self.component_distribution.log_prob(x.unsqueeze(-1))  # (..., K): x against every component
        return torch.logsumexp(log_p_x + self.mixture_distribution.logits, dim=-1)


class GaussianMixtureLikelihood(Likelihood):
    """``p(x_d|z) = sum_k pi_dk N(x_d; mu_dk, sigma_dk^2)`` with every parameter from the decoder: the
    decoded counterpart of the mode-specific normalisation of TVAE (Xu et al. 2019, §4.2), which fits one
    Gaussian mixture per column ahead of training. A value that repeats (a spike at 0) takes a component
    of small scale, so the density there can grow large, floored by ``min_scale`` (or by ``floors``, one floor
    per element of ``data_shape``). Layout ``(3K, *data_shape)``: K logits, K locations, K raw scales.

    With ``atoms`` (one value per element, NaN for none) each element with an atom also takes that exact value
    with a decoded probability (:class:`~vaelab.distributions.AtomGaussianMixture`; a value within the element's
    ``atom_tolerances`` entry, 0 when None, counts as the atom), and the layout has one more logit:
    ``(3K + 1, *data_shape)``."""

    name = "gaussian-mixture"

    floors: torch.Tensor | None  # (*data_shape,): each element's floor, or None: min_scale for all
    atoms: torch.Tensor | None  # (*data_shape,): each element's atom (NaN: none), or None: no atoms
    atom_tolerances: torch.Tensor | None  # (*data_shape,): how near its atom a value is the atom

    def __init__(
        self,
        data_shape: tuple[int, ...],
        components: int = 5,
        min_scale: float = 1e-3,
        floors: Sequence[float] | None = None,
        atoms: Sequence[float] | None = None,
        atom_tolerances: Sequence[float] | None = None,
    ) -> None:
        super().__init__(data_shape)
        if components < 1:
            raise ValueError("a Gaussian mixture needs at least one component")
        self.components = components
        self.min_scale = min_scale
        self.register_buffer("floors", element_floors(floors, self.data_shape), persistent=False)
        atom_values = None if atoms is None else torch.tensor(atoms, dtype=torch.float32).reshape(self.data_shape)
        self.register_buffer("atoms", atom_values, persistent=False)
        tolerances = None
        if atoms is not None:
            tolerances = torch.tensor(atom_tolerances or [0.0] * len(atoms), dtype=torch.float32)
            tolerances = tolerances.reshape(self.data_shape)
        self.register_buffer("atom_tolerances", tolerances, persistent=False)
        self.params_per_element = 3 * components + (atoms is not None)

    def element_distribution(self, eta: torch.Tensor) -> NormalisedMixture | AtomGaussianMixture:
        params = self.params_last(eta)  # (..., *data_shape, 3K [+ 1])
        logits, loc, raw_scale = params[..., : 3 * self.components].split(self.components, dim=-1)
        floor = self.min_scale if self.floors is None else self.floors.unsqueeze(-1)  # (*data_shape, 1)
        scale = positive_scale(raw_scale, floor)
        if self.atoms is None:
            component = Normal(loc, scale, validate_args=False)
            return NormalisedMixture(SoftmaxCategorical(logits), component, validate_args=False)
        atom_logit = params[..., -1:].masked_fill(torch.isnan(self.atoms).unsqueeze(-1), float("-inf"))
        log_weights = torch.cat([logits, atom_logit], dim=-1).log_softmax(-1)  # (..., *data_shape, K + 1)
        assert self.atom_tolerances is not None  # set with the atoms
        return AtomGaussianMixture(log_weights, loc, scale, self.atoms, self.atom_tolerances)

    def support_problem(self, x: torch.Tensor) -> str | None:
        if not bool(torch.isfinite(x).all()):
            return "NaN or infinite values found; remove or impute them first"
        return None
