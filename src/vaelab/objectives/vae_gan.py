"""VAE-GAN: the reconstruction measured in an image discriminator's features, the decoder also a GAN generator."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.distributions import Bernoulli, Distribution, Independent, RelaxedBernoulli
from torch.nn import functional as F

from vaelab.data.batch import Batch
from vaelab.errors import UserError
from vaelab.models import VAE, elbo_terms
from vaelab.nn.image_discriminator import IMAGE_DISCRIMINATOR_WIDTHS, ImageDiscriminator
from vaelab.objectives.adversarial import WithDiscriminator, with_fixed_parameters
from vaelab.objectives.base import ObjectiveOutput, single_process

DISCRIMINATOR_NETWORKS = ("mlp", "conv")
GENERATED = ("samples", "means")  # what the discriminator sees of p(x|z)


def feature_error(features_x: torch.Tensor, features_reconstruction: torch.Tensor) -> torch.Tensor:
    """``1/2 ||Dis_l(x) - Dis_l(x~)||^2`` per example, (B,), from features (B, F): the feature-wise negative
    log-likelihood ``L_llike^Dis_l = -log N(Dis_l(x) | Dis_l(x~), I)`` of Larsen et al. 2016 (eq. 6) less its
    constant ``F/2 log 2 pi``."""
    return 0.5 * (features_x - features_reconstruction).square().sum(-1)


def generated_images(p_x: Distribution, generated: str, temperature: float) -> torch.Tensor:
    """The images of the decoder's ``p(x|z)`` that the discriminator sees, differentiable in the decoder's output.

    ``generated`` = "means": the means E[x|z] of Larsen et al. 2016. "samples": reparameterised samples, which
    the discriminator cannot tell from data by their set of values alone, as it can tell means from binary data.
    Bernoulli pixels of logits l give the relaxed Bernoulli (binary Concrete) of Maddison et al. 2017, §3.3 /
    Jang et al. 2017 at ``temperature`` t: ``sigmoid((l + log u - log(1 - u)) / t)``, u ~ U(0, 1), in (0, 1) and
    Bernoulli(sigmoid l) as t -> 0; other likelihoods give their ``rsample`` where they have one, else their mean.
    """
    if generated == "means":
        return p_x.mean
    pixels = p_x.base_dist if isinstance(p_x, Independent) else p_x
    if isinstance(pixels, Bernoulli):
        t = torch.as_tensor(temperature, dtype=pixels.logits.dtype, device=pixels.logits.device)
        return RelaxedBernoulli(t, logits=pixels.logits, validate_args=False).rsample()
    return p_x.rsample() if p_x.has_rsample else p_x.mean


@dataclass(frozen=True, kw_only=True)
class VAEGAN(WithDiscriminator):
    """Larsen et al. 2016, "Autoencoding beyond pixels using a learned similarity metric", eqs. 5-9, Algorithm 1.

    An image discriminator Dis (``vaelab.nn.image_discriminator``) tells data x from reconstructions x~, images
    of p(x|z) with z ~ q(z|x), and from samples x_p, images of p(x|z_p) with z_p ~ p(z) (``generated_images``).
    Its l-th layer replaces the pixel likelihood: ``L_llike = 1/2 ||Dis_l(x) - Dis_l(x~)||^2`` (eq. 6 less a
    constant). Each part minimises its own loss of Algorithm 1, all batch means:

    - encoder and posterior head: ``beta KL(q(z|x) || p(z)) + L_llike`` (+ the pixel term below);
    - decoder: ``gamma L_llike - log D(x~') - log D(x_p)`` (+ the pixel term), the generator's half of L_GAN
      (eq. 9) in the non-saturating form of Goodfellow et al. 2014, §3, which gives strong gradients early on;
    - discriminator (its own Adam step after the VAE step, as FactorVAE's and the AAE's): ``classification_loss``
      of x (label 1) against x~ and x_p together (label 0), i.e. -L_GAN with the real images weighted as much as
      the two kinds of generated ones together (the paper sums the three terms with weight 1).

    One backward pass gives each part its loss: x~ from ``model(batch)`` carries ``L_llike`` to the encoder
    and, once, to the decoder; a second decoding of the same codes with the encoder cut off (``z.detach()``)
    gives x~' (x~ itself with means; another draw from the same p(x|z) with samples), which carries
    ``(gamma - 1) L_llike`` and the generator loss to the decoder only, so the decoder's reconstruction weight
    sums to gamma while the encoder's stays 1. Both decodings are needed for that split: one decoding's
    gradient reaches the encoder and the decoder from the same loss. The discriminator enters the VAE's loss
    with its parameters held fixed, so only its own loss trains it.

    Beyond the paper (``generated="means"``, ``pixel_weight=0``, ``discriminator_network="conv"`` and
    ``instance_noise=0`` give Larsen et al.'s objective and discriminator layout):

    - ``generated`` = "samples": the discriminator sees reparameterised samples of p(x|z), relaxed Bernoulli
      pixels at ``sample_temperature`` = 0.5 for binary data, instead of the means E[x|z] that Larsen et al.
      use; binary data are exactly 0 or 1 and means never are, so a discriminator on means wins by the value
      set alone (on binarized MNIST, lr 1e-5, the convolutional one's loss after 2 epochs: 0.023 on means, 0.39
      on samples; the MLP's after 5: 0.56 on means, 0.67 on samples, ln 2 = 0.69 being chance).
      Chosen on binarized MNIST (MLP VAE 300-300, 40 latents, KL warm-up over 2 epochs; Fréchet distance of
      samples / means in ``vaelab eval --metrics quality``): 234 / 306 after 5 epochs with samples, 261 / 316
      with means (plain VAE: 394 / 441); 177 / 235 after 10 (plain VAE: 280 / 312). On digits the two were level.
    - ``discriminator_network`` = "mlp" for every image size: on 28 x 28 the convolutional discriminator made a
      step about 25x a plain VAE step on the CPU; the MLP's about 4x.
    - ``instance_noise``: the std of Gaussian noise added to every image the discriminator sees, data and
      generated alike. Off by default: on binarized MNIST, 0.2 with samples gave 212 / 252 after 5 epochs but
      195 / 234 after 10, and with means 286 / 327 after 5 (figures as above).
    - ``pixel_weight`` = 0.3 keeps ``-pixel_weight E_q log p(x|z)``, the model's own likelihood, in the
      encoder's and the decoder's loss; the discriminator's features say little about pixels early on, and
      with 0.1 the samples of digits were blobs. ``discriminator_lr`` = 1e-5: at 1e-4 the discriminator told
      data from generated digits perfectly within a few epochs. Both chosen on digits (125 epochs, by eye).
    - ``gamma`` = 1 weighs reconstruction and fooling the discriminator equally in the decoder's loss
      (Larsen et al. give no single value).

    Reported per example: the ELBO under the model's likelihood (``elbo``, ``reconstruction``, ``kl``), so
    runs stay comparable with VAEs, and ``feature_error`` (L_llike) and ``generator_loss``.
    """

    gamma: float = 1.0
    beta: float = 1.0
    pixel_weight: float = 0.3
    generated: str = "samples"
    sample_temperature: float = 0.5
    instance_noise: float = 0.0
    discriminator_network: str = "mlp"
    discriminator_hidden: tuple[int, ...] = IMAGE_DISCRIMINATOR_WIDTHS
    discriminator_lr: float = 1e-5

    def new_discriminator(self, model: VAE) -> nn.Module:
        if model.data_kind != "image" or len(model.data_shape) != 3:
            raise UserError(
                f"vae-gan needs images (C, H, W), but the model reads {model.data_kind} data of shape "
                f"{model.data_shape}; use another preset for them"
            )
        if len(self.discriminator_hidden) < 2:
            raise UserError(
                "vae-gan's objective.discriminator_hidden needs at least two widths: its feature layers', then its "
                "head's hidden layer, e.g. [32, 64, 256]"
            )
        if self.generated not in GENERATED:
            raise UserError(
                f"vae-gan's objective.generated is {self.generated!r}; choose one of: {', '.join(GENERATED)}"
            )
        if self.discriminator_network not in DISCRIMINATOR_NETWORKS:
            raise UserError(
                f"vae-gan's objective.discriminator_network is {self.discriminator_network!r}; choose one of: "
                f"{', '.join(DISCRIMINATOR_NETWORKS)}"
            )
        convolutional = self.discriminator_network == "conv"
        return ImageDiscriminator(model.data_shape, self.discriminator_hidden, convolutional)

    def __call__(self, model: VAE, batch: Batch) -> ObjectiveOutput:
        single_process(model, "vae-gan")
        critic = self.critic()
        if not isinstance(critic, ImageDiscriminator):
            raise UserError("vae-gan needs an ImageDiscriminator: leave objective.discriminator unset")
        out = model(batch)
        terms = elbo_terms(out)
        reconstruction = self.images(out.p_x)[0]  # x~, (B, C, H, W), to encoder, decoder
        z_p = model.prior_sample(len(batch), batch.y)  # (B, D)
        p_x = model.decode(torch.cat([out.z[0].detach(), z_p]), _twice(batch.y))
        generated = self.images(p_x)  # x~', x_p; (2B, C, H, W)
        images = self.noisy(torch.cat([batch.x, reconstruction, generated]))  # x, x~, x~', x_p; (4B, C, H, W)
        features = with_fixed_parameters(critic.features, images)  # (4B, F)
        x_features, reconstruction_features, decoder_features, _ = features.chunk(4)
        logits = with_fixed_parameters(critic.head, features[2 * len(batch) :]).reshape(2, len(batch))  # x~', x_p
        error = feature_error(x_features, reconstruction_features)  # (B,), to the encoder and decoder
        decoder_error = feature_error(x_features, decoder_features)  # (B,), the same values, to the decoder only
        generator_loss = F.softplus(-logits).sum(0)  # -log D(x~') - log D(x_p), (B,)
        loss = (
            self.beta * terms["kl"].mean()
            + error.mean()
            + (self.gamma - 1.0) * decoder_error.mean()
            + generator_loss.mean()
            - self.pixel_weight * terms["reconstruction"].mean()
        )
        return ObjectiveOutput(loss, {**terms, "feature_error": error, "generator_loss": generator_loss})

    def discriminator_loss(self, model: VAE, batch: Batch) -> torch.Tensor:
        """Data (label 1) against reconstructions and prior samples of the current model (label 0), in one
        forward pass of the discriminator."""
        with torch.no_grad():
            z = model.encode(batch.x, batch.y, batch.mask).sample()  # (B, D)
            z_p = model.prior_sample(len(batch), batch.y)  # (B, D)
            generated = self.images(model.decode(torch.cat([z, z_p]), _twice(batch.y)))  # x~, x_p; (2B, C, H, W)
        return self.classify(self.noisy(batch.x), self.noisy(generated))  # x against x~, x_p; (2B, C, H, W)

    def images(self, p_x: Distribution) -> torch.Tensor:
        return generated_images(p_x, self.generated, self.sample_temperature)

    def noisy(self, images: torch.Tensor) -> torch.Tensor:
        """``images + instance_noise * eps``, eps ~ N(0, I): instance noise (Sønderby et al. 2017, §3.2; Arjovsky
        & Bottou 2017, §3.1), the same for data and generated images, so their distributions overlap."""
        if self.instance_noise == 0.0:
            return images
        return images + self.instance_noise * torch.randn_like(images)


def _twice(y: torch.Tensor | None) -> torch.Tensor | None:
    """The batch's conditions for its codes stacked twice (reconstruction and prior codes), or None."""
    return None if y is None else torch.cat([y, y])
