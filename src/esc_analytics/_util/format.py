"""How numbers and durations read for people: one formatter per kind of value."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def format_duration(value: Any, *, signed: bool = True) -> str:
    """A duration as people read it: ``19 h``, ``19 h 30 min``, ``-5 h``, ``45 min``,
    ``3 d 4 h`` (from two days on, days and hours); rounded to the minute; ``-`` when unknown.
    Accepts a Timedelta (or anything ``pd.Timedelta`` reads, e.g. ``"90min"``); ``signed=False``
    drops the sign (prose that says "before" or "after" itself). Never pandas' own
    ``-1 days +19:00:00``."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "-"
    minutes = round(pd.Timedelta(value) / pd.Timedelta(minutes=1))
    sign = "-" if minutes < 0 and signed else ""
    minutes = abs(minutes)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if minutes >= 48 * 60:
        parts = [f"{days} d"] + ([f"{hours} h"] if hours else [])
    elif minutes >= 60:
        hours += days * 24
        parts = [f"{hours} h"] + ([f"{mins} min"] if mins else [])
    else:
        parts = [f"{mins} min"]
    return sign + " ".join(parts)


def format_hours(hours: float) -> str:
    """An unsigned duration given in hours, for prose: ``45 min``, ``3 h``, ``2 h 30 min``,
    ``2 d 12 h`` (the same reading as :func:`format_duration`)."""
    return format_duration(pd.Timedelta(hours=abs(float(hours))), signed=False)


def format_time(value: Any) -> str:
    """A time as ``2026-03-04 14:00 UTC`` (``—`` when unknown)."""
    if value is None or pd.isna(value):
        return "—"
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.strftime("%Y-%m-%d %H:%M UTC")


def format_number(value: float | None) -> str:
    """A measure with two decimals (``-`` when unknown)."""
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    return "-" if missing else f"{value:.2f}"


def format_share(value: float | None) -> str:
    """A share as a whole percentage (``-`` when unknown)."""
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    return "-" if missing else f"{value:.0%}"
