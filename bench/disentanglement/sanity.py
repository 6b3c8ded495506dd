"""The disentanglement metrics on codes with known answers, as figures (GitHub issue 4's sanity bar).

    .venv/bin/python bench/disentanglement/sanity.py

disentanglement_lib's checks: ten factors of ten values whose observations are the factors, and codes that
copy them through a random invertible per-dimension map ("identity"), ignore them ("constant"; "noise" for
the interventional scores, which need varying codes), or copy each twice ("duplicated"). The codes and the
oracle are the test suite's (``tests/test_disentanglement.py``, which asserts the bars); this script prints
the values themselves. Bars: identity >= 0.9 on every metric, constant <= 0.2, duplicated low on MIG and SAP.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))

from test_disentanglement import ORACLE, _noise_encoder, _table, constant, duplicated, identity
from vaelab.evaluation.disentanglement import beta_vae_score, dci, factor_vae_score, mig, sap


def main() -> None:
    factors = _table(3000)
    codes = {"identity": identity, "constant": constant, "duplicated": duplicated}
    print("| codes | MIG | SAP | DCI disentanglement | DCI completeness | DCI informativeness |")
    print("|---|---|---|---|---|---|")
    for name, code in codes.items():
        z = code(factors)
        scores = {**mig(z, factors), **sap(z, factors, continuous_factors=True), **dci(z, factors)}
        print(
            f"| {name} | {scores['mig']:.3f} | {scores['sap']:.3f} | {scores['disentanglement']:.3f} | "
            f"{scores['completeness']:.3f} | {scores['informativeness']:.3f} |"
        )
    print("\n| codes | BetaVAE score | FactorVAE score |")
    print("|---|---|---|")
    encoders = {"identity": identity, "constant": constant, "noise": _noise_encoder(1)}
    for name, encode in encoders.items():
        beta = beta_vae_score(ORACLE, encode, batch_size=5, num_train=2000, num_eval=2000, seed=0)
        factor = factor_vae_score(
            ORACLE, encode, batch_size=5, num_train=3000, num_eval=2000, num_variance_estimate=2500, seed=0
        )
        print(f"| {name} | {beta['beta_vae_score']:.3f} | {factor['factor_vae_score']:.3f} |")


if __name__ == "__main__":
    main()
