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
    objective: str = "elbo"  # OBJECTIVES
    beta: float = 1.0
    num_samples: int = 1
    conditional: bool = False
    prior: str = "standard-normal"  # PRIORS
    posterior: str = "gaussian"  # POSTERIORS
    objective_options: dict[str, Any] = field(default_factory=dict)  # extra objective hyperparameters
    capacity_ramp: float = 0.0  # fraction of the run over which the capacity target ramps up from 0


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
    "vamp": Preset(
        "VampPrior: the prior mixes the posteriors of model.prior.components learned pseudo-inputs",
        "Tomczak & Welling 2018",
        prior="vamp",
    ),
    "mog-prior": Preset(
        "learnable mixture-of-Gaussians prior with model.prior.components components",
        "Tomczak & Welling 2018 (their MoG prior)",
        prior="mog",
    ),
    "planar": Preset(
        "planar normalising-flow posterior with model.posterior.steps steps",
        "Rezende & Mohamed 2015",
        posterior="planar",
    ),
    "iaf": Preset(
        "inverse autoregressive flow posterior with model.posterior.steps steps", "Kingma et al. 2016", posterior="iaf"
    ),
    "hvae": Preset(
        "hierarchical VAE: latent layers model.posterior.hierarchy, top-down (ladder) inference, sampled from the top",
        "Sønderby et al. 2016",
        posterior="ladder",
    ),
    "hvae-vamp": Preset(
        "hierarchical VAE with a VampPrior on its top layer", "Tomczak & Welling 2018", posterior="ladder", prior="vamp"
    ),
    "annealed-vae": Preset(
        "capacity-annealed beta-VAE: gamma |KL - C| with C ramped from 0 to 25 nats over the first half of the run",
        "Burgess et al. 2018",
        beta=1000.0,  # their gamma
        objective_options={"capacity": 25.0},
        capacity_ramp=0.5,
    ),
    "miwae": Preset(
        "the multiply importance-weighted bound: average of M = 8 IWAE bounds of K = 8 samples each "
        "(not Mattei & Frellsen 2019's MIWAE for missing data)",
        "Rainforth et al. 2018",
        objective="miwae",
        num_samples=8,
        objective_options={"num_bounds": 8},
    ),
    "ciwae": Preset(
        "0.5 ELBO + 0.5 IWAE on the same K = 64 samples", "Rainforth et al. 2018", objective="ciwae", num_samples=64
    ),
    "beta-tcvae": Preset(
        "ELBO with the total correlation of q(z) weighted by beta (default 6), minibatch stratified sampling",
        "Chen et al. 2018",
        objective="beta-tcvae",
        beta=6.0,
    ),
    "factor-vae": Preset(
        "ELBO plus gamma (default 40) times a discriminator's total-correlation estimate",
        "Kim & Mnih 2018",
        objective="factor-vae",
    ),
    "dip-vae": Preset(
        "ELBO plus a penalty on Cov[E_q(z|x) z] - I (DIP-VAE-I; objective.dip_variant=ii for DIP-VAE-II)",
        "Kumar et al. 2018",
        objective="dip-vae",
    ),
    "info-vae": Preset(
        "ELBO plus an MMD penalty between the aggregate posterior and the prior (MMD-VAE)",
        "Zhao et al. 2019",
        objective="info-vae",
    ),
    "vgae": Preset(
        "variational graph autoencoder: graph-convolutional encoder, Gaussian posterior per node, inner-product "
        "edge likelihood; for link prediction and node embeddings (graphs only)",
        "Kipf & Welling 2016",
    ),
    "gae": Preset(
        "graph autoencoder: the VGAE's networks with deterministic codes (a point posterior) and no KL term; its "
        "elbo column is log p(A, z) at the code, not a bound (graphs only)",
        "Kipf & Welling 2016",
        beta=0.0,
        posterior="point",
    ),
    "aae": Preset(
        "adversarial autoencoder: a discriminator matches the aggregate posterior to the prior; no KL term",
        "Makhzani et al. 2016",
        objective="aae",
    ),
}
