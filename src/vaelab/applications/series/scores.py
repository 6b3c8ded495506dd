"""Per-point scores of a series from a VAE over its windows: the reconstruction probability (Xu et al. 2018,
"Unsupervised Anomaly Detection via Variational Auto-Encoder for Seasonal KPIs in Web Applications", §3.3),
missing points imputed first by Donut's iterative masked reconstruction (their §3.2.3)."""

from __future__ import annotations

import numpy as np
import torch
from torch.distributions import Independent

from vaelab.data.batch import stored_batch
from vaelab.models import VAE

AGGREGATIONS = ("last", "mean")
"""How a point's score is read from the windows: at the window that ends at it (causal), or the mean over
every window that covers it (uses later points: batch mode only)."""

ROWS_PER_CHUNK = 1024
"""Windows × posterior samples decoded at once: larger chunks fall out of the CPU's caches (a GRU decoder over
32,768 rows ran 3× slower per row than over 1,024)."""


@torch.inference_mode()
def window_log_likelihoods(
    model: VAE,
    windows: np.ndarray,
    num_samples: int,
    imputation_steps: int,
    hidden: np.ndarray | None = None,
    predict_last: bool = False,
) -> np.ndarray:
    """``windows`` (n, T, C) of scaled values, NaN where missing -> (n, T) the reconstruction probability of
    each step: ``E_q(z|x) log p(x_t|z)``, the log-density of the step's observed values averaged over
    ``num_samples`` posterior samples (Xu et al. 2018, §3.3); NaN for a step with no observed value.

    Missing values are first imputed by ``imputation_steps`` rounds of Donut's masked reconstruction: encode
    the window, draw z ~ q(z|x), and replace the missing values by the mean of p(x|z) (Xu et al. 2018,
    §3.2.3, after Rezende et al. 2014's imputation by Markov chain). ``hidden`` (n, T) bool marks values to
    treat as missing too, except at a window's last step (earlier points flagged as anomalous: imputed, so an
    anomaly does not disturb the scores of the points after it). With ``predict_last`` the last step is
    hidden from the encoder as well (imputed from the steps before it) and scored as observed: the
    probability of a new point given the window before it, which the point itself cannot pull towards it.
    Draws come from torch's global generator: seed it (or fork it) around the call for reproducible scores."""
    scores = []
    per_chunk = max(1, ROWS_PER_CHUNK // num_samples)
    for start in range(0, len(windows), per_chunk):
        batch = stored_batch(windows[start : start + per_chunk], None, None, model._device())
        x = batch.x
        present = torch.ones_like(x, dtype=torch.bool) if batch.mask is None else batch.mask  # (B, T, C)
        known = present.clone()  # what the encoder may read
        if hidden is not None:
            hide = torch.from_numpy(np.array(hidden[start : start + per_chunk])).to(x.device)  # (B, T)
            hide[:, -1] = False
            known &= ~hide.unsqueeze(-1)
        scored = known.clone()
        if predict_last:
            known[:, -1] = False
        filled = x
        if hidden is not None or predict_last or batch.mask is not None:  # the random draws depend on the settings
            for _ in range(imputation_steps):
                z = model.encode(filled).sample()
                filled = torch.where(known, x, model.decode(z).mean)
        z = model.encode(filled).sample((num_samples,))  # (S, B, D)
        p_x = model.decode(z)
        assert isinstance(p_x, Independent)  # every likelihood: one distribution per value (vaelab.likelihoods)
        log_p = p_x.base_dist.log_prob(x).mean(0)  # (B, T, C)
        per_step = log_p.masked_fill(~scored, 0.0).sum(-1)
        scores.append(per_step.masked_fill(~scored.any(-1), float("nan")))
    return torch.cat(scores).double().cpu().numpy()


def point_scores(step_log_p: np.ndarray, stride: int, num_points: int, aggregation: str) -> np.ndarray:
    """Windows' per-step log-likelihoods ``(n, T)`` (window k starting at point k * stride) -> (N,) anomaly
    scores, minus the log-likelihood: read at each window's last step ("last"; a point that ends no window
    gets NaN) or averaged over every window that covers the point ("mean")."""
    n, steps = step_log_p.shape
    starts = np.arange(n) * stride
    scores = np.full(num_points, np.nan)
    if aggregation == "last":
        scores[starts + steps - 1] = -step_log_p[:, -1]
        return scores
    total, count = np.zeros(num_points), np.zeros(num_points)
    for offset in range(steps):
        value = step_log_p[:, offset]
        present = ~np.isnan(value)
        np.add.at(total, starts[present] + offset, -value[present])
        np.add.at(count, starts[present] + offset, 1.0)
    covered = count > 0
    scores[covered] = total[covered] / count[covered]
    return scores
