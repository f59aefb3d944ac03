"""Mentions → Features: per topic × window measures and baselines computed from the past only.

Measures (``FEATURE_MEASURES``) count what happened in a window; baselines
(``FEATURE_BASELINES``) say what was *expected* there, learned from earlier windows only, so
that appending later data never changes an earlier window's features.

Conventions (shared by the pandas path here and the DuckDB path in ``_duckdb``):

* a window is ``[window_start, window_start + freq)`` with ``window_start`` = the event time
  floored to a multiple of ``freq`` since the Unix epoch (what ``Timestamp.floor(freq)`` does in
  UTC); ``freq`` is a fixed length of whole seconds (``"5min"``, ``"1h"``, ``"1D"``...);
* every topic gets every window from the global first to the global last window (empty = 0),
  rows sorted by ``(topic, window_start)``;
* a measure whose source column is absent (no ``author``, no ``sentiment``...) is 0, never NaN;
  a missing cell counts as 0 followers / engagement, an unknown sentiment is not negative.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .._util.errors import DataLoadError
from .._util.schema import (
    DEFAULT_INFLUENCER_FOLLOWERS,
    FEATURE_BASELINES,
    FEATURE_KEYS,
    FEATURE_MEASURES,
    NEGATIVE_SENTIMENT_BAR,
    infer_freq,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..io._load import LoadSummary

__all__ = [
    "PLANNED_EVENT_COLUMN",
    "AggregateResult",
    "add_baselines",
    "aggregate_files",
    "aggregate_mentions",
    "build_features",
    "features_from_series",
    "rolling_negative_share",
    "topic_overview",
    "window_length",
]

#: Extra boolean column of Features: the window overlaps a planned event (kept out of baselines).
PLANNED_EVENT_COLUMN = "planned_event"

_US_PER_SECOND = 1_000_000
_DAY_US = 86_400 * _US_PER_SECOND
_WEEK_US = 7 * _DAY_US
# Largest dense grid (topics × windows) built in memory: a guard against a stray timestamp in
# 1970 turning a month of 5-minute data into billions of empty windows.
_MAX_GRID_CELLS = 50_000_000

# Baseline parameters (counts of earlier baseline-eligible windows).
_DAILY_LOOKBACK = 7  # same slot of day, previous 7 days
_DAILY_MIN = 3
_WEEKLY_LOOKBACK = 4  # same slot of week, previous 4 weeks
_WEEKLY_MIN = 2
_SPREAD_LOOKBACK_DAYS = 7  # MAD of residuals and negative-share baseline: previous 7 days
_MAD_TO_SIGMA = 1.4826
_WINDOW_DTYPE = "datetime64[us, UTC]"


@dataclass(frozen=True)
class AggregateResult:
    """What :func:`aggregate_files` returns: the features, the load summary (rows read,
    accepted, quarantined by reason) and the quarantined rows (``QUARANTINE_COLUMNS``)."""

    features: pd.DataFrame
    summary: LoadSummary
    quarantine: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The features frame (one row per topic × window)."""
        return self.features

    def summary_text(self) -> str:
        """One line: ``read N, accepted A, quarantined Q (reason: n, ...)``."""
        return str(self.summary)


# --- windows ---------------------------------------------------------------------------------


#: Key of ``features.attrs``: ``{feature: "why it is absent"}`` for measures the input did not
#: carry (set by :func:`mark_absent_features`, read by :func:`evaluate`).
ABSENT_FEATURES_ATTR = "absent_features"

#: Measure columns of Features -> the mention columns they are computed from. A measure is
#: carried when one of these (or the measure itself, as in a pre-aggregated series) has data;
#: every other column (volume, its baselines, ratios and burst levels) needs only volume.
FEATURE_INPUTS: dict[str, tuple[str, ...]] = {
    "negative_volume": ("sentiment",),
    "negative_share": ("sentiment", "negative_volume"),
    "negative_share_change": ("sentiment", "negative_volume"),
    "negative_share_rolling": ("sentiment", "negative_volume"),
    "unique_authors": ("author",),
    "reach": ("author_followers",),
    "engagement": ("engagement",),
    "influencer_mentions": ("author_followers", "is_verified"),
}


def mark_absent_features(
    features: pd.DataFrame,
    carried: Collection[str] | pd.DataFrame,
    kind: Literal["mentions", "series"] = "mentions",
) -> pd.DataFrame:
    """Record in ``features.attrs`` which measures of ``FEATURE_INPUTS`` the input could not
    provide (``carried``: the input's columns that hold data, or the input itself), so that
    :func:`evaluate` warns when a policy reads one of those filler columns. Returns
    ``features`` (marked in place)."""
    if isinstance(carried, pd.DataFrame):
        carried = [c for c in carried.columns if carried[c].notna().any()]
    have = set(carried)
    absent: dict[str, str] = {}
    for feature, inputs in FEATURE_INPUTS.items():
        if feature in have or have.intersection(inputs):
            continue
        if kind == "series":
            absent[feature] = "volume series do not carry"
        else:
            sources = [c for c in inputs if c not in FEATURE_INPUTS or c == feature]
            absent[feature] = (
                f"the mentions do not carry (no {' or '.join(sources)} column)"
            )
    features.attrs[ABSENT_FEATURES_ATTR] = absent
    return features


def window_length(freq: str | pd.Timedelta | Any) -> pd.Timedelta:
    """Validate a window length (``"1h"``, ``"5min"``, ``pd.Timedelta(...)``) and return it.

    It must be a fixed, positive, whole number of seconds (calendar lengths such as ``"MS"``
    have no fixed length and cannot be floored from the epoch)."""
    try:
        if isinstance(freq, str | pd.Timedelta | np.timedelta64):
            try:
                length = pd.Timedelta(freq)
            except ValueError:
                length = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
        else:
            length = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    except (ValueError, TypeError) as exc:
        raise DataLoadError(
            f"freq {freq!r} is not a fixed window length; use e.g. '5min', '1h', '1D'"
        ) from exc
    if pd.isna(length) or length <= pd.Timedelta(0):
        raise DataLoadError(f"freq {freq!r} must be a positive window length, e.g. '1h'")
    if length.value % 1_000_000_000:
        raise DataLoadError(f"freq {freq!r} must be a whole number of seconds, e.g. '30s', '1h'")
    return length


def _utc_times(values: pd.Series, what: str) -> pd.Series:
    """A datetime column as tz-aware UTC (naive = UTC), raising on non-datetime or NaT."""
    if not pd.api.types.is_datetime64_any_dtype(values):
        try:
            values = pd.to_datetime(values, utc=True, format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise DataLoadError(
                "not datetimes; load the data with esc_analytics.load_mentions / load_series",
                column=what,
            ) from exc
    elif values.dt.tz is None:
        values = values.dt.tz_localize("UTC")
    else:
        values = values.dt.tz_convert("UTC")
    missing = values.isna().to_numpy()
    if missing.any():
        lines = np.flatnonzero(missing)[:5] + 1
        raise DataLoadError(
            f"{int(missing.sum())} missing times (rows {', '.join(map(str, lines))}...); "
            "load the data with esc_analytics.load_mentions to quarantine them",
            column=what,
        )
    return values


def _epoch_us(times: pd.Series) -> np.ndarray:
    """Microseconds since the Unix epoch of a tz-aware column."""
    if len(times) == 0:
        return np.empty(0, dtype="i8")
    return pd.DatetimeIndex(times).tz_convert("UTC").as_unit("us").asi8


def _floor(us: np.ndarray, step: int) -> np.ndarray:
    """Floor epoch microseconds to a multiple of ``step`` (towards -inf, like Timestamp.floor)."""
    return us - np.mod(us, step)


def _to_window_start(us: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.asarray(us, dtype="i8").view("datetime64[us]"), tz="UTC")


def _check_grid(n_topics: int, n_windows: int, step: pd.Timedelta) -> None:
    if n_topics * n_windows > _MAX_GRID_CELLS:
        raise DataLoadError(
            f"{n_topics} topics × {n_windows} windows of {step} is too large a grid; "
            "check for stray timestamps far from the rest or use a longer freq"
        )


# --- measures --------------------------------------------------------------------------------


def _numeric(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A count column as float64 with missing = 0 (absent column = all 0)."""
    if column not in frame:
        return np.zeros(len(frame))
    values = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return values.fillna(0.0).to_numpy()


def _truthy(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A boolean-like column (bool, 0/1, "true"/"yes"...) as bool, missing = False."""
    if column not in frame:
        return np.zeros(len(frame), dtype=bool)
    values = frame[column]
    if pd.api.types.is_bool_dtype(values):
        return values.fillna(False).to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(values):
        return (values.fillna(0) != 0).to_numpy(dtype=bool)
    text = values.astype("str").str.strip().str.lower()
    return text.isin(("true", "t", "yes", "y", "1")).to_numpy(dtype=bool)


def aggregate_mentions(
    mentions: pd.DataFrame,
    *,
    freq: str | pd.Timedelta = "1h",
    influencer_followers: float = DEFAULT_INFLUENCER_FOLLOWERS,
) -> pd.DataFrame:
    """Count mentions per topic × window: ``topic, window_start`` + ``FEATURE_MEASURES``.

    Empty windows are zeros; every topic spans the global first to last window. An influencer
    mention has ``author_followers >= influencer_followers`` or ``is_verified``."""
    if not isinstance(mentions, pd.DataFrame):
        raise DataLoadError(f"mentions must be a DataFrame, got {type(mentions).__name__}")
    if "created_at" not in mentions:
        raise DataLoadError("mentions have no created_at column", column="created_at")
    step = window_length(freq)
    threshold = _check_threshold(influencer_followers)
    times = _utc_times(mentions["created_at"], "created_at")
    if "topic" in mentions:
        topics = mentions["topic"].astype("str").fillna("")
    else:
        from .._util.schema import DEFAULT_TOPIC

        topics = pd.Series(DEFAULT_TOPIC, index=mentions.index, dtype="str")
    step_us = step.value // 1000
    windows = _floor(_epoch_us(times), step_us)
    if len(mentions) == 0:
        return _empty_measures()
    topic_codes, topic_names = pd.factorize(topics, sort=True)
    first, last = int(windows.min()), int(windows.max())
    n_windows = (last - first) // step_us + 1
    _check_grid(len(topic_names), n_windows, step)
    cell = topic_codes.astype("i8") * n_windows + (windows - first) // step_us
    size = len(topic_names) * n_windows

    sentiment = (
        pd.to_numeric(mentions["sentiment"], errors="coerce").to_numpy(dtype="float64")
        if "sentiment" in mentions
        else np.full(len(mentions), np.nan)
    )
    negative = np.nan_to_num(sentiment, nan=np.inf) <= NEGATIVE_SENTIMENT_BAR
    followers = _numeric(mentions, "author_followers")
    influencer = (followers >= threshold) | _truthy(mentions, "is_verified")

    volume = np.bincount(cell, minlength=size)
    negative_volume = np.bincount(cell[negative], minlength=size)
    reach = np.bincount(cell, weights=followers, minlength=size)
    engagement = np.bincount(cell, weights=_numeric(mentions, "engagement"), minlength=size)
    influencers = np.bincount(cell[influencer], minlength=size)
    if "author" in mentions:
        authors = mentions["author"]
        known = authors.notna().to_numpy()
        author_codes = pd.factorize(authors)[0].astype("i8")
        pairs = np.unique(np.stack([cell[known], author_codes[known]], axis=1), axis=0)
        unique_authors = (
            np.bincount(pairs[:, 0], minlength=size) if len(pairs) else np.zeros(size, dtype="i8")
        )
    else:
        unique_authors = np.zeros(size, dtype="i8")

    grid_windows = first + np.arange(n_windows, dtype="i8") * step_us
    return _measures_frame(
        topics=np.repeat(np.asarray(topic_names, dtype=object), n_windows),
        window_us=np.tile(grid_windows, len(topic_names)),
        volume=volume,
        negative_volume=negative_volume,
        unique_authors=unique_authors,
        reach=reach,
        engagement=engagement,
        influencer_mentions=influencers,
    )


def _check_threshold(influencer_followers: float) -> float:
    try:
        threshold = float(influencer_followers)
    except (TypeError, ValueError) as exc:
        raise DataLoadError(
            f"influencer_followers must be a number, got {influencer_followers!r}"
        ) from exc
    if not np.isfinite(threshold) or threshold < 0:
        raise DataLoadError(f"influencer_followers must be >= 0, got {influencer_followers!r}")
    return threshold


def _measures_frame(
    *,
    topics: np.ndarray,
    window_us: np.ndarray,
    volume: np.ndarray,
    negative_volume: np.ndarray,
    unique_authors: np.ndarray,
    reach: np.ndarray,
    engagement: np.ndarray,
    influencer_mentions: np.ndarray,
) -> pd.DataFrame:
    """Assemble the measures with their contract dtypes (counts int64, sums float64)."""
    volume = np.asarray(volume, dtype="i8")
    negative_volume = np.asarray(negative_volume, dtype="i8")
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(volume > 0, negative_volume / np.maximum(volume, 1), 0.0)
    return pd.DataFrame(
        {
            "topic": pd.array(topics, dtype="str"),
            "window_start": _to_window_start(window_us),
            "volume": volume,
            "negative_volume": negative_volume,
            "negative_share": share.astype("float64"),
            "unique_authors": np.asarray(unique_authors, dtype="i8"),
            "reach": np.asarray(reach, dtype="float64"),
            "engagement": np.asarray(engagement, dtype="float64"),
            "influencer_mentions": np.asarray(influencer_mentions, dtype="i8"),
        }
    )


def _empty_measures() -> pd.DataFrame:
    empty = np.empty(0)
    return _measures_frame(
        topics=np.empty(0, dtype=object),
        window_us=np.empty(0, dtype="i8"),
        volume=empty,
        negative_volume=empty,
        unique_authors=empty,
        reach=empty,
        engagement=empty,
        influencer_mentions=empty,
    )


# --- baselines -------------------------------------------------------------------------------


def _planned_mask(
    frame: pd.DataFrame, step: pd.Timedelta, planned_events: pd.DataFrame | None
) -> np.ndarray:
    """True for windows ``[start, start + step)`` overlapping a planned event of their topic
    (an event with no topic applies to every topic; no end = the instant it started)."""
    mask = np.zeros(len(frame), dtype=bool)
    if planned_events is None or len(planned_events) == 0 or len(frame) == 0:
        return mask
    if not isinstance(planned_events, pd.DataFrame):
        raise DataLoadError(
            f"planned_events must be a DataFrame, got {type(planned_events).__name__}"
        )
    if "started_at" not in planned_events:
        raise DataLoadError("planned events have no started_at column", column="started_at")
    started = _utc_times(planned_events["started_at"], "started_at")
    if "ended_at" in planned_events:
        ended_raw = planned_events["ended_at"]
        ended = (
            pd.to_datetime(ended_raw, utc=True, format="ISO8601")
            if not pd.api.types.is_datetime64_any_dtype(ended_raw)
            else (ended_raw.dt.tz_localize("UTC") if ended_raw.dt.tz is None else ended_raw)
        )
        ended = ended.fillna(started)
    else:
        ended = started
    backwards = (ended < started).to_numpy()
    if backwards.any():
        raise DataLoadError(
            "planned events end before they start",
            column="ended_at",
            lines=np.flatnonzero(backwards) + 1,
        )
    event_topics = (
        planned_events["topic"]
        if "topic" in planned_events
        else pd.Series(np.nan, index=started.index)
    )
    window_us = _epoch_us(frame["window_start"])
    step_us = step.value // 1000
    topics = frame["topic"].astype("str").to_numpy()
    start_us = _epoch_us(started)
    end_us = _epoch_us(ended)
    for topic, lo, hi in zip(event_topics.to_numpy(dtype=object), start_us, end_us, strict=True):
        hit = (window_us <= hi) & (window_us + step_us > lo)
        if not (topic is None or (isinstance(topic, float) and np.isnan(topic)) or topic == ""):
            hit &= topics == str(topic)
        mask |= hit
    return mask


def _past_rolling(
    values: np.ndarray,
    eligible: np.ndarray,
    groups: np.ndarray,
    *,
    window: int,
    min_periods: int,
    how: str,
) -> np.ndarray:
    """For each row, a rolling statistic of the last ``window`` eligible values of its group
    strictly *before* it (rows must be in time order within each group).

    The statistic is computed on eligible rows only (planned-event windows are skipped, not
    counted as zeros), then carried forward to the following rows of the group."""
    n = len(values)
    out = np.full(n, np.nan)
    if n == 0 or not eligible.any():
        return out
    idx = np.flatnonzero(eligible)
    sub = pd.Series(values[idx], index=idx)
    grouped = sub.groupby(groups[idx], sort=False).rolling(window, min_periods=min_periods)
    rolled = grouped.median() if how == "median" else grouped.sum()
    out[rolled.index.get_level_values(-1).to_numpy()] = rolled.to_numpy()
    carried = pd.Series(out).groupby(groups, sort=False).shift(1)
    return carried.groupby(groups, sort=False).ffill().to_numpy()


def add_baselines(
    counts: pd.DataFrame,
    *,
    planned_events: pd.DataFrame | None = None,
    freq: str | pd.Timedelta | None = None,
) -> pd.DataFrame:
    """Add ``FEATURE_BASELINES`` (and ``planned_event``) learned from earlier windows only.

    ``baseline_volume``: a seasonal median of ``log1p(volume)``, the mean of (a) the same slot
    of day over the previous 7 days and (b) the same slot of week over the previous 4 weeks;
    during warm-up (fewer than 3 days / 2 weeks of history) it falls back to (a) alone, then to
    the median of the previous day's windows; only the very first window has none (NaN).
    ``volume_z``: ``(log1p(volume) - log1p(baseline)) / sigma`` with sigma = 1.4826 × the median
    absolute residual of the previous 7 days, floored at the Poisson noise
    ``1 / sqrt(baseline + 1)``. ``negative_share_change``: ``negative_share`` minus the share of
    negative mentions over the previous 7 days. Windows in ``planned_events`` (``topic``,
    ``started_at``, ``ended_at``; no topic = all topics) still get features but are never used
    as history."""
    if not isinstance(counts, pd.DataFrame):
        raise DataLoadError(f"counts must be a DataFrame, got {type(counts).__name__}")
    missing = [c for c in ("topic", "window_start", "volume") if c not in counts]
    if missing:
        raise DataLoadError(f"counts lack the column(s) {', '.join(missing)}")
    frame = counts.copy()
    frame["window_start"] = _utc_times(frame["window_start"], "window_start").astype(_WINDOW_DTYPE)
    frame = frame.sort_values(list(FEATURE_KEYS), kind="stable").reset_index(drop=True)
    if freq is not None:
        step = window_length(freq)
    elif len(frame):
        try:
            step = window_length(infer_freq(frame))
        except ValueError:
            step = pd.Timedelta("1h")  # one window per topic: nothing to learn from anyway
    else:
        step = pd.Timedelta("1h")
    step_us = step.value // 1000

    planned = _planned_mask(frame, step, planned_events)
    volume = pd.to_numeric(frame["volume"], errors="coerce").to_numpy(dtype="float64")
    eligible = ~planned & ~np.isnan(volume)
    level = np.log1p(volume)
    topic_codes = pd.factorize(frame["topic"].astype("str"), sort=True)[0].astype("i8")
    t = _epoch_us(frame["window_start"])

    day_slots = _DAY_US // step_us if (step_us < _DAY_US and _DAY_US % step_us == 0) else 1
    week_slots = _WEEK_US // step_us if _WEEK_US % step_us == 0 else 0
    slot_of_day = (np.mod(t, _DAY_US) // step_us) if day_slots > 1 else np.zeros(len(t), "i8")
    daily = _past_rolling(
        level,
        eligible,
        topic_codes * max(day_slots, 1) + slot_of_day,
        window=_DAILY_LOOKBACK,
        min_periods=_DAILY_MIN,
        how="median",
    )
    if week_slots > 1:
        slot_of_week = np.mod(t, _WEEK_US) // step_us
        weekly = _past_rolling(
            level,
            eligible,
            topic_codes * week_slots + slot_of_week,
            window=_WEEKLY_LOOKBACK,
            min_periods=_WEEKLY_MIN,
            how="median",
        )
    else:
        weekly = np.full(len(t), np.nan)
    recent = _past_rolling(
        level,
        eligible,
        topic_codes,
        window=max(day_slots, _DAILY_LOOKBACK),
        min_periods=1,
        how="median",
    )
    seasonal = np.where(np.isnan(weekly), daily, (daily + weekly) / 2.0)
    base_level = np.where(np.isnan(seasonal), recent, seasonal)
    baseline = np.expm1(base_level)

    spread_window = max(day_slots, 1) * _SPREAD_LOOKBACK_DAYS
    residual = level - base_level
    has_residual = eligible & ~np.isnan(residual)
    mad = _past_rolling(
        np.abs(residual),
        has_residual,
        topic_codes,
        window=spread_window,
        min_periods=1,
        how="median",
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        poisson = 1.0 / np.sqrt(baseline + 1.0)
        sigma = np.fmax(_MAD_TO_SIGMA * mad, poisson)
        volume_z = residual / sigma
        volume_ratio = (volume + 1.0) / (baseline + 1.0)

    if "negative_volume" in frame and "negative_share" in frame:
        negatives = pd.to_numeric(frame["negative_volume"], errors="coerce").to_numpy("float64")
        share = pd.to_numeric(frame["negative_share"], errors="coerce").to_numpy("float64")
        past_neg = _past_rolling(
            negatives, eligible, topic_codes, window=spread_window, min_periods=1, how="sum"
        )
        past_vol = _past_rolling(
            volume, eligible, topic_codes, window=spread_window, min_periods=1, how="sum"
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            base_share = np.where(past_vol > 0, past_neg / np.where(past_vol > 0, past_vol, 1), 0.0)
        base_share = np.where(np.isnan(past_vol), np.nan, base_share)
        share_change = share - base_share
    else:
        share_change = np.full(len(frame), np.nan)

    frame["baseline_volume"] = baseline
    frame["volume_ratio"] = volume_ratio
    frame["volume_z"] = volume_z
    frame["negative_share_change"] = share_change
    frame[PLANNED_EVENT_COLUMN] = planned
    ordered = [c for c in (*FEATURE_KEYS, *FEATURE_MEASURES, *FEATURE_BASELINES) if c in frame]
    rest = [c for c in frame.columns if c not in ordered]
    return frame[ordered + rest]


def build_features(
    mentions: pd.DataFrame,
    *,
    freq: str | pd.Timedelta = "1h",
    planned_events: pd.DataFrame | None = None,
    influencer_followers: float = DEFAULT_INFLUENCER_FOLLOWERS,
) -> pd.DataFrame:
    """Mentions → Features: :func:`aggregate_mentions` then :func:`add_baselines`."""
    counts = aggregate_mentions(mentions, freq=freq, influencer_followers=influencer_followers)
    features = add_baselines(counts, planned_events=planned_events, freq=freq)
    return mark_absent_features(features, mentions, "mentions")


def rolling_negative_share(
    features: pd.DataFrame, *, freq: str | pd.Timedelta = "1h", span: str | pd.Timedelta = "1D"
) -> pd.Series:
    """Negative share over the trailing ``span`` of each topic (sums of ``negative_volume`` over
    sums of ``volume``; NaN where no mention): one window's share of a few posts is noisy.

    Aligned with ``features`` (rows of a topic in time order, as Features are)."""
    n = max(1, int(window_length(span) / window_length(freq)))
    by_topic = features.groupby("topic", sort=False, observed=True)
    negative = by_topic["negative_volume"].transform(lambda s: s.rolling(n, min_periods=1).sum())
    volume = by_topic["volume"].transform(lambda s: s.rolling(n, min_periods=1).sum())
    return (negative / volume.where(volume > 0)).rename("negative_share_rolling")


def topic_overview(mentions: pd.DataFrame, incidents: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per topic of ``mentions``: ``mentions`` (count), ``first`` and ``last`` mention times,
    ``negative_share`` (sentiment ≤ ``NEGATIVE_SENTIMENT_BAR``; unknown = not negative) and
    ``incidents`` (count in ``incidents``, 0 when none) — what the data holds, at a glance."""
    missing = [c for c in ("topic", "created_at") if c not in mentions]
    if missing:
        raise DataLoadError(f"mentions need the columns {missing} for an overview")
    if "sentiment" in mentions:
        sentiment = pd.to_numeric(mentions["sentiment"], errors="coerce").to_numpy(float)
        negative = np.nan_to_num(sentiment, nan=np.inf) <= NEGATIVE_SENTIMENT_BAR
    else:
        negative = np.zeros(len(mentions), dtype=bool)
    frame = pd.DataFrame(
        {"topic": mentions["topic"], "created_at": mentions["created_at"], "negative": negative}
    )
    overview = frame.groupby("topic", observed=True).agg(
        mentions=("created_at", "size"),
        first=("created_at", "min"),
        last=("created_at", "max"),
        negative_share=("negative", "mean"),
    )
    counts = (
        incidents.groupby("topic").size()
        if incidents is not None and len(incidents)
        else pd.Series(dtype="int64")
    )
    overview["incidents"] = counts.reindex(overview.index, fill_value=0).astype(int).to_numpy()
    return overview


def _plain(step: pd.Timedelta) -> str:
    """``5 min``, ``1 h``, ``1 day``: a window length as people write it."""
    for unit, name in ((86_400, "day"), (3_600, "h"), (60, "min"), (1, "s")):
        seconds = step.total_seconds()
        if seconds >= unit and seconds % unit == 0:
            return f"{int(seconds // unit)} {name}"
    return str(step)


def _some_windows(frame: pd.DataFrame, mask: np.ndarray, limit: int = 3) -> str:
    """The first ``limit`` (topic, window_start) of ``mask``, for an error message."""
    rows = frame.loc[np.asarray(mask, dtype=bool), ["topic", "window_start"]]
    shown = [f"{r.topic} {r.window_start:%Y-%m-%d %H:%M:%S}" for r in rows.head(limit).itertuples()]
    more = f" (+{len(rows) - limit} more)" if len(rows) > limit else ""
    return ", ".join(shown) + more


def features_from_series(
    series: pd.DataFrame,
    *,
    planned_events: pd.DataFrame | None = None,
    freq: str | pd.Timedelta | None = None,
) -> pd.DataFrame:
    """VolumeSeries (``topic, window_start, volume``) → Features of the same shape.

    Missing windows inside the span become 0; measures the series does not carry are 0 (extra
    measure columns it has, e.g. ``negative_volume``, are kept); ``freq`` defaults to the
    step between windows (see :func:`~esc_analytics._util.schema.infer_freq`)."""
    if not isinstance(series, pd.DataFrame):
        raise DataLoadError(f"series must be a DataFrame, got {type(series).__name__}")
    missing = [c for c in ("window_start", "volume") if c not in series]
    if missing:
        raise DataLoadError(f"series lack the column(s) {', '.join(missing)}")
    frame = series.copy()
    if "topic" not in frame:
        from .._util.schema import DEFAULT_TOPIC

        frame["topic"] = DEFAULT_TOPIC
    frame["topic"] = frame["topic"].astype("str")
    frame["window_start"] = _utc_times(frame["window_start"], "window_start")
    if freq is None:
        try:
            step = window_length(infer_freq(frame))
        except ValueError as exc:
            raise DataLoadError(f"{exc}; pass freq= (--freq on the command line)") from exc
    else:
        step = window_length(freq)
    step_us = step.value // 1000
    t = _epoch_us(frame["window_start"])
    if len(frame) == 0:
        return add_baselines(_empty_measures(), planned_events=planned_events, freq=step)
    duplicated = frame.duplicated(["topic", "window_start"]).to_numpy()
    if duplicated.any():
        raise DataLoadError(
            "the series has several rows for one topic and window: "
            f"{_some_windows(frame, duplicated)}",
            column="window_start",
        )
    first, last = int(t.min()), int(t.max())
    off_grid = np.mod(t - first, step_us) != 0
    if off_grid.any():
        how = "given as freq" if freq is not None else "the step between most rows"
        raise DataLoadError(
            f"{int(off_grid.sum())} window start(s) are off the {_plain(step)} grid "
            f"({how}): {_some_windows(frame, off_grid)}; fix or remove those rows, or pass "
            "freq= (--freq) with the real window length",
            column="window_start",
        )
    topic_codes, topic_names = pd.factorize(frame["topic"], sort=True)
    n_windows = (last - first) // step_us + 1
    _check_grid(len(topic_names), n_windows, step)
    cell = topic_codes.astype("i8") * n_windows + (t - first) // step_us
    size = len(topic_names) * n_windows

    def dense(column: str, dtype: str) -> np.ndarray:
        out = np.zeros(size, dtype="float64")
        if column in frame:
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy("float64")
            out[cell] = np.nan_to_num(values, nan=0.0)
        return out.astype(dtype)

    volume = dense("volume", "float64")
    if (volume < 0).any():
        raise DataLoadError("the series has negative volumes", column="volume")
    grid_windows = first + np.arange(n_windows, dtype="i8") * step_us
    measures = _measures_frame(
        topics=np.repeat(np.asarray(topic_names, dtype=object), n_windows),
        window_us=np.tile(grid_windows, len(topic_names)),
        volume=np.rint(volume),
        negative_volume=dense("negative_volume", "i8"),
        unique_authors=dense("unique_authors", "i8"),
        reach=dense("reach", "float64"),
        engagement=dense("engagement", "float64"),
        influencer_mentions=dense("influencer_mentions", "i8"),
    )
    features = add_baselines(measures, planned_events=planned_events, freq=step)
    return mark_absent_features(features, series, "series")


# --- out of core -----------------------------------------------------------------------------


def aggregate_files(
    paths: Any,
    *,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    freq: str | pd.Timedelta = "1h",
    influencer_followers: float = DEFAULT_INFLUENCER_FOLLOWERS,
    planned_events: pd.DataFrame | None = None,
    topic: str | None = None,
) -> AggregateResult:
    """Aggregate mention files (CSV, CSV.gz, Parquet) out of core with DuckDB → features.

    Same rows accepted/quarantined and the same numbers as ``load_mentions`` followed by
    :func:`build_features`; the text column never enters pandas."""
    from ._duckdb import aggregate_counts

    counts, summary, quarantine = aggregate_counts(
        paths,
        columns=columns,
        tz=tz,
        freq=window_length(freq),
        influencer_followers=_check_threshold(influencer_followers),
        topic=topic,
    )
    features = add_baselines(counts, planned_events=planned_events, freq=freq)
    return AggregateResult(features=features, summary=summary, quarantine=quarantine)
