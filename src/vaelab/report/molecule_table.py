"""The report's section of molecule figures: this run's MOSES metrics (from ``vaelab eval --molecules``) above
the rows MOSES published."""

from __future__ import annotations

from typing import Any

from vaelab.report.html import Section, Table

MOSES_COLUMNS = {
    "valid": "valid",
    "unique@10000": "unique@10k",
    "FCD/Test": "FCD/Test",
    "SNN/Test": "SNN/Test",
    "Frag/Test": "Frag/Test",
    "Scaf/Test": "Scaf/Test",
    "IntDiv": "IntDiv",
    "Filters": "filters",
    "Novelty": "novelty",
}
"""Our figure names -> MOSES's column names, in MOSES's order."""
MOSES_PUBLISHED = {
    "MOSES VAE": (0.977, 0.998, 0.099, 0.626, 0.999, 0.939, 0.856, 0.997, 0.695),
    "MOSES CharRNN": (0.975, 0.999, 0.073, 0.602, 1.000, 0.924, 0.856, 0.994, 0.842),
    "MOSES JTN-VAE": (1.000, 1.000, 0.395, 0.548, 0.997, 0.896, 0.855, 0.976, 0.914),
    "MOSES train set itself": (1.0, 1.0, 0.008, 0.642, 1.000, 0.991, 0.857, 1.000, 0.0),
}
"""Published rows (README of molecularsets/moses), in the order of :data:`MOSES_COLUMNS`."""


def moses_table(evals: dict[str, dict[str, Any]]) -> Table | None:
    """This run's molecule figures (from every eval file that has them) above MOSES's published rows."""
    rows = []
    for split, result in evals.items():
        if "molecules/valid" in result:
            decoding = result.get("molecule_decoding", "sampled")
            name = f"this run, {split} ({result.get('molecule_samples', '?')} {decoding})"
            rows.append([name, *(_figure(result.get(f"molecules/{key}")) for key in MOSES_COLUMNS)])
    if not rows:
        return None
    rows += [[name, *(f"{value:.3f}" for value in values)] for name, values in MOSES_PUBLISHED.items()]
    caption = "MOSES samples 30,000 molecules; FCD and Scaf depend on the sample size."
    return Table(["model", *MOSES_COLUMNS.values()], rows, caption)


def _figure(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "—"


def molecule_metrics_section(evals: dict[str, dict[str, Any]]) -> Section | None:
    """The section, or None when no eval file holds molecule figures."""
    table = moses_table(evals)
    if table is None:
        return None
    lead = "MOSES's figures of molecules sampled from the prior (vaelab eval --molecules) beside published rows."
    return Section("molecule-metrics", "Molecule metrics", lead, [table])
