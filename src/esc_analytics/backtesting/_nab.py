"""NAB-style scoring of detections against labelled windows (an independent implementation).

Implements the scoring rules of the Numenta Anomaly Benchmark (``nab/sweeper.py``, NAB v1.1) as
summarised in ``../shared/data/README.md``:

* the first ``min(floor(0.15 n), 750)`` rows of a file are a *probation period*: detections there
  count nothing, and a window lying entirely inside it is not scored at all (no miss either);
* a window scores only its earliest detection at row ``i``: ``tp · S(y) / S(−1)`` with
  ``y = −(r − i + 1) / w`` (``r`` its right-edge row, ``w`` its width in rows) — full reward at
  the left edge; a window without detection scores ``−fn``;
* every detection outside windows costs ``fp · S(y)`` with ``y = (i − r_prev) / (w_prev − 1)``
  measured from the right edge of the previous window (probationary windows included, as NAB
  does), or ``−fp`` when no window precedes it;
* ``S(y) = 2 / (1 + exp(5y)) − 1``, and ``S(y) = −1`` for ``y ≥ 3``;
* normalised = ``100 · (raw − raw_null) / (raw_perfect − raw_null)`` over all files, with
  ``raw_null = −fn · windows`` and ``raw_perfect = tp · windows`` (scored windows only).

Two documented choices where NAB's code is undefined: a one-row previous window (NAB divides by
zero) uses ``w_prev − 1 = 1``; overlapping windows (NAB's labels never overlap) are merged.

The hot path is :meth:`NabFile.score_rows`: sorted detection row indices in, O(n_detections +
n_windows) numpy out, so calibration can score thousands of candidates cheaply.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._util.errors import DataLoadError, PolicyError
from .._util.times import to_utc
from ..escalations._escalations import Escalations
from ._matching import DEFAULT_OPEN_DURATION, MatchRules, as_duration

PROBATION_FRACTION = 0.15
PROBATION_MAX_ROWS = 750  # NAB: probationPercent * 5000


@dataclass(frozen=True)
class NabProfile:
    """Weights of one NAB application profile (true positive, false positive, false negative)."""

    name: str
    tp: float
    fp: float
    fn: float


NAB_PROFILES: dict[str, NabProfile] = {
    "standard": NabProfile("standard", tp=1.0, fp=0.11, fn=1.0),
    "reward_low_FP_rate": NabProfile("reward_low_FP_rate", tp=1.0, fp=0.22, fn=1.0),
    "reward_low_FN_rate": NabProfile("reward_low_FN_rate", tp=1.0, fp=0.11, fn=2.0),
}
_PROFILE_ALIASES = {
    "low_fp": "reward_low_FP_rate",
    "low-fp": "reward_low_FP_rate",
    "reward_low_fp_rate": "reward_low_FP_rate",
    "low_fn": "reward_low_FN_rate",
    "low-fn": "reward_low_FN_rate",
    "reward_low_fn_rate": "reward_low_FN_rate",
}


def get_profile(profile: str | NabProfile) -> NabProfile:
    """Return a :class:`NabProfile` from its name (``standard``, ``low_fp``, ``low_fn`` or NAB's
    full names) or pass a profile object through."""
    if isinstance(profile, NabProfile):
        return profile
    key = str(profile)
    key = _PROFILE_ALIASES.get(key.lower(), key)
    if key not in NAB_PROFILES:
        allowed = ", ".join([*NAB_PROFILES, "low_fp", "low_fn"])
        raise PolicyError(
            f"unknown NAB profile {profile!r}; use one of {allowed}", key="nab_profile"
        )
    return NAB_PROFILES[key]


def scaled_sigmoid(y: np.ndarray | float) -> np.ndarray:
    """NAB's scaled sigmoid ``S(y) = 2 / (1 + exp(5y)) − 1``, equal to −1 for ``y > 3`` (as
    NAB's ``scaledSigmoid``)."""
    y = np.asarray(y, dtype=float)
    with np.errstate(over="ignore"):
        s = 2.0 / (1.0 + np.exp(5.0 * y)) - 1.0
    return np.where(y > 3.0, -1.0, s)


# S(−1): a detection at a window's left edge earns the full ``tp`` (reward tp · S(y) / S(−1)).
MAX_TP_SIGMOID = float(scaled_sigmoid(-1.0))


def probation_rows(n_rows: int) -> int:
    """Length of NAB's probation period for a file of ``n_rows`` rows."""
    return int(min(math.floor(PROBATION_FRACTION * n_rows), PROBATION_MAX_ROWS))


@dataclass(frozen=True)
class NabFileScore:
    """Score of one file: raw score, its null/perfect bounds and window/detection counts.

    ``tp`` = windows detected, ``fn`` = windows missed, ``fp`` = detection rows outside windows,
    ``detections`` = scored detection rows (after probation), ``windows`` = scored windows.
    """

    raw: float
    raw_null: float
    raw_perfect: float
    tp: int
    fn: int
    fp: int
    detections: int
    windows: int


@dataclass(frozen=True)
class NabFile:
    """One file prepared for repeated scoring: its length and windows as row indices.

    ``windows`` is an ``(W, 2)`` int array of inclusive ``(left, right)`` rows, sorted and
    non-overlapping (use :meth:`from_rows` to sort and merge).
    """

    n_rows: int
    windows: np.ndarray
    probation: int = field(init=False)
    _scored: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        w = np.asarray(self.windows, dtype=np.int64).reshape(-1, 2)
        object.__setattr__(self, "windows", w)
        object.__setattr__(self, "probation", probation_rows(self.n_rows))
        # NAB scores a window only if at least one of its rows lies after probation.
        object.__setattr__(self, "_scored", w[:, 1] >= self.probation)

    @classmethod
    def from_rows(cls, n_rows: int, windows: Sequence[tuple[int, int]] | np.ndarray) -> NabFile:
        """Build from inclusive (left, right) row pairs: validated, sorted, overlaps merged."""
        w = np.asarray(windows, dtype=np.int64).reshape(-1, 2)
        if len(w) and (np.any(w[:, 0] > w[:, 1]) or w.min() < 0 or w.max() >= n_rows):
            raise ValueError(f"NAB windows must be row pairs left <= right within 0..{n_rows - 1}")
        return cls(n_rows, _merge_windows(w))

    @property
    def n_windows(self) -> int:
        """Number of windows that count (not entirely inside probation)."""
        return int(self._scored.sum())

    def score_rows(self, rows: np.ndarray, profile: str | NabProfile = "standard") -> NabFileScore:
        """Score detections given as row indices (any order, duplicates allowed)."""
        prof = get_profile(profile)
        det = np.asarray(rows, dtype=np.int64)
        det = det[det >= self.probation]
        if len(det) > 1 and np.any(det[1:] < det[:-1]):
            det = np.sort(det)
        left, right = self.windows[:, 0], self.windows[:, 1]
        width = right - left + 1
        # Index of the first window whose right edge is >= the detection.
        j = np.searchsorted(right, det, side="left")
        if len(right):
            inside = (j < len(right)) & (left[np.minimum(j, len(right) - 1)] <= det)
        else:
            inside = np.zeros(len(det), dtype=bool)

        # True positives: the earliest detection of each window (det is sorted).
        win_hit, first = np.unique(j[inside], return_index=True)
        tp_rows = det[inside][first]
        y_tp = -(right[win_hit] - tp_rows + 1) / width[win_hit]
        tp_score = float((prof.tp * scaled_sigmoid(y_tp) / MAX_TP_SIGMOID).sum())

        # False positives: distance past the previous window's right edge.
        out = det[~inside]
        prev = j[~inside] - 1  # windows before j all end before the detection
        has_prev = prev >= 0
        y_fp = np.full(len(out), np.inf)  # no window before: the full -fp
        if has_prev.any():
            p = prev[has_prev]
            y_fp[has_prev] = (out[has_prev] - right[p]) / np.maximum(width[p] - 1, 1)
        fp_score = float((prof.fp * scaled_sigmoid(y_fp)).sum())

        n_windows = self.n_windows
        n_tp = len(win_hit)
        raw = tp_score + fp_score - prof.fn * (n_windows - n_tp)
        return NabFileScore(
            raw=raw,
            raw_null=-prof.fn * n_windows,
            raw_perfect=prof.tp * n_windows,
            tp=n_tp,
            fn=n_windows - n_tp,
            fp=len(out),
            detections=len(det),
            windows=n_windows,
        )

    def score(self, detections: np.ndarray, profile: str | NabProfile = "standard") -> NabFileScore:
        """Score a boolean detection array of length ``n_rows``."""
        d = np.asarray(detections, dtype=bool)
        if d.shape != (self.n_rows,):
            raise ValueError(f"detections must have shape ({self.n_rows},), got {d.shape}")
        return self.score_rows(np.flatnonzero(d), profile)


def _merge_windows(w: np.ndarray) -> np.ndarray:
    """Sort (left, right) pairs and merge overlapping or touching-by-row ones."""
    if len(w) <= 1:
        return w.copy()
    w = w[np.lexsort((w[:, 1], w[:, 0]))]
    run_right = np.maximum.accumulate(w[:, 1])
    starts_new = np.r_[True, w[1:, 0] > run_right[:-1]]
    rights = np.maximum.reduceat(w[:, 1], np.flatnonzero(starts_new))
    return np.column_stack([w[starts_new, 0], rights])


def window_rows(
    timestamps: Sequence | np.ndarray | pd.Series, windows: Sequence[tuple]
) -> np.ndarray:
    """Map (start, end) times onto inclusive row pairs of sorted ``timestamps``.

    ``left`` = first row at or after ``start``, ``right`` = last row at or before ``end`` (for
    NAB's labels these equal the rows whose timestamps are the window limits). Windows holding
    no row are dropped.
    """
    ts = _as_datetime_index(timestamps)
    if not ts.is_monotonic_increasing:
        raise ValueError("timestamps must be sorted in increasing order")
    if not len(windows):
        return np.empty((0, 2), dtype=np.int64)
    starts = _as_datetime_index([s for s, _ in windows], like=ts)
    ends = _as_datetime_index([e for _, e in windows], like=ts)
    left = ts.searchsorted(starts, side="left")
    right = ts.searchsorted(ends, side="right") - 1
    keep = left <= right
    return np.column_stack([left[keep], right[keep]]).astype(np.int64)


def _as_datetime_index(values, like: pd.DatetimeIndex | None = None) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(pd.to_datetime(values))
    if like is not None:
        if like.tz is not None and idx.tz is None:
            idx = idx.tz_localize(like.tz)
        elif like.tz is None and idx.tz is not None:
            idx = idx.tz_convert("UTC").tz_localize(None)
    return idx


def nab_score_file(
    timestamps: Sequence | np.ndarray | pd.Series,
    detections: np.ndarray | Sequence[bool],
    windows: Sequence[tuple],
    profile: str | NabProfile = "standard",
) -> NabFileScore:
    """Score one file: row timestamps, a boolean detection per row, windows as (start, end)."""
    rows = window_rows(timestamps, windows)
    nab_file = NabFile.from_rows(len(timestamps), rows)
    return nab_file.score(np.asarray(detections, dtype=bool), profile)


@dataclass(frozen=True)
class NabScore:
    """NAB score over several files (topics): normalised 0 (never alert) … 100 (perfect)."""

    profile: str
    normalised: float
    raw: float
    raw_null: float
    raw_perfect: float
    per_topic: pd.DataFrame

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return {
            "profile": self.profile,
            "score": self.normalised,
            "raw": self.raw,
            "raw_null": self.raw_null,
            "raw_perfect": self.raw_perfect,
            "per_topic": self.per_topic.to_dict(orient="records"),
        }

    def summary(self) -> str:
        """One line: profile, normalised score, window and false-positive counts."""
        t = self.per_topic
        return (
            f"NAB {self.profile}: {self.normalised:.1f} "
            f"(windows detected {int(t['tp'].sum())}/{int(t['windows'].sum())}, "
            f"false detections {int(t['fp'].sum())})"
        )


def combine_scores(file_scores: Mapping[str, NabFileScore], profile: str | NabProfile) -> NabScore:
    """Sum per-file scores and normalise them as NAB does (over the whole corpus)."""
    prof = get_profile(profile)
    rows = [
        {"topic": topic, **{k: getattr(s, k) for k in NabFileScore.__dataclass_fields__}}
        for topic, s in sorted(file_scores.items())
    ]
    per_topic = pd.DataFrame(rows, columns=["topic", *NabFileScore.__dataclass_fields__]).astype(
        {"raw": float, "raw_null": float, "raw_perfect": float}
    )
    raw = float(per_topic["raw"].sum())
    null = float(per_topic["raw_null"].sum())
    perfect = float(per_topic["raw_perfect"].sum())
    span = perfect - null
    normalised = 100.0 * (raw - null) / span if span > 0 else float("nan")
    per_topic["score"] = np.where(
        per_topic["raw_perfect"] > per_topic["raw_null"],
        100.0
        * (per_topic["raw"] - per_topic["raw_null"])
        / (per_topic["raw_perfect"] - per_topic["raw_null"]).where(lambda s: s > 0, np.nan),
        np.nan,
    )
    return NabScore(prof.name, normalised, raw, null, perfect, per_topic)


def nab_score(
    detections_by_topic: Mapping[str, np.ndarray],
    windows_by_topic: Mapping[str, Sequence[tuple]],
    timestamps_by_topic: Mapping[str, Sequence],
    profile: str | NabProfile = "standard",
) -> NabScore:
    """NAB score of boolean detections per topic against (start, end) windows per topic."""
    scores = {
        topic: nab_score_file(
            timestamps_by_topic[topic], det, windows_by_topic.get(topic, ()), profile
        )
        for topic, det in detections_by_topic.items()
    }
    return combine_scores(scores, profile)


def nab_files_from_escalations(
    escalations: Escalations,
    incidents: pd.DataFrame,
    *,
    open_duration: str | pd.Timedelta = DEFAULT_OPEN_DURATION,
) -> dict[str, tuple[NabFile, pd.DatetimeIndex]]:
    """Prepare one :class:`NabFile` per topic of ``escalations``: rows = its windows in time
    order, NAB windows = its incidents' ``started_at``..``ended_at`` (``started_at +
    open_duration`` when ``ended_at`` is missing: :meth:`MatchRules.incident_end`).
    Returns ``{topic: (file, window_starts)}``."""
    _require(incidents, ("topic", "started_at"), "incidents")
    rules = MatchRules(open_duration=as_duration(open_duration, "open_duration"))
    inc = incidents.copy()
    inc["started_at"] = to_utc(inc["started_at"])
    ended = to_utc(inc["ended_at"]) if "ended_at" in inc else None
    inc["ended_at"] = rules.incident_end(inc["started_at"], ended)
    out: dict[str, tuple[NabFile, pd.DatetimeIndex]] = {}
    win = escalations.windows
    for topic, frame in win.groupby("topic", sort=True):
        ts = pd.DatetimeIndex(to_utc(frame["window_start"])).sort_values()
        mine = inc[inc["topic"].astype(str) == str(topic)]
        rows = window_rows(ts, list(zip(mine["started_at"], mine["ended_at"], strict=True)))
        out[str(topic)] = (NabFile.from_rows(len(ts), rows), ts)
    return out


def nab_from_escalations(
    escalations: Escalations,
    incidents: pd.DataFrame,
    *,
    profile: str | NabProfile = "standard",
    min_tier: int = 1,
    open_duration: str | pd.Timedelta = DEFAULT_OPEN_DURATION,
) -> NabScore:
    """NAB score of a policy's escalations: a detection is a window where a notification of
    tier ≥ ``min_tier`` is sent; windows are the incidents of each topic."""
    files = nab_files_from_escalations(escalations, incidents, open_duration=open_duration)
    notes = escalations.notifications
    notes = notes[notes["tier"] >= min_tier]
    scores = {}
    for topic, (nab_file, ts) in files.items():
        starts = to_utc(notes.loc[notes["topic"].astype(str) == topic, "window_start"])
        rows = np.sort(ts.searchsorted(pd.DatetimeIndex(starts)))
        scores[topic] = nab_file.score_rows(rows[rows < len(ts)], profile)
    return combine_scores(scores, profile)


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataLoadError(
            f"{what} lacks required columns {missing}; has {list(frame.columns)}", source=what
        )
