"""Spike explanation: smoothed share ratios, hand-computed, deterministic ties."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from esc_analytics._util.errors import DataLoadError
from esc_analytics.retro._explain import episode_mentions, explain_episode, rising_items, tokenize


def _mentions(rows):
    frame = pd.DataFrame(rows, columns=["created_at", "topic", "text", "author", "platform"])
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    frame["mention_id"] = [f"m{i}" for i in range(len(frame))]
    return frame


def test_tokenize_drops_stopwords_short_words_and_numbers():
    assert tokenize("The app is DOWN again!! #outage @Brand 404 ok") == [
        "app",
        "down",
        "again",
        "#outage",
        "@brand",
    ]


def test_rising_items_hand_computed():
    # Episode: 4 mentions, "down" in 3; baseline: 10 mentions, "down" in 1.
    e = pd.Series(["down"] * 3 + ["app"] * 2)
    b = pd.Series(["down"] + ["app"] * 5)
    out = rising_items(e, b, 4, 10, alpha=1.0, min_count=2)
    assert out["item"].tolist() == ["down", "app"]
    down = out.iloc[0]
    assert down["episode_share"] == pytest.approx(4 / 6)
    assert down["baseline_share"] == pytest.approx(2 / 12)
    assert down["log_ratio"] == pytest.approx(math.log((4 / 6) / (2 / 12)))


def test_ties_broken_by_count_then_name():
    e = pd.Series(["b", "b", "a", "a"])
    b = pd.Series([], dtype=str)
    out = rising_items(e, b, 2, 0, min_count=1)
    assert out["item"].tolist() == ["a", "b"]


def test_explain_episode_finds_the_rising_term_author_platform():
    base = [(f"2026-01-0{d} 10:00", "T", "nice coffee today", f"u{d}", "x") for d in range(1, 7)]
    spike = [(f"2026-01-07 12:{i:02d}", "T", "app down again", "angry", "reddit") for i in range(5)]
    other = [("2026-01-07 12:30", "U", "app down", "angry", "reddit")]  # other topic: ignored
    ex = explain_episode(
        _mentions(base + spike + other),
        "T",
        "2026-01-07 12:00",
        "2026-01-07 13:00",
        baseline_days=7,
    )
    assert (ex.n_episode, ex.n_baseline) == (5, 6)
    assert set(ex.terms["item"].head(3)) == {"app", "down", "again"}
    assert ex.terms["episode_count"].iloc[0] == 5
    assert ex.authors["item"].iloc[0] == "angry"
    assert ex.platforms["item"].iloc[0] == "reddit"
    assert "coffee" not in set(ex.terms["item"])  # only in the baseline
    assert ex.to_frame()["kind"].unique().tolist() == ["term", "author", "platform"]


def test_explain_rejects_bad_period():
    with pytest.raises(DataLoadError, match="not after"):
        explain_episode(_mentions([]), "T", "2026-01-02", "2026-01-01")


def test_episode_mentions_selects_topic_period_and_term():
    m = _mentions(
        [
            ("2026-01-01 09:59", "T", "Outage again", "a", "x"),  # before the start
            ("2026-01-01 10:00", "T", "OUTAGES everywhere", "b", "x"),  # start is inclusive
            ("2026-01-01 10:30", "T", "all fine", "c", "x"),
            ("2026-01-01 10:45", "U", "outage elsewhere", "d", "x"),  # another topic
            ("2026-01-01 11:00", "T", "outage at the end", "e", "x"),  # end is exclusive
        ]
    )
    start, end = "2026-01-01 10:00", pd.Timestamp("2026-01-01 11:00", tz="UTC")
    assert episode_mentions(m, "T", start, end)["author"].tolist() == ["b", "c"]
    # The term is matched case-insensitively as a substring of the text.
    assert episode_mentions(m, "T", start, end, containing="outage")["author"].tolist() == ["b"]
    assert episode_mentions(m, None, start, end)["author"].tolist() == ["b", "c", "d"]
    with pytest.raises(DataLoadError, match="created_at"):
        episode_mentions(m.drop(columns="created_at"), "T", start, end)
