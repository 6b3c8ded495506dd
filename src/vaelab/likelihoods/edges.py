"""The edge likelihood of graph autoencoders: p(A | Z) = prod_ij Bernoulli(A_ij; sigmoid(z_i . z_j)).

Kipf & Welling 2016 ("Variational Graph Auto-Encoders", eq. 2): the decoder is the inner product of two
nodes' codes, so the decoder network passes the codes through and this likelihood owns the pairs. Its
parameters per node are the node's code (``param_shape = (latent_dim,)``).

Training scores every pair of nodes against the training adjacency with self-loops, ``A + I``, weighted as
the paper's code does: with E the number of ones of A (both directions) and N^2 pairs, the ones weigh
``pos_weight = (N^2 - E) / E`` times the zeros, and the sum is scaled by ``norm = N^2 / (2 (N^2 - E))``, so the
weights still sum to about N^2 and edges and non-edges count equally (``weighting="balanced"``;
``"none"`` is the plain Bernoulli log-likelihood). Graphs of more than ``all_pairs_max_nodes`` nodes score
every labelled pair exactly and the zeros through ``negatives`` times as many pairs drawn uniformly, scaled
up so the estimate of the full sum is unbiased. Held-out pairs (validation, test) are scored unweighted.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch.distributions import Distribution, constraints
from torch.nn import functional as F

from vaelab.data.graph_batch import GraphBatch
from vaelab.likelihoods.base import Likelihood


class EdgeDistribution(Distribution):
    """Independent Bernoulli edges with logits ``z_i . z_j`` for codes ``z: (..., N, D)``; batch ``(..., N)``,
    one node's row of pairs an event ``(N,)``."""

    arg_constraints: dict[str, constraints.Constraint] = {}

    def __init__(
        self,
        z: torch.Tensor,
        weighting: Literal["balanced", "none"] = "balanced",
        all_pairs_max_nodes: int = 5000,
        negatives: int = 1,
    ) -> None:
        self.z = z
        self.weighting = weighting
        self.all_pairs_max_nodes = all_pairs_max_nodes
        self.negatives = negatives
        super().__init__(z.shape[:-1], z.shape[-2:-1], validate_args=False)

    def pair_logits(self, pairs: torch.Tensor) -> torch.Tensor:
        """Logits ``(..., P)`` of the node pairs ``pairs: (P, 2)``."""
        return (self.z[..., pairs[:, 0], :] * self.z[..., pairs[:, 1], :]).sum(-1)

    @property
    def logits(self) -> torch.Tensor:
        """Every pair's logit, ``(..., N, N)``."""
        return self.z @ self.z.transpose(-1, -2)

    @property
    def mean(self) -> torch.Tensor:
        """Every pair's edge probability, ``(..., N, N)``."""
        return torch.sigmoid(self.logits)

    def sample(self, sample_shape: torch.Size | list[int] | tuple[int, ...] = ()) -> torch.Tensor:
        """A symmetric 0/1 adjacency ``(*sample_shape, ..., N, N)`` drawn from the upper triangle's pairs."""
        with torch.no_grad():
            probs = self.mean.expand(*sample_shape, *self.mean.shape)
            upper = torch.bernoulli(probs).triu(1)
            return upper + upper.transpose(-1, -2)

    def log_prob_graph(self, graph: GraphBatch) -> torch.Tensor:
        """``log p`` of the pairs ``graph`` labels, per node ``(..., N)`` (summing to the graph's total): every
        pair of the training graph weighted (a node's row of pairs), or the held-out pairs unweighted (half of
        a pair's log-probability to each of its nodes)."""
        if graph.pairs is not None:
            assert graph.labels is not None
            log_p = -F.binary_cross_entropy_with_logits(
                self.pair_logits(graph.pairs), graph.labels.expand(*self.batch_shape[:-1], -1), reduction="none"
            )  # (..., P)
            per_node = torch.zeros(self.batch_shape, dtype=log_p.dtype, device=log_p.device)
            per_node = per_node.index_add(-1, graph.pairs[:, 0], 0.5 * log_p)
            return per_node.index_add(-1, graph.pairs[:, 1], 0.5 * log_p)
        pos_weight, norm = self._weights(graph)
        if graph.num_nodes <= self.all_pairs_max_nodes:
            return self._all_pairs(graph, pos_weight, norm)
        return self._sampled_pairs(graph, pos_weight, norm)

    def _weights(self, graph: GraphBatch) -> tuple[float, float]:
        """Kipf & Welling's ``pos_weight`` and ``norm`` (their ``train.py``), or 1 and 1 unweighted."""
        if self.weighting == "none":
            return 1.0, 1.0
        pairs, ones = graph.num_nodes**2, 2 * len(graph.edges)
        return (pairs - ones) / max(ones, 1), pairs / (2 * (pairs - ones))

    def _all_pairs(self, graph: GraphBatch, pos_weight: float, norm: float) -> torch.Tensor:
        n = graph.num_nodes
        target = torch.zeros(n * n, dtype=self.z.dtype, device=self.z.device)
        target[graph.directed_keys] = 1.0
        bce = F.binary_cross_entropy_with_logits(
            self.logits,
            target.reshape(n, n).expand(*self.batch_shape, n),
            pos_weight=torch.tensor(pos_weight, dtype=self.z.dtype, device=self.z.device),
            reduction="none",
        )  # (..., N, N)
        return -norm * bce.sum(-1)

    def _sampled_pairs(self, graph: GraphBatch, pos_weight: float, norm: float) -> torch.Tensor:
        """Every labelled pair exactly; the zeros' sum estimated from uniformly drawn pairs (a pair drawn that is
        labelled 1 adds nothing to it), so the estimate of the all-pairs sum is unbiased."""
        n, keys = graph.num_nodes, graph.directed_keys
        rows = keys // n
        ones = torch.stack([rows, keys % n], dim=1)
        per_node = torch.zeros(self.batch_shape, dtype=self.z.dtype, device=self.z.device)
        log_sigmoid = F.logsigmoid(self.pair_logits(ones))  # (..., 2E + N)
        per_node = per_node.index_add(-1, rows, norm * pos_weight * log_sigmoid)
        draws = self.negatives * len(keys)
        drawn = torch.randint(0, n * n, (draws,), device=self.z.device)
        found = keys[torch.searchsorted(keys, drawn).clamp(max=len(keys) - 1)] == drawn
        pairs = torch.stack([drawn // n, drawn % n], dim=1)
        log_not_edge = F.logsigmoid(-self.pair_logits(pairs)) * (~found).to(self.z.dtype)  # (..., draws)
        return per_node.index_add(-1, pairs[:, 0], norm * (n * n / draws) * log_not_edge)


class EdgeLikelihood(Likelihood):
    """Edges between the nodes of a graph from their codes (``EdgeDistribution``); the decoder emits the codes."""

    name = "edges"
    params_per_element = 1

    def __init__(
        self,
        data_shape: tuple[int, ...],
        latent_dim: int,
        weighting: Literal["balanced", "none"] = "balanced",
        all_pairs_max_nodes: int = 5000,
        negatives: int = 1,
    ) -> None:
        super().__init__(data_shape)
        self.latent_dim = latent_dim
        self.weighting: Literal["balanced", "none"] = weighting
        self.all_pairs_max_nodes = all_pairs_max_nodes
        self.negatives = negatives

    @property
    def param_shape(self) -> tuple[int, ...]:
        return (self.latent_dim,)

    def forward(self, eta: torch.Tensor) -> EdgeDistribution:
        return EdgeDistribution(eta, self.weighting, self.all_pairs_max_nodes, self.negatives)

    def element_distribution(self, eta: torch.Tensor) -> Distribution:
        raise TypeError("the edge likelihood scores node pairs of a graph: use forward(eta).log_prob_graph(graph)")

    def support_problem(self, x: torch.Tensor) -> str | None:
        return None  # node features may take any values: what is scored are the edges
