"""Which topics a chart shows first when there are too many to show them all: most incidents,
then most mentions, then by name; the overview figure draws exactly those, and the picker
reaches every other topic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from esc_analytics import top_topics
from esc_analytics.plots import topic_windows_figure
from esc_analytics.plots._topics import MAX_TOPIC_ROWS


def _features(volumes: dict[str, list[float]]) -> pd.DataFrame:
    start = pd.Timestamp("2024-03-01", tz="UTC")
    rows = []
    for topic, values in volumes.items():
        for i, v in enumerate(values):
            rows.append({
                "topic": topic, "window_start": start + pd.Timedelta(hours=i), "volume": v,
                "negative_volume": v / 2, "baseline_volume": 1.0,
            })  # fmt: skip
    return pd.DataFrame(rows)


def _incidents(topics: list[str]) -> pd.DataFrame:
    start = pd.Timestamp("2024-03-01 02:00", tz="UTC")
    return pd.DataFrame({
        "incident_id": [f"I{i}" for i in range(len(topics))], "topic": topics,
        "started_at": [start] * len(topics), "ended_at": [start + pd.Timedelta("2h")] * len(topics),
        "severity": [1] * len(topics),
    })  # fmt: skip


@pytest.mark.parametrize(
    ("volumes", "incident_topics", "n", "expected"),
    [
        # no incidents: busiest first
        ({"a": [1, 1], "b": [5, 5], "c": [3, 3]}, [], 2, ["b", "c"]),
        # incidents outrank volume; then volume decides among equals
        ({"a": [1, 1], "b": [5, 5], "c": [3, 3]}, ["a"], 2, ["a", "b"]),
        ({"a": [1, 1], "b": [5, 5], "c": [3, 3]}, ["c", "a", "c"], 3, ["c", "a", "b"]),
        # ties on both: by name (deterministic whatever the input order)
        ({"z": [2, 2], "y": [2, 2], "x": [2, 2]}, [], 2, ["x", "y"]),
        # asking for more than exist gives all of them
        ({"a": [1], "b": [2]}, [], 10, ["b", "a"]),
        # incidents on a topic with no features do not appear
        ({"a": [1], "b": [2]}, ["gone", "gone"], 2, ["b", "a"]),
    ],
)
def test_top_topics_ranking(volumes, incident_topics, n, expected) -> None:
    incidents = _incidents(incident_topics) if incident_topics else None
    assert top_topics(_features(volumes), incidents, n=n) == expected


def test_top_topics_does_not_depend_on_row_order() -> None:
    features = _features({f"t{i:03d}": [i % 7, 1] for i in range(60)})
    incidents = _incidents(["t005", "t040", "t040"])
    shuffled = features.sample(frac=1.0, random_state=3)
    assert top_topics(features, incidents, n=8) == top_topics(shuffled, incidents, n=8)


@pytest.mark.parametrize("n", [0, -3])
def test_top_topics_refuses_a_count_below_one(n: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        top_topics(_features({"a": [1]}), n=n)


def test_overview_figure_draws_the_given_topics_with_their_incidents() -> None:
    features = _features({"a": [1, 2, 3, 4], "b": [4, 3, 2, 1], "c": [0, 0, 0, 9]})
    incidents = _incidents(["b", "b"])
    fig = topic_windows_figure(features, incidents, topics=["b", "c"], freq="1h")
    # three traces per topic, in the order given; titles are the topics
    assert len(fig.data) == 6
    assert [a.text for a in fig.layout.annotations] == ["b", "c"]
    assert list(fig.data[0].y) == [4, 3, 2, 1] and list(fig.data[3].y) == [0, 0, 0, 9]
    # b's two incidents shaded, c has none
    assert len(fig.layout.shapes) == 2
    assert {s.xref for s in fig.layout.shapes} == {"x"}


def test_overview_figure_escapes_topic_names() -> None:
    name = "Voltra<img src=x onerror=alert(1)>"
    fig = topic_windows_figure(_features({name: [1, 2]}), topics=[name])
    assert "<img" not in fig.layout.annotations[0].text


@pytest.mark.parametrize(
    ("topics", "message"),
    [
        ([], "topics is empty"),
        (["nope"], "not in the features"),
        ([f"t{i}" for i in range(MAX_TOPIC_ROWS + 1)], "too many rows"),
    ],
)
def test_overview_figure_refuses_bad_topic_lists(topics, message) -> None:
    features = _features({f"t{i}": [1.0] for i in range(MAX_TOPIC_ROWS + 1)})
    with pytest.raises(ValueError, match=message):
        topic_windows_figure(features, topics=topics)


def test_topic_picker_reaches_every_topic_and_redraws() -> None:
    from esc_analytics.widgets import TopicPicker

    rng = np.random.default_rng(1)
    volumes = {f"brand {i:04d}": rng.integers(0, 9, 6).astype(float).tolist() for i in range(300)}
    features = _features(volumes)
    incidents = _incidents(["brand 0007"])
    shown = top_topics(features, incidents, n=6)
    picker = TopicPicker(features, incidents, exclude=shown)
    assert set(picker.picker.options) == set(volumes)
    assert picker.picker.value not in shown  # starts on the first topic not charted
    picker.show("brand 0123")
    assert list(picker.figure.data[0].y) == volumes["brand 0123"]
    assert picker.figure.layout.annotations[0].text == "brand 0123"
    picker.picker.value = "brand 01"  # partial text while typing: nothing redrawn
    assert list(picker.figure.data[0].y) == volumes["brand 0123"]
    with pytest.raises(ValueError, match="unknown topic"):
        picker.show("brand 9999")
