"""Durations read the same everywhere people see them: ``19 h``, ``-5 h``, ``45 min``."""

from __future__ import annotations

import pandas as pd
import pytest

from esc_analytics._util.format import format_duration, format_hours


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (pd.Timedelta("-1 days +19:00:00"), "-5 h"),  # what pandas prints for -5 h
        (pd.Timedelta("19h"), "19 h"),
        (pd.Timedelta("19h30min"), "19 h 30 min"),
        (pd.Timedelta("-2h10min"), "-2 h 10 min"),
        (pd.Timedelta("45min"), "45 min"),
        (pd.Timedelta("29s"), "0 min"),
        (pd.Timedelta("47h59min"), "47 h 59 min"),
        (pd.Timedelta("50h"), "2 d 2 h"),
        (pd.Timedelta("-3D"), "-3 d"),
        ("90min", "1 h 30 min"),
        (pd.NaT, "-"),
        (None, "-"),
    ],
)
def test_format_duration(value, text):
    assert format_duration(value) == text


def test_format_duration_unsigned_and_hours():
    assert format_duration(pd.Timedelta("-5h"), signed=False) == "5 h"
    assert [format_hours(h) for h in (0.5, 3, 2.5, -3, 60)] == [
        "30 min", "3 h", "2 h 30 min", "3 h", "2 d 12 h",
    ]  # fmt: skip


def test_no_pandas_timedelta_text_in_a_backtest_summary():
    from small_topic import POLICY, _features, _incidents

    from esc_analytics import backtest, evaluate

    text = backtest(evaluate(POLICY, _features()), _incidents()).summary()
    assert "days" not in text and ":00:00" not in text
    assert "median lead time vs the team: 3 h" in text
