"""Timeline figure helpers: incident labels stay readable and escaped."""

from __future__ import annotations

import pandas as pd
import pytest

from esc_analytics.plots._timeline import incident_labels


def _incidents(starts: list[str], topic: str = "brand") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "incident_id": [f"INC-{i}" for i in range(len(starts))],
            "topic": topic,
            "started_at": pd.to_datetime(starts, utc=True),
            "severity": 1,
        }
    )


SPAN = (pd.Timestamp("2026-01-01", tz="UTC"), pd.Timestamp("2026-05-01", tz="UTC"))


@pytest.mark.parametrize(
    ("starts", "rows"),
    [
        (["2026-01-10", "2026-03-01"], [0, 0]),  # far apart: one row
        (["2026-04-01", "2026-04-03", "2026-04-05", "2026-04-07"], [0, 1, 2, 0]),  # crowded
        (["2026-04-03", "2026-04-01"], [0, 1]),  # sorted by start before stacking
    ],
)
def test_close_incident_labels_are_stacked(starts, rows):
    labels = incident_labels(_incidents(starts), "brand", span=SPAN)
    assert [round((label["y"] - 1) / 0.06) for label in labels] == rows
    assert [label["x"] for label in labels] == sorted(label["x"] for label in labels)


def test_labels_only_for_the_topic_and_escaped():
    frame = _incidents(["2026-02-01", "2026-02-02"])
    frame.loc[1, "topic"] = "other"
    frame.loc[0, "incident_id"] = "<b>x</b>"
    labels = incident_labels(frame, "brand", span=SPAN)
    assert len(labels) == 1
    assert labels[0]["text"].startswith("&lt;b&gt;x&lt;/b&gt;")
    assert incident_labels(None, "brand") == []
