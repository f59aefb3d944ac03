"""The window grid both aggregation engines share: window length, flooring, the dense
topic × window frame of measures with its contract dtypes, and the guards on its size."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._util.errors import DataLoadError
from .._util.format import format_duration

US_PER_SECOND = 1_000_000
DAY_US = 86_400 * US_PER_SECOND
WEEK_US = 7 * DAY_US
# Largest dense grid (topics × windows) built in memory: a guard against a stray timestamp in
# 1970 turning a month of 5-minute data into billions of empty windows.
MAX_GRID_CELLS = 50_000_000
WINDOW_DTYPE = "datetime64[us, UTC]"


#: Key of an engine's counts ``attrs``: the canonical mention columns its files carried (so
#: that the features say which measures the input could not provide).
CARRIED_ATTR = "carried_columns"


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


def utc_times(values: pd.Series, what: str) -> pd.Series:
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


def floor_us(us: np.ndarray, step: int) -> np.ndarray:
    """Floor epoch microseconds to a multiple of ``step`` (towards -inf, like Timestamp.floor)."""
    return us - np.mod(us, step)


def window_starts(us: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.asarray(us, dtype="i8").view("datetime64[us]"), tz="UTC")


def check_grid(n_topics: int, n_windows: int, step: pd.Timedelta) -> None:
    if n_topics * n_windows > MAX_GRID_CELLS:
        raise DataLoadError(
            f"{n_topics} topics × {n_windows} windows of {format_duration(step)} is too large a "
            "grid; check for stray timestamps far from the rest or use a longer freq"
        )


def check_influencer_threshold(influencer_followers: float) -> float:
    try:
        threshold = float(influencer_followers)
    except (TypeError, ValueError) as exc:
        raise DataLoadError(
            f"influencer_followers must be a number, got {influencer_followers!r}"
        ) from exc
    if not np.isfinite(threshold) or threshold < 0:
        raise DataLoadError(f"influencer_followers must be >= 0, got {influencer_followers!r}")
    return threshold


def measures_frame(
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
            "window_start": window_starts(window_us),
            "volume": volume,
            "negative_volume": negative_volume,
            "negative_share": share.astype("float64"),
            "unique_authors": np.asarray(unique_authors, dtype="i8"),
            "reach": np.asarray(reach, dtype="float64"),
            "engagement": np.asarray(engagement, dtype="float64"),
            "influencer_mentions": np.asarray(influencer_mentions, dtype="i8"),
        }
    )


def empty_measures() -> pd.DataFrame:
    empty = np.empty(0)
    return measures_frame(
        topics=np.empty(0, dtype=object),
        window_us=np.empty(0, dtype="i8"),
        volume=empty,
        negative_volume=empty,
        unique_authors=empty,
        reach=empty,
        engagement=empty,
        influencer_mentions=empty,
    )
