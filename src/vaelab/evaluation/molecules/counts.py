"""Cosine similarity of two count vectors over named items (fragments, scaffolds), MOSES's
``cos_similarity``:

    cos(r, g) = Σ_k r_k g_k / (||r|| ||g||)

with r_k and g_k the number of times item k occurs in the reference and in the generated set (0 where it
does not occur). In [0, 1] for counts; NaN when either set holds no item (MOSES returns NaN too).
"""

from __future__ import annotations

import math
from collections.abc import Mapping


def cosine_similarity(reference: Mapping[str, int], generated: Mapping[str, int]) -> float:
    """cos(r, g) of two item -> count maps (module docstring)."""
    if not reference or not generated:
        return math.nan
    small, large = sorted((reference, generated), key=len)
    dot = sum(count * large.get(item, 0) for item, count in small.items())
    norms = math.sqrt(sum(c * c for c in reference.values())) * math.sqrt(sum(c * c for c in generated.values()))
    return dot / norms
