"""Typed run configuration: what a YAML file, the CLI flags and ``--set key=value`` resolve to.

Config objects live in ``vaelab.config`` only; the library below takes plain Python arguments.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

from vaelab.models.spec import ModelConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataConfig(_Strict):
    name: str = "digits"  # a registered dataset or a .npy/.npz/.csv path
    data_dir: str | None = None  # default: $VAELAB_DATA_DIR
    labels: str | None = None  # label column (.csv) or array key (.npz)
    num_labelled: int | None = Field(None, ge=1)  # keep this many training labels (balanced by class), hide the rest
    label_seed: int = 0  # the seed of that draw
    kind: str | None = None  # kind of data (vaelab.data.schema.KINDS); None: detected from the shape
    # token sequences (text files, a CSV column, moses, zinc): see vaelab.data.sequences.SequenceOptions
    tokens: str | None = None  # smiles | selfies | chars; None: smiles for molecules, else chars
    column: str | None = None  # the CSV column holding the sequences
    canonical: bool = True  # RDKit canonical SMILES
    invalid: str = "skip"  # invalid molecules: skip (counted in one warning) | error
    unknown: str | None = None  # a token the training split lacks: error | map (to <unk>); default map
    max_length: int | None = Field(None, ge=1)  # tokens per sequence; None: the training split's longest
    limit: int | None = Field(None, ge=1)  # a seeded random subset of this many sequences per split
    # graphs (cora, a graph .npz, an edge-list .csv with kind: graph): see vaelab.data.graphs.GraphOptions
    split_seed: int = 0  # the seed of the edge split (held-out validation and test edges)
    node_features: str | None = None  # a .npy or .csv of node features, one row per node


class ObjectiveConfig(BaseModel):
    """The objective and its hyperparameters, each named as the objective's field. Hyperparameters of an
    objective not declared here (one added to ``OBJECTIVES``) are accepted by name and checked against the
    objective's own field types when it is built; a name the objective lacks is a one-line error then."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None  # None: the preset's objective; see vaelab.config.build.OBJECTIVES
    beta: float | None = Field(None, ge=0)  # None: the preset's beta
    free_bits: float = Field(0.0, ge=0)
    capacity: float | None = Field(None, ge=0)  # target KL C in nats (Burgess et al. 2018)
    num_samples: int | None = Field(None, ge=1)  # IWAE K; None: the preset's
    # Variant hyperparameters; None: the preset's value, else the objective's default (see vaelab.objectives).
    gradient: Literal["standard", "stl", "dreg"] | None = None  # iwae, miwae: encoder-gradient estimator
    num_bounds: int | None = Field(None, ge=1)  # miwae: M bounds of K samples each
    elbo_weight: float | None = Field(None, ge=0, le=1)  # ciwae: weight of the ELBO (Rainforth et al.'s beta)
    alpha: float | None = Field(None, ge=0)  # beta-tcvae: weight of the index-code mutual information
    gamma: float | None = Field(None, ge=0)  # beta-tcvae: dimension-wise KL weight; factor-vae: TC weight
    tc_estimator: Literal["mss", "mws"] | None = None  # beta-tcvae: stratified or weighted minibatch sampling
    dip_variant: Literal["i", "ii"] | None = None  # dip-vae
    lambda_offdiag: float | None = Field(None, ge=0)  # dip-vae: off-diagonal covariance penalty
    lambda_diag: float | None = Field(None, ge=0)  # dip-vae: diagonal covariance penalty
    mmd_weight: float | None = Field(None, ge=0)  # info-vae
    mmd_kernel: Literal["gaussian", "imq"] | None = None  # info-vae
    adversarial_weight: float | None = Field(None, ge=0)  # aae: weight of the encoder's adversarial loss
    discriminator_hidden: list[PositiveInt] | None = Field(None, min_length=1)  # factor-vae, aae: hidden layer sizes
    discriminator_lr: float | None = Field(None, gt=0)  # factor-vae, aae: the discriminator's Adam learning rate
    corruption: str | None = None  # denoising: NAME:LEVEL, e.g. gaussian:0.3 (vaelab.data.corruption)


class ScheduleConfig(_Strict):
    kl: Literal["constant", "linear", "cyclical"] = "constant"  # schedule of beta
    warmup_epochs: float = Field(5.0, ge=0)  # linear: epochs to reach beta
    cycles: int = Field(4, ge=1)  # cyclical: number of cycles over the run
    ratio: float = Field(0.5, gt=0, le=1)  # cyclical: fraction of a cycle spent increasing
    capacity_epochs: float = Field(0.0, ge=0)  # ramp C from 0 to `objective.capacity` over these epochs


class TrainConfig(_Strict):
    epochs: int | None = Field(None, ge=1)  # None: enough epochs for AUTO_STEPS optimisation steps
    batch_size: int = Field(128, ge=1)
    lr: float | None = Field(None, gt=0)  # None: 1e-3, or 0.01 for a graph's whole-graph steps (Kipf & Welling 2016)
    optimizer: Literal["adam", "adamw"] = "adam"
    weight_decay: float = Field(0.0, ge=0)
    # cosine: annealed to 0 over the run's steps; cosine-time: over train.max_minutes of wall-clock time
    lr_schedule: Literal["constant", "cosine", "cosine-time"] = "constant"
    grad_clip: float | None = Field(None, gt=0)
    patience: int | None = Field(None, ge=1)
    seed: int = 0
    device: str = "cpu"
    in_memory: bool = True
    length_buckets: bool = True  # token sequences: batches of rows of similar length (vaelab.training.batches)
    # The validation term whose best epoch is saved; "-loss": the lowest objective (β ≠ 1). None: "elbo", or for
    # a graph "reconstruction", the held-out pairs' log-likelihood (the KL is over the same nodes in every split).
    monitor: str | None = None
    num_workers: int = Field(0, ge=0)
    threads: int | None = Field(None, ge=1)  # torch intra-op threads; None: torch's default
    flush_subnormals: bool = True  # float32 values below 1.2e-38 count as zero (vaelab.training.hardware)
    max_steps: int | None = Field(None, ge=1)  # stop after this many optimisation steps
    max_minutes: float | None = Field(None, gt=0)  # stop when training + validation reach this wall-clock time
    optimizer_impl: Literal["auto", "foreach", "fused"] = "auto"  # see vaelab.training.hardware
    compile: bool = False  # torch.compile the encoder and decoder
    channels_last: Literal["on", "off"] = "on"  # NHWC layout for conv nets
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"  # autocast; fp16 adds a GradScaler
    # float32 products: "medium" lets them take bfloat16 inputs where that is fast (vaelab.training.hardware)
    matmul_precision: Literal["highest", "high", "medium"] = "highest"
    # semi-supervised data (--model m2): labelled rows added to every batch beyond the epoch's own (0: none)
    labelled_per_batch: int = Field(0, ge=0)
    # an exponential moving average of the weights with this decay per step, validated and kept (None: off)
    ema_decay: float | None = Field(None, gt=0, lt=1)


class RunConfig(_Strict):
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    objective: ObjectiveConfig = ObjectiveConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    train: TrainConfig = TrainConfig()
    report: bool = True  # write pictures into the run directory at the end
    tensorboard: bool = False  # also log to RUN_DIR/tensorboard (vaelab.training.tensorboard)
