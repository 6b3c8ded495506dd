"""Building a VAE from its description: one registry per kind of part, every entry a ``Part``.

A ``Part`` is the options it takes (a pydantic model: ``model.likelihood.scale``, ``model.network.hidden_dims``)
and a builder ``(options, context) -> part``. ``build_model(spec)`` assembles the parts in order, each
builder reading its options and a ``BuildContext`` that grows as parts exist: the data's description first,
then the likelihood's parameter layout (which sizes the decoder's output), the networks (whose feature
width sizes the posterior), and the posterior (which a VampPrior shares). Adding a part is one class in its
folder plus one registry entry here; every command, the help texts and the registry-driven tests pick it up.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Literal, TypeVar

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, ValidationError
from torch import nn
from torch.distributions import Distribution

from vaelab.conditions import ClassCondition, ColumnsCondition, VectorCondition
from vaelab.data.dataset import ArrayDataset, to_model_space
from vaelab.data.schema import Feature, detect_kind, feature_dict, feature_from_dict
from vaelab.data.semi_supervised import check_class_labels, is_semi_supervised
from vaelab.data.vocabulary import BOS, PAD, UNK, Vocabulary
from vaelab.errors import UserError, validation_message
from vaelab.likelihoods import (
    BernoulliLikelihood,
    CategoricalLikelihood,
    ColumnsLikelihood,
    ContinuousBernoulliLikelihood,
    DiscretizedLogisticLikelihood,
    EdgeLikelihood,
    GaussianLikelihood,
    Likelihood,
    TokensLikelihood,
)
from vaelab.models.spec import AUTO, PART_FIELDS, DataFields, ModelConfig, PartChoice
from vaelab.models.vae import CHECK_ROWS, VAE
from vaelab.nn import conv_pair, mlp_pair
from vaelab.nn.columns import ColumnEncoding
from vaelab.nn.graph import GCNEncoder, InnerProductDecoder
from vaelab.nn.missing_input import MissingInput, encoder_input_shape
from vaelab.nn.recurrent import (
    ConvSequenceEncoder,
    GRUDecoder,
    GRUEncoder,
    GRUStepDecoder,
    GRUStepEncoder,
    GRUWindowDecoder,
)
from vaelab.posteriors import (
    DiagonalGaussianPosterior,
    FlowPosterior,
    IAFPosterior,
    LadderPosterior,
    PlanarPosterior,
    PointPosterior,
)
from vaelab.posteriors.categorical import JointPosterior, RelaxedCategoricalPosterior
from vaelab.posteriors.hamiltonian import HamiltonianPosterior
from vaelab.posteriors.label import LabelPosterior
from vaelab.posteriors.vector_quantizer import VectorQuantizer
from vaelab.posteriors.von_mises_fisher import VonMisesFisherPosterior
from vaelab.priors import (
    ConditionalGaussianPrior,
    HierarchicalPrior,
    MixtureOfGaussiansPrior,
    StandardNormalPrior,
    VampPrior,
)
from vaelab.priors.categorical import JointPrior, UniformCategoricalPrior
from vaelab.priors.code_prior import CodePrior
from vaelab.priors.fitted_mixture import FittedGaussianMixturePrior
from vaelab.priors.state_space import StateSpacePrior
from vaelab.priors.uniform_sphere import UniformSpherePrior

IMAGE_KIND, SEQUENCE_KIND, SERIES_KIND, GRAPH_KIND = "image", "sequence", "series", "graph"
CONV_MIN_SIDE = 32  # network "auto": conv nets for images at least this large, MLPs below
MAX_WIDTH = 1 << 16  # a layer wider than this is a typo or a hostile file, checked before anything is allocated
MAX_LAYERS = 256  # likewise for the number of layers, flow steps or latent layers: each is a module to build


@dataclass(frozen=True)
class BuildContext:
    """What a part's builder may use besides its options; later fields are filled in as parts are built."""

    data_shape: tuple[int, ...]
    kind: str  # the kind of data ("image", "table", ...)
    levels: int | None  # discrete data: the number of values on the grid, else None
    latent_dim: int  # size of z (all layers of a hierarchical model)
    condition_dim: int = 0  # width of the condition's features (0: unconditional)
    param_shape: tuple[int, ...] = ()  # the likelihood's decoder output per example
    vocabulary: Vocabulary | None = None  # sequences: their tokens
    columns: tuple[Feature, ...] | None = None  # mixed tables: each column's kind and model-space scaling
    mask_input: bool = False  # the encoder reads the observation mask behind the values (MissingInput)
    features: int = 0  # the encoder's output width
    feature_steps: int = 1  # the features are this many blocks, one per step, and so is z (one latent per step)
    encoder: nn.Module | None = None
    posterior: Callable[[torch.Tensor], Distribution] | None = None  # q of the variable the prior is over
    prior_dim: int = 0  # size of the variable the prior is over (z, or the top layer z_L)


@dataclass(frozen=True)
class Networks:
    """An encoder ``x -> h (features,)`` and a decoder ``z -> eta (*param_shape)``, built as a pair; with
    ``feature_steps`` > 1, h and z are that many blocks, one per step of a sequence."""

    encoder: nn.Module
    decoder: nn.Module
    features: int
    feature_steps: int = 1


class Options(BaseModel):
    """A part's options; a part without any takes this as it is."""

    model_config = ConfigDict(extra="forbid")


Opt = TypeVar("Opt", bound=Options)
Built = TypeVar("Built")


@dataclass(frozen=True)
class Part(Generic[Opt, Built]):
    """A registry entry: the options the part takes and its builder."""

    options: type[Opt]
    build: Callable[[Opt, BuildContext], Built]


# ----------------------------------------------------------------- likelihoods
class GaussianOptions(Options):
    scale: Literal["learned", "decoder"] | PositiveFloat = "learned"  # fixed, one learned per element, or decoded
    min_scale: PositiveFloat = 1e-3  # floor of a learned or decoded scale


class ColumnsOptions(Options):
    continuous: Literal["gaussian", "mixture"] = "mixture"  # family of the continuous columns (bench/synthetic)
    components: Annotated[int, Field(ge=1, le=64)] = 5  # Gaussians per cell, continuous="mixture"
    scale: Literal["learned", "decoder"] = "decoder"  # continuous="gaussian": one per column, or decoded per row
    count: Literal["poisson", "negative-binomial"] = "negative-binomial"  # family of the count columns
    min_scale: PositiveFloat = 1e-3  # floor of every continuous scale
    # columns of whole numbers: a floor of this many of their units where below min_scale (likelihoods/columns.py)
    integer_floor: PositiveFloat | None = None
    # continuous="mixture": a column's most frequent value is also an atom of its mixture where at least this
    # share of the training rows hold it (likelihoods/columns.py); None: no atoms
    atom_share: Annotated[float, Field(gt=0, le=1)] | None = None


def _columns_likelihood(options: ColumnsOptions, context: BuildContext) -> Likelihood:
    if context.columns is None:
        raise UserError(
            "the columns likelihood needs a table with named columns (a .csv, or a DataFrame through "
            "vaelab.TabularVAE); use --likelihood gaussian for arrays"
        )
    if options.atom_share is not None and options.continuous != "mixture":
        raise UserError("model.likelihood.atom_share needs model.likelihood.continuous=mixture (atoms join a mixture)")
    return ColumnsLikelihood(
        context.columns,
        options.continuous,
        options.components,
        options.scale,
        options.count,
        options.min_scale,
        options.integer_floor,
        options.atom_share,
    )


class LogisticOptions(Options):
    components: PositiveInt = 1  # mixture components per element


class EdgeOptions(Options):
    weighting: Literal["balanced", "none"] = "balanced"  # Kipf & Welling's class-balanced weights, or none
    all_pairs_max_nodes: Annotated[int, Field(ge=2)] = 5000  # larger graphs: the non-edges' sum from drawn pairs
    negatives: Annotated[int, Field(ge=1, le=1000)] = 1  # drawn pairs per labelled pair, on larger graphs


def _edge_likelihood(options: EdgeOptions, context: BuildContext) -> Likelihood:
    if context.kind != GRAPH_KIND:
        raise UserError("the edges likelihood scores the edges of a graph (--data cora, a graph .npz, --kind graph)")
    return EdgeLikelihood(
        context.data_shape, context.latent_dim, options.weighting, options.all_pairs_max_nodes, options.negatives
    )


def _need_levels(context: BuildContext, name: str) -> int:
    if context.levels is None:
        raise UserError(f"the {name} likelihood needs discrete data (integer values); use --likelihood gaussian")
    return context.levels


LIKELIHOODS: dict[str, Part[Any, Likelihood]] = {
    "bernoulli": Part(Options, lambda o, ctx: BernoulliLikelihood(ctx.data_shape)),
    "continuous-bernoulli": Part(Options, lambda o, ctx: ContinuousBernoulliLikelihood(ctx.data_shape)),
    "gaussian": Part(GaussianOptions, lambda o, ctx: GaussianLikelihood(ctx.data_shape, o.scale, o.min_scale)),
    "logistic": Part(
        LogisticOptions,
        lambda o, ctx: DiscretizedLogisticLikelihood(ctx.data_shape, _need_levels(ctx, "logistic"), o.components),
    ),
    "categorical": Part(
        Options, lambda o, ctx: CategoricalLikelihood(ctx.data_shape, _need_levels(ctx, "categorical"))
    ),
    "tokens": Part(Options, lambda o, ctx: TokensLikelihood(ctx.data_shape, len(_need_vocabulary(ctx, "tokens")))),
    "columns": Part(ColumnsOptions, _columns_likelihood),  # mixed tables: one family per kind of column
    "edges": Part(EdgeOptions, _edge_likelihood),  # graphs: Kipf & Welling 2016's inner-product edge model
}


def _need_vocabulary(context: BuildContext, name: str) -> Vocabulary:
    if context.vocabulary is None:
        raise UserError(
            f"the {name} {'likelihood' if name == 'tokens' else 'network'} needs token sequences "
            "(a .txt or .smi file, a .csv column, moses or zinc); these data are not sequences"
        )
    return context.vocabulary


# ------------------------------------------------------------------- networks
Width = Annotated[int, Field(ge=1, le=MAX_WIDTH)]


Widths = Annotated[list[Width], Field(min_length=1, max_length=MAX_LAYERS)]


class MLPOptions(Options):
    hidden_dims: Widths = [400]  # encoder widths; the decoder mirrors
    # tables: how the encoder reads a (standardised) continuous column; asinh keeps values near 0 and compresses
    # heavy tails logarithmically, so that rare extreme values do not swamp the first layer
    continuous_input: Literal["standardised", "asinh"] = "standardised"


class ConvOptions(Options):
    channels: Widths = [32, 32, 64, 64]  # per stride-2 convolution
    hidden: Width = 256  # width of the fully connected layer after the convolutions


def _mlp(options: MLPOptions, context: BuildContext) -> Networks:
    if context.kind == SEQUENCE_KIND:
        raise UserError("token sequences need a sequence network: --network gru or conv1d (auto picks gru)")
    if context.kind == GRAPH_KIND:
        raise UserError("a graph needs a graph network: --network gcn (auto picks it)")
    decoder_in = context.latent_dim + context.condition_dim
    if context.columns is None:
        if options.continuous_input != "standardised":
            raise UserError("network.continuous_input applies to tables of columns; these data are not one")
        shape = encoder_input_shape(context.data_shape, context.mask_input)
        return Networks(*mlp_pair(shape, options.hidden_dims, decoder_in, context.param_shape))
    # a table's categories enter one-hot
    encoding = ColumnEncoding(context.columns, context.mask_input, asinh=options.continuous_input == "asinh")
    encoder, decoder, features = mlp_pair((encoding.width,), options.hidden_dims, decoder_in, context.param_shape)
    return Networks(nn.Sequential(encoding, encoder), decoder, features)


def _conv(options: ConvOptions, context: BuildContext) -> Networks:
    if context.kind != IMAGE_KIND:
        raise UserError(f"--network conv needs images (N, C, H, W); the data have shape {context.data_shape}")
    decoder_in = context.latent_dim + context.condition_dim
    shape = encoder_input_shape(context.data_shape, context.mask_input)
    pair = conv_pair(shape, options.channels, options.hidden, decoder_in, context.param_shape)
    return Networks(*pair)


class GRUOptions(Options):
    embedding_dim: Width = 64  # token (or series step) embedding width, encoder and decoder each
    encoder_hidden: Width = 256  # per direction of the bidirectional GRU encoder
    decoder_hidden: Width = 512
    decoder_layers: Annotated[int, Field(ge=1, le=8)] = 1
    word_dropout: Annotated[float, Field(ge=0, lt=1)] = 0.0  # Bowman et al. 2016, §3.2
    # series windows: one latent for the window, or latent_dim / T for each of its T steps (OmniAnomaly's)
    latents: Literal["window", "step"] = "window"


class Conv1dOptions(GRUOptions):
    channels: Annotated[list[Width], Field(min_length=1, max_length=MAX_LAYERS)] = [64, 64, 128]
    kernel_size: Annotated[int, Field(ge=1, le=64)] = 9


def _sequence_decoder(options: GRUOptions, context: BuildContext) -> GRUDecoder:
    vocabulary = _need_vocabulary(context, "sequence")
    if context.param_shape != (*context.data_shape, len(vocabulary)):
        raise UserError("a sequence network decodes token logits: use --likelihood tokens (or auto)")
    return GRUDecoder(
        context.latent_dim + context.condition_dim,
        len(vocabulary),
        options.embedding_dim,
        options.decoder_hidden,
        options.decoder_layers,
        start_id=BOS,
        unknown_id=UNK,
        word_dropout=options.word_dropout,
    )


def _gru(options: GRUOptions, context: BuildContext) -> Networks:
    _no_mask_input(context, "gru")
    if context.kind == SERIES_KIND:
        return _gru_windows(options, context)
    if options.latents != "window":
        raise UserError("latents per step are for series windows; token sequences take one latent per sequence")
    decoder = _sequence_decoder(options, context)
    vocabulary = _need_vocabulary(context, "gru")
    encoder = GRUEncoder(nn.Embedding(len(vocabulary), options.embedding_dim, padding_idx=PAD), options.encoder_hidden)
    return Networks(encoder, decoder, encoder.features)


def _gru_windows(options: GRUOptions, context: BuildContext) -> Networks:
    """Windows ``(T, C)`` of real values: each step's values embedded linearly, a GRU decoder of every step's
    likelihood parameters (``(P, T, C)``, the default layout)."""
    steps, channels = context.data_shape
    params = context.param_shape[0]
    if context.param_shape != (params, steps, channels):
        raise UserError("a series network decodes a distribution per value: use --likelihood gaussian (or auto)")
    embedding = nn.Linear(channels, options.embedding_dim)
    if options.latents == "step":
        if context.latent_dim % steps or context.condition_dim:
            raise UserError(
                f"latents per step need a latent_dim that is a multiple of the window's {steps} steps (not "
                f"{context.latent_dim}) and no condition"
            )
        step_encoder = GRUStepEncoder(embedding, options.encoder_hidden, steps)
        step_decoder = GRUStepDecoder(
            context.latent_dim // steps, steps, channels, params, options.decoder_hidden, options.decoder_layers
        )
        return Networks(step_encoder, step_decoder, step_encoder.features, feature_steps=steps)
    encoder = GRUEncoder(embedding, options.encoder_hidden)
    decoder_in = context.latent_dim + context.condition_dim
    decoder = GRUWindowDecoder(decoder_in, steps, channels, params, options.decoder_hidden, options.decoder_layers)
    return Networks(encoder, decoder, encoder.features)


def _no_mask_input(context: BuildContext, network: str) -> None:
    if context.mask_input:
        raise UserError(f"--network {network} cannot read the mask: drop --mask-input or use --network mlp or conv")


def _conv1d(options: Conv1dOptions, context: BuildContext) -> Networks:
    _no_mask_input(context, "conv1d")
    decoder = _sequence_decoder(options, context)
    vocabulary = _need_vocabulary(context, "conv1d")
    encoder = ConvSequenceEncoder(len(vocabulary), options.embedding_dim, options.channels, options.kernel_size)
    return Networks(encoder, decoder, encoder.features)


class GCNOptions(Options):
    hidden_dims: Widths = [32]  # graph convolutions before the posterior's (Kipf & Welling 2016: one of 32)
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.0


def _gcn(options: GCNOptions, context: BuildContext) -> Networks:
    if context.kind != GRAPH_KIND:
        raise UserError(
            f"--network gcn needs a graph (--data cora, a graph .npz, --kind graph); these data are {context.kind}s"
        )
    _no_mask_input(context, "gcn")
    if context.param_shape != (context.latent_dim,) or context.condition_dim:
        raise UserError("a graph network decodes edges from the codes: use --likelihood edges (or auto), unconditioned")
    (features,) = context.data_shape
    encoder = GCNEncoder(features, options.hidden_dims, options.dropout)
    return Networks(encoder, InnerProductDecoder(), encoder.features)


NETWORKS: dict[str, Part[Any, Networks]] = {
    "mlp": Part(MLPOptions, _mlp),
    "conv": Part(ConvOptions, _conv),
    "gru": Part(GRUOptions, _gru),  # Bowman et al. 2016: a bidirectional GRU encoder, an autoregressive GRU decoder
    "conv1d": Part(Conv1dOptions, _conv1d),  # Gómez-Bombarelli et al. 2018: 1-D convolutions, the GRU decoder
    "gcn": Part(GCNOptions, _gcn),  # Kipf & Welling 2016: graph convolutions, the inner-product decoder
}


# ----------------------------------------------------------------- posteriors
class PosteriorOptions(Options):
    min_scale: PositiveFloat = 1e-4  # floor of the posterior's scale


class FlowOptions(PosteriorOptions):
    steps: Annotated[int, Field(ge=1, le=MAX_LAYERS)] = 4  # planar / IAF flow steps


class LadderOptions(PosteriorOptions):
    # sizes of z_1 (next to x) .. z_L, summing to latent_dim; None: two halves of latent_dim
    hierarchy: Annotated[list[PositiveInt], Field(min_length=2, max_length=MAX_LAYERS)] | None = None


def _ladder_sizes(options: LadderOptions, latent_dim: int) -> list[int]:
    """``hierarchy``, or two layers splitting latent_dim (the bottom one gets the odd unit)."""
    if options.hierarchy is not None:
        if sum(options.hierarchy) != latent_dim:
            raise UserError(
                f"model.posterior.hierarchy {options.hierarchy} sums to {sum(options.hierarchy)} but model.latent_dim "
                f"is {latent_dim}; set latent_dim to the sum (the decoder sees all layers)"
            )
        return options.hierarchy
    if latent_dim < 2:
        raise UserError("a hierarchical VAE needs latent_dim >= 2 (one unit per layer at least)")
    return [latent_dim - latent_dim // 2, latent_dim // 2]


def _posterior_input(context: BuildContext) -> int:
    return context.features + context.condition_dim


class HamiltonianOptions(PosteriorOptions):
    steps: Annotated[int, Field(ge=0, le=MAX_LAYERS)] = 5  # K leapfrog steps (Caterini et al. 2018 used 1 to 15)
    step_size: PositiveFloat = 0.05  # initial leapfrog step size ε, every dimension; learned (0.01 barely moved z)
    beta0: Annotated[float, Field(gt=0, lt=1)] = 0.3  # initial inverse temperature β_0 of the momentum; learned


def _hamiltonian(options: HamiltonianOptions, context: BuildContext) -> HamiltonianPosterior:
    base = DiagonalGaussianPosterior(_posterior_input(context), context.latent_dim, options.min_scale)
    return HamiltonianPosterior(base, options.steps, options.step_size, options.beta0)


class VQOptions(Options):
    code_dim: Width | None = None  # size of each code vector; None: latent_dim's largest divisor up to 4
    codebook_size: Annotated[int, Field(ge=2, le=MAX_WIDTH)] = 512  # K (van den Oord et al. 2017: 512)
    decay: Annotated[float, Field(gt=0, lt=1)] = 0.99  # the codebook's EMA decay gamma (their appendix A.1)
    restart_after: Annotated[int, Field(ge=1)] = 100  # training steps a code may go unused before it restarts


def _vector_quantizer(options: VQOptions, context: BuildContext) -> VectorQuantizer:
    code_dim = options.code_dim or max(d for d in range(1, 5) if context.latent_dim % d == 0)
    return VectorQuantizer(
        _posterior_input(context),
        context.latent_dim,
        code_dim,
        options.codebook_size,
        decay=options.decay,
        restart_after=options.restart_after,
    )


class CategoricalOptions(Options):
    categories: Annotated[int, Field(ge=2, le=MAX_WIDTH)] = 10  # K per categorical variable (Jang et al. 2017: 10)


class JointOptions(CategoricalOptions, PosteriorOptions):
    continuous_dim: Width = 10  # the Gaussian entries, first; the rest of latent_dim are categoricals (Dupont: 10)


def _groups(discrete_dim: int, categories: int, what: str) -> int:
    """The number of categorical variables ``discrete_dim`` one-hot entries hold, or a one-line error."""
    if discrete_dim < categories or discrete_dim % categories:
        raise UserError(
            f"{what} ({discrete_dim}) must be a positive multiple of model.posterior.categories ({categories}): "
            "one one-hot group per categorical variable; change --latent-dim or the categories"
        )
    return discrete_dim // categories


def _relaxed_categorical(options: CategoricalOptions, context: BuildContext) -> RelaxedCategoricalPosterior:
    groups = _groups(context.latent_dim, options.categories, "model.latent_dim")
    return RelaxedCategoricalPosterior(_posterior_input(context), groups, options.categories)


def _joint_posterior(options: JointOptions, context: BuildContext) -> JointPosterior:
    discrete_dim = context.latent_dim - options.continuous_dim
    groups = _groups(discrete_dim, options.categories, "model.latent_dim - model.posterior.continuous_dim")
    return JointPosterior(
        _posterior_input(context), options.continuous_dim, groups, options.categories, options.min_scale
    )


POSTERIORS: dict[str, Part[Any, nn.Module]] = {
    "gaussian": Part(
        PosteriorOptions,
        lambda o, ctx: DiagonalGaussianPosterior(_posterior_input(ctx), ctx.latent_dim, o.min_scale, ctx.feature_steps),
    ),
    "planar": Part(
        FlowOptions, lambda o, ctx: PlanarPosterior(_posterior_input(ctx), ctx.latent_dim, o.steps, o.min_scale)
    ),
    "iaf": Part(FlowOptions, lambda o, ctx: IAFPosterior(_posterior_input(ctx), ctx.latent_dim, o.steps, o.min_scale)),
    "ladder": Part(
        LadderOptions,
        lambda o, ctx: LadderPosterior(_posterior_input(ctx), _ladder_sizes(o, ctx.latent_dim), o.min_scale),
    ),
    "point": Part(Options, lambda o, ctx: PointPosterior(_posterior_input(ctx), ctx.latent_dim)),  # deterministic codes
    "vector-quantized": Part(VQOptions, _vector_quantizer),  # VQ-VAE, van den Oord et al. 2017
    "gumbel-softmax": Part(CategoricalOptions, _relaxed_categorical),  # Jang et al. 2017; Maddison et al. 2017
    "joint": Part(JointOptions, _joint_posterior),  # JointVAE's Gaussian and relaxed categoricals, Dupont 2018
    "vmf": Part(Options, lambda o, ctx: VonMisesFisherPosterior(_posterior_input(ctx), ctx.latent_dim)),  # S-VAE
    "hamiltonian": Part(HamiltonianOptions, _hamiltonian),  # Gaussian q(z_0|x) + HVAE flow parameters
}
PAIRED_PRIORS: dict[str, tuple[str, str, str]] = {
    "vector-quantized": ("autoregressive-codes", "codebook indices", "vq-vae"),
    "gumbel-softmax": ("uniform-categorical", "one-hot groups", "gumbel-vae"),
    "joint": ("joint", "Gaussian entries beside one-hot groups", "joint-vae"),
    "vmf": ("uniform-sphere", "points on the unit sphere", "svae"),
}
"""Posteriors whose codes only one prior describes -> (that prior, what the codes are, the preset using both).
The pair goes together both ways: neither part builds with another (``_check_pairing``)."""


def _check_pairing(posterior: str, prior: str) -> None:
    for paired_posterior, (paired_prior, codes, preset) in PAIRED_PRIORS.items():
        if (posterior == paired_posterior) != (prior == paired_prior):
            raise UserError(
                f"the {paired_posterior} posterior ({codes}) and the {paired_prior} prior go together: use both, "
                f"as --model {preset} does"
            )


# --------------------------------------------------------------------- priors
class VampOptions(Options):
    components: Width = 500  # pseudo-inputs (Tomczak & Welling 2018: 500)


class MixtureOptions(VampOptions):
    min_scale: PositiveFloat = 1e-4  # floor of the components' scales


def _vamp_prior(options: VampOptions, context: BuildContext) -> nn.Module:
    if context.condition_dim:
        raise UserError("the VampPrior's pseudo-inputs carry no condition: use another prior with a conditional model")
    if context.kind == SEQUENCE_KIND or context.columns is not None:
        raise UserError(
            "the VampPrior's pseudo-inputs are continuous and token ids or categories are not: use another prior"
        )
    if context.kind == GRAPH_KIND:
        raise UserError("the VampPrior's pseudo-inputs are single examples, not graphs: use another prior")
    if isinstance(context.posterior, FlowPosterior | PointPosterior):
        raise UserError(
            "the VampPrior needs a posterior density at any point, which flow posteriors (planar, iaf) and the "
            "point posterior lack: use --set model.posterior=gaussian (or ladder)"
        )
    assert context.encoder is not None and context.posterior is not None
    return VampPrior(context.encoder, context.posterior, context.data_shape, options.components)


class ConditionalPriorOptions(Options):
    hidden: Width = 64  # width of the prior network's hidden layer
    min_scale: PositiveFloat = 1e-4  # floor of the prior's scale


class CodePriorOptions(Options):
    embedding_dim: Width = 64  # embedding of each code index
    hidden: Width = 256  # GRU units


def _code_prior(options: CodePriorOptions, context: BuildContext) -> nn.Module:
    assert isinstance(context.posterior, VectorQuantizer)  # _check_pairing
    return CodePrior(context.posterior, options.embedding_dim, options.hidden)


def _conditional_prior(options: ConditionalPriorOptions, context: BuildContext) -> nn.Module:
    if not context.condition_dim:
        raise UserError("the conditional-gaussian prior needs a conditional model (--model cvae, or a TabularVAE)")
    return ConditionalGaussianPrior(context.condition_dim, context.prior_dim, options.hidden, options.min_scale)


class FittedMixtureOptions(Options):
    components: Width = 10  # Gaussians with full covariances (Ghosh et al. 2020: 10)


def _fitted_mixture_prior(options: FittedMixtureOptions, context: BuildContext) -> nn.Module:
    if context.prior_dim != context.latent_dim:
        raise UserError("the fitted-mixture prior is fitted to whole codes, not a ladder's top layer: use another one")
    return FittedGaussianMixturePrior(context.prior_dim, options.components)


def _uniform_categorical_prior(options: Options, context: BuildContext) -> nn.Module:
    posterior = context.posterior
    assert isinstance(posterior, RelaxedCategoricalPosterior)  # _check_pairing
    return UniformCategoricalPrior(posterior.groups, posterior.categories)


def _joint_prior(options: Options, context: BuildContext) -> nn.Module:
    posterior = context.posterior
    assert isinstance(posterior, JointPosterior)  # _check_pairing
    discrete = posterior.discrete
    return JointPrior(posterior.continuous.latent_dim, discrete.groups, discrete.categories)


class StateSpaceOptions(Options):
    learn: bool = False  # learn each dimension's transition and noise scales (OmniAnomaly keeps them at 1)


def _state_space_prior(options: StateSpaceOptions, context: BuildContext) -> nn.Module:
    if context.feature_steps == 1:
        raise UserError(
            "the state-space prior ties one latent per step: use it with per-step latents (series windows, "
            "--network gru with latents step)"
        )
    return StateSpacePrior(context.feature_steps, context.prior_dim // context.feature_steps, options.learn)


def _uniform_sphere_prior(options: Options, context: BuildContext) -> nn.Module:
    assert isinstance(context.posterior, VonMisesFisherPosterior)  # _check_pairing
    return UniformSpherePrior(context.prior_dim)


PRIORS: dict[str, Part[Any, nn.Module]] = {
    "standard-normal": Part(Options, lambda o, ctx: StandardNormalPrior(ctx.prior_dim)),
    "mog": Part(MixtureOptions, lambda o, ctx: MixtureOfGaussiansPrior(ctx.prior_dim, o.components, o.min_scale)),
    "vamp": Part(VampOptions, _vamp_prior),
    "conditional-gaussian": Part(ConditionalPriorOptions, _conditional_prior),  # p(z|c), Sohn et al. 2015
    "autoregressive-codes": Part(CodePriorOptions, _code_prior),  # a GRU over a VQ-VAE's code indices
    "fitted-mixture": Part(FittedMixtureOptions, _fitted_mixture_prior),  # Ghosh et al. 2020's ex-post GMM
    "uniform-categorical": Part(Options, _uniform_categorical_prior),  # Jang et al. 2017, §4.2
    "joint": Part(Options, _joint_prior),  # N(0, I) x uniform categoricals, Dupont 2018
    "uniform-sphere": Part(Options, _uniform_sphere_prior),  # S-VAE's prior, Davidson et al. 2018
    "state-space": Part(StateSpaceOptions, _state_space_prior),  # OmniAnomaly's, Su et al. 2019
}

REGISTRIES: dict[str, dict[str, Part[Any, Any]]] = {
    "likelihood": LIKELIHOODS,
    "network": NETWORKS,
    "posterior": POSTERIORS,
    "prior": PRIORS,
}
"""Config field -> the registry its name is looked up in."""


def choices(registry: str) -> str:
    """The names a config field accepts, for help texts and errors: ``"bernoulli | gaussian | …"``."""
    return " | ".join(REGISTRIES[registry])


def auto_likelihood(data: ArrayDataset) -> tuple[str, str]:
    """Binary data -> Bernoulli; data in [0, 1] -> continuous Bernoulli; anything else -> Gaussian; with why."""
    if data.levels == 2:
        return "bernoulli", "the values are 0 and 1"
    if data.levels is not None:
        return "continuous-bernoulli", f"{data.levels} levels scaled to [0, 1]"
    in_unit_interval = all(chunk.min() >= 0 and chunk.max() <= 1 for chunk in data.row_chunks())
    return ("continuous-bernoulli", "the values lie in [0, 1]") if in_unit_interval else ("gaussian", "real values")


def _resolve_part(field: str, choice: PartChoice, chosen: str) -> dict[str, Any]:
    """``choice`` as the part ``chosen`` with every option filled in. Options given with ``auto`` that the
    chosen part does not take are dropped; an option a named part does not take is a one-line error."""
    registry = REGISTRIES[field]
    if chosen not in registry:
        raise UserError(f"unknown {field} {chosen!r}; choose one of: {', '.join(registry)}")
    options_type = registry[chosen].options
    given = choice.options
    if choice.name == AUTO:
        given = {key: value for key, value in given.items() if key in options_type.model_fields}
    unknown = sorted(set(given) - set(options_type.model_fields))
    if unknown:
        takes = ", ".join(options_type.model_fields) or "no options"
        raise UserError(f"model.{field}.{unknown[0]} does not apply to the {chosen} {field} (it takes {takes})")
    try:
        options = options_type.model_validate(given)
    except ValidationError as error:
        raise UserError(validation_message(error, f"model.{field}")) from None
    return {"name": chosen, **options.model_dump()}


def _automatic(field: str, data: ArrayDataset, kind: str, defaults: Mapping[str, str]) -> tuple[str, str]:
    """The part an ``auto`` field stands for, and why: the caller's default (a preset's prior and posterior),
    else the likelihood from the data's values and the network from their kind and size."""
    if field in defaults:
        return defaults[field], "the preset's"
    if field == "likelihood":
        if data.features is not None:
            return "columns", "a table: one likelihood per column"
        if kind == GRAPH_KIND:
            return "edges", "a graph"
        return ("tokens", "token sequences") if kind == SEQUENCE_KIND else auto_likelihood(data)
    if field == "network":
        if kind == SEQUENCE_KIND:
            return "gru", "token sequences"
        if kind == GRAPH_KIND:
            return "gcn", "a graph"
        if kind == IMAGE_KIND:
            large = min(data.data_shape[1:]) >= CONV_MIN_SIDE
            side = f"images {'at least' if large else 'under'} {CONV_MIN_SIDE} pixels a side"
            return ("conv" if large else "mlp"), side
        return "mlp", f"{kind} rows"
    raise UserError(f"model.{field} is 'auto': name one of {choices(field)}")


def automatic_choices(
    config: ModelConfig, data: ArrayDataset, defaults: Mapping[str, str] | None = None
) -> dict[str, tuple[str, str]]:
    """``field -> (part, why)`` for each part ``config`` leaves ``auto``, as ``resolve_spec`` chooses them."""
    return {
        field: _automatic(field, data, data.schema.kind, defaults or {})
        for field in PART_FIELDS
        if getattr(config, field).name == AUTO
    }


def resolve_spec(
    config: ModelConfig,
    data: ArrayDataset,
    conditional: bool = False,
    defaults: Mapping[str, str] | None = None,
    condition_columns: Sequence[int] = (),
    condition_shares: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """Everything needed to rebuild the model without data: ``config`` with every part named and every
    option filled in, and what the data tell (shape, kind, levels, a table's columns, the condition). Parts
    left ``auto`` are the ``defaults`` (a preset's prior and posterior) or, for the network and the likelihood,
    chosen from ``data``. ``conditional`` conditions the model on the data's labels; ``condition_columns``
    (positions of categorical columns of a mixed table) on any of those columns (:class:`ColumnsCondition`), whose
    training hides them by ``condition_shares`` (``show_none``, ``show_column``; None: the condition's defaults)."""
    kind = data.schema.kind
    parts = {}
    for field in PART_FIELDS:
        choice: PartChoice = getattr(config, field)
        chosen = choice.name if choice.name != AUTO else _automatic(field, data, kind, defaults or {})[0]
        parts[field] = _resolve_part(field, choice, chosen)
    num_classes, condition_dim = None, 0
    features = data.features
    for column in condition_columns:
        if features is None or not 0 <= column < len(features) or features[column].kind != "categorical":
            raise UserError("a model conditioned on columns needs categorical columns of a table to condition on")
    if config.classifier:
        check_class_labels(data.y, f"--model {config.preset}")
    elif conditional and is_semi_supervised(data.y):
        raise UserError(
            f"--model {config.preset} needs every row labelled; --model m2 learns from rows whose labels are "
            "partly unknown"
        )
    if conditional:
        if data.y is None:
            raise UserError(f"--model {config.preset} needs labels: use a labelled dataset or pass --labels")
        if data.num_classes:
            num_classes = data.num_classes
        else:
            condition_dim = int(data.y.shape[1])
    return {
        "model": {**config.model_dump(exclude=set(PART_FIELDS)), **parts},
        "data_shape": list(data.data_shape),
        "kind": kind,
        "levels": data.levels,
        "num_classes": num_classes,
        "class_names": list(data.class_names) if num_classes and data.class_names else None,
        "condition_dim": condition_dim,
        "vocabulary": None if data.vocabulary is None else data.vocabulary.to_dict(),
        "columns": None if features is None else [feature_dict(f) for f in features],
        "condition_columns": [int(c) for c in condition_columns] or None,
        "condition_shares": None if condition_shares is None else [float(v) for v in condition_shares],
        "fill_values": fill_values(data) if config.fill == "mean" else None,
    }


def fill_values(data: ArrayDataset) -> list[float]:
    """Each entry's mean over the observed training values in model space, flattened (0 where none is
    observed); a categorical column's most frequent category instead, for ``fill="mean"``."""
    total = np.zeros(math.prod(data.data_shape))
    count = np.zeros_like(total)
    for chunk in data.row_chunks(CHECK_ROWS):
        x = to_model_space(torch.from_numpy(chunk), data.levels).double().reshape(len(chunk), -1).numpy()
        total += np.nansum(x, axis=0)
        count += (~np.isnan(x)).sum(axis=0)
    means = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    for j, feature in enumerate(data.features or ()):
        if feature.kind == "categorical":
            column = np.asarray(data.x[:, j], dtype=np.float64)
            column = column[~np.isnan(column)].astype(np.int64)
            means[j] = float(np.bincount(column).argmax()) if column.size else 0.0
    return [float(v) for v in means]


def _build(field: str, choice: PartChoice, context: BuildContext) -> Any:
    part = REGISTRIES[field][choice.name]
    return part.build(part.options.model_validate(choice.options), context)


def build_model(spec: dict[str, Any]) -> VAE:
    """The VAE a spec (from ``resolve_spec``, or a saved ``model.json``) describes."""
    config = ModelConfig.model_validate(spec["model"])
    data = DataFields.model_validate(spec)
    data_shape = tuple(data.data_shape)
    columns = None if data.columns is None else tuple(feature_from_dict(f) for f in data.columns)
    condition: ClassCondition | VectorCondition | ColumnsCondition | None = (
        ClassCondition(data.num_classes)
        if data.num_classes
        else VectorCondition(data.condition_dim)
        if data.condition_dim
        else None
    )
    if data.condition_columns:
        assert columns is not None
        condition = ColumnsCondition([columns[c] for c in data.condition_columns], *(data.condition_shares or ()))
    context = BuildContext(
        data_shape,
        data.kind or detect_kind(data_shape),  # specs saved before kinds existed
        data.levels,
        config.latent_dim,
        condition_dim=0 if condition is None else condition.dim,
        vocabulary=None if data.vocabulary is None else Vocabulary.from_dict(data.vocabulary),
        columns=columns,
        mask_input=config.mask_input,
    )
    likelihood: Likelihood = _build("likelihood", config.likelihood, context)
    context = dataclasses.replace(context, param_shape=likelihood.param_shape)
    networks: Networks = _build("network", config.network, context)
    context = dataclasses.replace(
        context, features=networks.features, feature_steps=networks.feature_steps, encoder=networks.encoder
    )
    _check_pairing(config.posterior.name, config.prior.name)
    if networks.feature_steps > 1 and config.posterior.name != "gaussian":
        raise UserError(f"latents per step take the gaussian posterior, not {config.posterior.name!r}")
    posterior: nn.Module = _build("posterior", config.posterior, context)
    if isinstance(posterior, LadderPosterior):  # the prior is over the top layer, completed by the top-down chain
        if config.prior.name == "conditional-gaussian":
            raise UserError("a ladder posterior's top-down prior takes no condition: use another prior")
        top = dataclasses.replace(context, posterior=posterior.top_posterior, prior_dim=posterior.sizes[-1])
        prior: nn.Module = HierarchicalPrior(_build("prior", config.prior, top), posterior.top_down, posterior.sizes)
    else:
        prior = _build(
            "prior", config.prior, dataclasses.replace(context, posterior=posterior, prior_dim=config.latent_dim)
        )
    return VAE(
        networks.encoder,
        posterior,
        prior,
        networks.decoder,
        likelihood,
        data_shape=data_shape,
        latent_dim=config.latent_dim,
        condition=condition,
        missing_input=MissingInput(data_shape, data.fill_values, config.mask_input),
        classifier=_label_posterior(config, condition, context) if config.classifier else None,
        spec=spec,
    )


def _label_posterior(config: ModelConfig, condition: nn.Module | None, context: BuildContext) -> LabelPosterior:
    """q(y|x) for a model conditioned on classes: the encoder's network built again (its own weights)."""
    if not isinstance(condition, ClassCondition):
        raise UserError(
            f"--model {config.preset} learns to predict class labels: give the data a label column (--labels) "
            "with a class per labelled row"
        )
    network: Networks = _build("network", config.network, context)
    return LabelPosterior(network.encoder, network.features, condition.num_classes)
