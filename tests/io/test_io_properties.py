"""Property tests: whatever the mess, rows read == accepted + quarantined, and nothing is
altered: every accepted row is an input row, every quarantined row names a real line."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esc_analytics import load_incidents, load_mentions, load_series

TIMES = st.one_of(
    st.sampled_from(["", "  ", "garbage", "2024-02-30 10:00", "2024-01-01 00:00:00 -0800",
                     "2024-03-31T02:30:00", "1700000000"]),
    st.datetimes(min_value=pd.Timestamp("2000-01-01").to_pydatetime(),
                 max_value=pd.Timestamp("2030-01-01").to_pydatetime()).map(
        lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),
)
SPECIAL = ["", "-3", "12", "1.5K", "x", "positive", "NEG", "0.4", "7", 'say "hi", ok', "a\nb"]
CELLS = st.one_of(st.sampled_from(SPECIAL), st.text(max_size=6))
# Cells of a CSV file: printable text (a bare CR or control bytes are a different file, tested
# in the malformed suite), with quotes, commas and newlines that force quoting.
FILE_CELLS = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=6),
)
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def messy_mentions(draw, cells=CELLS):
    n = draw(st.integers(min_value=1, max_value=25))
    ids = draw(st.lists(st.sampled_from(["", "a", "b", "c", "1", "2"]), min_size=n, max_size=n))
    return pd.DataFrame({
        "id": ids,
        "created_at": draw(st.lists(TIMES, min_size=n, max_size=n)),
        "brand": draw(st.lists(st.sampled_from(["", "acme", "beta"]), min_size=n, max_size=n)),
        "followers": draw(st.lists(cells, min_size=n, max_size=n)),
        "engagement": draw(st.lists(cells, min_size=n, max_size=n)),
        "sentiment": draw(st.lists(cells, min_size=n, max_size=n)),
    })


def _balanced(result, n):
    summary = result.summary
    assert summary.rows_read == n
    assert summary.rows_read == summary.accepted + summary.quarantined
    assert len(result.data) == summary.accepted and len(result.quarantine) == summary.quarantined
    assert sum(summary.reasons.values()) == summary.quarantined


@SETTINGS
@given(frame=messy_mentions(), tz=st.sampled_from([None, "Europe/Paris"]))
def test_mentions_rows_read_equals_accepted_plus_quarantined(frame, tz):
    try:
        result = load_mentions(frame, tz=tz, score_sentiment=False)
    except Exception as exc:  # only "nothing parseable" may refuse the whole frame
        assert "no value of the time column" in str(exc)
        return
    _balanced(result, len(frame))
    data = result.data
    assert data["mention_id"].is_unique
    assert data["created_at"].notna().all()
    assert (data["author_followers"].dropna() >= 0).all()
    assert data["sentiment"].dropna().between(-1, 1).all()
    lines = set(result.quarantine["line"])
    assert lines <= set(range(1, len(frame) + 1))


@SETTINGS
@given(frame=messy_mentions(FILE_CELLS))
def test_messy_csv_file_balances_too(tmp_path, frame):
    path = tmp_path / "m.csv"
    frame.to_csv(path, index=False)
    try:
        result = load_mentions(path, score_sentiment=False)
    except Exception as exc:
        assert "no value of the time column" in str(exc)
        return
    _balanced(result, len(frame))
    # the line of a quarantined row is where its record starts in the file
    starts, line = [], 2
    for _, row in frame.iterrows():
        starts.append(line)
        line += 1 + sum(str(v).count("\n") for v in row)
    assert set(result.quarantine["line"]) <= set(starts)
    assert len(result.data) + len(result.quarantine) == len(frame)


@SETTINGS
@given(data=st.data())
def test_series_and_incidents_balance(data):
    n = data.draw(st.integers(min_value=1, max_value=20))
    series = pd.DataFrame({
        "timestamp": data.draw(st.lists(TIMES, min_size=n, max_size=n)),
        "value": data.draw(st.lists(CELLS, min_size=n, max_size=n)),
    })
    incidents = pd.DataFrame({
        "incident_id": data.draw(st.lists(st.sampled_from(["", "i1", "i2"]), min_size=n,
                                          max_size=n)),
        "started_at": series["timestamp"],
        "ended_at": data.draw(st.lists(TIMES, min_size=n, max_size=n)),
        "severity": data.draw(st.lists(st.sampled_from(["", "high", "2", "0", "x", "Low"]),
                                       min_size=n, max_size=n)),
    })
    for loader, frame in ((load_series, series), (load_incidents, incidents)):
        try:
            result = loader(frame)
        except Exception as exc:
            assert "no value of the time column" in str(exc)
            continue
        _balanced(result, n)
        if loader is load_series:
            assert not result.data.duplicated(["topic", "window_start"]).any()
            assert (result.data["volume"] >= 0).all()
        else:
            ended = result.data["ended_at"]
            assert not (ended < result.data["started_at"]).any()
            assert result.data["severity"].between(1, 3).all()
