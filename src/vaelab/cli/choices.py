"""The names and defaults the commands' help texts show, as plain values, so that ``vaelab --help`` and every
command's ``--help`` start without importing torch, scikit-learn or matplotlib. Each mirrors one registry
or setting; ``tests/test_cli_startup.py`` checks that they agree."""

from __future__ import annotations

LIKELIHOODS = ("bernoulli", "continuous-bernoulli", "gaussian", "logistic", "categorical", "tokens", "columns", "edges")
NETWORKS = ("mlp", "conv", "gru", "conv1d", "gcn")
KINDS = ("image", "table", "sequence", "series", "graph")
KL_SCHEDULES = ("constant", "linear", "cyclical")
PRECISIONS = ("fp32", "bf16", "fp16")
SCORES = ("rate-weighted", "beta-elbo", "elbo", "iwae", "reconstruction", "kl", "latent-density")
LATENT_PATHS = ("lerp", "slerp")
DECODINGS = ("sample", "greedy", "beam")  # vaelab.nn.sequence_decoding.DECODING_METHODS
FILE_SPLITS = ("train", "valid", "test", "all")
METRICS = ("likelihood", "latent", "quality", "downstream", "accuracy", "disentanglement", "molecules", "links")
DISENTANGLEMENT_VOTES = 800  # vaelab.evaluation.suite.EvalSettings.votes
CLASSIFIER_STEPS = 1500  # vaelab.evaluation.reference_classifier.ClassifierSettings.steps
REPORT_EXAMPLES = 2000  # vaelab.report.build.MAX_EXAMPLES
DETECT_TRAIN_ROWS = 10_000  # vaelab.applications.anomaly.defaults.MAX_TRAIN_ROWS
DETECT_RATE_WEIGHTS = (1.0, 4.0)  # tables, images: vaelab.applications.anomaly.defaults.{TABLE,IMAGE}_RATE_WEIGHT


def listed(names: tuple[str, ...]) -> str:
    """``"a | b | c"``: how a help text lists the values an option takes."""
    return " | ".join(names)
