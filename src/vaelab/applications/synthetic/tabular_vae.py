"""``TabularVAE``: a VAE over a mixed-type table, on pandas DataFrames, for synthetic data and beyond.

The model is assembled from the library's parts and trained by its one loop: the table's columns in model
space (:mod:`vaelab.data.table_columns`: continuous columns standardised on the training rows, categories as
indices, missing cells masked), MLP networks whose input one-hot encodes the categories, the composite
likelihood with one family per kind of column (:class:`~vaelab.likelihoods.ColumnsLikelihood`), and, by
default, a condition on every categorical column that any of them can fill at sampling time
(:class:`~vaelab.conditions.ColumnsCondition`): ``sample(n, conditions={"income": ">50K"})`` decodes from
p(x | z, income = >50K) without rejection sampling.
"""

from __future__ import annotations

import functools
import json
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from vaelab.applications.anomaly.training import isolated_global_rng, torch_threads
from vaelab.applications.synthetic.frames import column_dtypes, columns_frame, frame_columns
from vaelab.applications.synthetic.training_sampling import (
    CATEGORY_PROBABILITIES,
    SAMPLINGS,
    category_counts,
    sampler_log_likelihood,
    sampling_conditions,
    training_rows,
)
from vaelab.atomic import atomic_write_text
from vaelab.data.batch import Batch, stored_batch
from vaelab.data.dataset import ArrayDataset
from vaelab.data.schema import Feature, feature_from_dict
from vaelab.data.splits import hold_out
from vaelab.data.table_columns import (
    category_index,
    decode_columns,
    encode_columns,
    fit_features,
    infer_column_kind,
    missing_cells,
)
from vaelab.errors import UserError
from vaelab.evaluation.table_marginals import MarginalComparison, marginal_bound
from vaelab.likelihoods.columns import ColumnsDistribution
from vaelab.models import VAE
from vaelab.models.build import build_model, resolve_spec
from vaelab.models.spec import ModelConfig
from vaelab.objectives import ELBO, IWAE
from vaelab.training import TrainSettings, fit
from vaelab.training.trainer import check_ema_decay, check_lr_schedule

SETTINGS_FILE = "tabular.json"
# The training length when epochs are not given: twice TVAE's 300 epochs (Xu et al. 2019) and at least 6000
# optimisation steps (a table of 500 rows: 6000 epochs). Chosen on 15 labelled ADBench tables against 1 and 1.5
# times that (bench/synthetic/results.md).
DEFAULT_EPOCHS = 600
MIN_STEPS = 6000
FORMAT = "vaelab.tabular"


def epochs_for_steps(steps: int, rows: int, batch_size: int) -> int:
    """The epochs over ``rows`` rows in batches of ``batch_size`` that take at least ``steps`` optimisation steps."""
    return max(1, math.ceil(steps / math.ceil(rows / min(batch_size, rows))))


def check_sampling(
    temperature: float, chain_steps: int, names: tuple[str, str] = ("temperature", "chain_steps")
) -> None:
    """UserError unless the sampling temperature and the chain's steps are at least 0 (setting or argument);
    ``names`` are what the user calls the two (the command line: its flags)."""
    if temperature < 0:
        raise UserError(f"{names[0]} must be at least 0, not {temperature}")
    if chain_steps < 0:
        raise UserError(f"{names[1]} must be at least 0, not {chain_steps}")


class WorseThanMarginalsWarning(UserWarning):
    """The fitted model scores held-out rows below independent per-column marginals."""


@dataclass(frozen=True)
class TabularSettings:
    """The model and its training; every field is a constructor argument of :class:`TabularVAE`."""

    latent_dim: int = 16
    hidden_dims: tuple[int, ...] = (256, 256)
    continuous_input: str = "standardised"  # or "asinh": how the encoder reads continuous columns (MLPOptions)
    continuous: str = "mixture"  # or "gaussian" (one, decoded scale); chosen on 12 ADBench tables (bench/synthetic)
    components: int = 5
    min_scale: float = 1e-3  # floor of every continuous scale, in standard deviations of the column
    # columns of whole numbers: a scale floor of this many of their units where smaller (None: min_scale only);
    # chosen on the ADBench tables with such columns (bench/synthetic/results.md)
    integer_floor: float | None = 0.1
    # a continuous column's most frequent value is also an atom of its mixture (a probability of taking that exact
    # value) where at least this share of the training rows hold it; None: no atoms (likelihoods/columns.py).
    # continuous="gaussian" has no atoms: there it does not apply (like scikit-learn's l1_ratio without elasticnet)
    atom_share: float | None = 0.05
    epochs: int | None = None  # None: DEFAULT_EPOCHS, or more on small tables so that training takes min_steps steps
    min_steps: int = MIN_STEPS  # with epochs None, the optimisation steps a fit takes at least
    batch_size: int = 500
    lr: float = 1e-3
    lr_schedule: str = "constant"  # or "cosine": the rate decays to 0 by the last step (the trainer's schedules)
    ema_decay: float | None = None  # Polyak averaging of the weights per step (the trainer's), None: the last weights
    beta: float = 1.0  # weight of the KL term (the reported bound is always the beta = 1 ELBO)
    importance_samples: int = 1  # K > 1: train on the importance-weighted bound (MIWAE on incomplete rows)
    mask_input: bool = False  # the encoder also reads which cells are observed
    validation: float = 0.1  # share of rows held out to measure the bound against the marginals (0: none)
    conditional: bool = True  # condition on the categorical columns (any of them fillable at sampling)
    # "log-frequency": training-by-sampling (Xu et al. 2019 §4.3; training_sampling.py), with 0/1 columns read as
    # two-category columns so that they join the condition; "frequency": the same with categories drawn as often
    # as they occur (CTGAN's log_frequency=False); "uniform": each training row as often as it occurs, with random
    # subsets of the categorical columns given; None: "log-frequency" for a conditional model, "uniform" otherwise
    sampling: str | None = None
    # with training-by-sampling, the share of drawn rows trained with their (column, category) given; the others
    # have nothing given and train the nothing-given mode (transform; score_samples for rows missing every
    # conditionable cell)
    given_share: float = 0.9
    # with training-by-sampling, how many independent draws of the table's rows a fit trains on, all of them in
    # each of epochs / draws passes (CTGAN draws afresh for every batch; the training loop takes a fixed dataset)
    draws: int = 1
    clip: bool = True  # keep sampled numbers within the training range of their column
    # sampling temperature of every discrete choice (categories, 0/1 cells, ordinal levels, a mixture cell's
    # component): 1 draws from the model, 0 takes the most probable choice as TVAE does (distributions/tempered.py)
    temperature: float = 1.0
    # steps of the Markov chain z ~ q(z | x), x ~ p(x | z) each sampled row takes after its prior draw (sample)
    chain_steps: int = 0
    kinds: Mapping[str, str] = field(default_factory=dict)  # column -> kind, overriding the inferred one
    random_state: int = 0
    threads: int | None = None
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.sampling is None:
            object.__setattr__(self, "sampling", "log-frequency" if self.conditional else "uniform")
        for name in ("latent_dim", "batch_size", "components", "importance_samples", "draws", "min_steps"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.epochs is not None and self.epochs < 1:
            raise UserError(f"epochs must be at least 1, not {self.epochs}")
        if self.min_scale <= 0:
            raise UserError(f"min_scale must be positive, not {self.min_scale}")
        if self.integer_floor is not None and self.integer_floor <= 0:
            raise UserError(f"integer_floor must be positive (or None), not {self.integer_floor}")
        if self.atom_share is not None and not 0 < self.atom_share <= 1:
            raise UserError(f"atom_share must be in (0, 1] (or None), not {self.atom_share}")
        check_sampling(self.temperature, self.chain_steps)
        if self.beta <= 0:
            raise UserError(f"beta must be positive, not {self.beta}")
        if not 0 <= self.validation < 1:
            raise UserError(f"validation must be in [0, 1), not {self.validation}")
        check_ema_decay(self.ema_decay)
        check_lr_schedule(self.lr_schedule, budget=None)  # a fit runs its epochs: no time budget
        if self.continuous not in ("gaussian", "mixture"):
            raise UserError(f"continuous must be 'gaussian' or 'mixture', not {self.continuous!r}")
        if self.continuous_input not in ("standardised", "asinh"):
            raise UserError(f"continuous_input must be 'standardised' or 'asinh', not {self.continuous_input!r}")
        if not 0 < self.given_share <= 1:
            raise UserError(f"given_share must be in (0, 1], not {self.given_share}")
        if self.sampling not in SAMPLINGS:
            raise UserError(f"sampling must be one of {', '.join(map(repr, SAMPLINGS))}, not {self.sampling!r}")
        if self.sampling != "uniform" and not self.conditional:
            raise UserError(f"sampling={self.sampling!r} conditions on the drawn column: it needs conditional=True")


class TabularVAE:
    """A VAE over a DataFrame: ``fit(df)``, ``sample(n, conditions=...)``, ``transform(df)`` (embeddings),
    ``score_samples(df)`` (per-row log-likelihood), ``save(dir)`` / ``TabularVAE.load(dir)`` (no pickle).

    After ``fit``: ``features_`` (one :class:`~vaelab.data.schema.Feature` per column), ``validation_bound_``
    and ``marginal_bound_`` (mean nats per held-out row of the model's ELBO and of independent per-column
    marginals; None without validation rows), ``fit_seconds_``.
    """

    def __init__(self, **settings: Any) -> None:
        if "hidden_dims" in settings:
            settings["hidden_dims"] = tuple(settings["hidden_dims"])
        self.settings = TabularSettings(**settings)
        self.model: VAE | None = None
        self.features_: tuple[Feature, ...] = ()
        self.dtypes_: dict[str, str] = {}
        self.condition_columns_: list[int] = []
        self.condition_counts_: list[list[int]] = []
        self.validation_bound_: float | None = None
        self.marginal_bound_: float | None = None
        self.fit_seconds_: float | None = None

    # ------------------------------------------------------------------ fit
    def fit(self, frame: pd.DataFrame, callbacks: Sequence[Callable[[dict[str, Any]], None]] = ()) -> TabularVAE:
        """Fit on ``frame``; ``callbacks`` are called with each epoch's record, as by ``vaelab.training.fit``."""
        started = time.perf_counter()
        s = self.settings
        columns = frame_columns(frame)
        if len(frame) < 2:
            raise UserError(f"the table has {len(frame)} row(s); give at least 2 to fit a model")
        split = self.split_rows(len(frame))
        self.features_ = fit_features(columns, split["train"], self._kinds(columns))
        self.dtypes_ = column_dtypes(frame)
        x = encode_columns(columns, self.features_)
        self.condition_columns_ = (
            [j for j, f in enumerate(self.features_) if f.kind == "categorical"] if s.conditional else []
        )
        rows = self._dataset(x[split["train"]], given=True)
        self.condition_counts_ = (
            category_counts(rows.y, [len(self.features_[j].categories or ()) for j in self.condition_columns_])
            if rows.y is not None
            else []
        )
        train = self._training_set(rows)
        draws = len(train) // len(rows)
        valid = self._dataset(x[split["valid"]], given=False) if "valid" in split else None
        with torch_threads(s.threads), isolated_global_rng(torch.device(s.device)):
            torch.manual_seed(s.random_state)
            self.model = build_model(
                resolve_spec(
                    ModelConfig.model_validate(self._model_config()),
                    train,
                    condition_columns=self.condition_columns_,
                    condition_shares=None if s.sampling == "uniform" else (1 - s.given_share, 1.0),
                )
            )
            fit(
                self.model, self._objective(), train, valid, self._train_settings(len(rows), draws), callbacks=callbacks
            )
        if valid is not None:
            self._compare_with_marginals(rows, valid)
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def split_rows(self, n: int) -> dict[str, np.ndarray]:
        """The rows of an ``n``-row table that ``fit`` trains on (``"train"``) and holds out (``"valid"``: a
        seeded ``validation`` share, when the table has at least 20 rows), for evaluation on the same split."""
        if self.settings.validation > 0 and n >= 20:
            return hold_out(n, self.settings.validation)
        return {"train": np.arange(n)}

    def _kinds(self, columns: Mapping[str, np.ndarray]) -> dict[str, str]:
        """The columns' kinds as stated; with training-by-sampling, also every inferred 0/1 column read as a
        categorical one (categories "0" and "1"), so that it joins the condition: CTGAN's discrete columns."""
        kinds = dict(self.settings.kinds)
        if self.settings.sampling == "uniform":
            return kinds
        binary = [
            name
            for name, values in columns.items()
            if name not in kinds and not missing_cells(values).all() and infer_column_kind(name, values) == "binary"
        ]  # an empty column is left to fit_features, which names it
        return {**kinds, **dict.fromkeys(binary, "categorical")}

    def _training_set(self, rows: ArrayDataset) -> ArrayDataset:
        """The rows a fit trains on: ``rows`` themselves, or ``draws`` times as many drawn from them by
        training-by-sampling, each with only its drawn (column, category) given (seeded by ``random_state``)."""
        if self.settings.sampling == "uniform" or rows.y is None or not any(map(sum, self.condition_counts_)):
            return rows
        rng = np.random.default_rng(self.settings.random_state)
        probabilities = CATEGORY_PROBABILITIES[str(self.settings.sampling)]
        drawn, y = training_rows(rows.y, self.condition_counts_, len(rows) * self.settings.draws, rng, probabilities)
        return ArrayDataset(np.asarray(rows.x)[drawn], y, None, "table", kind="table", features=self.features_)

    def _model_config(self) -> dict[str, Any]:
        s = self.settings
        return {
            "latent_dim": s.latent_dim,
            "network": {"name": "mlp", "hidden_dims": list(s.hidden_dims), "continuous_input": s.continuous_input},
            "likelihood": {
                "name": "columns",
                "continuous": s.continuous,
                "components": s.components,
                "min_scale": s.min_scale,
                "integer_floor": s.integer_floor,
                "atom_share": s.atom_share if s.continuous == "mixture" else None,
            },
            "prior": "conditional-gaussian" if self.condition_columns_ else "standard-normal",
            "posterior": "gaussian",
            "mask_input": s.mask_input,
        }

    def _objective(self) -> ELBO | IWAE:
        """The ELBO, or with ``importance_samples`` K > 1 the IWAE bound over each row's observed cells: the
        MIWAE bound of Mattei & Frellsen 2019 (eq. 4) on incomplete rows."""
        s = self.settings
        return IWAE(num_samples=s.importance_samples, beta=s.beta) if s.importance_samples > 1 else ELBO(beta=s.beta)

    def steps(self, rows: int) -> int:
        """The optimisation steps a fit on ``rows`` training rows takes."""
        draws = 1 if self.settings.sampling == "uniform" else self.settings.draws
        settings = self._train_settings(rows, draws)
        return settings.epochs * math.ceil(rows * draws / settings.batch_size)

    def _train_settings(self, rows: int, draws: int) -> TrainSettings:
        """The training loop's settings for ``rows`` training rows drawn ``draws`` times: ``epochs`` passes over
        the rows in all, so epochs / draws passes over the drawn set."""
        s = self.settings
        batch_size = min(s.batch_size, rows)
        epochs = s.epochs or max(DEFAULT_EPOCHS, epochs_for_steps(s.min_steps, rows, batch_size))
        return TrainSettings(
            epochs=math.ceil(epochs / draws),
            batch_size=batch_size,
            monitor="iwae" if s.importance_samples > 1 else "elbo",  # IWAE training may lower the ELBO itself
            lr=s.lr,
            lr_schedule=s.lr_schedule,
            ema_decay=s.ema_decay,
            grad_clip=10.0,
            seed=s.random_state,
            device=s.device,
            progress=False,
            log_every=10**9,
        )

    def _dataset(self, x: np.ndarray, given: bool) -> ArrayDataset:
        """Model-space rows with the condition: the categorical columns' indices (``given``: the model sees
        them, hidden at random in training) or NaN (nothing given: the unconditional bound)."""
        y = None
        if self.condition_columns_:
            y = (
                x[:, self.condition_columns_].copy()
                if given
                else np.full((len(x), len(self.condition_columns_)), np.nan)
            )
            y = y.astype(np.float32)
        return ArrayDataset(x, y, None, "table", kind="table", features=self.features_)

    def _compare_with_marginals(self, train: ArrayDataset, valid: ArrayDataset) -> None:
        """The held-out rows' bound under the distribution ``sample`` draws from (``_log_likelihoods``) against
        independent per-column marginals fitted on the training rows."""
        model = self._fitted()
        model.eval()
        with torch.inference_mode():
            bound = self._log_likelihoods(np.asarray(valid.x), model.elbo)
        comparison = MarginalComparison(float(bound.mean()), marginal_bound(model, train, valid))
        self.validation_bound_, self.marginal_bound_ = comparison.bound, comparison.marginals
        if comparison.worse:
            warnings.warn(WorseThanMarginalsWarning(comparison.message()), stacklevel=3)

    # ------------------------------------------------------------- helpers
    def _fitted(self) -> VAE:
        if self.model is None:
            raise UserError("this TabularVAE is not fitted yet: call fit(df) first")
        return self.model

    def batch(self, frame: pd.DataFrame) -> Batch:
        """The rows of ``frame`` as the model reads them: model space, missing cells masked, nothing given to
        the condition. UserError naming a column the model was not fitted on, a missing one, or a new category."""
        return self._batch(self._rows(frame))

    def _batch(self, x: np.ndarray) -> Batch:
        """Model-space rows (NaN where missing: masked by ``stored_batch``) with nothing given to the condition."""
        rows = self._dataset(x, given=False)
        return stored_batch(np.asarray(rows.x), rows.y, None, next(self._fitted().parameters()).device)

    def _rows(self, frame: pd.DataFrame) -> np.ndarray:
        """The rows of ``frame`` in model space; UserError naming a column the model was not fitted on, a
        missing one, or a category it never saw."""
        self._fitted()
        return encode_columns(frame_columns(frame), self.features_)

    def check_table(self, frame: pd.DataFrame) -> None:
        """UserError (naming the column) unless ``frame`` holds the columns and categories fitted on."""
        self._rows(frame)

    # -------------------------------------------------------------- sample
    def sample(
        self,
        n: int,
        conditions: Mapping[str, Any] | None = None,
        random_state: int | None = None,
        temperature: float | None = None,
        chain_steps: int | None = None,
    ) -> pd.DataFrame:
        """``n`` synthetic rows as a DataFrame with the fitted columns, order and dtypes: z ~ p(z), then each
        cell drawn from p(x | z, conditions). ``conditions`` maps categorical columns to the value every row
        must take; the other columns follow the model's conditional distribution given them. After training-by-
        sampling, rows without ``conditions`` are each conditioned on one column's category drawn with the real
        frequencies (Xu et al. 2019 §4.3). ``temperature`` (default: the setting) sharpens every discrete
        choice given z: 1 draws from the model, 0 takes the most probable category, level or mixture component.
        ``chain_steps`` (default: the setting) moves each row that many steps along the Markov chain
        z ~ q(z | x, y), x ~ p(x | z, y) (Rezende et al. 2014, §5.2 and appendix F), from the prior's draw
        towards the codes the encoder gives real rows."""
        model = self._fitted()
        if n < 1:
            raise UserError(f"n must be at least 1, not {n}")
        temperature = self.settings.temperature if temperature is None else temperature
        chain_steps = self.settings.chain_steps if chain_steps is None else chain_steps
        check_sampling(temperature, chain_steps)
        seed = self.settings.random_state if random_state is None else random_state
        y = self._condition_rows(n, conditions or {}, np.random.default_rng(seed))
        with torch_threads(self.settings.threads), isolated_global_rng(next(model.parameters()).device):
            torch.manual_seed(seed)
            model.eval()
            with torch.inference_mode():
                chunks = []
                for start in range(0, n, 4096):
                    size = min(4096, n - start)
                    part = None if y is None else y[start : start + size]
                    draw = functools.partial(self._draw, model, y=part, temperature=temperature)
                    x_part = model.chain(draw(model.prior_sample(size, part)), part, chain_steps, draw)
                    chunks.append(x_part.cpu().numpy())
        x = np.concatenate(chunks).astype(np.float64)
        decoded = decode_columns(x, self.features_, clip=self.settings.clip)
        return columns_frame(decoded, self.dtypes_, [f.name for f in self.features_])

    def _draw(self, model: VAE, z: torch.Tensor, y: torch.Tensor | None, temperature: float) -> torch.Tensor:
        """Rows ``(B, columns)`` in model space drawn from p(x | z, y) at ``temperature``, every category given
        in the condition ``y: (B, C)`` (NaN: not given) written as given."""
        p_x = model.decode(z, y)
        assert isinstance(p_x, ColumnsDistribution)
        x = p_x.tempered(temperature).sample()
        if y is not None:
            columns = self.condition_columns_
            x[:, columns] = torch.where(torch.isnan(y), x[:, columns], y.to(x.dtype))
        return x

    def _condition_rows(self, n: int, conditions: Mapping[str, Any], rng: np.random.Generator) -> torch.Tensor | None:
        """The condition tensor ``(n, C)`` (NaN for columns not given): ``conditions`` in every row, or after
        training-by-sampling and without ``conditions`` one column per row drawn with the real frequencies."""
        names = [f.name for f in self.features_]
        fixed: dict[int, int] = {}
        for name, value in conditions.items():
            if name not in names:
                raise UserError(f"cannot condition on {name!r}: the table has no such column ({', '.join(names)})")
            column = names.index(name)
            if column not in self.condition_columns_:
                conditionable = (
                    ", ".join(names[c] for c in self.condition_columns_) or "none; fit with conditional=True"
                )
                raise UserError(
                    f"cannot condition on {name!r}: only categorical columns are conditionable ({conditionable})"
                )
            fixed[column] = category_index(self.features_[column], value)
        if not self.condition_columns_:
            return None
        y = torch.full((n, len(self.condition_columns_)), float("nan"))
        for column, index in fixed.items():
            y[:, self.condition_columns_.index(column)] = float(index)
        if not fixed and self.settings.sampling != "uniform" and any(map(sum, self.condition_counts_)):
            y = torch.from_numpy(sampling_conditions(self.condition_counts_, n, rng))
        return y.to(next(self._fitted().parameters()).device)

    # ----------------------------------------------------- transform, score
    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """``(N, latent_dim)`` embeddings: the posterior means E_q[z|x] of the rows (missing cells allowed)."""
        model = self._fitted()
        batch = self.batch(frame)
        model.eval()
        with torch.inference_mode():
            return model.encode(batch.x, batch.y, batch.mask).mean.cpu().numpy()

    def score_samples(self, frame: pd.DataFrame, num_samples: int = 100) -> np.ndarray:
        """``(N,)`` importance-sampled log-likelihood of each row in nats (model space, over its observed cells;
        continuous columns in standardised units) under the distribution ``sample`` draws from (after
        training-by-sampling, a lower bound on it: ``sampler_log_likelihood``): higher is more typical, as the
        anomaly detector expects."""
        model = self._fitted()
        x = self._rows(frame)
        model.eval()
        with torch_threads(self.settings.threads), isolated_global_rng(next(model.parameters()).device):
            torch.manual_seed(self.settings.random_state)
            return self._log_likelihoods(x, lambda batch: model.log_likelihood(batch, num_samples=num_samples))

    def _log_likelihoods(self, x: np.ndarray, log_p: Callable[[Batch], torch.Tensor]) -> np.ndarray:
        """``(N,)`` log-likelihoods (or bounds, as ``log_p`` gives them per row of a batch) of model-space rows
        ``x`` under the distribution ``sample`` draws from: the nothing-given model, or after training-by-sampling
        the mixture over drawn conditions (``sampler_log_likelihood``), whose conditional modes train on most
        rows; a row missing every conditionable cell falls back to the nothing-given model."""
        device = next(self._fitted().parameters()).device

        def given(rows: np.ndarray, y: np.ndarray | None) -> np.ndarray:
            return log_p(stored_batch(x[rows], y, None, device)).cpu().numpy()

        everything = np.ones(len(x), dtype=bool)
        if self.settings.sampling == "uniform" or not any(map(sum, self.condition_counts_)):
            return given(everything, self._dataset(x, given=False).y)
        bound = sampler_log_likelihood(x[:, self.condition_columns_], self.condition_counts_, given)
        unconditioned = ~np.isfinite(bound)
        if unconditioned.any():
            bound[unconditioned] = given(unconditioned, self._dataset(x[unconditioned], given=False).y)
        return bound

    # ---------------------------------------------------------- save, load
    def save(self, directory: str | Path) -> None:
        """Write the model (``model.json``, ``model.safetensors``) and ``tabular.json`` into ``directory``."""
        model = self._fitted()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        model.save(directory)
        settings = {**asdict(self.settings), "hidden_dims": list(self.settings.hidden_dims)}
        state = {
            "format": FORMAT,
            "settings": settings,
            "dtypes": self.dtypes_,
            "condition_columns": self.condition_columns_,
            "condition_counts": self.condition_counts_,
            "validation_bound": self.validation_bound_,
            "marginal_bound": self.marginal_bound_,
        }
        atomic_write_text(directory / SETTINGS_FILE, json.dumps(state, indent=2))

    @classmethod
    def load(cls, directory: str | Path) -> TabularVAE:
        """A TabularVAE saved by :meth:`save`; reads JSON and safetensors only."""
        from vaelab.models.load import load

        directory = Path(directory)
        path = directory / SETTINGS_FILE
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise UserError(
                f"{path}: cannot read a saved TabularVAE ({error}); save one with TabularVAE.save"
            ) from None
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise UserError(f"{path}: is not a saved TabularVAE; save one with TabularVAE.save")
        # settings added since: a model saved before one was built without it
        estimator = cls(**{"integer_floor": None, "atom_share": None, **state["settings"]})
        estimator.model = load(directory)
        estimator.features_ = tuple(feature_from_dict(f) for f in estimator.model.spec["columns"])
        estimator.dtypes_ = {str(k): str(v) for k, v in state["dtypes"].items()}
        estimator.condition_columns_ = [int(c) for c in state["condition_columns"]]
        estimator.condition_counts_ = [[int(n) for n in counts] for counts in state.get("condition_counts", [])]
        estimator.validation_bound_ = state.get("validation_bound")
        estimator.marginal_bound_ = state.get("marginal_bound")
        return estimator
