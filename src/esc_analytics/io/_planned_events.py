"""Loading planned events (launches, campaigns): the windows kept out of the baselines.

A planned event is a row ``topic, started_at, ended_at`` (other columns such as ``event_id``,
``name`` or ``kind`` are kept as they are). Only ``started_at`` must be present: an event with
no topic (no column, or an empty cell) concerns every topic, and one with no end lasts the
instant it started. Unlike mentions, planned events are never quarantined one by one: a bad row
makes the whole file unusable, with a :class:`~esc_analytics.DataLoadError` that names the
file, the column and the offending lines (as an editor shows them: the CSV header is line 1;
DataFrames and Parquet files use 1-based row numbers).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._util.errors import DataLoadError
from .._util.paths import not_found
from .._util.times import check_time_zone
from ._readers import RawTable, read_table, table_from_frame

PLANNED_EVENT_COLUMNS = ("topic", "started_at", "ended_at")
_TIME_DTYPE = "datetime64[us, UTC]"
# a time of day followed by Z or a numeric offset: the value says its own zone
_AWARE = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")


def load_planned_events(
    source: str | Path | pd.DataFrame, *, tz: str | None = None
) -> pd.DataFrame:
    """Read planned events (CSV, CSV.gz, Parquet, JSON lines or a DataFrame), validated.

    Returns one row per event, in input order, with ``topic`` (text; missing = every topic),
    ``started_at`` and ``ended_at`` (tz-aware UTC; a missing end is the start), then any other
    column of the input. Times are ISO 8601; those without an offset are taken in ``tz``
    (default UTC). A header without rows gives an empty frame (no planned event). Raises
    :class:`~esc_analytics.DataLoadError` for a missing or unreadable file, no ``started_at``
    column, a missing or unparseable time, or an event that ends before it starts."""
    check_time_zone(tz)
    table = _read(source)
    if table is None:  # a header and no rows: no planned event
        return _empty()
    if table.malformed:
        raise DataLoadError(
            "rows whose field count differs from the header's",
            source=table.source,
            lines=[line for line, _ in table.malformed],
        )
    frame = table.frame.reset_index(drop=True)
    if "started_at" not in frame.columns:
        raise DataLoadError(
            f"no started_at column (columns: {', '.join(map(str, frame.columns))})",
            source=table.source,
            column="started_at",
        )
    started = _times(table, "started_at", tz, required=True)
    if "ended_at" in frame.columns:
        ended = _times(table, "ended_at", tz, required=False)
        ended = ended.where(ended.notna(), started)
    else:
        ended = started.copy()
    backwards = (ended < started).to_numpy()
    if backwards.any():
        raise DataLoadError(
            "planned event(s) end before they start",
            source=table.source,
            column="ended_at",
            lines=table.lines[backwards].tolist(),
        )
    if "topic" in frame.columns:
        topics = _topics(frame["topic"])
    else:
        topics = pd.Series(np.nan, index=frame.index, dtype="str")
    out = pd.DataFrame({"topic": topics, "started_at": started, "ended_at": ended})
    others = [c for c in frame.columns if c not in PLANNED_EVENT_COLUMNS]
    return pd.concat([out, frame[others]], axis=1).reset_index(drop=True)


def _read(source: Any) -> RawTable | None:
    if isinstance(source, pd.DataFrame):
        return table_from_frame(source)
    if not isinstance(source, str | Path):
        raise DataLoadError(
            f"planned events: expected a path or a DataFrame, got {type(source).__name__}"
        )
    path = Path(source)
    if not path.is_file() and not path.is_dir():
        raise DataLoadError(f"planned events {not_found(source)}", source=str(source))
    try:
        return read_table(path)
    except DataLoadError as exc:
        if str(exc).endswith("but no data rows"):
            return None
        raise


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "topic": pd.Series([], dtype="str"),
            "started_at": pd.Series([], dtype=_TIME_DTYPE),
            "ended_at": pd.Series([], dtype=_TIME_DTYPE),
        }
    )


def _topics(values: pd.Series) -> pd.Series:
    """Topics as text; empty cells (and missing values) = every topic (NaN)."""
    text = values.astype("object").map(lambda v: None if _missing(v) else str(v).strip())
    return text.where(text.astype(bool) & text.notna(), np.nan).astype("str")


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _times(table: RawTable, column: str, tz: str | None, *, required: bool) -> pd.Series:
    """One time column as UTC; a missing value is an error when ``required``, any value that
    is not an ISO 8601 time always is."""
    values = table.frame[column]
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        parsed = values.dt.tz_convert("UTC")
        blank = parsed.isna().to_numpy()
        bad = np.zeros(len(values), dtype=bool)
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        parsed = _localise(values, tz)
        blank = parsed.isna().to_numpy()
        bad = np.zeros(len(values), dtype=bool)
    else:
        text = values.astype("object").map(lambda v: "" if _missing(v) else str(v).strip())
        blank = (text == "").to_numpy()
        parsed = pd.Series(pd.NaT, index=values.index, dtype=_TIME_DTYPE)
        aware = text.str.contains(_AWARE, regex=True).to_numpy() & ~blank
        naive = ~aware & ~blank
        if aware.any():
            parsed[aware] = pd.to_datetime(
                text[aware], format="ISO8601", utc=True, errors="coerce"
            ).astype(_TIME_DTYPE)
        if naive.any():
            wall = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
            if isinstance(wall.dtype, pd.DatetimeTZDtype):  # an offset the pattern missed
                wall = wall.dt.tz_convert("UTC").dt.tz_localize(None)
            parsed[naive] = _localise(wall, tz)
        bad = parsed.isna().to_numpy() & ~blank
    if bad.any():
        raise DataLoadError(
            "unparseable time (expected ISO 8601, e.g. 2026-02-01T15:39:00Z)",
            source=table.source,
            column=column,
            lines=table.lines[bad].tolist(),
        )
    if required and blank.any():
        raise DataLoadError(
            "missing time", source=table.source, column=column, lines=table.lines[blank].tolist()
        )
    return parsed.astype(_TIME_DTYPE).reset_index(drop=True)


def _localise(wall: pd.Series, tz: str | None) -> pd.Series:
    """Naive wall times in ``tz`` (UTC when None) as UTC; a time repeated by a DST fall-back
    is taken as its first occurrence, one skipped by a spring-forward is shifted forward."""
    if tz is None:
        return wall.dt.tz_localize("UTC").astype(_TIME_DTYPE)
    first = np.ones(len(wall), dtype=bool)
    local = wall.dt.tz_localize(tz, ambiguous=first, nonexistent="shift_forward")
    return local.dt.tz_convert("UTC").astype(_TIME_DTYPE)
