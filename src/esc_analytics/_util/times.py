"""Time conversion, one function per job: everything inside the package is UTC.

Naive times are taken as UTC (callers that know a zone localise before calling).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .errors import DataLoadError

UTC_DTYPE = "datetime64[ns, UTC]"
NAT_NS = np.iinfo(np.int64).min  # what pandas stores for NaT in int64 nanoseconds


def to_utc(values: Any) -> pd.Series:
    """Times as a tz-aware UTC ``Series`` (naive values are UTC); keeps a Series' index."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if not pd.api.types.is_datetime64_any_dtype(series):
        return pd.to_datetime(series, utc=True)  # text with offsets, mixed zones, naive = UTC
    if series.dt.tz is None:
        return series.dt.tz_localize("UTC")
    return series.dt.tz_convert("UTC")


def to_utc_ns(values: Any) -> np.ndarray:
    """Times as int64 nanoseconds since the epoch, UTC (NaT → ``NAT_NS``), for binary search."""
    return to_utc(values).astype(UTC_DTYPE).array.asi8.copy()


def to_epoch_us(values: Any) -> np.ndarray:
    """Times as int64 microseconds since the epoch, UTC (the feature grid's unit)."""
    if len(values) == 0:
        return np.empty(0, dtype="i8")
    return pd.DatetimeIndex(to_utc(values)).as_unit("us").asi8


def utc_timestamp(value: Any) -> pd.Timestamp | None:
    """One time as a tz-aware UTC ``Timestamp`` (naive = UTC); ``None`` for missing values."""
    if value is None or (not isinstance(value, pd.Timestamp) and pd.isna(value)):
        return None
    ts = pd.Timestamp(value)
    if pd.isna(ts):
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def check_time_zone(tz: str | None) -> None:
    """A DataLoadError unless ``tz`` is None or a time zone pandas knows (an IANA name)."""
    if tz is None:
        return
    try:
        pd.Timestamp("2020-01-01").tz_localize(tz)
    except Exception as exc:
        raise DataLoadError(
            f"unknown time zone {tz!r} (use an IANA name such as 'Europe/Paris')"
        ) from exc
