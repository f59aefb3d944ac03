"""How numbers and durations read for people: one formatter per kind of value."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def format_duration(value: Any) -> str:
    """A signed duration for tables: ``-5.0 h``, ``45 min``, ``2.5 d`` (``-`` when unknown)."""
    if value is None or pd.isna(value):
        return "-"
    hours = pd.Timedelta(value) / pd.Timedelta(hours=1)
    sign = "-" if hours < 0 else ""
    hours = abs(hours)
    if hours >= 48:
        return f"{sign}{hours / 24:.1f} d"
    if hours >= 1:
        return f"{sign}{hours:.1f} h"
    return f"{sign}{hours * 60:.0f} min"


def format_hours(hours: float) -> str:
    """An unsigned duration in hours for prose: ``45 min``, ``3 h``, ``2.5 d``."""
    hours = abs(float(hours))
    if hours < 1:
        return f"{round(hours * 60):.0f} min"
    if hours < 48:
        return f"{hours:.0f} h" if math.isclose(hours, round(hours)) else f"{hours:.1f} h"
    return f"{hours / 24:.1f} d"


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
