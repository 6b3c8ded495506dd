"""Named compositions reachable as ``--model NAME``: each differs from the plain VAE in one part.

A preset fills in what the user did not set: the objective, its defaults, and whether the model is
conditioned on labels. Adding a variant is one entry here (plus its part or objective file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Preset:
    """Defaults a ``--model NAME`` fills in; each name refers to a registry in ``vaelab.config.build``."""

    description: str
    paper: str
    objective: str = "elbo"  # OBJECTIVE_BUILDERS
    beta: float = 1.0
    num_samples: int = 1
    conditional: bool = False
    prior: str = "standard-normal"  # PRIORS
    posterior: str = "gaussian"  # POSTERIORS
    objective_options: dict[str, Any] = field(default_factory=dict)  # extra objective hyperparameters


PRESETS: dict[str, Preset] = {
    "vae": Preset("the plain VAE: Gaussian posterior, standard normal prior, ELBO", "Kingma & Welling 2014"),
    "beta-vae": Preset(
        "ELBO with the KL weighted by beta (default 4) for disentangling", "Higgins et al. 2017", beta=4.0
    ),
    "cvae": Preset(
        "conditional VAE: encoder and decoder see the class label; class-conditional sampling",
        "Sohn et al. 2015",
        conditional=True,
    ),
    "iwae": Preset(
        "importance-weighted autoencoder: trains the K-sample bound (default K = 5)",
        "Burda et al. 2016",
        objective="iwae",
        num_samples=5,
    ),
}
