"""The VAE container: encoder -> posterior q(z|x), prior p(z), decoder -> likelihood p(x|z).

No losses live here: objectives (``vaelab.objectives``) turn a ``ModelPass`` into a loss. The methods
below are what a user does with a trained model: encode, decode, sample, reconstruct, interpolate, and
estimate the ELBO or log p(x) by importance sampling.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import torch
from safetensors.torch import save_file
from torch import nn
from torch.distributions import Categorical, Distribution

from vaelab.atomic import atomic_write, atomic_write_text
from vaelab.data.batch import Batch, as_batch
from vaelab.data.dataset import ArrayDataset, to_model_space
from vaelab.data.graph_batch import GraphBatch
from vaelab.data.schema import detect_kind
from vaelab.data.vocabulary import EOS, Vocabulary
from vaelab.distributions import kl_estimate
from vaelab.errors import UserError
from vaelab.likelihoods import Likelihood
from vaelab.likelihoods.edges import EdgeDistribution
from vaelab.models.latent_paths import PATHS
from vaelab.nn.missing_input import MissingInput
from vaelab.nn.sequence_decoding import StepDecoder, TokenDecoding, decode_tokens
from vaelab.nn.smiles_syntax import SmilesSyntax

CHECK_ROWS = 4096  # rows of data checked at a time

MODEL_FORMAT = "vaelab.model"
MODEL_FORMAT_VERSION = 1
# Upper bound on decoder-output elements evaluated at once by chunked estimators: bounded memory, and
# 8 MB float32 chunks stay in cache between the decoder and the likelihood's elementwise passes
# (chosen in bench/speed/results.md, importance-sampled evaluation).
CHUNK_ELEMENTS = 1 << 21


def _no_autocast(t: torch.Tensor) -> contextlib.AbstractContextManager[None]:
    """Autocast switched off where it is on (mixed-precision training), else nothing."""
    if torch.is_autocast_enabled(t.device.type):
        return torch.autocast(t.device.type, enabled=False)
    return contextlib.nullcontext()


def _full_precision(t: torch.Tensor) -> torch.Tensor:
    """Half-precision network outputs (autocast) as float32; float32 and float64 unchanged."""
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


@dataclass(frozen=True)
class ModelPass:
    """Everything one forward pass produces; S is the number of z samples per example."""

    q_z: Distribution  # batch (B,), event (D,)
    p_z: Distribution  # event (D,)
    z: torch.Tensor  # (S, B, D)
    p_x: Distribution  # batch (S, B), event = data shape
    log_p_x: torch.Tensor  # (S, B), over the batch's observed entries

    def log_weights(self) -> torch.Tensor:
        """Importance weights ``log p(x, z) - log q(z|x)``, shape (S, B) (Burda et al. 2016, eq. 8)."""
        return self.log_p_x + self.p_z.log_prob(self.z) - self.q_z.log_prob(self.z)

    def kl(self) -> torch.Tensor:
        """KL(q(z|x) || p(z)) per example, (B,): closed form where torch has one, else Monte Carlo."""
        return kl_estimate(self.q_z, self.p_z, self.z)


def elbo_terms(out: ModelPass) -> dict[str, torch.Tensor]:
    """The beta = 1 ELBO per example (B,) in nats, ``E_q log p(x|z) - KL(q(z|x) || p(z))`` (Kingma &
    Welling 2014, eq. 3), with its ``reconstruction`` and ``kl`` parts; the KL is closed form where torch
    has one. The one place the ELBO is computed: every objective reports it, so runs stay comparable."""
    reconstruction = out.log_p_x.mean(0)  # (B,)
    kl = out.kl()  # (B,)
    return {"elbo": reconstruction - kl, "reconstruction": reconstruction, "kl": kl}


class VAE(nn.Module):
    """A VAE assembled from parts.

    ``condition`` makes it a conditional VAE (Sohn et al. 2015): a part (``vaelab.conditions``) that turns
    labels or condition vectors y into features, appended to the encoder's output and to z. A decoder
    whose ``takes_context`` attribute is true is called as ``decoder(z, x)``: it sees the input, as an
    autoregressive decoder trained with teacher forcing must. A ``classifier`` (``LabelPosterior``) adds q(y|x) to
    a class-conditional model, which makes it Kingma et al.'s (2014) M2: trained on rows whose labels are partly
    unknown (``vaelab.objectives.m2``), it predicts the class of new rows. ``spec`` is the plain-data description the
    builder used; ``save`` stores it so ``vaelab.load`` can rebuild the model without running any code
    from the file.
    """

    def __init__(
        self,
        encoder: nn.Module,
        posterior: nn.Module,
        prior: nn.Module,
        decoder: nn.Module,
        likelihood: Likelihood,
        *,
        data_shape: tuple[int, ...],
        latent_dim: int,
        condition: nn.Module | None = None,
        missing_input: MissingInput | None = None,
        classifier: nn.Module | None = None,
        spec: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.posterior = posterior
        self.prior = prior
        self.decoder = decoder
        self.likelihood = likelihood
        self.condition = condition
        self.classifier = classifier
        self.missing_input = missing_input or MissingInput(data_shape, None, mask_input=False)
        self.data_shape = tuple(data_shape)
        self.latent_dim = latent_dim
        self.spec = spec or {}

    # ----------------------------------------------------------------- parts
    @property
    def vocabulary(self) -> Vocabulary | None:
        """The tokens of a sequence model (from its spec), else None."""
        stored = self.spec.get("vocabulary")
        return None if stored is None else Vocabulary.from_dict(stored)

    @property
    def data_kind(self) -> str:
        """The kind of data the model reads ("image", "table", ...): the spec's, else the shape's."""
        return str(self.spec.get("kind") or detect_kind(self.data_shape))

    @property
    def is_conditional(self) -> bool:
        return self.condition is not None

    @property
    def num_classes(self) -> int | None:
        """The number of classes of a class-conditional model, else None."""
        return getattr(self.condition, "num_classes", None)

    def condition_features(self, y: torch.Tensor | None) -> torch.Tensor | None:
        """The condition's features ``(B, C)``; None for unconditional models."""
        if self.condition is None:
            return None
        if y is None:
            raise UserError("this model is conditional: pass labels (y) or --label")
        features: torch.Tensor = self.condition(torch.as_tensor(y, device=self._device()))
        return features

    def _device(self) -> torch.device:
        return next(self.parameters()).device

    def p_z(self, y: torch.Tensor | None = None) -> Distribution:
        """p(z), or p(z|y) with batch ``(B,)`` for a prior that depends on the condition (its ``conditional``)."""
        if getattr(self.prior, "conditional", False):
            return self.prior(self.condition_features(y))
        return self.prior()

    def prior_sample(self, n: int, y: torch.Tensor | None = None) -> torch.Tensor:
        """``(n, D)`` codes from the prior; a conditional prior draws one per row of the condition ``y: (n, ...)``."""
        if getattr(self.prior, "conditional", False):
            return self.p_z(y).sample()
        return self.p_z().sample((n,))

    def encode(
        self,
        x: torch.Tensor,
        y: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        graph: GraphBatch | None = None,
    ) -> Distribution:
        """q(z|x): a distribution with batch shape (B,) and event shape (latent_dim,); ``.mean`` embeds. A model with a
        classifier (M2) given no class uses the one q(y|x) finds most probable. With
        ``mask: (B, *data_shape)`` bool, q(z|x_observed): the encoder reads the observed entries only (its
        missing ones filled, and the mask itself for a model built with ``mask_input``). A graph encoder
        (``takes_graph``) reads the node features ``x: (N, F)`` and the ``graph`` they belong to: q(Z | X, A)."""
        if y is None and self.classifier is not None:  # M2: the class q(y|x) finds most probable
            y = self.predicted_classes(x, mask)
        return self.posterior_given(self.encoder_features(x, mask, graph), y)

    def encoder_features(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, graph: GraphBatch | None = None
    ) -> torch.Tensor:
        """The encoder network's output ``h: (B, H)`` for ``x`` (missing entries and graphs as in ``encode``)."""
        inputs = self.missing_input(x, mask)
        if getattr(self.encoder, "takes_graph", False):
            if graph is None:
                raise UserError("this model encodes the nodes of a graph: pass the graph (its Batch.graph)")
            h: torch.Tensor = self.encoder(inputs, graph.adjacency)
            return h
        h = self.encoder(inputs)
        return h

    def posterior_given(self, h: torch.Tensor, y: torch.Tensor | None = None) -> Distribution:
        """q(z|x, y) from the encoder's features ``h: (B, H)`` and the condition ``y`` of those B rows."""
        c = self.condition_features(y)
        if c is not None:
            h = torch.cat([h, c], dim=-1)
        with _no_autocast(h):  # the posterior's densities at full precision even under mixed precision
            return self.posterior(_full_precision(h))

    def q_y(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> Categorical:
        """q(y|x) of a model with a classifier: a ``Categorical`` with batch ``(B,)`` (observed entries only)."""
        if self.classifier is None:
            raise UserError("this model has no classifier: train one with --model m2 to predict classes")
        q: Categorical = self.classifier(self.missing_input(x, mask))
        return q

    def predicted_classes(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``(B,)`` int64: ``argmax_y q(y|x)`` of a model with a classifier."""
        return self.q_y(x, mask).logits.argmax(-1)

    def known_or_predicted_classes(self, batch: Batch) -> torch.Tensor:
        """``(B,)`` classes: each row's label where it is known (``Batch.labelled``), else ``predicted_classes``."""
        predicted = self.predicted_classes(batch.x, batch.mask)
        if batch.y is None:
            return predicted
        return batch.y if batch.labelled is None else torch.where(batch.labelled, batch.y, predicted)

    def decoder_input(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """Codes ``z: (..., B, D)`` with the condition's features of ``y: (B, ...)`` appended (broadcast over the
        leading dims); ``z`` itself for an unconditional model."""
        c = self.condition_features(y)
        return z if c is None else torch.cat([z, c.expand(*z.shape[:-1], c.shape[-1])], dim=-1)

    def decode(
        self, z: torch.Tensor, y: torch.Tensor | None = None, context: torch.Tensor | None = None
    ) -> Distribution:
        """p(x|z) for codes ``z: (..., B, D)``; a condition ``(B, K)`` broadcasts over leading dims, and a
        decoder that takes context sees ``context`` (the input x, ``(B, *data_shape)``)."""
        z = self.decoder_input(z, y)
        eta = self.decoder(z, context) if getattr(self.decoder, "takes_context", False) else self.decoder(z)
        return self.likelihood(_full_precision(eta))  # full-precision log-densities

    def forward(self, batch: Batch, num_samples: int = 1) -> ModelPass:
        draw = getattr(self.condition, "draw", None)  # a condition whose training batches hide some of it
        if self.training and draw is not None and batch.y is not None:
            batch = replace(batch, y=draw(batch.y))  # drawn once: the encoder and decoder see the same one
        if self.classifier is not None and (batch.y is None or batch.labelled is not None):
            batch = replace(batch, y=self.known_or_predicted_classes(batch), labelled=None)
        return self.pass_from(self.encode(batch.x, batch.y, batch.mask, batch.graph), batch, num_samples)

    def pass_from(self, q_z: Distribution, batch: Batch, num_samples: int) -> ModelPass:
        """The pass with ``num_samples`` codes from a posterior ``q_z`` already computed for ``batch``;
        ``log p(x|z)`` counts the batch's observed entries only. For a graph, x is its edges: the likelihood
        scores the batch's node pairs, each node's row of them (``EdgeDistribution.log_prob_graph``)."""
        z = q_z.rsample((num_samples,))  # (S, B, D)
        p_x = self.decode(z, batch.y, context=batch.x)
        if batch.graph is not None:
            log_p_x = cast(EdgeDistribution, p_x).log_prob_graph(batch.graph)
        else:
            log_p_x = self.likelihood.log_prob(p_x, batch.x, batch.observed)
        return ModelPass(q_z=q_z, p_z=self.p_z(batch.y), z=z, p_x=p_x, log_p_x=log_p_x)

    def check_data(self, x: torch.Tensor) -> None:
        """Raise a one-line ``UserError`` when model-space data ``x: (N, *shape)`` cannot be scored; NaN entries
        are missing values, which every likelihood scores by leaving them out (``Batch.mask``)."""
        if tuple(x.shape[1:]) != self.data_shape:
            raise UserError(
                f"data have shape {tuple(x.shape[1:])} per example but the model expects {self.data_shape}; "
                "use data like those the model was trained on"
            )
        if x.is_floating_point() and bool(torch.isinf(x).any()):
            raise UserError("data contain infinite values; remove or replace them first")
        self.likelihood.check_support(torch.nan_to_num(x, nan=0.0))  # NaN: a missing entry, masked out of log p(x|z)

    def check_dataset(self, data: ArrayDataset) -> None:
        """``check_data`` over a whole dataset, a chunk of rows at a time (so a memory-mapped file is never
        read into memory at once)."""
        for chunk in data.row_chunks(CHECK_ROWS):
            self.check_data(to_model_space(torch.from_numpy(chunk), data.levels))

    # ------------------------------------------------------------ estimates
    def rows_per_chunk(self, max_elements: int = CHUNK_ELEMENTS) -> int:
        """How many decoder outputs (examples x samples) one chunk of an estimator may hold."""
        return max(1, max_elements // max(1, math.prod(self.likelihood.param_shape)))

    def bound_terms(self, batch: Batch, num_samples: int = 1) -> dict[str, torch.Tensor]:
        """The per-example ``elbo``, ``reconstruction`` and ``kl``, each (B,), averaged over ``num_samples``
        codes. A model with a classifier (M2) gives Kingma et al.'s bounds (:mod:`vaelab.models.label_bounds`):
        L(x, y) on log p(x, y) for the rows whose class is given, U(x) on log p(x) for the others."""
        if self.classifier is not None:
            from vaelab.models.label_bounds import label_bounds  # it builds on this module

            return label_bounds(self, batch, num_samples=num_samples).terms
        return elbo_terms(self(batch, num_samples))

    @torch.inference_mode()
    def elbo(self, x: torch.Tensor | Batch, y: torch.Tensor | None = None, num_samples: int = 1) -> torch.Tensor:
        """The evidence lower bound per example in nats, (B,): E_q[log p(x|z)] - KL(q(z|x) || p(z)); for a model
        with a classifier (M2), the bound of ``bound_terms`` (the class summed out where ``y`` is not given)."""
        batch = as_batch(x, y)
        values = []
        step = len(batch) if batch.graph is not None else max(1, self.rows_per_chunk() // num_samples)
        if self.classifier is not None and self.num_classes:  # an unlabelled row is decoded once per class
            step = max(1, step // self.num_classes)
        for start in range(0, len(batch), step):
            values.append(self.bound_terms(batch.rows(start, start + step), num_samples)["elbo"])
        return torch.cat(values)

    @torch.inference_mode()
    def log_likelihood(
        self, x: torch.Tensor | Batch, y: torch.Tensor | None = None, num_samples: int = 1000
    ) -> torch.Tensor:
        """Importance-sampled log p(x) per example in nats, (B,) (Burda et al. 2016, eq. 8 with q as the
        proposal): ``logsumexp_k log w_k - log K``. Chunked over examples and samples so memory stays
        bounded whatever K and B are; the running log-sum-exp is combined with ``logaddexp``. With a
        mask, the estimate is of the observed entries' marginal likelihood. A model with a classifier (M2)
        given no ``y`` sums the class out exactly; given ``y``, it estimates log p(x|y)."""
        if num_samples < 1:
            raise UserError("num_samples must be at least 1")
        batch = as_batch(x, y)
        if self.classifier is not None and batch.y is None:  # M2 without a class: log p(x), the class summed out
            from vaelab.models.label_bounds import marginal_log_likelihood  # it builds on this module

            return marginal_log_likelihood(self, batch, num_samples)
        rows = self.rows_per_chunk()
        size = len(batch) if batch.graph is not None else max(1, min(len(batch), rows))
        samples_per_chunk = max(1, rows // size)
        values = []
        for start in range(0, len(batch), size):
            part = batch.rows(start, start + size)
            q_z = self.encode(part.x, part.y, part.mask)
            total = None
            for s in range(0, num_samples, samples_per_chunk):
                log_w = self.pass_from(q_z, part, min(samples_per_chunk, num_samples - s)).log_weights()
                chunk = torch.logsumexp(log_w, dim=0)
                total = chunk if total is None else torch.logaddexp(total, chunk)
            assert total is not None
            values.append(total - math.log(num_samples))
        return torch.cat(values)

    # ---------------------------------------------------------- applications
    @torch.inference_mode()
    def sample(
        self, n: int, y: torch.Tensor | int | None = None, mean: bool = True, decoding: TokenDecoding | None = None
    ) -> torch.Tensor:
        """Draw ``n`` examples x ~ p(x|z), z ~ p(z); with ``mean=True`` return E[x|z] (sharper pictures); token
        models decode as ``decoding`` says (:meth:`examples`). A model with a classifier (M2) given no class draws
        each from p(y), uniform over its classes."""
        if isinstance(y, int):
            y = torch.full((n,), y, dtype=torch.long)
        if y is None and self.classifier is not None and self.num_classes:  # y ~ p(y), uniform (M2)
            y = torch.randint(self.num_classes, (n,), device=self._device())
        z = self.prior_sample(n, y)  # (n, D)
        return self.examples(z, y, mean, decoding)

    def chain(
        self, x: torch.Tensor, y: torch.Tensor | None, steps: int, draw: Callable[[torch.Tensor], torch.Tensor]
    ) -> torch.Tensor:
        """Rows ``x: (B, *data_shape)`` after ``steps`` steps of the Markov chain z ~ q(z | x, y), x = draw(z),
        where ``draw`` samples p(x | z, y) (as the caller decodes: tempered, given cells written). With the
        exact posterior this is Gibbs sampling of p(x, z), which leaves p(x) unchanged; with an encoder it is the
        pseudo-Gibbs chain of Rezende et al. 2014 (§5.2, appendix F), which moves rows drawn from the prior
        towards the codes the encoder gives the data."""
        for _ in range(steps):
            x = draw(self.encode(x, y).sample())
        return x

    @torch.inference_mode()
    def reconstruct(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """E[x | z = E_q[z|x]]: decode the posterior mean."""
        return self.examples(self.encode(x, y).mean, y)

    @torch.inference_mode()
    def embed(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Posterior means E_q[z|x], (B, D)."""
        return self.encode(x, y).mean

    @torch.inference_mode()
    def interpolate(
        self,
        x0: torch.Tensor,
        x1: torch.Tensor,
        steps: int = 8,
        method: str = "lerp",
        y: torch.Tensor | int | None = None,
    ) -> torch.Tensor:
        """Decode ``steps`` points on the path between the posterior means of two single examples."""
        if method not in PATHS:
            raise UserError(f"unknown interpolation method {method!r}; use one of {sorted(PATHS)}")
        if isinstance(y, int):
            y = torch.full((1,), y, dtype=torch.long)
        z0 = self.encode(x0.unsqueeze(0), y).mean[0]
        z1 = self.encode(x1.unsqueeze(0), y).mean[0]
        t = torch.linspace(0, 1, steps, device=z0.device)
        z = PATHS[method](z0, z1, t)  # (steps, D)
        y_path = None if y is None else torch.as_tensor(y).expand(steps, *torch.as_tensor(y).shape[1:])
        return self.examples(z, y_path)

    @torch.inference_mode()
    def examples(
        self, z: torch.Tensor, y: torch.Tensor | None = None, mean: bool = True, decoding: TokenDecoding | None = None
    ) -> torch.Tensor:
        """The examples codes ``z: (N, D)`` stand for: E[x|z] (``mean``) or a draw from p(x|z). An
        autoregressive decoder (one with ``step``) is run token by token instead, as ``decoding`` says (default:
        greedy for ``mean``, sampled otherwise); the result is token ids ``(N, T)`` in the stored layout."""
        if not hasattr(self.decoder, "step"):
            p_x = self.decode(z, y)
            return p_x.mean if mean else p_x.sample()
        decoding = decoding or TokenDecoding("greedy" if mean else "sample")
        syntax = None
        if decoding.smiles_syntax:
            if self.vocabulary is None or self.vocabulary.tokenizer != "smiles":
                raise UserError("the SMILES syntax constraint needs a model of SMILES tokens (--tokens smiles)")
            syntax = SmilesSyntax(self.vocabulary.tokens)
        z = self.decoder_input(z, y)
        return decode_tokens(
            cast(StepDecoder, self.decoder),
            z,
            EOS,
            self.data_shape[0],
            decoding.method,
            beam_width=decoding.width,
            syntax=syntax,
        )

    # ----------------------------------------------------------- persistence
    def save(self, directory: str | Path) -> None:
        """Write ``model.json`` (the spec) and ``model.safetensors`` (the weights), each atomically."""
        directory = Path(directory)
        state = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
        atomic_write(directory / "model.safetensors", lambda tmp: save_file(state, str(tmp)))
        header = {"format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION, "spec": self.spec}
        atomic_write_text(directory / "model.json", json.dumps(header, indent=2))
