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
    classifier: bool = False  # the model also learns q(y|x) (model.classifier)
    prior: str = "standard-normal"  # PRIORS
    posterior: str = "gaussian"  # POSTERIORS
    objective_options: dict[str, Any] = field(default_factory=dict)  # extra objective hyperparameters
    capacity_ramp: float = 0.0  # fraction of the run over which the capacity target ramps up from 0
    monitor: str = "elbo"  # the validation term whose best epoch a run keeps (train.monitor overrides it)


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
    "m2": Preset(
        "semi-supervised VAE: a classifier q(y|x), q(z|x, y) and p(x|y, z); learns from rows whose labels are "
        "partly unknown, the unknown class enumerated",
        "Kingma et al. 2014 (M2)",
        objective="m2",
        conditional=True,
        classifier=True,
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
    "vae-gan": Preset(
        "VAE-GAN (images): reconstruction measured in an image discriminator's features, the decoder also trained "
        "to fool it on reconstructions and prior samples; beyond the paper: it sees samples of p(x|z) (relaxed "
        "Bernoulli, temperature 0.5, for binary data), not means; an MLP discriminator (32, 64 | 256, lr 1e-5); "
        "plus 0.3 x the pixel log-likelihood",
        "Larsen et al. 2016",
        objective="vae-gan",
    ),
    "msssim-vae": Preset(
        "MS-SSIM VAE (images), likelihood-free: the reconstruction term is 1000 (1 - MS-SSIM(E[x|z], x)), not a "
        "log-likelihood; elbo is still reported under the model's likelihood, for comparison",
        "Wang et al. 2003; PyTorch-VAE's MSSIM-VAE",
        objective="msssim-vae",
    ),
    "wae-mmd": Preset(
        "Wasserstein autoencoder, MMD penalty: deterministic codes, -log p(x|z) + lambda MMD(q(z), p(z)) with the "
        "inverse multiquadratic kernel summed over 7 scales (the info-vae objective with beta = 0); not a bound: "
        "elbo is log p(x, z) at the code, and eval reports no importance-sampled log p(x)",
        "Tolstikhin et al. 2018",
        objective="info-vae",
        beta=0.0,
        posterior="point",
        objective_options={
            "mmd_weight": 100.0,  # in nats; their 10 left the codes unmatched on binarized MNIST (lambda in the report)
            "mmd_kernel": "imq",
            "mmd_multipliers": (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0),  # vaelab.objectives.mmd.WAE_MULTIPLIERS
        },
    ),
    "wae-gan": Preset(
        "Wasserstein autoencoder, GAN penalty: deterministic codes, -log p(x|z) + lambda (-log D(z)) with a latent "
        "discriminator (the aae objective; their Algorithm 1 with a deterministic encoder); not a bound: elbo is "
        "log p(x, z) at the code, and eval reports no importance-sampled log p(x)",
        "Tolstikhin et al. 2018",
        objective="aae",
        posterior="point",
        objective_options={
            "adversarial_weight": 1.0,  # their MNIST lambda; 10 spoilt digits, 50 binarized MNIST (see the report)
            "discriminator_hidden": (512, 512, 512, 512),  # their MNIST adversary: 4 layers of 512
            "discriminator_lr": 5e-4,  # their adversary's Adam rate
        },
    ),
    "svae": Preset(
        "hyperspherical VAE: von Mises-Fisher posterior and uniform prior on the unit sphere S^(d-1), closed-form KL",
        "Davidson et al. 2018",
        posterior="vmf",
        prior="uniform-sphere",
    ),
    "hamiltonian-vae": Preset(
        "Hamiltonian VAE: z_0 from the Gaussian posterior moved by model.posterior.steps (5) tempered leapfrog "
        "steps on log p(x, z) with learned step sizes and temperature; trains the extended-space bound, reported "
        "as hamiltonian_elbo, by which the best epoch is kept (elbo is the plain bound of q(z_0|x))",
        "Caterini et al. 2018",
        objective="hamiltonian-vae",
        posterior="hamiltonian",
        monitor="hamiltonian_elbo",  # the bound it trains
    ),
    "swae": Preset(
        "sliced-Wasserstein autoencoder: deterministic codes, -log p(x|z) + lambda SW_2^2(q(z), p(z)) on L = 50 "
        "random directions; not a bound: elbo is log p(x, z) at the code, and eval reports no importance-sampled "
        "log p(x)",
        "Kolouri et al. 2019",
        objective="swae",
        posterior="point",
    ),
    "rae": Preset(
        "regularised autoencoder: deterministic codes, -log p(x|z) + beta ||z||^2/2 + lambda ||decoder weights||^2 "
        "(objective.regulariser=gradient-penalty for RAE-GP), sampled from a 10-component full-covariance Gaussian "
        "mixture fitted to the training codes after training; not a bound: elbo is log p(x, z) at the code under "
        "that mixture, and eval reports no importance-sampled log p(x)",
        "Ghosh et al. 2020",
        objective="rae",
        posterior="point",
        prior="fitted-mixture",
    ),
    "vq-vae": Preset(
        "vector-quantised codes (EMA codebook, straight-through gradients, commitment loss) with an autoregressive "
        "prior over the code indices trained in the same run; elbo = log p(x|z_q) + log p(codes)",
        "van den Oord et al. 2017",
        objective="vq-vae",
        prior="autoregressive-codes",
        posterior="vector-quantized",
    ),
    "gumbel-vae": Preset(
        "categorical latents: latent_dim as one-hot groups of model.posterior.categories (default 10), uniform "
        "prior, trained on Gumbel-softmax samples (temperature annealed from 1 to 0.5 by half the run) with the "
        "closed-form categorical KL; validation elbo and log p(x) are the discrete model's (exact one-hot codes), "
        "a true bound, while the training elbo decodes relaxed codes and bounds neither model",
        "Jang et al. 2017; Maddison et al. 2017",
        objective="relaxed-elbo",
        prior="uniform-categorical",
        posterior="gumbel-softmax",
    ),
    "joint-vae": Preset(
        "JointVAE: model.posterior.continuous_dim (default 10) Gaussian latents beside one-hot groups of "
        "model.posterior.categories (relaxed at temperature 0.67 in training); gamma = 30 times |KL - C| for each, "
        "C_z and C_c ramped from 0 to 5 nats (C_c capped at N log K) over the first half of the run; validation "
        "elbo and log p(x) are the discrete model's",
        "Dupont 2018",
        objective="joint-vae",
        beta=30.0,  # their gamma
        objective_options={"capacity": 5.0, "discrete_capacity": 5.0},
        capacity_ramp=0.5,
        prior="joint",
        posterior="joint",
    ),
}
