"""MS-SSIM VAE: the reconstruction term replaced by a perceptual dissimilarity, likelihood-free."""

from __future__ import annotations

from dataclasses import dataclass

from vaelab.data.batch import Batch
from vaelab.errors import UserError
from vaelab.models import VAE, elbo_terms
from vaelab.nn.ssim import ms_ssim
from vaelab.objectives.base import ObjectiveOutput


@dataclass(frozen=True)
class MSSSIMVAE:
    """``loss = ssim_weight (1 - MS-SSIM(E[x|z], x)) + beta KL(q(z|x) || p(z))``, z ~ q(z|x), batch means
    (the MSSIM-VAE of PyTorch-VAE, Subramanian 2020; MS-SSIM of Wang et al. 2003, ``vaelab.nn.ssim``).

    Likelihood-free: the decoder's output is read as an image through the likelihood's mean, and the term
    that replaces -E_q log p(x|z) is a dissimilarity in [0, 2], not a log-likelihood; nothing trains the
    likelihood's other parameters (a learned Gaussian scale). The ``elbo``, ``reconstruction`` and ``kl``
    terms under the model's likelihood are still reported, for comparison with VAEs, beside ``ms_ssim`` (the
    similarity, 1 for a perfect reconstruction). ``ssim_weight`` = 1000 (our choice; PyTorch-VAE's KL weight
    of about 1e-3 in their units) weighs a loss of 0.1 in similarity like 100 nats of KL. ``data_range`` is
    L in the constants ``(K L)^2``: 1 for images scaled onto [0, 1], as model space holds discrete images.
    """

    ssim_weight: float = 1000.0
    beta: float = 1.0
    data_range: float = 1.0

    def __call__(self, model: VAE, batch: Batch) -> ObjectiveOutput:
        if batch.x.dim() != 4:
            raise UserError(
                f"msssim-vae needs images (C, H, W), but the data have shape {tuple(batch.x.shape[1:])}; "
                "use another preset for them"
            )
        if batch.mask is not None and not bool(batch.mask.all()):
            raise UserError("msssim-vae scores whole images, but these have missing pixels; use another preset")
        out = model(batch)
        terms = elbo_terms(out)
        similarity = ms_ssim(out.p_x.mean[0], batch.x, self.data_range)  # (B,)
        loss = self.ssim_weight * (1 - similarity).mean() + self.beta * terms["kl"].mean()
        return ObjectiveOutput(loss, {**terms, "ms_ssim": similarity})
