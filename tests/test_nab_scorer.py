"""The NAB scorer (vaelab.evaluation.series.nab) against NAB's own outputs and against its definitions.

NAB's results files in ../shared/data/nab/results come from two scorer versions (see the nab module doc):
ARTime's (2022) from the current sweep scorer, whose S(t) column is every point's sweep score and whose
Total_Count counts the scored points; the other detectors' (2015–2016) from NAB v1.0, whose S(t) column holds
the realised contributions and whose Total_Count is the series length. Raw scores and TP/TN/FP/FN are the
same in both. random's ``*_scores.csv`` rows are older still (NAB @ 0cc871b, 2015-09-17): they are checked
against that version's windows and rules in their own test.
"""

from __future__ import annotations

import functools
import glob
import json
import math
import operator
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from vaelab.errors import UserError
from vaelab.evaluation.series import nab

DETECTORS = ("null", "random", "windowedGaussian", "numenta", "randomCutForest", "twitterADVec", "knncad", "ARTime")
SERIES = ("nyc_taxi", "machine_temperature_system_failure")
PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
SWEEP_LAYOUT_DETECTORS = {"ARTime"}
"""Detectors whose results files were written by NAB's current (sweep) scorer; the others by NAB v1.0."""
CORPUS_DETECTORS = ("windowedGaussian", "randomCutForest", "numenta")
TOLERANCE = 1e-6


# ---------------------------------------------------------------------------------------------------------
# Loading NAB's files (cached: the same files serve many parametrized cases)


@pytest.fixture
def nab_dir(data_dir: Path) -> Path:
    path = data_dir / "nab"
    if not path.is_dir():
        pytest.skip("needs ../shared/data/nab")
    return path


@functools.cache
def _windows(nab_path: str) -> dict[str, list[nab.Window]]:
    return nab.nab_windows(Path(nab_path) / "combined_windows.json")


@functools.cache
def _thresholds(nab_path: str) -> dict[str, Any]:
    return json.loads((Path(nab_path) / "results" / "thresholds.json").read_text())


@functools.cache
def _csv(path: str, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """A CSV file with its timestamp column parsed (once: parsing dominates the scorer's time)."""
    frame = pd.read_csv(path, usecols=list(columns) if columns else None)
    if "timestamp" in frame:
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], format="%Y-%m-%d %H:%M:%S")
    return frame


def _results_file(nab_path: Path, detector: str, series: str) -> pd.DataFrame:
    return _csv(str(nab_path / "results" / detector / f"{detector}_{series}.csv"))


def _scores_row(nab_path: Path, detector: str, profile: str, series: str) -> pd.Series | None:
    rows = _csv(str(nab_path / "results" / detector / f"{detector}_{profile}_scores.csv"))
    found = rows[rows["File"] == f"realKnownCause/{series}.csv"]
    return None if found.empty else found.iloc[0]


@functools.cache
def _corpus(nab_path: str, detector: str) -> list[nab.NabSeries]:
    """The 55 series of NAB's corpus here (2 in results/, 53 in corpus-results/) with the detector's scores."""
    root = Path(nab_path)
    windows = _windows(nab_path)
    corpus = []
    for series in SERIES:
        frame = _csv(str(root / "results" / detector / f"{detector}_{series}.csv"), ("timestamp", "anomaly_score"))
        corpus.append(
            nab.NabSeries(
                frame["timestamp"], frame["anomaly_score"].to_numpy(), windows[f"realKnownCause/{series}.csv"]
            )
        )
    for path in sorted(glob.glob(str(root / "corpus-results" / detector / "*" / "*.csv"))):
        category, name = Path(path).parent.name, Path(path).name.removeprefix(f"{detector}_")
        frame = _csv(path, ("timestamp", "anomaly_score"))
        corpus.append(
            nab.NabSeries(frame["timestamp"], frame["anomaly_score"].to_numpy(), windows[f"{category}/{name}"])
        )
    return corpus


# ---------------------------------------------------------------------------------------------------------
# NAB's own outputs


def test_profiles_file_matches_the_built_in_profiles(nab_dir: Path) -> None:
    assert nab.load_profiles(nab_dir / "results" / "profiles.json") == nab.NAB_PROFILES


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("series", SERIES)
@pytest.mark.parametrize("detector", DETECTORS)
def test_nab_results_are_reproduced(nab_dir: Path, detector: str, series: str, profile: str) -> None:
    """anomaly_score + thresholds.json's threshold -> NAB's S(t) column, raw score, TP/TN/FP/FN, Total_Count."""
    frame = _results_file(nab_dir, detector, series)
    threshold = _thresholds(str(nab_dir))[detector][profile]["threshold"]
    windows = _windows(str(nab_dir))[f"realKnownCause/{series}.csv"]
    score = nab.score_series(
        frame["timestamp"], frame["anomaly_score"], windows, threshold, profile, strict_timestamps=False
    )

    sweep_layout = detector in SWEEP_LAYOUT_DETECTORS
    expected_column = frame[f"S(t)_{profile}"].to_numpy()
    produced_column = score.sweep_scores if sweep_layout else score.contributions
    np.testing.assert_allclose(produced_column, expected_column, rtol=0, atol=TOLERANCE)
    assert score.contributions.sum() == pytest.approx(score.raw_score, abs=1e-9)

    row = _scores_row(nab_dir, detector, profile, series)
    if row is None:
        assert (detector, series) == ("random", "nyc_taxi")  # random's scores files predate nyc_taxi in NAB
        return
    if detector == "random":
        return  # pre-v1.0 rows: test_random_scores_rows_are_nab_pre_v1
    assert score.raw_score == pytest.approx(row["Score"], abs=TOLERANCE)
    total_count = score.total_count if sweep_layout else score.n_points
    assert (score.tp, score.tn, score.fp, score.fn, total_count) == (
        row["TP"],
        row["TN"],
        row["FP"],
        row["FN"],
        row["Total_Count"],
    )


PRE_V1_MACHINE_TEMPERATURE_WINDOWS = [
    ("2013-12-15 09:55:00", "2013-12-18 00:55:00"),
    ("2014-01-27 06:25:00", "2014-01-29 21:25:00"),
    ("2014-02-07 07:00:00", "2014-02-09 22:00:00"),
]
"""numenta/NAB @ 0cc871b (2015-09-17) labels/combined_windows.json, realKnownCause/machine_temperature_...csv."""


@pytest.mark.parametrize("profile", PROFILES)
def test_random_scores_rows_are_nab_pre_v1(nab_dir: Path, monkeypatch: pytest.MonkeyPatch, profile: str) -> None:
    """random's *_scores.csv rows were last written by NAB @ 0cc871b, before v1.0: with that version's
    windows, its probationary period (floor(0.15 N), no 750 cap) and its true-positive divisor (the rounded
    0.98661 instead of sigma(-1)), the scorer reproduces them too."""
    monkeypatch.setattr(nab, "probationary_length", lambda n_points, fraction=0.15: math.floor(fraction * n_points))
    monkeypatch.setattr(nab, "MAX_TRUE_POSITIVE", 0.98661)
    series = "machine_temperature_system_failure"
    frame = _results_file(nab_dir, "random", series)
    threshold = _thresholds(str(nab_dir))["random"][profile]["threshold"]
    score = nab.score_series(
        frame["timestamp"],
        frame["anomaly_score"],
        PRE_V1_MACHINE_TEMPERATURE_WINDOWS,
        threshold,
        profile,
        strict_timestamps=False,
    )
    row = _scores_row(nab_dir, "random", profile, series)
    assert row is not None
    assert score.raw_score == pytest.approx(row["Score"], abs=TOLERANCE)
    assert (score.tp, score.tn, score.fp, score.fn, score.n_points) == tuple(
        row[["TP", "TN", "FP", "FN", "Total_Count"]]
    )


def test_windows_from_labels_match_nab_windows(nab_dir: Path) -> None:
    """NAB's labeler applied to combined_labels.json gives combined_windows.json, for all 55 series here."""
    labels = json.loads((nab_dir / "combined_labels.json").read_text())
    windows = _windows(str(nab_dir))
    paths = {f"realKnownCause/{s}.csv": nab_dir / f"{s}.csv" for s in SERIES}
    paths |= {
        f"{Path(p).parent.name}/{Path(p).name}": Path(p) for p in glob.glob(str(nab_dir / "corpus" / "*" / "*.csv"))
    }
    assert len(paths) == 55
    for key, path in paths.items():
        timestamps = _csv(str(path), ("timestamp",))["timestamp"]
        anomalies = labels[key]
        if key == "realAWSCloudwatch/iio_us-east-1_i-a2eb1cd9_NetworkIn.csv":
            # NAB's LabelCombiner.editPoorLabels replaces this file's labels by the points 249 and 339.
            anomalies = list(timestamps.iloc[[249, 339]])
        assert nab.label_windows(timestamps, anomalies, strict_timestamps=False) == windows[key], key


def test_nab_windows_file(nab_dir: Path) -> None:
    windows = _windows(str(nab_dir))
    assert len(windows) == 58
    assert sum(len(w) for w in windows.values()) == 116
    first = windows["realKnownCause/nyc_taxi.csv"][0]
    assert first == (pd.Timestamp("2014-10-30 15:30:00"), pd.Timestamp("2014-11-03 22:30:00"))


@pytest.mark.parametrize("detector", CORPUS_DETECTORS)
def test_optimiser_on_nab_corpus(nab_dir: Path, detector: str) -> None:
    """On the 55 series here (NAB optimised over 58, with an older optimiser), the optimised threshold earns
    at least the corpus score of thresholds.json's threshold, and rescoring it gives the optimiser's score."""
    corpus = _corpus(str(nab_dir), detector)
    assert len(corpus) == 55
    n_windows = sum(len(series.windows) for series in corpus)
    all_scores = np.concatenate([np.asarray(series.anomaly_scores) for series in corpus])
    for profile in PROFILES:
        costs = nab.NAB_PROFILES[profile]
        choice = nab.optimise_threshold(corpus, profile, strict_timestamps=False)
        assert choice.threshold == nab.SWEEP_START_THRESHOLD or choice.threshold in all_scores
        rescored = sum(
            s.raw_score for s in nab.score_corpus(corpus, choice.threshold, profile, strict_timestamps=False)
        )
        assert choice.raw_score == pytest.approx(rescored, abs=1e-9)
        nab_threshold = _thresholds(str(nab_dir))[detector][profile]["threshold"]
        at_nab_threshold = nab.score_corpus(corpus, nab_threshold, profile, strict_timestamps=False)
        assert choice.raw_score >= sum(s.raw_score for s in at_nab_threshold) - 1e-9

        # Every NAB window starts after the probationary period: null = -fn per window, perfect = tp per window.
        null = nab.null_score(corpus, profile, strict_timestamps=False)
        perfect = nab.perfect_score(corpus, profile, strict_timestamps=False)
        assert null == pytest.approx(-costs.fn_weight * n_windows)
        assert perfect == pytest.approx(costs.tp_weight * n_windows)
    normalised = nab.normalised_score(choice.raw_score, corpus, profile, strict_timestamps=False)
    assert normalised == pytest.approx(100 * (choice.raw_score - null) / (perfect - null))


def test_normalisation_reproduces_nab_final_score(nab_dir: Path) -> None:
    """numenta's published standard score, 70.10105611943965 (numenta/NAB @ ea702d7 results/final_results.json),
    from thresholds.json's raw corpus scores: null -116, perfect 116 windows x tp_weight 1."""
    thresholds = _thresholds(str(nab_dir))
    n_windows = sum(len(w) for w in _windows(str(nab_dir)).values())
    normalised = nab.normalise_raw_score(
        thresholds["numenta"]["standard"]["score"], thresholds["null"]["standard"]["score"], float(n_windows)
    )
    assert normalised == pytest.approx(70.10105611943965, abs=1e-9)


# ---------------------------------------------------------------------------------------------------------
# The optimiser against a plain brute force that follows NAB's definitions (and summation order) literally


def _reference_sweep_scores(n_points: int, spans: list[tuple[int, int]], costs: nab.CostMatrix) -> list[float]:
    def sigma(x: float) -> float:
        return -1.0 if x > 3.0 else 2 * (1 / (1 + math.exp(-(-5 * x)))) - 1.0

    scores = []
    for t in range(n_points):
        containing = [(a, b) for a, b in spans if a <= t <= b]
        preceding = [(a, b) for a, b in spans if b < t]
        if containing:
            a, b = containing[0]
            scores.append(sigma(-(b - t + 1) / (b - a + 1)) * costs.tp_weight / sigma(-1.0))
        elif preceding:
            a, b = preceding[-1]
            scores.append(sigma(abs(b - t) / (b - a)) * costs.fp_weight)
        else:
            scores.append(-1.0 * costs.fp_weight)
    return scores


def _reference_optimum(corpus: list[tuple[pd.DatetimeIndex, np.ndarray, list]], costs: nab.CostMatrix) -> tuple:
    pooled = []  # (anomaly score, sweep score, window key or None), corpus order then time order
    for f, (timestamps, anomaly_scores, windows) in enumerate(corpus):
        n_points = len(timestamps)
        spans = [(timestamps.get_loc(a), timestamps.get_loc(b)) for a, b in windows]
        sweep = _reference_sweep_scores(n_points, spans, costs)
        for t in range(min(math.floor(0.15 * n_points), 750), n_points):
            key = next(((f, k) for k, (a, b) in enumerate(spans) if a <= t <= b), None)
            pooled.append((float(anomaly_scores[t]), sweep[t], key))
    pooled.sort(key=lambda point: point[0], reverse=True)  # stable: ties keep corpus order
    candidates = [1.1, *sorted({p[0] for p in pooled}, reverse=True)]
    best: tuple[float, float] | None = None
    for candidate in candidates:
        parts: dict[Any, float] = {"fp": 0.0}
        for _, _, key in pooled:
            if key is not None and key not in parts:
                parts[key] = -costs.fn_weight
        for score, sweep_score, key in pooled:
            if score < candidate:
                break
            if key is None:
                parts["fp"] += sweep_score
            else:
                parts[key] = max(parts[key], sweep_score)
        total = functools.reduce(operator.add, parts.values(), 0.0)
        if best is None or total > best[1]:
            best = (candidate, total)
    assert best is not None
    return best


def _synthetic_corpus(seed: int, quantised: bool) -> list[tuple[pd.DatetimeIndex, np.ndarray, list]]:
    rng = np.random.default_rng(seed)
    corpus = []
    for n_points, anomalies in ((240, (80, 190)), (200, (150,)), (160, ()), (220, (30, 120))):
        timestamps = pd.date_range("2021-03-01", periods=n_points, freq="15min")
        scores = rng.beta(1.0, 6.0, n_points)
        if quantised:
            scores = np.round(scores * 16) / 16  # many equal scores: ties in the sweep
        for a in anomalies:  # firings near each anomaly, some early, some late, some outside the window
            for offset in rng.integers(-8, 12, size=3):
                scores[a + offset] = np.round(rng.uniform(0.3, 0.9) * 16) / 16 if quantised else rng.uniform(0.3, 0.9)
        windows = nab.label_windows(timestamps, timestamps[list(anomalies)])
        corpus.append((timestamps, scores, windows))
    return corpus


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(("seed", "quantised"), [(0, True), (1, True), (2, False)])
def test_optimiser_equals_brute_force(profile: str, seed: int, quantised: bool) -> None:
    corpus = _synthetic_corpus(seed, quantised)
    costs = nab.NAB_PROFILES[profile]
    expected_threshold, expected_score = _reference_optimum(corpus, costs)
    choice = nab.optimise_threshold(corpus, profile)
    assert (choice.threshold, choice.raw_score) == (expected_threshold, expected_score)


def test_optimiser_breaks_ties_towards_the_highest_threshold() -> None:
    """Lowering the threshold from 0.9 to 0.8 only adds a later detection in an already detected window:
    the same score, so NAB keeps the first (highest) threshold; never firing (1.1) scores less."""
    timestamps = pd.date_range("2020-01-01", periods=100, freq="h")
    scores = np.zeros(100)
    scores[[50, 55]] = [0.9, 0.8]
    windows = [(timestamps[45], timestamps[60])]
    choice = nab.optimise_threshold([(timestamps, scores, windows)])
    assert choice.threshold == 0.9
    assert choice.raw_score == nab.score_series(timestamps, scores, windows, 0.8).raw_score
    # A detector whose every firing costs: never firing wins, at NAB's sweep start 1.1.
    assert nab.optimise_threshold([(timestamps, 1 - scores, windows)]).threshold == 1.1


def test_optimiser_is_fast_enough_for_a_benchmark() -> None:
    """60 series of 10,000 points, 600,000 distinct scores: well under a second here (bound: 20 s)."""
    rng = np.random.default_rng(3)
    timestamps = pd.date_range("2020-01-01", periods=10_000, freq="min")
    windows = nab.label_windows(timestamps, timestamps[[3000, 7000]])
    corpus = [(timestamps, rng.random(10_000), windows) for _ in range(60)]
    started = time.perf_counter()
    choice = nab.optimise_threshold(corpus, "reward_low_FN_rate")
    assert time.perf_counter() - started < 20.0
    assert 0.0 <= choice.threshold <= 1.0


# ---------------------------------------------------------------------------------------------------------
# Definitions on small synthetic series

N_POINTS = 1000  # probationary period: the first 150 points
TIMESTAMPS = pd.date_range("2022-01-01", periods=N_POINTS, freq="min")
WINDOW = (TIMESTAMPS[400], TIMESTAMPS[449])  # 50 points
WIDTH = 50


def _detections(*points: int) -> np.ndarray:
    scores = np.zeros(N_POINTS)
    scores[list(points)] = 1.0
    return scores


def test_scaled_sigmoid_and_probation() -> None:
    assert float(nab.scaled_sigmoid(-1.0)) == pytest.approx(0.98661, abs=1e-5)
    assert float(nab.scaled_sigmoid(-0.5)) == pytest.approx(0.84828, abs=1e-5)
    assert float(nab.scaled_sigmoid(0.0)) == 0.0
    assert float(nab.scaled_sigmoid(1.0)) == pytest.approx(-0.98661, abs=1e-5)
    assert nab.scaled_sigmoid(np.array([3.0, 3.5])).tolist() == [pytest.approx(2 / (1 + math.exp(15)) - 1), -1.0]
    assert [nab.probationary_length(n) for n in (20, 1000, 5000, 10_000)] == [3, 150, 750, 750]


def test_detection_at_window_start_earns_the_tp_weight() -> None:
    costs = nab.CostMatrix(tp_weight=2.5, fp_weight=0.11, fn_weight=1.0)
    score = nab.score_series(TIMESTAMPS, _detections(400), [WINDOW], 0.5, costs)
    assert score.raw_score == pytest.approx(2.5 * float(nab.scaled_sigmoid(-1.0)) / nab.MAX_TRUE_POSITIVE)
    assert score.raw_score == pytest.approx(2.5, abs=1e-12)
    assert (score.tp, score.fp, score.fn, score.tn) == (1, 0, WIDTH - 1, N_POINTS - 150 - WIDTH)
    assert score.contributions[400] == score.raw_score


def test_only_the_earliest_detection_in_a_window_counts() -> None:
    score = nab.score_series(TIMESTAMPS, _detections(420, 440, 449), [WINDOW], 0.5)
    position = -(449 - 420 + 1) / WIDTH
    assert score.raw_score == pytest.approx(float(nab.scaled_sigmoid(position)) / nab.MAX_TRUE_POSITIVE)
    assert score.tp == 3
    last_point = nab.score_series(TIMESTAMPS, _detections(449), [WINDOW], 0.5).raw_score
    assert last_point == pytest.approx(float(nab.scaled_sigmoid(-1 / WIDTH)) / nab.MAX_TRUE_POSITIVE)


def test_missed_window_costs_the_fn_weight() -> None:
    for profile, fn_weight in (("standard", 1.0), ("reward_low_FN_rate", 2.0)):
        score = nab.score_series(TIMESTAMPS, np.zeros(N_POINTS), [WINDOW], 0.5, profile)
        assert score.raw_score == -fn_weight
        assert score.contributions[400] == -fn_weight
        assert score.contributions.sum() == -fn_weight


def test_false_positives_weighted_by_distance_from_the_preceding_window() -> None:
    fp_weight = nab.NAB_PROFILES["reward_low_FP_rate"].fp_weight
    before_any_window = nab.score_series(TIMESTAMPS, _detections(300, 400), [WINDOW], 0.5, "reward_low_FP_rate")
    assert before_any_window.raw_score == pytest.approx(-fp_weight + 1.0)
    distance = 20
    after = nab.score_series(TIMESTAMPS, _detections(400, 449 + distance), [WINDOW], 0.5, "reward_low_FP_rate")
    expected_fp = fp_weight * float(nab.scaled_sigmoid(distance / (WIDTH - 1)))
    assert after.raw_score == pytest.approx(1.0 + expected_fp)
    assert after.contributions[449 + distance] == pytest.approx(expected_fp)
    far = nab.score_series(TIMESTAMPS, _detections(400, 449 + 4 * WIDTH), [WINDOW], 0.5)
    assert far.raw_score == pytest.approx(1.0 - 0.11)
    assert after.sweep_scores[100] == -fp_weight  # S(t) is defined in the probationary period too


def test_probationary_detections_are_not_scored() -> None:
    score = nab.score_series(TIMESTAMPS, _detections(10, 149, 400), [WINDOW], 0.5)
    assert score.raw_score == pytest.approx(1.0)
    assert (score.fp, score.total_count, score.n_points) == (0, N_POINTS - 150, N_POINTS)


def test_null_and_perfect_detectors_normalise_to_0_and_100() -> None:
    windows = [WINDOW, (TIMESTAMPS[700], TIMESTAMPS[759])]
    corpus = [(TIMESTAMPS, np.zeros(N_POINTS), windows), (TIMESTAMPS, np.zeros(N_POINTS), [])]
    for profile, costs in nab.NAB_PROFILES.items():
        assert nab.null_score(corpus, profile) == -2 * costs.fn_weight
        assert nab.perfect_score(corpus, profile) == pytest.approx(2 * costs.tp_weight)
        never = sum(s.raw_score for s in nab.score_corpus(corpus, 0.5, profile))
        perfect_scores = [_detections(400, 700), np.zeros(N_POINTS)]
        perfect_corpus = [(t, s, w) for (t, _, w), s in zip(corpus, perfect_scores, strict=True)]
        perfect = sum(s.raw_score for s in nab.score_corpus(perfect_corpus, 0.5, profile))
        assert nab.normalised_score(never, corpus, profile) == 0.0
        assert nab.normalised_score(perfect, corpus, profile) == pytest.approx(100.0)


def test_label_windows_centres_clips_drops_and_merges() -> None:
    # 10 % of 1000 points over 2 anomalies: 50-point windows, from a - 25 to a + 25.
    assert nab.label_windows(TIMESTAMPS, [TIMESTAMPS[300], TIMESTAMPS[600]]) == [
        (TIMESTAMPS[275], TIMESTAMPS[325]),
        (TIMESTAMPS[575], TIMESTAMPS[625]),
    ]
    # A window starting in the probationary period (before point 150) is dropped; one past the end clipped.
    assert nab.label_windows(TIMESTAMPS, [TIMESTAMPS[160], TIMESTAMPS[990]]) == [(TIMESTAMPS[965], TIMESTAMPS[999])]
    # Overlapping windows merge.
    assert nab.label_windows(TIMESTAMPS, [TIMESTAMPS[500], TIMESTAMPS[520]]) == [(TIMESTAMPS[475], TIMESTAMPS[545])]
    assert nab.label_windows(TIMESTAMPS, []) == []


# ---------------------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    ("timestamps", "scores", "windows", "message"),
    [
        (
            TIMESTAMPS,
            np.zeros(N_POINTS),
            [(TIMESTAMPS[990], TIMESTAMPS[-1] + pd.Timedelta("1h"))],
            "outside the series",
        ),
        (TIMESTAMPS, np.zeros(N_POINTS), [("2022-01-01 00:00:30", TIMESTAMPS[500])], "not one of the series"),
        (TIMESTAMPS[::-1], np.zeros(N_POINTS), [], "not strictly increasing"),
        (TIMESTAMPS.append(TIMESTAMPS[-1:]), np.zeros(N_POINTS + 1), [], "not strictly increasing"),
        (TIMESTAMPS, np.zeros(N_POINTS - 1), [], "999 anomaly scores for 1000 timestamps"),
        (TIMESTAMPS, np.full(N_POINTS, np.nan), [], "not a finite number"),
        (TIMESTAMPS, np.zeros(N_POINTS), [(TIMESTAMPS[500], TIMESTAMPS[400])], "ends before it starts"),
        (TIMESTAMPS, np.zeros(N_POINTS), [WINDOW, (TIMESTAMPS[440], TIMESTAMPS[460])], "previous window ends"),
        (TIMESTAMPS, np.zeros(N_POINTS), [(TIMESTAMPS[500], TIMESTAMPS[500])], "holds one point"),
        (TIMESTAMPS, np.zeros(N_POINTS), [("not a date", TIMESTAMPS[500])], "not a timestamp"),
        (["yesterday-ish", "x"], np.zeros(2), [], "cannot be read as dates"),
        (TIMESTAMPS, np.zeros(N_POINTS), [(TIMESTAMPS[400].tz_localize("UTC"), TIMESTAMPS[449])], "time zone"),
    ],
)
@pytest.mark.filterwarnings("ignore:Could not infer format")
def test_bad_input_raises_a_one_line_user_error(timestamps: Any, scores: Any, windows: Any, message: str) -> None:
    with pytest.raises(UserError, match=message) as raised:
        nab.score_series(timestamps, scores, windows, 0.5)
    assert "\n" not in str(raised.value)


def test_repeated_timestamps_are_scored_by_position_when_allowed() -> None:
    """NAB's own series repeat stretches of time; strict_timestamps=False scores them by position."""
    repeated = TIMESTAMPS[:300].append(TIMESTAMPS[250:])  # 250..299 occur twice
    scores = np.zeros(len(repeated))
    scores[450] = 1.0
    window = (repeated[440], repeated[480])
    score = nab.score_series(repeated, scores, [window], 0.5, strict_timestamps=False)
    assert score.raw_score == pytest.approx(float(nab.scaled_sigmoid(-31 / 41)) / nab.MAX_TRUE_POSITIVE)
    with pytest.raises(UserError, match="occurs more than once"):
        nab.score_series(repeated, scores, [(repeated[260], repeated[400])], 0.5, strict_timestamps=False)


def test_bad_profile_threshold_and_files(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="unknown NAB profile"):
        nab.score_series(TIMESTAMPS, np.zeros(N_POINTS), [], 0.5, "lenient")
    with pytest.raises(UserError, match="finite"):
        nab.score_series(TIMESTAMPS, np.zeros(N_POINTS), [], float("nan"))
    with pytest.raises(UserError, match="empty"):
        nab.optimise_threshold([])
    bad = tmp_path / "windows.json"
    bad.write_text('{"a.csv": [["2020-01-01"]]}')
    with pytest.raises(UserError, match="pairs"):
        nab.nab_windows(bad)
    bad.write_text("{not json")
    with pytest.raises(UserError, match="not JSON"):
        nab.nab_windows(bad)
    with pytest.raises(UserError, match="not one of the series' timestamps"):
        nab.label_windows(TIMESTAMPS, ["1999-01-01"])
