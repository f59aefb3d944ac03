"""scikit-learn escalation classifiers, scored exactly like rule policies.

* :func:`build_dataset` turns Features (+ optional mention texts) into a strictly time-ordered
  ``X, y`` where ``y`` says "an incident of tier ≥ k starts within ``horizon`` or is ongoing".
  Lags and rolling shape use earlier windows only.
* :class:`EscalationClassifier` is one binary scikit-learn classifier (logistic regression,
  histogram gradient boosting or a shallow tree) with calibrated probabilities and a decision
  threshold tuned by :class:`~sklearn.model_selection.TunedThresholdClassifierCV` on a
  time-series split, for the same objectives as rule calibration.
* :class:`TieredEscalationModel` stacks one classifier per tier (ordinal: tier = highest k whose
  score clears its threshold) and turns scores into :class:`Escalations` with the very same
  persistence/cooldown code as a policy, so every backtest figure applies.
* :class:`PolicyClassifier` wraps a rule policy as an estimator so its thresholds can be searched
  with scikit-learn tools; :func:`tree_to_policy` exports a shallow tree as a readable policy.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import make_scorer
from sklearn.model_selection import KFold, TimeSeriesSplit, TunedThresholdClassifierCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from .._util.errors import ModelError
from .._util.schema import infer_freq
from .._util.times import to_utc
from ..backtesting._backtest import backtest
from ..backtesting._matching import DEFAULT_OPEN_DURATION, MatchRules, as_duration
from ..backtesting._nab import get_profile, nab_from_escalations
from ..calibration._sweep import OBJECTIVES
from ..escalations._evaluate import escalations_from_tiers, evaluate
from ..features._detection import add_detection_features
from ..policy._policy import Condition, Policy, Tier

MODEL_KINDS = ("logistic", "hgb", "tree")
TEXT_COLUMN = "text"
# Feature columns that get lags and rolling shape (when present in the features).
_SHAPE_COLUMNS = ("volume_ratio", "volume_z", "negative_share", "influencer_mentions")
_KEY_COLUMNS = ("topic", "window_start")


# --------------------------------------------------------------------------------------------
# Dataset
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EscalationDataset:
    """A time-ordered modelling table built from Features.

    ``X`` holds numeric columns (and ``text`` when mention texts were given), ``tier`` the
    incident tier each window belongs to (0 = none), ``keys`` the ``topic, window_start`` of
    each row, ``sample_weight`` a weight per row (rarer positives and higher tiers weigh more).
    Rows are sorted by ``window_start`` then ``topic`` so any prefix is "the past".
    """

    X: pd.DataFrame
    tier: pd.Series
    keys: pd.DataFrame
    sample_weight: np.ndarray
    freq: pd.Timedelta
    horizon: pd.Timedelta
    numeric_columns: tuple[str, ...] = field(default=())

    def y(self, min_tier: int = 1) -> np.ndarray:
        """Binary target: 1 where an incident of tier ≥ ``min_tier`` starts soon or is ongoing."""
        return (self.tier.to_numpy() >= int(min_tier)).astype(int)

    @property
    def has_text(self) -> bool:
        """Whether ``X`` carries a ``text`` column for TF-IDF."""
        return TEXT_COLUMN in self.X.columns


def _window_texts(
    mentions: pd.DataFrame, freq: pd.Timedelta, max_chars: int
) -> pd.DataFrame:
    """Concatenate mention texts per (topic, window), capped at ``max_chars`` per window."""
    if "text" not in mentions.columns:
        raise ModelError("mentions have no 'text' column: pass mentions=None to skip text")
    frame = pd.DataFrame(
        {
            "topic": mentions["topic"].astype(str).to_numpy(),
            "window_start": mentions["created_at"].dt.floor(freq).to_numpy(),
            "text": mentions["text"].fillna("").astype(str).to_numpy(),
        }
    )
    frame = frame.sort_values(["topic", "window_start"], kind="stable")
    joined = frame.groupby(["topic", "window_start"], sort=False)["text"].agg(
        lambda texts: " ".join(texts)[:max_chars]
    )
    return joined.reset_index()


def incident_tier_labels(
    keys: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    horizon: pd.Timedelta,
    default_duration: str | pd.Timedelta = DEFAULT_OPEN_DURATION,
    onset: float | None = None,
) -> np.ndarray:
    """Tier per window: the highest severity of an incident of the same topic that starts within
    ``horizon`` after the window or is ongoing during it (0 where none). An incident without
    ``ended_at`` lasts ``default_duration`` (:meth:`MatchRules.incident_end`).

    ``onset`` (a fraction in (0, 1]) labels only the start of each incident: from
    ``started_at − horizon`` to ``started_at + onset · (ended_at − started_at)``. Detections are
    worth most early (an alert late in a long incident helps nobody), so a model trained on the
    onset learns the ramp instead of the whole plateau."""
    if onset is not None and not 0.0 < float(onset) <= 1.0:
        raise ModelError(f"onset must be a fraction in (0, 1], got {onset}")
    labels = np.zeros(len(keys), dtype=int)
    if incidents is None or len(incidents) == 0:
        return labels
    rules = MatchRules(open_duration=as_duration(default_duration, "default_duration"))
    starts = keys["window_start"]
    for topic, group in incidents.groupby("topic", sort=True):
        mask = (keys["topic"] == topic).to_numpy()
        if not mask.any():
            continue
        times = pd.DatetimeIndex(starts[mask])
        topic_labels = labels[mask]
        for row in group.itertuples(index=False):
            started = pd.Timestamp(row.started_at)
            ended = pd.Timestamp(rules.incident_end(started, getattr(row, "ended_at", None)))
            if onset is not None:
                ended = started + float(onset) * max(ended - started, pd.Timedelta(0))
            inside = np.asarray((times >= started - horizon) & (times <= ended))
            topic_labels[inside] = np.maximum(topic_labels[inside], int(row.severity))
        labels[mask] = topic_labels
    return labels


def build_dataset(
    features: pd.DataFrame,
    incidents: pd.DataFrame | None = None,
    *,
    horizon: str | pd.Timedelta = "3h",
    lags: Sequence[int] = (1, 2, 3),
    rolling: Sequence[int] = (3, 6, 24),
    mentions: pd.DataFrame | None = None,
    text_max_chars: int = 4000,
    burst_levels: Sequence[tuple[int, float, float]] = (),
    scale_free: bool = False,
    onset: float | None = None,
) -> EscalationDataset:
    """Features (+ optional mentions with text) → a time-ordered :class:`EscalationDataset`.

    Lags and rolling means/maxima are computed per topic from earlier windows only, so a row
    never sees its future; the label uses the incident log (the future, by design: it is y).

    ``burst_levels``: ``(smooth, lookback_days, quantile)`` triples adding rule calibration's
    burst features (``level_q99_7d_s3``: mean ``log1p(volume)`` over the last ``smooth`` windows
    minus its ``quantile`` over the previous days, past only) with their lags and rolling shape.
    ``scale_free`` keeps only inputs that do not depend on a topic's size (ratios, shares,
    z-scores, burst levels, differences of log volume), so one model transfers across topics
    whose volumes differ by orders of magnitude. ``onset``: see :func:`incident_tier_labels`.
    """
    missing = [c for c in _KEY_COLUMNS if c not in features.columns]
    if missing:
        raise ModelError(f"features lack the key columns {missing}")
    if len(features) == 0:
        raise ModelError("features are empty: nothing to learn from")
    horizon = pd.Timedelta(horizon)
    if horizon < pd.Timedelta(0):
        raise ModelError(f"horizon must be ≥ 0, got {horizon}")
    if any(int(k) < 1 for k in lags) or any(int(w) < 2 for w in rolling):
        raise ModelError("lags must be ≥ 1 and rolling windows ≥ 2")
    freq = infer_freq(features)
    frame = features.sort_values(["topic", "window_start"], kind="stable").reset_index(drop=True)
    if burst_levels:
        frame = _add_burst_levels(frame, burst_levels, freq)
    numeric = [
        c
        for c in frame.columns
        if c not in _KEY_COLUMNS and pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
    ]
    derived: dict[str, pd.Series] = {}
    if "volume" in frame.columns:
        derived["log_volume"] = np.log1p(frame["volume"].astype(float).clip(lower=0))
    grouped = frame.groupby("topic", sort=False)
    bursts = [c for c in frame.columns if c.startswith("level_q")]
    for column in [c for c in (*_SHAPE_COLUMNS, *bursts) if c in frame.columns] + (
        ["log_volume"] if "log_volume" in derived else []
    ):
        series = derived[column] if column in derived else frame[column].astype(float)
        by_topic = series.groupby(frame["topic"], sort=False)
        for lag in lags:
            derived[f"{column}_lag{int(lag)}"] = by_topic.shift(int(lag))
        for width in rolling:
            roll = by_topic.rolling(int(width), min_periods=1)
            derived[f"{column}_mean{int(width)}"] = roll.mean().reset_index(level=0, drop=True)
            derived[f"{column}_max{int(width)}"] = roll.max().reset_index(level=0, drop=True)
        if column == "log_volume":
            derived["log_volume_diff1"] = series - by_topic.shift(1)
            derived["log_volume_diff3"] = series - by_topic.shift(3)
    del grouped
    X = pd.concat(
        [frame[numeric].astype(float), pd.DataFrame(derived, index=frame.index)], axis=1
    )
    if scale_free:
        X = X[[c for c in X.columns if _is_scale_free(c)]]
    keys = frame[list(_KEY_COLUMNS)].copy()
    if mentions is not None:
        texts = _window_texts(mentions, freq, text_max_chars)
        merged = keys.merge(texts, on=["topic", "window_start"], how="left")
        X[TEXT_COLUMN] = merged["text"].fillna("").astype(str).to_numpy()
    tiers = (
        incident_tier_labels(keys, incidents, horizon=horizon, onset=onset)
        if incidents is not None
        else np.zeros(len(keys), dtype=int)
    )
    # Time order: window_start, then topic (stable) — any prefix is the past.
    order = np.lexsort((keys["topic"].astype(str).to_numpy(), keys["window_start"].to_numpy()))
    X = X.iloc[order].reset_index(drop=True)
    keys = keys.iloc[order].reset_index(drop=True)
    tier = pd.Series(tiers[order], name="tier")
    positives = max(int((tier > 0).sum()), 1)
    negatives = max(int((tier == 0).sum()), 1)
    weight = np.where(tier > 0, (negatives / positives) * tier.clip(lower=1), 1.0)
    weight = weight / weight.mean()
    return EscalationDataset(
        X=X,
        tier=tier,
        keys=keys,
        sample_weight=weight.astype(float),
        freq=freq,
        horizon=horizon,
        numeric_columns=tuple(c for c in X.columns if c != TEXT_COLUMN),
    )


# Inputs whose value does not depend on a topic's size (prefixes of the derived columns too).
_SCALE_FREE_PREFIXES = (
    "volume_ratio", "volume_z", "negative_share", "level_q", "log_volume_diff", "planned_event",
)


def _is_scale_free(column: str) -> bool:
    return column.startswith(_SCALE_FREE_PREFIXES)


def _add_burst_levels(
    frame: pd.DataFrame, burst_levels: Sequence[tuple[int, float, float]], freq: pd.Timedelta
) -> pd.DataFrame:
    """Rule calibration's past-only burst levels (``level_q{Q}_{D}d_s{S}``) for the model."""
    if "volume" not in frame.columns:
        raise ModelError("burst_levels need the column 'volume' in the features")
    triples = [tuple(t) for t in burst_levels]
    if any(len(t) != 3 for t in triples):
        raise ModelError("burst_levels are (smooth, lookback_days, quantile) triples")
    out = frame
    for smooth, days, quantile in triples:
        if int(smooth) < 1 or float(days) <= 0 or not 0.0 < float(quantile) < 1.0:
            raise ModelError(
                f"burst level {(smooth, days, quantile)}: smooth ≥ 1, days > 0, 0 < quantile < 1"
            )
        out = add_detection_features(
            out, smooth=(int(smooth),), lookback_days=(float(days),),
            quantiles=(float(quantile),), freq=freq,
        )
    return out


# --------------------------------------------------------------------------------------------
# Objectives as window-level scorers for TunedThresholdClassifierCV
# --------------------------------------------------------------------------------------------
def _recall_under_budget(y_true: np.ndarray, y_pred: np.ndarray, max_fpr: float) -> float:
    """Recall when the false-positive rate fits the budget; else minus the excess (worse)."""
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(y_pred).astype(bool)
    positives = max(int(y_true.sum()), 1)
    negatives = max(int((~y_true).sum()), 1)
    recall = float((y_true & y_pred).sum()) / positives
    fpr = float((~y_true & y_pred).sum()) / negatives
    return recall if fpr <= max_fpr else -(fpr - max_fpr)


def _negative_cost(
    y_true: np.ndarray, y_pred: np.ndarray, miss_cost: float, false_alarm_cost: float
) -> float:
    """Minus the average cost per window of misses and false alarms (higher is better)."""
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(y_pred).astype(bool)
    cost = miss_cost * float((y_true & ~y_pred).sum()) + false_alarm_cost * float(
        (~y_true & y_pred).sum()
    )
    return -cost / max(len(y_true), 1)


def _onset_score(y_true: np.ndarray, y_pred: np.ndarray, fp_weight: float) -> float:
    """A NAB-like window proxy: reward true alarms, charge ``fp_weight`` per false alarm."""
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(y_pred).astype(bool)
    positives = max(int(y_true.sum()), 1)
    return float((y_true & y_pred).sum()) / positives - fp_weight * float(
        (~y_true & y_pred).sum()
    ) / positives


def objective_scorer(
    objective: str,
    *,
    max_false_rate: float = 0.01,
    miss_cost: float = 10.0,
    false_alarm_cost: float = 1.0,
    fp_weight: float = 0.11,
) -> Any:
    """A scorer for :class:`TunedThresholdClassifierCV` matching a calibration objective."""
    if objective == "recall":
        return make_scorer(_recall_under_budget, max_fpr=float(max_false_rate))
    if objective == "cost":
        return make_scorer(
            _negative_cost, miss_cost=float(miss_cost), false_alarm_cost=float(false_alarm_cost)
        )
    if objective == "nab":
        return make_scorer(_onset_score, fp_weight=float(fp_weight))
    raise ModelError(f"objective must be one of {OBJECTIVES}, got {objective!r}")


# --------------------------------------------------------------------------------------------
# One binary classifier
# --------------------------------------------------------------------------------------------
def _base_estimator(kind: str, random_state: int | None) -> BaseEstimator:
    if kind == "logistic":
        return make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(max_iter=1000, class_weight="balanced"),
        )
    if kind == "hgb":
        return HistGradientBoostingClassifier(
            max_iter=150, learning_rate=0.08, class_weight="balanced", random_state=random_state
        )
    if kind == "tree":
        return make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            DecisionTreeClassifier(
                max_depth=3, min_samples_leaf=5, class_weight="balanced", random_state=random_state
            ),
        )
    raise ModelError(f"model must be one of {MODEL_KINDS}, got {kind!r}")


class EscalationClassifier(ClassifierMixin, BaseEstimator):
    """A binary escalation classifier with calibrated probabilities and a tuned threshold.

    Parameters
    ----------
    model : "logistic", "hgb" (HistGradientBoosting) or "tree" (a shallow decision tree).
    objective : "recall" (maximise recall with the false-positive rate ≤ ``max_false_rate``),
        "cost" (minimise ``miss_cost``·misses + ``false_alarm_cost``·false alarms) or "nab"
        (reward true alarms, charge ``fp_weight`` per false alarm, as NAB's standard profile).
    calibrate : wrap the model in sigmoid :class:`CalibratedClassifierCV` on a time-series split.
    n_splits : folds of the :class:`TimeSeriesSplit` used for threshold tuning and calibration.
    text_column : name of a text column in ``X`` (a DataFrame) fed to TF-IDF; None = no text.
    text_max_features : vocabulary size of the TF-IDF (uni- and bigrams); smaller is faster.

    Learned attributes end in ``_``: ``classes_``, ``threshold_``, ``estimator_`` (the tuned
    meta-estimator), ``n_features_in_``.
    """

    def __init__(
        self,
        model: str = "hgb",
        *,
        objective: str = "recall",
        max_false_rate: float = 0.01,
        miss_cost: float = 10.0,
        false_alarm_cost: float = 1.0,
        fp_weight: float = 0.11,
        calibrate: bool = True,
        n_splits: int = 3,
        text_column: str | None = None,
        text_max_features: int = 2000,
        random_state: int | None = 0,
    ) -> None:
        self.model = model
        self.objective = objective
        self.max_false_rate = max_false_rate
        self.miss_cost = miss_cost
        self.false_alarm_cost = false_alarm_cost
        self.fp_weight = fp_weight
        self.calibrate = calibrate
        self.n_splits = n_splits
        self.text_column = text_column
        self.text_max_features = text_max_features
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = True
        tags.input_tags.string = self.text_column is not None
        return tags

    def _check_params(self) -> None:
        if self.model not in MODEL_KINDS:
            raise ModelError(f"model must be one of {MODEL_KINDS}, got {self.model!r}")
        if self.objective not in OBJECTIVES:
            raise ModelError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if not 0.0 <= float(self.max_false_rate) <= 1.0:
            raise ModelError(f"max_false_rate must be in [0, 1], got {self.max_false_rate}")
        if int(self.n_splits) < 2:
            raise ModelError(f"n_splits must be ≥ 2, got {self.n_splits}")
        if int(self.text_max_features) < 1:
            raise ModelError(f"text_max_features must be ≥ 1, got {self.text_max_features}")

    def _pipeline(
        self, columns: Sequence[str] | None, calibrate: bool | None = None
    ) -> BaseEstimator:
        estimator = _base_estimator(self.model, self.random_state)
        if self.text_column is not None:
            if columns is None or self.text_column not in columns:
                raise ModelError(
                    f"text_column={self.text_column!r} but X has no such column "
                    f"(columns: {list(columns or [])[:10]})"
                )
            numeric = [c for c in columns if c != self.text_column]
            prep = ColumnTransformer(
                [
                    (
                        "text",
                        TfidfVectorizer(
                            max_features=int(self.text_max_features), min_df=2,
                            sublinear_tf=True, ngram_range=(1, 2),
                        ),
                        self.text_column,
                    ),
                    (
                        "num",
                        make_pipeline(
                            SimpleImputer(strategy="median", keep_empty_features=True),
                            StandardScaler(),
                        ),
                        numeric,
                    ),
                ],
                sparse_threshold=0.0,
            )
            estimator = Pipeline([("prep", prep), ("clf", estimator)])
        if self.calibrate if calibrate is None else calibrate:
            estimator = CalibratedClassifierCV(
                estimator, method="sigmoid", cv=TimeSeriesSplit(n_splits=int(self.n_splits))
            )
        return estimator

    def fit(self, X: Any, y: Any) -> EscalationClassifier:
        """Fit on time-ordered rows (earlier rows first) and tune the decision threshold.

        When the history is too short for a time-series split with both classes in every
        training fold, the model is fitted once without calibration and the threshold stays
        at 0.5 (``tuned_`` is False): with so few examples there is nothing to tune on. When the
        early time-series folds lack positives (rare high tiers) but the history has some, the
        threshold is tuned on contiguous blocks of the training rows (``tuning_split_``).
        ``calibrated_`` says whether probabilities were calibrated.
        """
        self._check_params()
        columns = list(X.columns) if isinstance(X, pd.DataFrame) else None
        if self.text_column is None:
            X_fit, y = validate_data(
                self, X, y, ensure_all_finite=self._finite_mode(), dtype="numeric"
            )
        else:
            if columns is None:
                raise ModelError("text_column needs X as a DataFrame with named columns")
            X_fit = X
            self.n_features_in_ = X.shape[1]
            self.feature_names_in_ = np.asarray(columns, dtype=object)
            y = np.asarray(y)
        self.classes_ = _binary_classes(
            y, hint=" Use TieredEscalationModel for several tiers."
        )
        scorer = objective_scorer(
            self.objective,
            max_false_rate=self.max_false_rate,
            miss_cost=self.miss_cost,
            false_alarm_cost=self.false_alarm_cost,
            fp_weight=self.fp_weight,
        )
        splitter = TimeSeriesSplit(n_splits=int(self.n_splits))
        # Calibration needs both classes in its own inner time-series folds; when the early
        # history is too short for that, the threshold is still tuned on uncalibrated scores.
        self.calibrated_ = bool(self.calibrate) and _folds_have_both_classes(
            y, splitter, inner=int(self.n_splits)
        )
        # Threshold tuning on a time-series split; when the early folds hold no positive (rare
        # high tiers), on contiguous blocks instead (past and later blocks of the *training*
        # data only: the data scored later is never seen) rather than leaving it at 0.5.
        blocks = KFold(n_splits=int(self.n_splits), shuffle=False)
        for name, cv in (("time-series", splitter), ("blocks", blocks)):
            if not _folds_have_both_classes(y, cv, inner=0):
                continue
            tuned = TunedThresholdClassifierCV(
                self._pipeline(columns, calibrate=self.calibrated_ and name == "time-series"),
                scoring=scorer,
                cv=cv,
                thresholds=100,
                random_state=self.random_state,
            )
            try:
                tuned.fit(X_fit, y)
            except ValueError as exc:  # a constant model cannot have its threshold tuned
                if "constant predictions" not in str(exc):
                    raise
                break
            self.calibrated_ = self.calibrated_ and name == "time-series"
            self.estimator_ = tuned.estimator_
            self.threshold_ = float(tuned.best_threshold_)
            self.tuned_ = True
            self.tuning_split_ = name
            return self
        self.calibrated_ = False
        self.estimator_ = self._pipeline(columns, calibrate=False).fit(X_fit, y)
        self.threshold_ = 0.5
        self.tuned_ = False
        self.tuning_split_ = None
        return self

    def _finite_mode(self) -> Any:
        # Every model handles NaN (imputer in the logistic/tree pipelines, native in HGB):
        # lags are NaN for the first windows of a topic. Infinity is refused.
        return "allow-nan"

    def _prepare(self, X: Any) -> Any:
        check_is_fitted(self, "estimator_")
        if self.text_column is None:
            return validate_data(
                self, X, reset=False, ensure_all_finite=self._finite_mode(), dtype="numeric"
            )
        return X

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated class probabilities (columns follow ``classes_``)."""
        X = self._prepare(X)
        return self.estimator_.predict_proba(X)

    def decision_score(self, X: Any) -> np.ndarray:
        """Probability of the positive class (``classes_[1]``): the escalation score."""
        return self.predict_proba(X)[:, 1]

    def predict(self, X: Any) -> np.ndarray:
        """Class labels with the tuned threshold applied."""
        scores = self.decision_score(X)
        return np.where(scores >= self.threshold_, self.classes_[1], self.classes_[0])


def _binary_classes(y: Any, hint: str = "") -> np.ndarray:
    """The two classes of a binary target; ValueError (scikit-learn's wording, which its
    estimator checks expect) for any other target or a single class."""
    target = type_of_target(y, input_name="y", raise_unknown=True)
    if target != "binary":
        raise ValueError(
            f"Only binary classification is supported (escalate or not); got a {target} "
            f"target.{hint}"
        )
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(
            f"y holds one class only ({classes[0]!r}): a classifier needs windows with and "
            "without escalation"
        )
    return classes


def _folds_have_both_classes(y: np.ndarray, splitter: Any, inner: int) -> bool:
    """True when every training fold of ``splitter`` (and, for calibration, its inner
    time-series folds) holds both classes, and every test fold at least one positive."""
    y = np.asarray(y)
    if len(y) < 2 * (splitter.n_splits + 1):
        return False
    positive = np.unique(y)[-1]
    for train, test in splitter.split(y):
        if len(np.unique(y[train])) < 2:
            return False
        if isinstance(splitter, KFold) and not (y[test] == positive).any():
            return False
        if inner:
            y_train = y[train]
            if len(y_train) < 2 * (inner + 1):
                return False
            for inner_train, _ in TimeSeriesSplit(n_splits=inner).split(y_train):
                if len(np.unique(y_train[inner_train])) < 2:
                    return False
    return True


# --------------------------------------------------------------------------------------------
# Several tiers → escalations
# --------------------------------------------------------------------------------------------
class TieredEscalationModel:
    """One :class:`EscalationClassifier` per tier; tier = highest k whose score clears its
    threshold. Produces :class:`~esc_analytics.Escalations` like a policy does.

    ``max_false_per_week`` (alert-fatigue budget per tier) is turned into a false-positive rate
    per window from the window length, so rule calibration and models share one budget.

    Options for real, event-scored use (all choices are made on the training data only):

    * ``burst_levels``, ``scale_free``, ``onset``: dataset options of :func:`build_dataset`
      (rule calibration's burst features, size-independent inputs, onset-only labels).
    * ``tune_events=True``: after fitting, each tier's threshold, persistence and cooldown are
      chosen on **events**, as rule calibration does — escalations replayed against the
      training incidents and scored by the objective (NAB's scorer with ``nab_profile`` for
      "nab", event recall under the weekly budget for "recall", the backtest cost for "cost") —
      on out-of-fold scores: leave one topic out when several topics have incidents, else
      the later blocks of a time-series split. ``persistence_grid`` and ``cooldown_grid``
      (None = only ``persistence`` / ``cooldown``) are searched with the threshold.
    """

    def __init__(
        self,
        n_tiers: int = 3,
        *,
        model: str = "hgb",
        objective: str = "recall",
        max_false_per_week: float = 2.0,
        horizon: str | pd.Timedelta = "3h",
        persistence: int = 1,
        cooldown: int = 6,
        use_text: bool = True,
        calibrate: bool = True,
        n_splits: int = 3,
        text_max_features: int = 2000,
        burst_levels: Sequence[tuple[int, float, float]] = (),
        scale_free: bool = False,
        onset: float | None = None,
        tune_events: bool = False,
        nab_profile: str = "standard",
        persistence_grid: Sequence[int] | None = None,
        cooldown_grid: Sequence[int] | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.n_tiers = n_tiers
        self.model = model
        self.objective = objective
        self.max_false_per_week = max_false_per_week
        self.horizon = horizon
        self.persistence = persistence
        self.cooldown = cooldown
        self.use_text = use_text
        self.calibrate = calibrate
        self.n_splits = n_splits
        self.text_max_features = text_max_features
        self.burst_levels = burst_levels
        self.scale_free = scale_free
        self.onset = onset
        self.tune_events = tune_events
        self.nab_profile = nab_profile
        self.persistence_grid = persistence_grid
        self.cooldown_grid = cooldown_grid
        self.random_state = random_state

    _PARAMS = (
        "n_tiers", "model", "objective", "max_false_per_week", "horizon", "persistence",
        "cooldown", "use_text", "calibrate", "n_splits", "text_max_features", "burst_levels",
        "scale_free", "onset", "tune_events", "nab_profile", "persistence_grid",
        "cooldown_grid", "random_state",
    )

    def get_params(self) -> dict[str, Any]:
        """The settings given at construction (for saving and display)."""
        return {name: getattr(self, name) for name in self._PARAMS}

    def _build(
        self,
        features: pd.DataFrame,
        incidents: pd.DataFrame | None,
        mentions: pd.DataFrame | None,
    ) -> EscalationDataset:
        return build_dataset(
            features, incidents, horizon=self.horizon, mentions=mentions,
            burst_levels=tuple(tuple(t) for t in self.burst_levels),
            scale_free=bool(self.scale_free), onset=self.onset,
        )

    def _classifier(self, max_rate: float, use_text: bool) -> EscalationClassifier:
        return EscalationClassifier(
            self.model,
            objective=self.objective,
            max_false_rate=max_rate,
            calibrate=self.calibrate,
            n_splits=self.n_splits,
            text_column=TEXT_COLUMN if use_text else None,
            text_max_features=self.text_max_features,
            random_state=self.random_state,
        )

    def fit(
        self,
        features: pd.DataFrame,
        incidents: pd.DataFrame,
        *,
        mentions: pd.DataFrame | None = None,
    ) -> TieredEscalationModel:
        """Fit one classifier per tier on the history (features, incident log, texts)."""
        if int(self.n_tiers) < 1:
            raise ModelError(f"n_tiers must be ≥ 1, got {self.n_tiers}")
        if float(self.max_false_per_week) < 0:
            raise ModelError("max_false_per_week must be ≥ 0")
        if self.tune_events:
            try:
                get_profile(self.nab_profile)
            except Exception as exc:
                raise ModelError(f"unknown nab_profile {self.nab_profile!r}") from exc
            grids = [*(self.persistence_grid or ()), *(self.cooldown_grid or ())]
            if any(int(v) < 0 for v in grids) or any(
                int(v) < 1 for v in (self.persistence_grid or ())
            ):
                raise ModelError("persistence_grid needs values ≥ 1, cooldown_grid values ≥ 0")
        use_text = bool(self.use_text and mentions is not None and "text" in mentions.columns)
        data = self._build(features, incidents, mentions if use_text else None)
        windows_per_week = pd.Timedelta("7D") / data.freq * max(data.keys["topic"].nunique(), 1)
        max_rate = min(float(self.max_false_per_week) / windows_per_week, 1.0)
        self.freq_ = data.freq
        self.columns_ = tuple(data.X.columns)
        self.use_text_ = use_text
        self.models_: dict[int, EscalationClassifier] = {}
        self.skipped_tiers_: dict[int, str] = {}
        self.thresholds_: dict[int, float] = {}
        self.persistence_: dict[int, int] = {}
        self.cooldown_: dict[int, int] = {}
        X = data.X if use_text else data.X[list(data.numeric_columns)]
        for tier in range(1, int(self.n_tiers) + 1):
            y = data.y(tier)
            if y.sum() < 2 * int(self.n_splits) or (y == 0).sum() < 2:
                self.skipped_tiers_[tier] = (
                    f"only {int(y.sum())} positive windows for tier ≥ {tier}"
                )
                continue
            self.models_[tier] = self._classifier(max_rate, use_text).fit(X, y)
            self.thresholds_[tier] = float(self.models_[tier].threshold_)
            self.persistence_[tier] = int(self.persistence)
            self.cooldown_[tier] = int(self.cooldown)
        if not self.models_:
            raise ModelError(
                "no tier has enough incident windows to learn from: "
                + "; ".join(self.skipped_tiers_.values())
            )
        self.event_tuning_ = pd.DataFrame()
        if self.tune_events:
            self._tune_on_events(data, X, incidents, max_rate, use_text)
        return self

    # ---- event-level tuning -----------------------------------------------------------------
    def _out_of_fold_scores(
        self, data: EscalationDataset, X: pd.DataFrame, tier: int, max_rate: float,
        use_text: bool,
    ) -> np.ndarray:
        """Scores of tier ``tier`` for rows a classifier did not see (NaN where none could be
        given): leave one topic out when ≥ 2 topics have positives, else time-series blocks."""
        y = data.y(tier)
        topics = data.keys["topic"].astype(str).to_numpy()
        positive_topics = sorted(set(topics[y == 1]))
        scores = np.full(len(y), np.nan)
        if len(positive_topics) >= 2:
            folds = [(topics != t, topics == t) for t in sorted(set(topics))]
        else:
            folds = []
            for train, test in TimeSeriesSplit(n_splits=int(self.n_splits)).split(y):
                fit_rows = np.zeros(len(y), dtype=bool)
                fit_rows[train] = True
                score_rows = np.zeros(len(y), dtype=bool)
                score_rows[test] = True
                folds.append((fit_rows, score_rows))
        for fit_rows, score_rows in folds:
            y_fit = y[fit_rows]
            if y_fit.sum() < 2 * int(self.n_splits) or (y_fit == 0).sum() < 2:
                continue
            clf = self._classifier(max_rate, use_text).fit(
                X[fit_rows].reset_index(drop=True), y_fit
            )
            scores[score_rows] = clf.decision_score(X[score_rows].reset_index(drop=True))
        return scores

    def _event_objective(self, escalations: Any, incidents: pd.DataFrame) -> float:
        if self.objective == "nab":
            return float(
                nab_from_escalations(escalations, incidents, profile=self.nab_profile).normalised
            )
        result = backtest(escalations, incidents)
        if self.objective == "cost":
            return -float(result.cost)
        excess = float(result.false_per_week) - float(self.max_false_per_week)
        return float(result.recall) if excess <= 0 else -excess

    def _tune_on_events(
        self, data: EscalationDataset, X: pd.DataFrame, incidents: pd.DataFrame,
        max_rate: float, use_text: bool,
    ) -> None:
        persistences = [int(v) for v in (self.persistence_grid or (self.persistence,))]
        cooldowns = [int(v) for v in (self.cooldown_grid or (self.cooldown,))]
        rows = []
        for tier in sorted(self.models_):
            scores = self._out_of_fold_scores(data, X, tier, max_rate, use_text)
            scored = ~np.isnan(scores)
            if scored.sum() == 0:
                continue
            keys = data.keys[scored].reset_index(drop=True)
            values = scores[scored]
            first = keys["window_start"].min()
            events = incidents[
                (incidents["severity"] >= tier)
                & (to_utc(incidents["started_at"]) >= first)
                & incidents["topic"].astype(str).isin(set(keys["topic"].astype(str)))
            ]
            if len(events) == 0:
                continue
            # Thresholds at exceedance rates from 50 % down to 0.05 % of the scored windows.
            grid = np.unique(np.quantile(values, 1.0 - np.geomspace(0.5, 0.0005, 60)))
            best: tuple[float, float, int, int] | None = None
            for threshold in grid:
                windows = keys.assign(tier=(values >= threshold).astype(int))
                for persistence in persistences:
                    for cooldown in cooldowns:
                        esc = escalations_from_tiers(
                            windows, freq=data.freq, persistence=persistence, cooldown=cooldown
                        )
                        value = self._event_objective(esc, events)
                        if best is None or value > best[0]:
                            best = (value, float(threshold), persistence, cooldown)
            if best is None:
                continue
            self.thresholds_[tier], self.persistence_[tier], self.cooldown_[tier] = best[1:]
            rows.append({"tier": tier, "objective": self.objective, "score": best[0],
                         "threshold": best[1], "persistence": best[2], "cooldown": best[3],
                         "scored_windows": int(scored.sum())})
        self.event_tuning_ = pd.DataFrame(rows)

    # ---- prediction ---------------------------------------------------------------------------
    def _dataset(self, features: pd.DataFrame, mentions: pd.DataFrame | None) -> EscalationDataset:
        if not hasattr(self, "models_"):
            raise ModelError("this model is not fitted yet: call fit(features, incidents) first")
        data = self._build(features, None, mentions if self.use_text_ else None)
        if self.use_text_ and mentions is None:
            raise ModelError("this model was trained with mention texts: pass mentions=")
        missing = [c for c in self.columns_ if c not in data.X.columns]
        if missing:
            raise ModelError(f"features lack columns the model was trained on: {missing[:8]}")
        return data

    def predict_scores(
        self, features: pd.DataFrame, *, mentions: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Per window (in features' row order): ``topic, window_start, score_tier1, ...``."""
        data = self._dataset(features, mentions)
        X = data.X[list(self.columns_)]
        out = data.keys.copy()
        for tier, model in self.models_.items():
            cols = list(self.columns_) if self.use_text_ else [
                c for c in self.columns_ if c != TEXT_COLUMN
            ]
            out[f"score_tier{tier}"] = model.decision_score(X[cols])
        # Back to the caller's row order.
        order = features[["topic", "window_start"]].reset_index(drop=True)
        return order.merge(out, on=["topic", "window_start"], how="left")

    def threshold(self, tier: int) -> float:
        """The decision threshold in use for ``tier`` (event-tuned when ``tune_events``)."""
        thresholds = getattr(self, "thresholds_", {})
        return float(thresholds.get(tier, self.models_[tier].threshold_))

    def predict_tiers(
        self, features: pd.DataFrame, *, mentions: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Raw tier per window (before persistence/cooldown): the highest k whose score
        clears tier k's threshold; tiers are nested (tier k needs tier k−1's score too)."""
        scores = self.predict_scores(features, mentions=mentions)
        tier = np.zeros(len(scores), dtype=int)
        for k in sorted(self.models_):
            hit = scores[f"score_tier{k}"].to_numpy() >= self.threshold(k)
            tier = np.where(hit, np.maximum(tier, k), tier)
        return pd.DataFrame(
            {"topic": scores["topic"], "window_start": scores["window_start"], "tier": tier}
        )

    def escalations(
        self, features: pd.DataFrame, *, mentions: pd.DataFrame | None = None
    ) -> Any:
        """Escalations with the same episode/notification semantics as a rule policy."""
        persistence = getattr(self, "persistence_", None) or int(self.persistence)
        cooldown = getattr(self, "cooldown_", None) or int(self.cooldown)
        return escalations_from_tiers(
            self.predict_tiers(features, mentions=mentions),
            freq=self.freq_,
            persistence=persistence,
            cooldown=cooldown,
        )


# --------------------------------------------------------------------------------------------
# A rule policy as an estimator
# --------------------------------------------------------------------------------------------
class PolicyClassifier(ClassifierMixin, BaseEstimator):
    """A rule escalation policy behaving as a scikit-learn classifier.

    ``predict`` is 1 where the policy's tier ≥ ``min_tier`` (with persistence and cooldown).
    Thresholds are exposed as flat parameters (``tier2__volume_ratio``) by ``get_params`` and
    ``set_params``, so ``GridSearchCV`` can search them. ``X`` is a Features frame; rows of one
    topic must be in time order. Without a policy, ``fit`` learns a one-condition rule (the
    column and threshold with the best balanced accuracy) so the estimator also works on arrays.
    """

    def __init__(self, policy: Any = None, min_tier: int = 1) -> None:
        self.policy = policy
        self.min_tier = min_tier

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters; with ``deep`` also the policy's flat thresholds."""
        params = super().get_params(deep=False)
        if deep and self.policy is not None:
            params.update(self.policy.get_params())
        return params

    def set_params(self, **params: Any) -> PolicyClassifier:
        """Set ``policy``/``min_tier`` or flat policy parameters such as ``tier1__volume_ratio``."""
        own = {k: params.pop(k) for k in list(params) if k in ("policy", "min_tier")}
        for key, value in own.items():
            setattr(self, key, value)
        if params:
            if self.policy is None:
                raise ValueError(f"no policy to set {sorted(params)} on")
            self.policy = self.policy.set_params(**params)
        return self

    def _frame(self, X: Any) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns):
            frame = X.copy()
        else:
            array = np.asarray(X, dtype=float)
            if array.ndim != 2:
                raise ValueError(f"Expected 2D array, got {array.ndim}D array instead")
            frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
        if "window_start" not in frame.columns:
            frame["window_start"] = pd.date_range(
                "1970-01-01", periods=len(frame), freq="h", tz="UTC"
            )
        if "topic" not in frame.columns:
            frame["topic"] = "all"
        return frame

    def fit(self, X: Any, y: Any) -> PolicyClassifier:
        """Validate inputs; learn a one-condition rule only when no policy is given."""
        if int(self.min_tier) < 1:
            raise ValueError(f"min_tier must be ≥ 1, got {self.min_tier}")
        if isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns):
            y = np.asarray(y)
            if len(y) != len(X):
                raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
            self.n_features_in_ = X.shape[1]
            self.feature_names_in_ = np.asarray(list(map(str, X.columns)), dtype=object)
        else:
            X, y = validate_data(self, X, y, dtype="numeric")
        self.classes_ = _binary_classes(y)
        if self.policy is None:
            self.policy_ = _learn_stump_policy(self._frame(X), (y == self.classes_[1]))
        else:
            self.policy_ = self.policy
        return self

    def _tiers(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "policy_")
        if not (isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns)):
            X = validate_data(self, X, reset=False, dtype="numeric")
        policy = self.policy if self.policy is not None else self.policy_
        frame = self._frame(X)
        freq = None if frame["window_start"].nunique() > 1 else pd.Timedelta("1h")
        return evaluate(policy, frame, freq=freq).windows["tier"].to_numpy()

    def predict(self, X: Any) -> np.ndarray:
        """1 (``classes_[1]``) where the policy escalates to ``min_tier`` or above."""
        hit = self._tiers(X) >= int(self.min_tier)
        return np.where(hit, self.classes_[-1], self.classes_[0])

    def decision_function(self, X: Any) -> np.ndarray:
        """The tier reached per row (a monotone score)."""
        return self._tiers(X).astype(float)


def _learn_stump_policy(frame: pd.DataFrame, positive: np.ndarray) -> Any:
    """A one-tier policy ``column >= t`` (or ``<= t``) with the best balanced accuracy, found
    by one vectorised sweep per column and direction."""
    best: tuple[float, str | None, str, float] = (-np.inf, None, ">=", 0.0)
    columns = [c for c in frame.columns if c not in ("topic", "window_start")]
    pos_total = max(int(positive.sum()), 1)
    neg_total = max(int((~positive).sum()), 1)
    for column in columns:
        values = frame[column].to_numpy(dtype=float)
        for op, sign in ((">=", -1.0), ("<=", 1.0)):
            order = np.argsort(sign * values, kind="stable")
            sorted_values = values[order]
            tp = np.cumsum(positive[order])
            fp = np.cumsum(~positive[order])
            score = 0.5 * (tp / pos_total + (1 - fp / neg_total))
            # Only cut between distinct values (NaN never satisfies a condition).
            last = np.r_[sorted_values[1:] != sorted_values[:-1], True] & ~np.isnan(
                sorted_values
            )
            score = np.where(last, score, -np.inf)
            i = int(np.argmax(score))
            if score[i] > best[0]:
                best = (float(score[i]), column, op, float(sorted_values[i]))
    column = best[1] or columns[0]
    return Policy(
        tiers=(
            Tier(level=1, name="Escalate", owner="team",
                 all=(Condition(column, best[2], best[3]),)),
        ),
        name="learned one-condition rule",
    )


# --------------------------------------------------------------------------------------------
# Tree → plan
# --------------------------------------------------------------------------------------------
def tree_to_policy(
    tree: DecisionTreeClassifier,
    feature_names: Sequence[str],
    *,
    tier_names: Mapping[int, str] | None = None,
    owners: Mapping[int, str] | None = None,
    name: str = "Plan learned from history (decision tree)",
) -> Any:
    """Export a fitted shallow decision tree as a readable escalation policy.

    Each tier k takes the root-to-leaf path that predicts class ≥ k (classes are tiers, or
    0/1 for a binary tree = tier 1) covering the most weighted training samples, as an ``all``
    of ``feature op value`` conditions. Other paths to the same tier are reported in the
    description (a tier holds one conjunction), so nothing is hidden.
    """
    check_is_fitted(tree, "tree_")
    if len(feature_names) != tree.n_features_in_:
        raise ModelError(
            f"feature_names has {len(feature_names)} names but the tree uses "
            f"{tree.n_features_in_} features"
        )
    structure = tree.tree_
    classes = np.asarray(tree.classes_)
    try:
        tiers_of_class = classes.astype(int)
    except (TypeError, ValueError) as exc:
        raise ModelError("tree classes must be tiers (integers 0..N)") from exc
    paths: list[tuple[int, float, list[tuple[str, str, float]]]] = []

    def walk(node: int, conditions: list[tuple[str, str, float]]) -> None:
        left, right = structure.children_left[node], structure.children_right[node]
        if left == right:  # leaf
            value = structure.value[node][0]
            tier = int(tiers_of_class[int(np.argmax(value))])
            paths.append((tier, float(structure.weighted_n_node_samples[node]), conditions))
            return
        feature = str(feature_names[structure.feature[node]])
        threshold = float(structure.threshold[node])
        walk(left, [*conditions, (feature, "<=", threshold)])
        walk(right, [*conditions, (feature, ">", threshold)])

    walk(0, [])
    max_tier = int(tiers_of_class.max())
    if max_tier < 1:
        raise ModelError("the tree never predicts an escalation (all leaves are tier 0)")
    tiers = []
    notes = []
    for level in range(1, max_tier + 1):
        candidates = [p for p in paths if p[0] >= level]
        if not candidates:
            continue
        exact = [p for p in candidates if p[0] == level] or candidates
        chosen = max(exact, key=lambda p: p[1])
        conditions = tuple(
            Condition(f, op, round(v, 6)) for f, op, v in _simplify(chosen[2])
        )
        if not conditions:
            raise ModelError("the tree escalates everything (a root leaf): nothing to export")
        tiers.append(
            Tier(
                level=len(tiers) + 1,
                name=(tier_names or {}).get(level, f"Tier {level}"),
                owner=(owners or {}).get(level, ""),
                all=conditions,
            )
        )
        others = [p for p in exact if p is not chosen]
        if others:
            notes.append(f"tier {level}: {len(others)} further path(s) not expressed")
    description = "Exported from a decision tree of depth "
    description += f"{tree.get_depth()}" + (f"; {'; '.join(notes)}" if notes else "")
    return Policy(tiers=tuple(tiers), name=name, description=description)


def _simplify(conditions: list[tuple[str, str, float]]) -> list[tuple[str, str, float]]:
    """Keep the tightest bound per (feature, direction) along a path, in first-seen order."""
    tight: dict[tuple[str, str], float] = {}
    for feature, op, value in conditions:
        key = (feature, op)
        if key not in tight:
            tight[key] = value
        else:
            tight[key] = min(tight[key], value) if op == "<=" else max(tight[key], value)
    return [(f, op, v) for (f, op), v in tight.items()]


# --------------------------------------------------------------------------------------------
# Persistence (skops: a secure format, not pickle)
# --------------------------------------------------------------------------------------------
def save_model(model: TieredEscalationModel, path: str | Path) -> Path:
    """Save a fitted model with skops (atomic write)."""
    import os
    import tempfile

    import skops.io as sio

    if not hasattr(model, "models_"):
        raise ModelError("only a fitted model can be saved")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": "esc-analytics-model/1",
        "params": {k: (str(v) if isinstance(v, pd.Timedelta) else v)
                   for k, v in model.get_params().items()},
        "horizon": str(pd.Timedelta(model.horizon)),
        "freq": str(model.freq_),
        "columns": list(model.columns_),
        "use_text": bool(model.use_text_),
        "models": {str(k): v for k, v in model.models_.items()},
        "skipped": {str(k): v for k, v in model.skipped_tiers_.items()},
        "thresholds": {str(k): float(v) for k, v in getattr(model, "thresholds_", {}).items()},
        "persistence": {str(k): int(v) for k, v in getattr(model, "persistence_", {}).items()},
        "cooldown": {str(k): int(v) for k, v in getattr(model, "cooldown_", {}).items()},
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        sio.dump(payload, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


#: The exact types (beyond skops' own defaults) that esc-analytics model files contain. Only
#: these are trusted on load: a prefix rule such as "numpy.*" would let a crafted file call any
#: numpy function (numpy.testing's ``runstring`` is an ``exec``). tests/test_models.py checks
#: that every kind of model we save needs nothing more.
TRUSTED_MODEL_TYPES = frozenset(
    {
        "esc_analytics.models._classifiers.EscalationClassifier",
        "numpy.dtype",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.model_selection._split.KFold",
        "sklearn.model_selection._split.TimeSeriesSplit",
        "sklearn.tree._tree.Tree",
    }
)


def load_model(path: str | Path) -> TieredEscalationModel:
    """Load a model saved by :func:`save_model`, trusting only esc-analytics' own types."""
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # skops raises several types for a non-skops file
        raise ModelError(f"{path}: not a skops model file ({exc})") from exc
    allowed = [t for t in untrusted if t in TRUSTED_MODEL_TYPES]
    rejected = sorted(set(untrusted) - set(allowed))
    if rejected:
        raise ModelError(f"{path}: refusing to load untrusted types {rejected}")
    try:
        payload = sio.load(path, trusted=allowed)
    except Exception as exc:  # a damaged archive: zipfile, json, skops errors
        reason = (str(exc).splitlines() or [""])[0][:200]
        raise ModelError(f"{path}: cannot be read as a skops model ({reason})") from exc
    if not isinstance(payload, dict) or payload.get("format") != "esc-analytics-model/1":
        raise ModelError(f"{path}: not an esc-analytics model file")
    missing = [k for k in ("params", "freq", "columns", "use_text", "models") if k not in payload]
    if missing:
        raise ModelError(f"{path}: not a complete esc-analytics model (no {', '.join(missing)})")
    params = payload["params"]
    known = set(inspect.signature(TieredEscalationModel.__init__).parameters) - {"self"}
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        raise ModelError(f"{path}: the model's params must be a mapping of names to values")
    unknown = sorted(set(params) - known)
    if unknown:
        shown = ", ".join(repr(k[:40]) for k in unknown[:5])
        raise ModelError(
            f"{path}: unknown model parameter(s) {shown}; allowed: {', '.join(sorted(known))}"
        )
    classifiers = payload["models"]
    if not isinstance(classifiers, dict) or not all(
        isinstance(v, EscalationClassifier) for v in classifiers.values()
    ):
        kinds = sorted({type(v).__name__ for v in getattr(classifiers, "values", list)()})
        raise ModelError(
            f"{path}: the model's tiers must hold fitted classifiers, got "
            f"{', '.join(kinds) or type(classifiers).__name__}"
        )
    try:
        model = TieredEscalationModel(**params)
        model.freq_ = pd.Timedelta(payload["freq"])
        model.columns_ = tuple(str(c) for c in payload["columns"])
        model.use_text_ = bool(payload["use_text"])
        model.models_ = {int(k): v for k, v in classifiers.items()}
        model.skipped_tiers_ = {int(k): v for k, v in payload.get("skipped", {}).items()}
        model.thresholds_ = {int(k): float(v) for k, v in payload.get("thresholds", {}).items()}
        model.persistence_ = {int(k): int(v) for k, v in payload.get("persistence", {}).items()}
        model.cooldown_ = {int(k): int(v) for k, v in payload.get("cooldown", {}).items()}
    except ModelError as exc:
        raise ModelError(f"{path}: {exc}") from None
    except (TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise ModelError(f"{path}: not a valid esc-analytics model ({exc})"[:400]) from exc
    return model


def permutation_importance_frame(
    model: TieredEscalationModel,
    features: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    tier: int = 1,
    mentions: pd.DataFrame | None = None,
    n_repeats: int = 5,
    random_state: int = 0,
    period: tuple[Any, Any] | None = None,
) -> pd.DataFrame:
    """Permutation importance of each input column for one tier's classifier (balanced
    accuracy drop), sorted, on the given (ideally held-out) data. ``period=(start, end)``
    scores only windows starting in ``[start, end)`` while earlier windows still feed the
    lags (held-out folds of a walk-forward)."""
    from sklearn.inspection import permutation_importance

    if tier not in getattr(model, "models_", {}):
        raise ModelError(f"the model has no classifier for tier {tier}")
    data = model._build(features, incidents, mentions if model.use_text_ else None)
    cols = [c for c in model.columns_ if model.use_text_ or c != TEXT_COLUMN]
    X, y = data.X[cols], data.y(tier)
    if period is not None:
        starts = data.keys["window_start"]
        keep = ((starts >= pd.Timestamp(period[0])) & (starts < pd.Timestamp(period[1])))
        keep = keep.to_numpy()
        X, y = X[keep].reset_index(drop=True), y[keep]
    if len(np.unique(y)) < 2:
        raise ModelError("permutation importance needs both classes in y")
    result = permutation_importance(
        model.models_[tier], X, y, scoring="balanced_accuracy",
        n_repeats=n_repeats, random_state=random_state,
    )
    frame = pd.DataFrame(
        {"feature": cols, "importance": result.importances_mean, "std": result.importances_std}
    )
    return frame.sort_values(["importance", "feature"], ascending=[False, True]).reset_index(
        drop=True
    )


def fit_plan_tree(
    features: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    max_depth: int = 3,
    n_tiers: int = 3,
    horizon: str | pd.Timedelta = "3h",
    columns: Sequence[str] | None = None,
    min_samples_leaf: int = 10,
    class_weight: str | Mapping[int, float] | None = None,
    tier_names: Mapping[int, str] | None = None,
    owners: Mapping[int, str] | None = None,
    random_state: int = 0,
) -> tuple[Any, DecisionTreeClassifier]:
    """Learn a shallow decision tree on tier labels (severity capped at ``n_tiers``) from the
    history and export it as a readable escalation policy: ``(policy, tree)``.

    ``columns`` restricts the inputs (default: the features' own numeric columns, no lags or
    rolling shapes, so the plan's conditions read like a hand-written plan's: a policy is
    evaluated on the features frame, which only holds the features' own columns).
    ``class_weight`` defaults to None: "balanced" buys recall with many false escalations
    (escalation windows are rare), which a written plan should not do."""
    if int(max_depth) < 1:
        raise ModelError(f"max_depth must be ≥ 1, got {max_depth}")
    if int(n_tiers) < 1:
        raise ModelError(f"n_tiers must be ≥ 1, got {n_tiers}")
    data = build_dataset(features, incidents, horizon=horizon)
    if columns is None:
        columns = [
            c for c in data.numeric_columns if c in features.columns and c != "planned_event"
        ]
    missing = [c for c in columns if c not in data.X.columns]
    if missing:
        raise ModelError(f"columns not in the features: {missing}")
    if not columns:
        raise ModelError("no numeric feature column to learn a plan from")
    y = np.minimum(data.tier.to_numpy(), int(n_tiers))
    if (y > 0).sum() == 0:
        raise ModelError("no incident window in the history: nothing to learn a plan from")
    # Early windows without a baseline are NaN: filled with the median for learning (the
    # exported policy treats NaN as "condition not met", i.e. no escalation there).
    X = data.X[list(columns)].astype(float).replace([np.inf, -np.inf], np.nan)
    X = X.fillna(X.median()).fillna(0.0)
    tree = DecisionTreeClassifier(
        max_depth=int(max_depth),
        min_samples_leaf=int(min_samples_leaf),
        class_weight=class_weight,
        random_state=random_state,
    ).fit(X, y)
    policy = tree_to_policy(tree, list(columns), tier_names=tier_names, owners=owners)
    return policy, tree


def clone_model(model: TieredEscalationModel) -> TieredEscalationModel:
    """An unfitted copy with the same settings."""
    return TieredEscalationModel(**model.get_params())


__all__ = [
    "EscalationClassifier",
    "EscalationDataset",
    "PolicyClassifier",
    "TieredEscalationModel",
    "build_dataset",
    "fit_plan_tree",
    "load_model",
    "objective_scorer",
    "permutation_importance_frame",
    "save_model",
    "tree_to_policy",
]
