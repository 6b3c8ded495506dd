"""Named compositions reachable as ``--model NAME``: each differs from the plain VAE in one part.

A preset fills in what the user did not set: the objective, its defaults, and whether the model is
conditioned on labels. Adding a variant is one entry here (plus its part or objective file).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    description: str
    paper: str
    objective: str = "elbo"
    beta: float = 1.0
    num_samples: int = 1
    conditional: bool = False


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
