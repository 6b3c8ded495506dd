"""torch's ``Categorical``, its logits normalised by ``log_softmax``.

``torch.distributions.Categorical(logits=...)`` normalises with ``logits - logits.logsumexp(-1)``: the same
values, but on CPUs its backward pass costs several times that of ``log_softmax``'s, and a decoder's output
goes through it at every training step (token logits, table categories, mixture weights).
"""

from __future__ import annotations

import torch
from torch.distributions import Categorical, Distribution


class SoftmaxCategorical(Categorical):
    """``Categorical(logits=logits)`` with ``logits`` normalised by ``log_softmax``; everything else is
    torch's: ``log_prob``, ``sample``, ``probs``, ``entropy``, the KL registrations."""

    def __init__(self, logits: torch.Tensor, validate_args: bool | None = False) -> None:
        if logits.dim() < 1:
            raise ValueError("logits need at least one dimension, the categories")
        self.logits = torch.log_softmax(logits, dim=-1)
        self._param = self.logits
        self._num_events = logits.shape[-1]
        Distribution.__init__(self, logits.shape[:-1], validate_args=validate_args)
