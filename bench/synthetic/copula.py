"""A Gaussian copula synthesizer for mixed tables, written here as the benchmark's classical baseline.

Each column is mapped to a standard-normal score through its marginal, the scores' correlation matrix is
estimated, and new rows are drawn from that multivariate normal and mapped back through the inverse marginals.

* Numeric columns: the empirical CDF. A value's CDF interval ``[#(< x), #(<= x)] / n`` is sampled uniformly
  (the distributional transform, so ties such as capital-gain's many zeros still give N(0, 1) scores); the
  inverse is the empirical quantile function, interpolated linearly between the order statistics. Integer
  columns are rounded back to integers. Numeric columns must have no missing values.
* Categorical columns: the frequency-interval encoding of SDV's GaussianCopula (RDT's ``UniformEncoder``,
  https://github.com/sdv-dev/RDT, rdt/transformers/categorical.py): categories, most frequent first, split
  [0, 1] into intervals as wide as their frequencies; a value becomes a uniform draw within its interval,
  and a sampled u becomes the category whose interval holds it.

Unlike SDV, which fits parametric marginals (beta, truncated normal, ...) by default, marginals here are
empirical, so the baseline only tests the copula's dependence model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

_EPS = 1e-6  # keeps u inside (0, 1) so that the normal scores stay finite


class GaussianCopula:
    """``fit(df, categorical)`` then ``sample(n, random_state)``; see the module docstring."""

    def fit(self, df: pd.DataFrame, categorical: list[str], random_state: int | None = 0) -> GaussianCopula:
        rng = np.random.default_rng(random_state)
        self.columns, self.dtypes = list(df.columns), df.dtypes
        self.marginals: dict[str, tuple] = {}
        scores = np.empty((len(df), len(self.columns)))
        for j, col in enumerate(self.columns):
            if col in categorical:
                freq = df[col].astype(str).value_counts(normalize=True)  # most frequent first
                upper = np.cumsum(freq.to_numpy())
                upper[-1] = 1.0
                self.marginals[col] = ("categorical", freq.index.to_numpy(dtype=object), upper)
                idx = freq.index.get_indexer(df[col].astype(str))
                hi = upper[idx]
                lo = hi - freq.to_numpy()[idx]
            else:
                values = df[col].to_numpy(dtype=float)
                if np.isnan(values).any():
                    raise ValueError(f"numeric column {col!r} has missing values")
                ordered = np.sort(values)
                self.marginals[col] = ("numeric", ordered, None)
                lo = np.searchsorted(ordered, values, side="left") / len(values)
                hi = np.searchsorted(ordered, values, side="right") / len(values)
            u = lo + rng.uniform(size=len(df)) * (hi - lo)
            scores[:, j] = norm.ppf(np.clip(u, _EPS, 1 - _EPS))
        self.correlation = np.atleast_2d(np.corrcoef(scores, rowvar=False))
        return self

    def sample(self, n: int, random_state: int | None = None) -> pd.DataFrame:
        """Draw ``n`` rows with the fitted columns, in their order and dtypes."""
        rng = np.random.default_rng(random_state)
        z = rng.multivariate_normal(np.zeros(len(self.columns)), self.correlation, size=n, method="eigh")
        u = norm.cdf(z)
        out = {}
        for j, col in enumerate(self.columns):
            kind, support, upper = self.marginals[col]
            if kind == "categorical":
                out[col] = support[np.minimum(np.searchsorted(upper, u[:, j], side="right"), len(support) - 1)]
            else:
                grid = (np.arange(len(support)) + 0.5) / len(support)  # plotting positions of the order statistics
                values = np.interp(u[:, j], grid, support)
                if pd.api.types.is_integer_dtype(self.dtypes[col]):
                    values = np.rint(values)
                out[col] = values.astype(self.dtypes[col])
        return pd.DataFrame(out, columns=self.columns)
