"""A readiness check before any fit: is this history enough to calibrate a plan on, and where
will the figures mislead?

Per topic it reports how much history there is against the baselines' warm-up, how often the
baseline is zero (a quiet topic, where ``volume_ratio`` explodes on a handful of posts), the
incidents and how many start in warm-up; per severity how many incidents there are to fit a
tier on; which measures the data lacks. Each finding comes with what it means for the fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._util.errors import DataLoadError
from .._util.format import format_hours
from .._util.schema import infer_freq
from .._util.stats import wilson_interval
from .._util.times import to_utc
from ..backtesting._backtest import mark_evaluated, prepare_incidents
from ..features._baselines import WARM_UP
from ..features._build import ABSENT_FEATURES_ATTR

SEASONAL_HISTORY = pd.Timedelta(days=3)  # the same-hour baseline needs three earlier days
QUIET_BASELINE_SHARE = 0.2  # above this share of windows with a zero baseline, ratios mislead
FEW_INCIDENTS = 3  # fewer incidents than this at a severity: its threshold is a guess

TOPIC_COLUMNS = (
    "topic",
    "windows",
    "first_window",
    "last_window",
    "history_days",
    "warm_up_windows",
    "zero_baseline_share",
    "max_volume_ratio",
    "incidents",
    "incidents_in_warm_up",
)


@dataclass(frozen=True)
class HistoryCheck:
    """What :func:`check_history` found: per-topic and per-severity tables, the measures the
    data lacks, and findings in plain words (``notes``; ``blocking`` ones stop a fit)."""

    topics: pd.DataFrame
    severities: pd.DataFrame
    absent_measures: dict[str, str]
    notes: tuple[str, ...]
    blocking: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when nothing stops a fit (the notes may still call for care)."""
        return not self.blocking

    def to_frame(self) -> pd.DataFrame:
        """The per-topic table."""
        return self.topics.copy()

    def summary(self) -> str:
        """A readable report: the headline, each finding, then the per-severity counts."""
        n_topics = len(self.topics)
        span = self.topics["history_days"].max() if n_topics else 0.0
        lines = [
            f"history: {n_topics} topic(s), up to {span:.1f} days; "
            f"{int(self.topics['incidents'].sum()) if n_topics else 0} incident(s) on them"
        ]
        counts = ", ".join(
            f"severity {int(r.severity)}: {int(r.incidents)}" for r in self.severities.itertuples()
        )
        if counts:
            lines.append(f"incidents per severity: {counts}")
        for note in self.blocking:
            lines.append(f"  stop: {note}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        if self.ok and not self.notes:
            lines.append("  nothing stands in the way of a fit")
        return "\n".join(lines)


def _topic_table(
    features: pd.DataFrame, incidents: pd.DataFrame, step: pd.Timedelta
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"topic": features["topic"].astype(str), "t": to_utc(features["window_start"])}
    )
    first = frame.groupby("topic", sort=True)["t"].transform("min")
    frame["warm"] = (frame["t"] - first) < WARM_UP
    frame["zero_base"] = (
        pd.to_numeric(features["baseline_volume"], errors="coerce").fillna(0).to_numpy() <= 0
        if "baseline_volume" in features
        else False
    )
    frame["ratio"] = (
        pd.to_numeric(features["volume_ratio"], errors="coerce").to_numpy()
        if "volume_ratio" in features
        else np.nan
    )
    grouped = frame.groupby("topic", sort=True)
    table = pd.DataFrame(
        {
            "windows": grouped.size(),
            "first_window": grouped["t"].min(),
            "last_window": grouped["t"].max(),
            "warm_up_windows": grouped["warm"].sum().astype(int),
            "zero_baseline_share": grouped["zero_base"].mean(),
            "max_volume_ratio": grouped["ratio"].max(),
        }
    )
    table["history_days"] = (table["last_window"] + step - table["first_window"]) / pd.Timedelta(
        days=1
    )
    inc = incidents.assign(topic=incidents["topic"].astype(str))
    starts = inc["topic"].map(table["first_window"]).astype(table["first_window"].dtype)
    inc = inc[_evaluated(inc, table, step)]
    in_warm = (inc["started_at"] < starts[inc.index] + WARM_UP).to_numpy(dtype=bool)
    table["incidents"] = inc.groupby("topic").size().reindex(table.index, fill_value=0)
    table["incidents_in_warm_up"] = (
        inc[in_warm].groupby("topic").size().reindex(table.index, fill_value=0)
    )
    return table.reset_index()[list(TOPIC_COLUMNS)]


def _names(topics: pd.Series, limit: int = 5) -> str:
    names = [str(t) for t in topics]
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _evaluated(incidents: pd.DataFrame, spans: pd.DataFrame, step: pd.Timedelta) -> np.ndarray:
    """Per prepared incident: whether a backtest evaluates it (``mark_evaluated``, the
    backtest's own rule) given each topic's ``first_window`` and ``last_window`` (``spans``
    indexed by topic)."""
    coverage = spans[["first_window", "last_window"]].set_axis(["min", "max"], axis=1)
    return mark_evaluated(incidents.copy(), coverage, step)["evaluated"].to_numpy(dtype=bool)


def _evaluable_ids(incidents: pd.DataFrame, topics: pd.DataFrame, step: pd.Timedelta) -> set:
    inside = _evaluated(incidents, topics.set_index("topic"), step)
    return set(incidents.loc[inside, "incident_id"])


def check_history(
    features: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    n_tiers: int | None = None,
    freq: str | pd.Timedelta | None = None,
) -> HistoryCheck:
    """Check that ``features`` (one row per topic × window) and ``incidents`` can support a
    calibrated plan of ``n_tiers`` tiers (default: the highest severity), before fitting one.

    Returns a :class:`HistoryCheck` whose ``summary()`` says, per finding, what it means for
    the fit: short histories and warm-up, quiet topics with zero baselines, incidents in
    warm-up or on topics without data, severities with too few incidents, absent measures."""
    if not isinstance(features, pd.DataFrame) or not isinstance(incidents, pd.DataFrame):
        raise DataLoadError("check_history needs the features and incidents as DataFrames")
    missing = [c for c in ("topic", "window_start", "volume") if c not in features.columns]
    if missing:
        raise DataLoadError(f"features lack the columns {missing}", source="features")
    if features.empty:
        raise DataLoadError("the features are empty: nothing to check", source="features")
    inc = prepare_incidents(incidents)
    step = pd.Timedelta(freq) if freq is not None else infer_freq(features)
    topics = _topic_table(features, inc, step)
    levels = int(n_tiers) if n_tiers is not None else int(inc["severity"].max() if len(inc) else 1)
    if levels < 1:
        raise DataLoadError(f"n_tiers must be >= 1, got {n_tiers}")
    known_topics = set(topics["topic"])
    on_known = inc[inc["topic"].isin(known_topics)]
    severities = pd.DataFrame(
        {
            "severity": np.arange(1, levels + 1),
            "incidents": [int((on_known["severity"] == k).sum()) for k in range(1, levels + 1)],
            "at_or_above": [int((on_known["severity"] >= k).sum()) for k in range(1, levels + 1)],
        }
    )
    absent = dict(features.attrs.get(ABSENT_FEATURES_ATTR, {}))
    notes: list[str] = []
    blocking: list[str] = []
    if on_known.empty:
        blocking.append(
            "no incident falls on a topic of the features: there is nothing to fit thresholds "
            f"on (incident topics: {', '.join(sorted(set(inc['topic']))[:5]) or 'none'}; "
            f"feature topics: {', '.join(sorted(known_topics)[:5])})"
        )
    short = topics[topics["history_days"] < SEASONAL_HISTORY / pd.Timedelta(days=1)]
    if len(short):
        shortest = format_hours(short["history_days"].min() * 24)
        notes.append(
            f"{_names(short['topic'])}: {shortest} of history or less; a topic's first "
            f"{format_hours(WARM_UP / pd.Timedelta(hours=1))} are warm-up (no baseline, no "
            "alert) and the same-hour baseline needs 3 days, so volume_ratio and volume_z "
            "compare with a rough median there: prefer volume_rank_28d or more history"
        )
    for row in topics.itertuples():
        if row.zero_baseline_share > QUIET_BASELINE_SHARE:
            notes.append(
                f"{row.topic}: the baseline is 0 in {row.zero_baseline_share:.0%} of windows (a "
                "quiet topic), so volume_ratio = volume + 1 there and a handful of posts looks "
                f"like a surge (up to {row.max_volume_ratio:.0f}x): use volume_rank_28d or a "
                "min_volume"
            )
        if row.incidents_in_warm_up:
            notes.append(
                f"{row.topic}: {row.incidents_in_warm_up} incident(s) start in the topic's "
                "first day of data (warm-up): no measure that compares with the past can catch "
                "them, so they count as missed"
            )
    orphan = sorted(set(inc["topic"]) - known_topics)
    if orphan and not on_known.empty:
        notes.append(
            f"incidents on {len(orphan)} topic(s) without features ({', '.join(orphan[:5])}) "
            "are not evaluated"
        )
    outside = len(on_known) - int(topics["incidents"].sum())
    if outside:
        notes.append(
            f"{outside} incident(s) lie outside their topic's time span in the features: not "
            "evaluated (give the history that covers them)"
        )
    on_known = on_known[on_known["incident_id"].isin(_evaluable_ids(on_known, topics, step))]
    if on_known.empty and not blocking:
        blocking.append(
            "no incident falls inside the features' time span: there is nothing to fit "
            "thresholds on"
        )
    severities = pd.DataFrame(
        {
            "severity": np.arange(1, levels + 1),
            "incidents": [int((on_known["severity"] == k).sum()) for k in range(1, levels + 1)],
            "at_or_above": [int((on_known["severity"] >= k).sum()) for k in range(1, levels + 1)],
        }
    )
    for row in severities.itertuples() if not blocking else ():
        if row.at_or_above == 0:
            notes.append(
                f"tier {row.severity}: no incident of severity {row.severity} or above, so its "
                "thresholds cannot be fitted — calibrate keeps the plan's values or fewer tiers"
            )
        elif row.at_or_above < FEW_INCIDENTS:
            low, high = wilson_interval(row.at_or_above, row.at_or_above)
            notes.append(
                f"tier {row.severity}: only {row.at_or_above} incident(s) at severity "
                f"{row.severity} or above; even catching all of them, recall could be anywhere "
                f"from {low:.0%} to {high:.0%} on new incidents (95% Wilson interval): treat its "
                "threshold as a first guess"
            )
    for measure, why in sorted(absent.items()):
        notes.append(f"{measure}: {why} it; a threshold on it cannot be fitted")
    return HistoryCheck(
        topics=topics,
        severities=severities,
        absent_measures=absent,
        notes=tuple(notes),
        blocking=tuple(blocking),
    )
