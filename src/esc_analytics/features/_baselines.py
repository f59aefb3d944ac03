"""Baselines: what each window was expected to hold, learned from earlier windows only.

A robust seasonal baseline of log volume (same slot of day over the previous week, same slot
of week over the previous four weeks), its ratio and robust z-score, and the negative-share
change. Windows inside planned events (launches, campaigns) are kept out of the baselines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._util.errors import DataLoadError
from .._util.schema import FEATURE_BASELINES, FEATURE_KEYS, FEATURE_MEASURES, infer_freq
from .._util.times import to_epoch_us
from ._grid import DAY_US, WEEK_US, WINDOW_DTYPE, utc_times, window_length

#: Extra boolean column of Features: the window overlaps a planned event (kept out of baselines).
PLANNED_EVENT_COLUMN = "planned_event"

#: History a topic needs before its baselines compare with anything: the ratio, z-score and
#: negative-share change are undefined (NaN, never alert) during a topic's first day.
WARM_UP = pd.Timedelta(days=1)

# Baseline parameters (counts of earlier baseline-eligible windows).
_DAILY_LOOKBACK = 7  # same slot of day, previous 7 days
_DAILY_MIN = 3
_WEEKLY_LOOKBACK = 4  # same slot of week, previous 4 weeks
_WEEKLY_MIN = 2
_SPREAD_LOOKBACK_DAYS = 7  # MAD of residuals and negative-share baseline: previous 7 days
_MAD_TO_SIGMA = 1.4826


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
    started = utc_times(planned_events["started_at"], "started_at")
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
    window_us = to_epoch_us(frame["window_start"])
    step_us = step.value // 1000
    topics = frame["topic"].astype("str").to_numpy()
    start_us = to_epoch_us(started)
    end_us = to_epoch_us(ended)
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
    frame["window_start"] = utc_times(frame["window_start"], "window_start").astype(WINDOW_DTYPE)
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
    t = to_epoch_us(frame["window_start"])

    day_slots = DAY_US // step_us if (step_us < DAY_US and DAY_US % step_us == 0) else 1
    week_slots = WEEK_US // step_us if WEEK_US % step_us == 0 else 0
    slot_of_day = (np.mod(t, DAY_US) // step_us) if day_slots > 1 else np.zeros(len(t), "i8")
    daily = _past_rolling(
        level,
        eligible,
        topic_codes * max(day_slots, 1) + slot_of_day,
        window=_DAILY_LOOKBACK,
        min_periods=_DAILY_MIN,
        how="median",
    )
    if week_slots > 1:
        slot_of_week = np.mod(t, WEEK_US) // step_us
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

    # warm-up: before a topic has a day of history there is no baseline to compare with, so
    # the measures that compare with one are undefined (NaN never satisfies a condition)
    first_seen = pd.Series(t).groupby(topic_codes).transform("min").to_numpy()
    warm = (t - first_seen) < WARM_UP.value // 1000
    volume_ratio = np.where(warm, np.nan, volume_ratio)
    volume_z = np.where(warm, np.nan, volume_z)
    share_change = np.where(warm, np.nan, share_change)
    frame["baseline_volume"] = baseline
    frame["volume_ratio"] = volume_ratio
    frame["volume_z"] = volume_z
    frame["negative_share_change"] = share_change
    frame[PLANNED_EVENT_COLUMN] = planned
    ordered = [c for c in (*FEATURE_KEYS, *FEATURE_MEASURES, *FEATURE_BASELINES) if c in frame]
    rest = [c for c in frame.columns if c not in ordered]
    return frame[ordered + rest]
