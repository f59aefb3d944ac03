"""Threshold calibration: search a tiered policy's thresholds (and persistence and cooldown from
small grids) for an objective, and return the chosen policy with its whole trade-off frontier.

The sweep is vectorised. For one detection feature ``f``, persistence ``k`` and cooldown ``c``
let ``g`` be ``f`` after persistence (the rolling minimum over the last ``k`` windows: the
condition ``f > t`` held ``k`` windows in a row iff ``g > t``) and ``M`` the largest ``g`` over
the ``c + 1`` windows before. A notification goes out at window ``j`` for threshold ``t`` exactly
when ``M[j] <= t < g[j]`` (escalated now, nothing escalated within the cooldown before). Every
window is thus an *interval of thresholds*, and for all candidate thresholds at once
notifications, false alerts (weighted or not) and caught incidents (a union of intervals per
incident) follow from sorting and cumulative counts (``searchsorted``). Only the small
feature × persistence × cooldown grid is a Python loop.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._util.errors import EscAnalyticsError
from .._util.schema import infer_freq
from .._util.stats import wilson_bounds
from .._util.times import to_utc, to_utc_ns
from ..backtesting._backtest import BacktestResult, CostModel, backtest, prepare_incidents
from ..backtesting._matching import DEFAULT_MAX_EARLY, MatchRules
from ..backtesting._nab import MAX_TP_SIGMOID, NabFile, get_profile, scaled_sigmoid, window_rows
from ..escalations._evaluate import evaluate
from ..features._build import ABSENT_FEATURES_ATTR
from ..features._detection import add_detection_measures, is_detection_measure
from ..policy._policy import Condition, Policy, Tier
from ._detector import fit_rank_detector, rank_rule_text
from ._tiers import (
    MAX_ESCALATED_SHARE,
    choose_nested_tiers,
    next_value,
    open_thresholds,
    readable_threshold,
    rounding_options,
)

OBJECTIVES = ("recall", "cost", "nab")
DEFAULT_FEATURE_CANDIDATES = (
    "burst_level_7d",  # log volume above the topic's own 99th percentile of the past week
    "volume_z",
    "volume_ratio",
    "log_volume_ratio",
    "negative_share",
    "negative_share_change",
    "reach",
)
DEFAULT_TIER_NAMES = {1: "watch", 2: "escalate", 3: "crisis"}


class CalibrationError(EscAnalyticsError, ValueError):
    """Calibration cannot run on these inputs (no candidate feature, no incidents, ...)."""


# ------------------------------------------------------------------------------------------
# Stacked per-topic arrays
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StackedFeatures:
    """Features sorted by (topic, window_start) as flat arrays with per-topic offsets."""

    frame: pd.DataFrame  # sorted copy, RangeIndex
    topics: tuple[str, ...]
    offsets: np.ndarray  # len(topics) + 1
    times: np.ndarray  # int64 ns since epoch, per row
    pos: np.ndarray  # position of the row inside its topic
    freq: pd.Timedelta
    weeks: float

    @classmethod
    def from_features(
        cls, features: pd.DataFrame, freq: pd.Timedelta | None = None
    ) -> StackedFeatures:
        for col in ("topic", "window_start"):
            if col not in features.columns:
                raise CalibrationError(f"features lack the column {col!r}")
        if features.empty:
            raise CalibrationError("features are empty: nothing to calibrate on")
        frame = features.copy()
        frame["window_start"] = to_utc(frame["window_start"])
        frame["topic"] = frame["topic"].astype(str)
        frame = frame.sort_values(["topic", "window_start"], kind="stable").reset_index(drop=True)
        topic_codes, topics = pd.factorize(frame["topic"], sort=True)
        counts = np.bincount(topic_codes, minlength=len(topics))
        offsets = np.concatenate([[0], np.cumsum(counts)])
        pos = np.arange(len(frame)) - np.repeat(offsets[:-1], counts)
        times = to_utc_ns(frame["window_start"])
        if freq is None:
            try:
                freq = infer_freq(frame)
            except ValueError as exc:
                raise CalibrationError(str(exc)) from None
        freq = pd.Timedelta(freq)
        span = (frame["window_start"].max() - frame["window_start"].min()) + freq
        weeks = max(span / pd.Timedelta(days=7), 1e-9)
        return cls(frame, tuple(str(t) for t in topics), offsets, times, pos, freq, float(weeks))

    def values(self, feature: str) -> np.ndarray:
        """Feature values as float; missing values can never escalate (−inf)."""
        if feature not in self.frame.columns:
            raise CalibrationError(f"feature {feature!r} is not in the features frame")
        x = pd.to_numeric(self.frame[feature], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        return np.where(np.isnan(x), -np.inf, x)

    def segments(self) -> list[slice]:
        return [slice(a, b) for a, b in zip(self.offsets[:-1], self.offsets[1:], strict=True)]

    def rows_between(self, topic: str, start_ns: np.ndarray, end_ns: np.ndarray) -> tuple:
        """Row index range [lo, hi) of windows with start_ns <= window_start <= end_ns."""
        i = self.topics.index(topic)
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        t = self.times[a:b]
        lo = a + np.searchsorted(t, start_ns, side="left")
        hi = a + np.searchsorted(t, end_ns, side="right")
        return lo, hi


def _trailing(values: np.ndarray, grid: StackedFeatures, size: int, how: str) -> np.ndarray:
    """Trailing rolling min/max over ``size`` windows ending at each row, within each topic."""
    from scipy.ndimage import maximum_filter1d, minimum_filter1d

    if size <= 1:
        return values.copy()
    out = np.empty_like(values)
    origin = (size - 1) // 2
    for seg in grid.segments():
        x = values[seg]
        if how == "min":
            out[seg] = minimum_filter1d(x, size, origin=origin, mode="constant", cval=np.inf)
        else:
            out[seg] = maximum_filter1d(x, size, origin=origin, mode="constant", cval=-np.inf)
    return out


def notification_intervals(
    values: np.ndarray, grid: StackedFeatures, persistence: int, cooldown: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per window the threshold interval ``[low, high)`` for which ``feature > t`` sends a
    notification there (persistence ``k``, cooldown ``c``); empty where ``low >= high``."""
    held = _trailing(values, grid, persistence, "min")
    held[grid.pos < persistence - 1] = -np.inf  # not yet k windows in this topic
    before = np.full_like(held, -np.inf)
    prior = _trailing(held, grid, cooldown + 1, "max")  # max over rows j-c .. j
    before[1:] = prior[:-1]
    before[grid.pos == 0] = -np.inf
    return before, held


def _count_covering(low: np.ndarray, high: np.ndarray, t: np.ndarray, weights=None) -> np.ndarray:
    """For each threshold in ``t``: number (or weight) of intervals ``[low, high)`` holding it."""
    ok = low < high
    low, high = low[ok], high[ok]
    if weights is None:
        return np.searchsorted(np.sort(low), t, "right") - np.searchsorted(
            np.sort(high), t, "right"
        )
    w = weights[ok]
    ol, oh = np.argsort(low, kind="stable"), np.argsort(high, kind="stable")
    cl = np.concatenate([[0.0], np.cumsum(w[ol])])
    ch = np.concatenate([[0.0], np.cumsum(w[oh])])
    return cl[np.searchsorted(low[ol], t, "right")] - ch[np.searchsorted(high[oh], t, "right")]


def _covered_groups(
    group: np.ndarray, low: np.ndarray, high: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """For each threshold: number of groups (incidents) whose union of intervals holds it."""
    ok = low < high
    group, low, high = group[ok], low[ok], high[ok]
    if len(group) == 0:
        return np.zeros(len(t), dtype=np.int64)
    order = np.lexsort((low, group))
    group, low, high = group[order], low[order], high[order]
    run_high = pd.Series(high).groupby(group).cummax().to_numpy()
    prev_high = np.concatenate([[-np.inf], run_high[:-1]])
    new_group = np.concatenate([[True], group[1:] != group[:-1]])
    starts_block = new_group | (low > prev_high)
    block = np.cumsum(starts_block) - 1
    b_low = low[starts_block]
    b_high = pd.Series(run_high).groupby(block).max().to_numpy()
    return np.searchsorted(np.sort(b_low), t, "right") - np.searchsorted(
        np.sort(b_high), t, "right"
    )


def _first_hits(low: np.ndarray, high: np.ndarray, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
    """For the windows ``rows`` (in time order) and each threshold: the index into ``rows`` of
    the first notification, or −1 when none."""
    if len(rows) == 0:
        return np.full(len(t), -1)
    lo, hi = low[rows][None, :], high[rows][None, :]
    hit = (lo <= t[:, None]) & (t[:, None] < hi)
    first = hit.argmax(axis=1)
    return np.where(hit.any(axis=1), first, -1)


# ------------------------------------------------------------------------------------------
# Incidents on the grid
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _IncidentRows:
    """Per incident: its topic, severity, the row range of its match window and of its span."""

    frame: pd.DataFrame  # incidents used (sorted), with lo/hi/span_lo/span_hi columns
    row_incident: np.ndarray  # for each row inside some match window: the incident number
    row_index: np.ndarray  # the row
    in_window: np.ndarray  # bool per grid row: inside any incident's match window


def _nothing_to_fit(features: pd.DataFrame, incidents: pd.DataFrame) -> str:
    """Why no incident can be fitted: none given, topics that differ, or times outside the
    features' span — with the figures a user needs to fix their inputs."""
    if len(incidents) == 0:
        return "no incident given: nothing to fit"
    topics = sorted(map(str, features["topic"].unique()))
    theirs = sorted(map(str, incidents["topic"].unique())) if "topic" in incidents else []
    shown = ", ".join(topics[:5]) + (", ..." if len(topics) > 5 else "")
    if not set(theirs) & set(topics):
        return (f"no incident is on a topic of the features (incident topics: "
                f"{', '.join(theirs[:5])}; feature topics: {shown}): nothing to fit")

    def span(values: pd.Series) -> str:
        times = to_utc(values)
        return f"{times.min():%Y-%m-%d %H:%M} to {times.max():%Y-%m-%d %H:%M} UTC"

    return (f"no incident falls within the features' time span (features: "
            f"{span(features['window_start'])}; incidents start "
            f"{span(incidents['started_at'])}): nothing to fit")


def _incident_rows(
    grid: StackedFeatures, incidents: pd.DataFrame, rules: MatchRules
) -> _IncidentRows:
    """Incidents mapped onto grid rows with BACKTEST's matching rule: a notification matches
    when its window overlaps ``[match_from, match_until]`` of ``rules``."""
    frame = prepare_incidents(incidents, rules=rules)
    frame = frame[frame["topic"].isin(grid.topics)]
    frame = frame.sort_values(["topic", "started_at"], kind="stable").reset_index(drop=True)
    n = len(frame)
    lo, hi = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    step = int(grid.freq.value)
    for topic, idx in frame.groupby("topic", sort=True).indices.items():
        start = to_utc_ns(frame["match_from"].iloc[idx]) - step + 1
        until = to_utc_ns(frame["match_until"].iloc[idx])
        lo[idx], hi[idx] = grid.rows_between(topic, start, until)
    # Like backtest's "not evaluated": an incident no window of its topic overlaps is left out.
    seen = hi > lo
    frame, lo, hi = frame[seen].reset_index(drop=True), lo[seen], hi[seen]
    n = len(frame)
    frame["_lo"], frame["_hi"] = lo, hi
    lengths = np.maximum(hi - lo, 0)
    row_incident = np.repeat(np.arange(n), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    row_index = (np.repeat(lo, lengths) + offsets).astype(np.int64)
    in_window = np.zeros(len(grid.times), dtype=bool)
    in_window[row_index] = True
    return _IncidentRows(frame, row_incident, row_index, in_window)


# ------------------------------------------------------------------------------------------
# NAB scoring weights (per row) for the vectorised NAB objective
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _NabRows:
    """Per grid row the NAB value of a detection there (BACKTEST's ``_nab`` rules)."""

    reward: np.ndarray  # inside a scored window: tp reward if it is the window's first detection
    fp: np.ndarray  # outside windows: the (negative) false-positive contribution
    window_of_row: np.ndarray  # window number per row, −1 outside; −1 also in probation
    scored: np.ndarray  # bool per row: after probation
    n_windows: int
    tp: float
    fn: float


def _nab_rows(grid: StackedFeatures, inc: _IncidentRows, profile: str) -> _NabRows:
    prof = get_profile(profile)
    n = len(grid.times)
    reward, fpw = np.zeros(n), np.zeros(n)
    window_of_row = np.full(n, -1)
    scored = np.zeros(n, dtype=bool)
    n_windows, next_id = 0, 0
    frame = inc.frame
    for ti, seg in enumerate(grid.segments()):
        topic = grid.topics[ti]
        mine = frame[frame["topic"] == topic]
        ts = pd.DatetimeIndex(pd.to_datetime(grid.times[seg], utc=True))
        # backtest's NAB windows: started_at .. match_until (ended_at, else started + 24 h, or
        # started + max_delay when given)
        ends = mine["match_until"]
        rows = window_rows(ts, list(zip(mine["started_at"], ends, strict=True)))
        nab_file = NabFile.from_rows(len(ts), rows)
        n_windows += nab_file.n_windows
        local = np.arange(len(ts))
        prev_right = np.full(len(ts), -1)
        prev_width = np.ones(len(ts))
        inside_any = np.zeros(len(ts), dtype=bool)
        for left, right in nab_file.windows:
            width = right - left + 1
            inside = (local >= left) & (local <= right)
            inside_any |= inside
            if right >= nab_file.probation:
                window_of_row[seg.start + left : seg.start + right + 1] = next_id
                next_id += 1
                y = -(right - local[inside] + 1) / width
                reward[seg.start + left : seg.start + right + 1] = (
                    prof.tp * scaled_sigmoid(y) / MAX_TP_SIGMOID
                )
            after = local > right
            prev_right[after] = right
            prev_width[after] = width
        y = np.where(prev_right >= 0, (local - prev_right) / np.maximum(prev_width - 1, 1), np.inf)
        fpw[seg] = np.where(inside_any, 0.0, prof.fp * scaled_sigmoid(y))
        live = local >= nab_file.probation
        scored[seg] = live
        fpw[seg] = np.where(live, fpw[seg], 0.0)
        window_of_row[seg] = np.where(live, window_of_row[seg], -1)
        reward[seg] = np.where(live, reward[seg], 0.0)
    return _NabRows(reward, fpw, window_of_row, scored, n_windows, prof.tp, prof.fn)


def _nab_sweep(
    low: np.ndarray, high: np.ndarray, nab: _NabRows, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw NAB score, windows detected and false-positive rows for each threshold."""
    counted = nab.scored & (nab.window_of_row < 0) & (nab.fp != 0)
    fp_score = _count_covering(low[counted], high[counted], t, nab.fp[counted])
    fp_rows = _count_covering(low[counted], high[counted], t)
    tp_score = np.full(len(t), -nab.fn * nab.n_windows)
    detected = np.zeros(len(t), dtype=np.int64)
    in_window = np.flatnonzero(nab.window_of_row >= 0)
    ids = nab.window_of_row[in_window]
    bounds = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1], True]) if len(ids) else []
    for a, b in itertools.pairwise(bounds):
        rows = in_window[a:b]
        first = _first_hits(low, high, rows, t)
        hit = first >= 0
        tp_score += np.where(hit, nab.reward[rows][np.maximum(first, 0)] + nab.fn, 0.0)
        detected += hit
    return tp_score + fp_score, detected, fp_rows


# ------------------------------------------------------------------------------------------
# The sweep for one (feature, persistence, cooldown)
# ------------------------------------------------------------------------------------------
def _threshold_candidates(values: np.ndarray, n: int) -> np.ndarray:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(0)
    # Upper half of the distribution, geometrically finer towards the top where alert
    # thresholds live; the maximum (never alert) is always a candidate.
    tail = np.geomspace(0.5, max(1.0 / finite.size, 1e-5), max(n - 1, 1))
    return np.unique(np.concatenate([np.quantile(finite, 1.0 - tail), [finite.max()]]))


def episode_extent(
    held: np.ndarray, grid: StackedFeatures, inc: _IncidentRows, cooldown: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """What the escalated time of one (feature, persistence, cooldown) needs, for any
    threshold: the held values sorted (windows escalated: held > t), the quiet windows' open
    thresholds sorted (quiet windows — outside every incident's match window — inside an open
    episode, the windows a cooldown bridges included: ``_tiers.open_thresholds``) and the
    number of quiet windows."""
    quiet = ~inc.in_window
    opened = open_thresholds(held, grid.segments(), cooldown)
    return np.sort(held), np.sort(opened[quiet]), int(quiet.sum())


def sweep(
    grid: StackedFeatures,
    inc: _IncidentRows,
    values: np.ndarray,
    thresholds: np.ndarray,
    persistence: int,
    cooldown: int,
    *,
    min_severity: int = 1,
    nab: _NabRows | None = None,
    extent: tuple[np.ndarray, np.ndarray, int] | None = None,
) -> pd.DataFrame:
    """Figures for every threshold of one (feature, persistence, cooldown): notifications,
    false alerts (notifications outside every incident's match window), incidents caught among
    those with severity ≥ ``min_severity``, windows escalated, the share of windows inside an
    open episode (``open_share``: see ``_tiers``) and, with ``nab``, the raw NAB score.
    ``extent``: :func:`episode_extent` of the same inputs (it does not depend on the tier)."""
    low, high = notification_intervals(values, grid, persistence, cooldown)
    t = np.asarray(thresholds, dtype=float)
    notifications = _count_covering(low, high, t)
    held_sorted, open_sorted, n_quiet = extent or episode_extent(high, grid, inc, cooldown)
    escalated = len(held_sorted) - np.searchsorted(held_sorted, t, side="right")
    open_windows = len(open_sorted) - np.searchsorted(open_sorted, t, side="right")
    open_share = open_windows / max(n_quiet, 1)
    outside = ~inc.in_window
    false_alerts = _count_covering(low[outside], high[outside], t)
    relevant = inc.frame["severity"].to_numpy() >= min_severity
    keep = relevant[inc.row_incident]
    caught = _covered_groups(
        inc.row_incident[keep], low[inc.row_index[keep]], high[inc.row_index[keep]], t
    )
    out = pd.DataFrame(
        {
            "threshold": t,
            "notifications": notifications,
            "false_alerts": false_alerts,
            "false_per_week": false_alerts / grid.weeks,
            "incidents": int(relevant.sum()),
            "caught": caught,
            "escalated": escalated,
            "open_share": open_share,
        }
    )
    out["recall"] = np.where(
        out["incidents"] > 0, out["caught"] / out["incidents"].clip(lower=1), np.nan
    )
    out["recall_low"], out["recall_high"] = wilson_bounds(
        out["caught"].to_numpy(), out["incidents"].to_numpy()
    )
    if nab is not None:
        raw, detected, fp_rows = _nab_sweep(low, high, nab, t)
        null, perfect = -nab.n_windows * nab.fn, nab.n_windows * nab.tp
        out["nab_raw"] = raw
        out["nab_score"] = 100.0 * (raw - null) / (perfect - null) if perfect > null else np.nan
        out["nab_detected"] = detected
        out["nab_false_rows"] = fp_rows
    return out


# ------------------------------------------------------------------------------------------
# Public API
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CalibrationResult:
    """The chosen policy and the trade-off frontier it was picked from.

    Attributes
    ----------
    policy : the chosen :class:`~esc_analytics.Policy`.
    frontier : one row per candidate on the frontier of each tier (not dominated in false
        notifications per week vs incidents caught): ``tier, feature, op, persistence,
        cooldown, threshold, notifications, false_alerts, false_per_week, incidents, caught,
        recall, median_detection_delay, median_lead_time, objective, chosen`` (+ ``nab_score``
        with the NAB objective). False alerts count notifications at tier ≥ k that match no
        incident (a conservative reading of a per-tier budget).
    candidates : every evaluated candidate (same columns, no delays).
    objective : ``recall``, ``cost`` or ``nab``.
    chosen : the frontier rows of the chosen thresholds (one per tier).
    backtest : the exact backtest of the chosen policy on the calibration data (None with
        ``run_backtest=False``).
    notes : what a user must know about the plan, one sentence each: tiers asked for but not
        written (and why), tiers kept at the plan's thresholds, conditions replaced.
    """

    policy: Policy
    frontier: pd.DataFrame
    candidates: pd.DataFrame
    objective: str
    chosen: pd.DataFrame
    backtest: Any = None
    settings: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def n_candidates(self) -> int:
        """Number of single-tier candidates evaluated (threshold × feature × grids × tiers)."""
        return len(self.candidates)

    def to_frame(self) -> pd.DataFrame:
        """The frontier (a copy)."""
        return self.frontier.copy()

    def summary(self) -> str:
        """Chosen thresholds per tier with their fit figures, the notes (tiers not written and
        why, conditions replaced), then the exact backtest."""
        lines = [
            f"calibration ({self.objective}): {self.n_candidates} candidates, "
            f"{len(self.frontier)} on the frontier"
        ]
        for row in self.chosen.itertuples(index=False):
            extra = f", NAB {row.nab_score:.1f}" if "nab_score" in self.chosen else ""
            # "<" / "<=" features are swept negated: print the value written into the policy
            value = row.threshold if row.op in (">", ">=") else -row.threshold
            rule = (
                f"{row.feature} {strict_op(row.op)} {value:.4g} "
                f"(for {row.persistence}, cooldown {row.cooldown})"
            )
            if "refractory" in self.chosen:  # the rank detector: its rule as swept
                rule = rank_rule_text(row)
            lines.append(
                f"  tier {row.tier}: {rule} -> caught "
                f"{row.caught}/{row.incidents}, {row.false_per_week:.2f} false/week{extra}"
            )
        lines.extend(note_lines(self.notes))
        if self.backtest is not None and hasattr(self.backtest, "summary"):
            lines.append("backtest of the chosen policy:")
            lines.extend("  " + s for s in str(self.backtest.summary()).splitlines())
        return "\n".join(lines)

    def plot(self, tier: int = 1, **kwargs: Any):
        """The frontier of one tier (false notifications/week vs incidents caught) with the
        chosen point: a plotly Figure."""
        from ..plots._frontier import calibration_figure

        return calibration_figure(self, tier=tier, **kwargs)


def note_lines(notes: Sequence[str]) -> list[str]:
    """The notes block of a calibration summary."""
    return ["notes:", *(f"  - {note}" for note in notes)] if notes else []


def _smooth(values: np.ndarray, half_width: int) -> np.ndarray:
    """Centred moving average over thresholds (NaN = infeasible stays NaN)."""
    if half_width <= 0 or len(values) < 2:
        return values
    filled = pd.Series(values)
    smoothed = filled.rolling(2 * half_width + 1, center=True, min_periods=1).mean()
    return np.where(np.isnan(values), np.nan, smoothed.to_numpy())


def false_alarm_budget(max_false_per_week: float | Mapping[int, float], tier: int) -> float:
    """Tier ``tier``'s budget of false notifications per week: one number for every tier, or
    a mapping tier -> budget (a tier missing takes the highest tier below it, else the
    smallest budget given)."""
    if isinstance(max_false_per_week, Mapping):
        known = {int(k): float(v) for k, v in max_false_per_week.items()}
        below = [k for k in known if k <= tier]
        return known[max(below)] if below else min(known.values())
    return float(max_false_per_week)


def pareto_mask(table: pd.DataFrame) -> np.ndarray:
    """Rows not dominated: no other row has ≤ false alerts and > caught (or < false, ≥ caught)."""
    order = np.lexsort((-table["caught"].to_numpy(), table["false_alerts"].to_numpy()))
    caught = table["caught"].to_numpy()[order]
    best_before = np.concatenate([[-1], np.maximum.accumulate(caught)[:-1]])
    keep = np.zeros(len(table), dtype=bool)
    keep[order] = caught > best_before
    return keep


def _check_grid(name: str, values: Sequence[int], minimum: int) -> tuple[int, ...]:
    try:
        out = tuple(sorted({int(v) for v in values}))
    except (TypeError, ValueError):
        raise CalibrationError(f"{name} must be whole numbers, got {values!r}") from None
    if not out or out[0] < minimum:
        raise CalibrationError(f"{name} needs values >= {minimum}, got {values!r}")
    return out


def strict_op(op: str) -> str:
    """The operator written into the policy: the sweep's thresholds are strict bounds."""
    return {">=": ">", "<=": "<"}.get(op, op)


def calibrate(
    features: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    template: Policy | None = None,
    n_tiers: int = 3,
    objective: str = "recall",
    max_false_per_week: float | Mapping[int, float] = 1.0,
    costs: Any = None,
    nab_profile: str = "standard",
    persistence_grid: Sequence[int] = (1, 2, 3),
    cooldown_grid: Sequence[int] = (0, 6, 24),
    feature_candidates: Sequence[str] | None = None,
    n_thresholds: int = 200,
    thresholds: Mapping[str, Sequence[float]] | None = None,
    max_early: str | pd.Timedelta = DEFAULT_MAX_EARLY,
    max_delay: str | pd.Timedelta | None = None,
    freq: str | pd.Timedelta | None = None,
    smoothing: int = 0,
    run_backtest: bool = True,
    min_incidents: int = 1,
    max_escalated_share: float = MAX_ESCALATED_SHARE,
) -> CalibrationResult:
    """Fit a tiered policy's thresholds, persistence and cooldown to an incident history.

    For every candidate detection feature (``feature_candidates``, default: those of
    ``DEFAULT_FEATURE_CANDIDATES`` present, or the template's features) and every persistence
    × cooldown of the grids, all ``n_thresholds`` thresholds (quantiles of the feature) are
    swept at once; each tier ``k`` gets the threshold that best serves the objective for the
    incidents of severity ≥ k among those strictly harder to reach than tier k−1 (a higher
    threshold, fewer windows escalated), and the feature/grid combination with the best total
    wins. A tier the log cannot separate (fewer than ``min_incidents`` incidents of its
    severity, or none caught by a harder rule worth its alarms) is left out with the reason in
    ``notes``; candidates keeping a tier escalated through more than ``max_escalated_share`` of
    the quiet windows are never chosen; thresholds are written with 3 significant digits,
    re-scored (``_tiers``). ``template``: the plan's tier names and owners and its measures as
    candidates — its conditions are *replaced*, each noted (:func:`esc_analytics.calibrate`
    fits a template's own thresholds instead, unless ``replace_conditions=True``).
    Objectives: ``recall`` (highest recall with false notifications
    per week ≤ ``max_false_per_week`` per tier), ``cost`` (lowest expected cost under
    ``costs``, a :class:`CostModel`), ``nab`` (highest NAB score, ``nab_profile``).
    ``smoothing`` > 0 picks by the objective averaged over that many neighbouring thresholds on
    each side (a flat optimum transfers better out of sample than a sharp peak). Incidents
    are matched as :func:`~esc_analytics.backtest` matches them (``max_early``, ``max_delay``:
    :class:`~esc_analytics.backtesting.MatchRules`).

    Objective ``nab`` with neither ``template``, ``feature_candidates`` nor ``thresholds``, on
    an incident log of one severity (NAB's windows) or with ``n_tiers=1``, fits the rank
    detector instead (``_detector``): one tier ``volume_rank_28d >= θ`` held p windows
    (``persistence_grid``), then a refractory of 12 h, 1 day or 2 days, cooldown 0, picked by
    the NAB score averaged over ±3 neighbouring thresholds (``cooldown_grid`` and
    ``smoothing`` do not apply)."""
    if objective not in OBJECTIVES:
        raise CalibrationError(
            f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}"
        )
    if not isinstance(features, pd.DataFrame) or not isinstance(incidents, pd.DataFrame):
        raise CalibrationError("features and incidents must be DataFrames")
    rules = MatchRules.of(max_early, max_delay)
    p_grid = _check_grid("persistence_grid", persistence_grid, 1)
    c_grid = _check_grid("cooldown_grid", cooldown_grid, 0)
    if objective == "nab" and template is None and feature_candidates is None and not thresholds:
        # NAB-style logs of one severity: the rank detector (_detector), or None to sweep
        fit = fit_rank_detector(
            features,
            incidents,
            rules=rules,
            nab_profile=nab_profile,
            n_tiers=n_tiers,
            persistence_grid=p_grid,
            freq=freq,
        )
        if fit is not None:
            bt = None
            if run_backtest:
                cost_model = costs if costs is not None else CostModel()
                bt = backtest_policy(
                    fit.policy, features, incidents, rules, cost_model, nab_profile
                )
            return CalibrationResult(
                fit.policy, fit.frontier, fit.candidates, objective, fit.chosen, bt, fit.settings
            )
    ops: dict[str, str] = {}
    names = dict(DEFAULT_TIER_NAMES)
    owners: dict[int, str] = {}
    if template is not None:
        n_tiers = len(template.tiers)
        for tier in template.tiers:
            names[tier.level], owners[tier.level] = tier.name, tier.owner
            for cond in tier.conditions:
                ops.setdefault(cond.feature, cond.op)
        if feature_candidates is None:
            feature_candidates = list(ops)
    if int(n_tiers) < 1:
        raise CalibrationError(f"n_tiers must be >= 1, got {n_tiers}")
    n_tiers = int(n_tiers)
    absent = dict(features.attrs.get(ABSENT_FEATURES_ATTR, {}))
    if feature_candidates is None:  # never fit a threshold on a measure the data lacks
        feature_candidates = [
            f
            for f in DEFAULT_FEATURE_CANDIDATES
            if (f in features.columns or is_detection_measure(f)) and f not in absent
        ]
    feature_candidates = list(dict.fromkeys(feature_candidates))
    lacking = [f for f in feature_candidates if f in absent]
    feature_candidates = [f for f in feature_candidates if f not in absent]
    if lacking and not feature_candidates:
        raise CalibrationError(
            f"the data does not carry {', '.join(lacking)} ({absent[lacking[0]]} it): a "
            "threshold on it cannot be fitted"
        )
    if not feature_candidates:
        raise CalibrationError(
            "no candidate detection feature in the features frame; pass feature_candidates="
        )
    computed = [f for f in feature_candidates if f not in features.columns]
    computed = [f for f in computed if is_detection_measure(f)]
    if computed:  # detection measures come from volume, as evaluate computes them
        features = add_detection_measures(features, computed, freq=freq)
    missing = [f for f in feature_candidates if f not in features.columns]
    if missing:
        raise CalibrationError(f"feature(s) {missing} not in the features frame")
    if costs is None:
        costs = CostModel()
    grid = StackedFeatures.from_features(features, None if freq is None else pd.Timedelta(freq))
    inc = _incident_rows(grid, incidents, rules)
    if len(inc.frame) == 0:
        raise CalibrationError(_nothing_to_fit(features, incidents))
    severities = inc.frame["severity"].to_numpy()
    nab_by_tier = {}
    if objective == "nab":
        for k in range(1, n_tiers + 1):
            sub = _IncidentRows(
                inc.frame[severities >= k], inc.row_incident, inc.row_index, inc.in_window
            )
            nab_by_tier[k] = _nab_rows(grid, sub, nab_profile)

    def miss(k: int) -> float:
        return float(costs.miss_cost(np.array([k]))[0]) if k >= 1 else 0.0

    def false_cost(k: int) -> float:
        return float(costs.false_alarm_cost(np.array([k]))[0]) if k >= 1 else 0.0

    tables = []
    raw_by_feature: dict[str, np.ndarray] = {}
    for feature in feature_candidates:
        op = ops.get(feature, ">")
        if op not in (">", ">="):  # "feature < t" is "−feature > −t"
            raw = -grid.values(feature)
            raw = np.where(np.isfinite(raw), raw, -np.inf)
        else:
            raw = grid.values(feature)
        raw_by_feature[feature] = raw
        if thresholds is not None and feature in thresholds:
            cand = np.unique(np.asarray(thresholds[feature], dtype=float))
            cand = -cand[::-1] if op not in (">", ">=") else cand
            finite = raw[np.isfinite(raw)]
            if cand.size and finite.size:  # never alerting is always a candidate
                cand = np.unique(np.r_[cand, max(finite.max(), cand.max())])
        else:
            cand = _threshold_candidates(raw, n_thresholds)
        if cand.size == 0:
            continue
        for p in p_grid:
            for c in c_grid:
                held = notification_intervals(raw, grid, p, c)[1]
                extent = episode_extent(held, grid, inc, c)  # the same for every tier
                for k in range(1, n_tiers + 1):
                    table = sweep(
                        grid, inc, raw, cand, p, c, min_severity=k, nab=nab_by_tier.get(k),
                        extent=extent,
                    )
                    if objective == "recall":
                        ok = table["false_per_week"] <= false_alarm_budget(max_false_per_week, k)
                        value = np.where(ok, table["recall"].fillna(0.0), np.nan)
                    elif objective == "cost":
                        missed = table["incidents"] - table["caught"]
                        value = -(
                            (miss(k) - miss(k - 1)) * missed
                            + (false_cost(k) - false_cost(k - 1)) * table["false_alerts"]
                        )
                    else:
                        value = table["nab_score"].fillna(0.0).to_numpy()
                    table["objective"] = value
                    table["score"] = _smooth(np.asarray(value, dtype=float), smoothing)
                    table.insert(0, "cooldown", c)
                    table.insert(0, "persistence", p)
                    table.insert(0, "op", op)
                    table.insert(0, "feature", feature)
                    table.insert(0, "tier", k)
                    tables.append(table)
    if not tables:
        raise CalibrationError("every candidate feature is empty (all missing values)")
    cands = pd.concat(tables, ignore_index=True)
    # Choose per (feature, persistence, cooldown): tier 1 the best candidate, each next tier
    # the best strictly harder one (_tiers.choose_nested_tiers); then the best combination.
    n_by_tier = {k: int((severities >= k).sum()) for k in range(1, n_tiers + 1)}

    def null_score(k: int) -> float:  # the objective of never paging tier k
        return -(miss(k) - miss(k - 1)) * n_by_tier[k] if objective == "cost" else 0.0

    best_combo, best_key, best_rows, best_reasons = None, None, None, {}
    for key, group in cands.groupby(["feature", "persistence", "cooldown"], sort=True):
        rows, reasons = choose_nested_tiers(
            group,
            n_tiers,
            null_score=null_score,
            objective=objective,
            budget=lambda k: false_alarm_budget(max_false_per_week, k),
            min_incidents=min_incidents,
            max_share=max_escalated_share,
        )
        if rows is None:
            continue
        total = float(cands.loc[rows, "score"].sum()) + sum(
            null_score(k) for k in range(len(rows) + 1, n_tiers + 1)
        )
        rank = (total, len(rows), -float(cands.loc[rows, "false_alerts"].sum()))
        if best_key is None or rank > best_key:
            best_combo, best_key, best_rows, best_reasons = key, rank, rows, reasons
    if best_rows is None:
        raise CalibrationError(
            "no candidate meets the false-alarm budget while keeping the plan escalated at "
            f"most {max_escalated_share:.0%} of the time; raise max_false_per_week"
        )
    cands["chosen"] = False
    cands.loc[best_rows, "chosen"] = True
    _readable_rows(cands, best_rows, grid, inc, raw_by_feature, nab_by_tier, max_escalated_share)
    plan_like = cands["open_share"].to_numpy() <= max_escalated_share
    frontier_mask = np.zeros(len(cands), dtype=bool)
    for _, idx in cands.groupby("tier").indices.items():
        idx = idx[plan_like[idx]]
        frontier_mask[idx[pareto_mask(cands.iloc[idx])]] = True
    frontier_mask[best_rows] = True
    frontier = cands[frontier_mask].copy()
    frontier = _add_delays(frontier, grid, inc)
    frontier = frontier.sort_values(["tier", "false_alerts", "caught"], kind="stable")
    frontier = frontier.reset_index(drop=True)
    chosen = frontier[frontier["chosen"]].sort_values("tier").reset_index(drop=True)

    feature, p, c = best_combo
    tiers = []
    for row in chosen.itertuples(index=False):
        value = float(row.threshold)
        op = row.op
        if op not in (">", ">="):
            value = -value
        tiers.append(
            Tier(
                level=int(row.tier),
                name=names.get(int(row.tier), f"tier {row.tier}"),
                owner=owners.get(int(row.tier), "on-call"),
                all=(Condition(feature, strict_op(op), value),),
                persistence=int(p),
                cooldown=int(c),
            )
        )

    def plan(tiers: Sequence[Tier]) -> Policy:
        return Policy(
            tiers=tuple(tiers),
            name=(
                f"{template.name} (calibrated)"
                if template is not None and template.name
                else "calibrated"
            ),
            description=(
                f"calibrated on {len(inc.frame)} incidents, objective {objective}"
                + (f" ({nab_profile})" if objective == "nab" else "")
                + (f"; {len(tiers)} of the {n_tiers} tiers asked" if len(tiers) < n_tiers
                   else "")
            ),
        )

    policy = plan(tiers)
    bt = None
    if run_backtest:
        nab = nab_profile if objective == "nab" else None
        bt = backtest_policy(policy, features, incidents, rules, costs, nab)
        # The sweep scores each tier's rule on its own; in the plan as a whole a tier's page
        # can fall in an episode the tier already paged (linked through lower-tier windows
        # within the cooldown). A tier that then catches none of its incidents is dropped.
        while len(tiers) > 1:
            figures = bt.tiers.set_index("tier")
            silent = [
                k for k in range(2, len(tiers) + 1)
                if k in figures.index and figures.at[k, "incidents"] > 0
                and figures.at[k, "caught"] == 0
            ]
            if not silent:
                break
            k = min(silent)
            best_reasons = {
                k: f"in the plan as a whole it catches none of the "
                f"{_plural(int(figures.at[k, 'incidents']), 'incident')} of severity >= {k}: "
                "its pages fall in episodes that already reached it (the lower tiers keep "
                "them open through the cooldown)"
            }
            tiers = tiers[: k - 1]
            for table in (cands, frontier):
                table.loc[table["tier"] >= k, "chosen"] = False
            chosen = chosen[chosen["tier"] < k].reset_index(drop=True)
            policy = plan(tiers)
            bt = backtest_policy(policy, features, incidents, rules, costs, nab)
    notes = _tier_notes(tiers, n_tiers, best_reasons, template)
    if bt is not None and len(bt.tiers) and int(bt.tiers["caught"].iloc[0]) == 0:
        n_1 = int(bt.tiers["incidents"].iloc[0])
        why = (
            f"no rule keeps within the false-alarm budget of "
            f"{false_alarm_budget(max_false_per_week, 1):g}/week and catches one (raise "
            "max_false_per_week, or try objective cost or nab)"
            if objective == "recall"
            else "check that the incidents' topics and times match the features"
        )
        notes.insert(0, f"tier 1 catches none of the {_plural(n_1, 'incident')}: {why}")
    settings = {
        "n_tiers": n_tiers,
        "max_false_per_week": max_false_per_week,
        "nab_profile": nab_profile,
        "max_early": rules.max_early,
        "max_delay": rules.max_delay,
        "feature_candidates": tuple(feature_candidates),
        "persistence_grid": p_grid,
        "cooldown_grid": c_grid,
        "min_incidents": min_incidents,
        "max_escalated_share": max_escalated_share,
    }
    return CalibrationResult(
        policy, frontier, cands, objective, chosen, bt, settings, notes=tuple(notes)
    )


def _readable_rows(
    cands: pd.DataFrame,
    rows: Sequence[Any],
    grid: StackedFeatures,
    inc: _IncidentRows,
    raw_by_feature: Mapping[str, np.ndarray],
    nab_by_tier: Mapping[int, _NabRows],
    max_share: float,
) -> None:
    """The chosen thresholds as a person would type them (``_tiers``), each re-scored: 3
    significant digits when the tier then catches as many incidents with as many false alerts
    (and the same NAB score) and stays strictly between its neighbours; else the rounding
    that keeps every window on its side. The chosen rows of ``cands`` are updated in place."""
    below_t, below_esc = -np.inf, np.inf
    for i, row in enumerate(rows):
        fit = cands.loc[row]
        raw = raw_by_feature[fit["feature"]]
        t, k = float(fit["threshold"]), int(fit["tier"])
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        above_t = np.inf if nxt is None else float(cands.at[nxt, "threshold"])
        above_esc = -1 if nxt is None else int(cands.at[nxt, "escalated"])
        safe = readable_threshold(t, next_value(raw, t, "up"), "up")
        options = [*rounding_options(t), safe]
        table = sweep(
            grid, inc, raw, np.array(options), int(fit["persistence"]), int(fit["cooldown"]),
            min_severity=k, nab=nab_by_tier.get(k),
        )
        for j, option in enumerate(options):
            got = table.iloc[j]
            same = got["caught"] == fit["caught"] and got["false_alerts"] == fit["false_alerts"]
            if "nab_score" in table:
                a, b = float(got["nab_score"]), float(fit["nab_score"])
                same = same and (abs(a - b) <= 1e-9 or (np.isnan(a) and np.isnan(b)))
            ordered = below_t < option < above_t and above_esc < got["escalated"] < below_esc
            if (same and ordered and got["open_share"] <= max_share) or j == len(options) - 1:
                break
        for column in table.columns:
            cands.at[row, column] = got[column]
        below_t, below_esc = float(got["threshold"]), int(got["escalated"])


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _tier_notes(
    tiers: Sequence[Tier], n_tiers: int, reasons: Mapping[int, str], template: Policy | None
) -> list[str]:
    """Tiers asked for but not written, and why; with a template, each tier whose conditions
    were replaced (its name and owner now go with the new rule) or left out."""
    notes = []
    written = len(tiers)
    if written < n_tiers:
        k = written + 1
        above = "" if k == n_tiers else (
            f" (nor tier {n_tiers})" if k + 1 == n_tiers else f" (nor tiers {k + 1}-{n_tiers})"
        )
        below = tiers[-1]
        reason = reasons.get(k, "the history cannot separate it").format(
            below=f"{below.describe_conditions()} for {below.persistence}, cooldown "
            f"{below.cooldown}"
        )
        notes.append(
            f"tier {k} not written{above}: {reason}; incidents of severity >= {k} count as "
            f"tier {written}"
        )
    if template is not None:
        for old in template.tiers:
            label = f"tier {old.level}" + (f" {old.name!r}" if old.name else "")
            if old.level <= written:
                new = tiers[old.level - 1]
                notes.append(
                    f"{label}: the plan's conditions ({old.describe_conditions()}) are replaced "
                    f"by {new.describe_conditions()} for {new.persistence}, cooldown "
                    f"{new.cooldown}"
                )
            else:
                notes.append(f"{label} is left out of the calibrated plan (see above)")
    return notes


def backtest_policy(
    policy: Policy,
    features: pd.DataFrame,
    incidents: pd.DataFrame,
    rules: MatchRules,
    costs: CostModel,
    nab_profile: str | None,
) -> BacktestResult:
    """The exact backtest (``evaluate`` + ``backtest``) of a calibrated policy on its
    calibration data, matching incidents by the calibration's ``rules``."""
    return backtest(
        evaluate(policy, features),
        incidents,
        max_early=rules.max_early,
        max_delay=rules.max_delay,
        costs=costs,
        nab_profile=nab_profile,
    )


def _add_delays(frontier: pd.DataFrame, grid: StackedFeatures, inc: _IncidentRows) -> pd.DataFrame:
    """Median detection delay (first alert − started_at) and lead time (detected_at or
    escalated_at − first alert) of the caught incidents, for each frontier row."""
    frame = inc.frame
    delay = np.full(len(frontier), np.nan)
    lead = np.full(len(frontier), np.nan)
    started = to_utc_ns(frame["started_at"])
    noticed = frame["detected_at"].fillna(frame["escalated_at"])
    has_noticed = noticed.notna().to_numpy()
    noticed_ns = np.where(has_noticed, to_utc_ns(noticed.fillna(frame["started_at"])), 0)
    step = grid.freq.value
    fvals: dict[str, np.ndarray] = {}
    for (feature, op, p, c, k), idx in frontier.groupby(
        ["feature", "op", "persistence", "cooldown", "tier"], sort=False
    ).indices.items():
        if feature not in fvals:
            v = grid.values(feature)
            fvals[feature] = v if op in (">", ">=") else np.where(np.isfinite(-v), -v, -np.inf)
        low, high = notification_intervals(fvals[feature], grid, int(p), int(c))
        t = frontier["threshold"].to_numpy()[idx]
        first_ns = np.full((len(t), len(frame)), np.nan)
        for i in np.flatnonzero(frame["severity"].to_numpy() >= k):
            rows = np.arange(frame.at[i, "_lo"], frame.at[i, "_hi"])
            hit = _first_hits(low, high, rows, t)
            ok = hit >= 0
            first_ns[ok, i] = grid.times[rows[hit[ok]]] + step
        d = (first_ns - started[None, :]) / 1e9
        lt = np.where(has_noticed[None, :], (noticed_ns[None, :] - first_ns) / 1e9, np.nan)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            delay[idx] = np.nanmedian(d, axis=1)
            lead[idx] = np.nanmedian(lt, axis=1)
    out = frontier.copy()
    out["median_detection_delay"] = pd.to_timedelta(delay, unit="s")
    out["median_lead_time"] = pd.to_timedelta(lead, unit="s")
    return out
