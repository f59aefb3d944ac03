"""MatchRules: the one rule for when an alert counts for an incident."""

from __future__ import annotations

import pandas as pd
import pytest

from esc_analytics import MatchRules, PolicyError

T = pd.Timestamp("2026-03-01 10:00", tz="UTC")
STARTED = pd.Series([T, T])
ENDED = pd.Series([T + pd.Timedelta("2h"), pd.NaT]).astype("datetime64[ns, UTC]")


def test_precedence_max_delay_then_ended_at_then_open_duration():
    plain = MatchRules()
    assert plain.match_until(STARTED, ENDED).tolist() == [
        T + pd.Timedelta("2h"),
        T + pd.Timedelta("24h"),
    ]
    assert plain.match_until(STARTED, None).tolist() == [T + pd.Timedelta("24h")] * 2
    fixed = MatchRules.of(max_delay="30min")
    assert fixed.match_until(STARTED, ENDED).tolist() == [T + pd.Timedelta("30min")] * 2
    # the incident's own span ignores max_delay (NAB windows, retrospectives)
    assert fixed.incident_end(STARTED, ENDED).tolist() == plain.match_until(STARTED, ENDED).tolist()
    assert fixed.match_from(STARTED).tolist() == [T - pd.Timedelta("24h")] * 2


def test_one_incident_reads_like_a_series():
    rules = MatchRules.of(max_early="1h", open_duration="6h")
    assert rules.match_from(T) == T - pd.Timedelta("1h")
    assert rules.match_until(T, None) == rules.match_until(T, pd.NaT) == T + pd.Timedelta("6h")
    assert rules.match_until(T, T + pd.Timedelta("2h")) == T + pd.Timedelta("2h")
    assert MatchRules.of(max_delay="3h").match_until(T, T + pd.Timedelta("2h")) == T + pd.Timedelta(
        "3h"
    )


@pytest.mark.parametrize("key", ["max_early", "max_delay", "open_duration"])
@pytest.mark.parametrize("value", ["-1h", "soon"])
def test_bad_durations_name_their_key(key, value):
    with pytest.raises(PolicyError, match=key):
        MatchRules.of(**{key: value})


def test_to_dict():
    assert MatchRules.of(max_delay="2h").to_dict() == {
        "max_early": "1 days 00:00:00",
        "max_delay": "0 days 02:00:00",
        "open_duration": "1 days 00:00:00",
    }
