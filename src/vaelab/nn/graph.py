"""Graph convolutional networks: node features and a normalised adjacency -> node features.

A graph convolution (Kipf & Welling 2017, eq. 2) is ``H' = act(Â H W)`` with ``Â = D^-1/2 (A + I) D^-1/2``
(:func:`vaelab.data.graph_batch.normalized_adjacency`, a sparse matrix). The VGAE encoder (Kipf & Welling
2016, eq. 4) is two such layers, the second giving the posterior's parameters: ``GCN(X, A) = Â ReLU(Â X W0) W1``.
Here the encoder ends with the last propagation ``Â H`` and the posterior head's linear map is ``W1``
(``(Â H) W1 = Â (H W1)``), so any posterior of the registry takes a graph encoder's features.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import cast

import torch
from torch import nn


class GCNEncoder(nn.Module):
    """``(N, F)`` node features and the sparse ``(N, N)`` adjacency ``Â`` -> ``(N, features)``: a graph
    convolution with a ReLU per width of ``hidden_dims``, then one more propagation ``Â H`` (whose weight is
    the posterior head's); ``dropout`` on each layer's input, as in the paper's code (0 by default).
    Weights start as Glorot & Bengio's uniform draw, as the paper's code does."""

    takes_graph = True

    def __init__(self, in_features: int, hidden_dims: Sequence[int], dropout: float = 0.0) -> None:
        super().__init__()
        widths = [in_features, *hidden_dims]
        self.layers = nn.ModuleList(nn.Linear(w_in, w_out, bias=False) for w_in, w_out in itertools.pairwise(widths))
        for layer in self.layers:
            nn.init.xavier_uniform_(cast(nn.Linear, layer).weight)
        self.dropout = nn.Dropout(dropout)
        self.features = widths[-1]

    def forward(self, x: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        h = x
        for layer in self.layers:
            h = torch.relu(propagate(adjacency, layer(self.dropout(h))))
        return propagate(adjacency, self.dropout(h))


def propagate(adjacency: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """``Â H`` for a sparse ``Â: (N, N)`` and node features ``h: (N, C)``, in ``Â``'s precision (sparse products
    do not autocast)."""
    return torch.sparse.mm(adjacency, h.to(adjacency.dtype))


class InnerProductDecoder(nn.Module):
    """The decoder of graph autoencoders: the codes themselves; the edge likelihood takes their inner
    products (``vaelab.likelihoods.edges``). It has no weights."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z
