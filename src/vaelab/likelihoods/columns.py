"""The composite likelihood of a mixed-type table: one likelihood family per kind of column.

The decoder emits one flat vector per row; :class:`ColumnsLikelihood` slices it, gives each slice to the
likelihood of one group of columns (all continuous columns, all binary ones, all categorical ones, ...), and
returns a :class:`ColumnsDistribution` whose log-density is the sum of the groups'. The columns are
independent given z, so the masked log-density (missing cells left out) stays exact (Nazabal et al. 2020,
"Handling incomplete heterogeneous data using VAEs", eq. 3).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn
from torch.distributions import Distribution

from vaelab.data.schema import Feature
from vaelab.data.table_columns import mode_code
from vaelab.distributions import tempered
from vaelab.likelihoods.base import Likelihood, MaskableIndependent
from vaelab.likelihoods.bernoulli import BernoulliLikelihood
from vaelab.likelihoods.categorical_columns import CategoricalColumnsLikelihood
from vaelab.likelihoods.count import NegativeBinomialLikelihood, PoissonLikelihood
from vaelab.likelihoods.gaussian import GaussianLikelihood
from vaelab.likelihoods.gaussian_mixture import GaussianMixtureLikelihood
from vaelab.likelihoods.ordinal import OrdinalLikelihood

ContinuousFamily = Literal["gaussian", "mixture"]
CountFamily = Literal["poisson", "negative-binomial"]


class ColumnsDistribution(Distribution):
    """p(x|z) over a table row: groups of columns, each with its own distribution, batch ``(...)``, event ``(D,)``."""

    has_rsample = False

    def __init__(self, groups: Sequence[tuple[MaskableIndependent, torch.Tensor]], width: int) -> None:
        self.groups = list(groups)
        batch_shape = self.groups[0][0].batch_shape
        super().__init__(batch_shape=batch_shape, event_shape=torch.Size([width]), validate_args=False)

    def masked_log_prob(self, value: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """``sum_groups log p(x_group | z)`` over the observed cells only (all of them when ``mask`` is None)."""
        total = torch.zeros((), device=value.device)
        for distribution, columns in self.groups:
            group_mask = None if mask is None else mask[..., columns]
            total = total + distribution.masked_log_prob(value[..., columns], group_mask)
        return total.expand(self.batch_shape) if total.dim() == 0 else total

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        return self.masked_log_prob(value, None)

    def assemble(self, parts: Sequence[torch.Tensor]) -> torch.Tensor:
        """One tensor per group of columns, ``(..., columns_g)``, laid back into rows ``(..., D)``."""
        first = parts[0]
        out = first.new_empty((*first.shape[:-1], *self.event_shape))
        for part, (_, columns) in zip(parts, self.groups, strict=True):
            out[..., columns] = part.to(out.dtype)
        return out

    @property
    def mean(self) -> torch.Tensor:
        """Each column's mean (a categorical or ordinal column's most probable value)."""
        return self.assemble([d.base_dist.mean for d, _ in self.groups])

    def sample(self, sample_shape: torch.Size | Sequence[int] = ()) -> torch.Tensor:
        shape = torch.Size(sample_shape)
        return self.assemble([d.sample(shape) for d, _ in self.groups])

    def tempered(self, temperature: float) -> ColumnsDistribution:
        """The same row distribution with every discrete choice at sampling ``temperature``
        (:func:`vaelab.distributions.tempered`): categorical, binary and ordinal cells and the component of a
        mixture cell."""
        groups = [
            (type(d)(tempered(d.base_dist, temperature), d.reinterpreted_batch_ndims), columns)
            for d, columns in self.groups
        ]
        return ColumnsDistribution(groups, self.event_shape[0])


def continuous_floors(features: Sequence[Feature], min_scale: float, integer_floor: float | None) -> list[float] | None:
    """The scale floor of each continuous column in model space (standard deviations of the column): ``min_scale``,
    or for a column of whole numbers ``integer_floor`` of its units where that is smaller. A column whose values
    repeat (Adult's capital-gain is 0 in 92 % of rows, and 1e-3 of its standard deviation is 7 dollars) can then
    put a component on the repeated value narrow enough that its draws round back to it, while the density stays
    bounded by the spacing of the values. None (no ``integer_floor``): ``min_scale`` for every column."""
    if integer_floor is None:
        return None
    return [
        min(min_scale, integer_floor / feature.scale) if feature.integer and feature.scale > 0 else min_scale
        for feature in features
    ]


ATOM_TOLERANCE = 1e-5  # in standard deviations: a value this near an atom (scaled and back, say) is the atom


def continuous_atoms(features: Sequence[Feature], atom_share: float | None) -> list[float] | None:
    """The atom of each continuous column in model space: its most frequent training value where at least
    ``atom_share`` of the training rows hold it, else NaN; None (no ``atom_share``): no atoms. The value is
    scaled as :func:`~vaelab.data.table_columns.encode_columns` scales the data, to the same float32."""
    if atom_share is None:
        return None
    return [
        float(mode_code(feature)) if feature.mode is not None and feature.mode_share >= atom_share else math.nan
        for feature in features
    ]


def atom_tolerances(features: Sequence[Feature]) -> list[float]:
    """How near its atom a column's model-space value counts as the atom: :data:`ATOM_TOLERANCE`, or for whole
    numbers less than half a unit where that is smaller (a neighbouring value never merges with the atom)."""
    return [min(ATOM_TOLERANCE, 0.49 / feature.scale) if feature.integer else ATOM_TOLERANCE for feature in features]


class ColumnsLikelihood(Likelihood):
    """One likelihood per kind of column of ``features`` (their order is the data's column order).

    ``continuous``: ``"gaussian"`` (a learned scale per column, or decoded per row with ``scale="decoder"``)
    or ``"mixture"`` (``components`` Gaussians per cell, every parameter decoded; with ``atom_share``, a column's
    most frequent value is also an atom of its mixture where at least that share of training rows hold it:
    :func:`continuous_atoms`); binary columns: Bernoulli;
    categorical: one categorical per column; ``count``: ``"poisson"`` or ``"negative-binomial"``; ordinal:
    cumulative logits. The decoder output is flat, ``(sum of the groups' parameter counts,)``.
    """

    name = "columns"

    def __init__(
        self,
        features: Sequence[Feature],
        continuous: ContinuousFamily = "mixture",
        components: int = 5,
        scale: Literal["learned", "decoder"] = "decoder",
        count: CountFamily = "negative-binomial",
        min_scale: float = 1e-3,
        integer_floor: float | None = None,
        atom_share: float | None = None,
    ) -> None:
        super().__init__((len(features),))
        if atom_share is not None and continuous != "mixture":
            raise ValueError("atoms are components of a mixture: atom_share needs continuous='mixture'")
        self.atom_share = atom_share
        self.features = tuple(features)
        kinds = [feature.kind for feature in features]
        groups: list[tuple[Likelihood, list[int]]] = []

        def columns(kind: str) -> list[int]:
            return [j for j, k in enumerate(kinds) if k == kind]

        if continuous_columns := columns("continuous"):
            k = len(continuous_columns)
            continuous_features = [features[j] for j in continuous_columns]
            floors = continuous_floors(continuous_features, min_scale, integer_floor)
            atoms = continuous_atoms(continuous_features, atom_share)
            tolerances = atom_tolerances(continuous_features)
            family: Likelihood = (
                GaussianMixtureLikelihood((k,), components, min_scale, floors, atoms, tolerances)
                if continuous == "mixture"
                else GaussianLikelihood((k,), scale, min_scale, floors)
            )
            groups.append((family, continuous_columns))
        if binary := columns("binary"):
            groups.append((BernoulliLikelihood((len(binary),)), binary))
        if categorical := columns("categorical"):
            sizes = [len(features[j].categories or ()) for j in categorical]
            groups.append((CategoricalColumnsLikelihood(sizes), categorical))
        if counts := columns("count"):
            counted: Likelihood = (
                PoissonLikelihood((len(counts),)) if count == "poisson" else NegativeBinomialLikelihood((len(counts),))
            )
            groups.append((counted, counts))
        if ordinal := columns("ordinal"):
            groups.append((OrdinalLikelihood([features[j].levels or 2 for j in ordinal]), ordinal))
        if not groups:
            raise ValueError("a table likelihood needs at least one column")
        self.families = nn.ModuleList([family for family, _ in groups])
        for g, (_, group_columns) in enumerate(groups):
            self.register_buffer(f"columns_{g}", torch.tensor(group_columns), persistent=False)
        self.widths = [math.prod(family.param_shape) for family, _ in groups]

    @property
    def param_shape(self) -> tuple[int, ...]:
        return (sum(self.widths),)

    def _column_index(self, g: int) -> torch.Tensor:
        index: torch.Tensor = getattr(self, f"columns_{g}")
        return index

    def forward(self, eta: torch.Tensor) -> ColumnsDistribution:
        groups = []
        for g, (family, chunk) in enumerate(zip(self.families, eta.split(self.widths, dim=-1), strict=True)):
            assert isinstance(family, Likelihood)
            distribution = family(chunk.reshape(*chunk.shape[:-1], *family.param_shape))
            groups.append((distribution, self._column_index(g)))
        return ColumnsDistribution(groups, len(self.features))

    def element_distribution(self, eta: torch.Tensor) -> Distribution:
        raise NotImplementedError("a table's columns have no common element distribution: use forward")

    def support_problem(self, x: torch.Tensor) -> str | None:
        for g, family in enumerate(self.families):
            assert isinstance(family, Likelihood)
            columns = self._column_index(g).to(x.device)
            problem = family.support_problem(x[..., columns])
            if problem is not None:
                return problem
        return None
