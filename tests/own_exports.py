"""A team's own data as listening tools and hand-kept logs write it (not the package's names).

``write_brandwatch_like`` and ``write_sprout_like`` write the seeded sample history (35 days,
four brands) as a Brandwatch-shaped and a Sprout-shaped export with their own column names,
Paris wall-clock times without an offset, a hand-made incident log (``Ticket, Brand, Opened,
Closed, Priority`` with P1-P3) and a campaign calendar; they return what the files hold so that
tests compare loads with the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

import esc_analytics as esc

ZONE = "Europe/Paris"
PRIORITY = {3: "P1", 2: "P2", 1: "P3"}  # the team's log: P1 = most severe


@dataclass(frozen=True)
class Written:
    folder: Path
    mentions: Path
    incidents: Path
    planned_events: Path
    truth: esc.SampleData


def _sample() -> esc.SampleData:
    return esc.generate_sample(days=35, volume_scale=0.3)


def _paris(times: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(times, utc=True).dt.tz_convert(ZONE).dt.strftime(fmt)


def _label_sentiment(values: pd.Series) -> pd.Series:
    return pd.cut(values, [-1.01, -0.05, 0.05, 1.01],
                  labels=["negative", "neutral", "positive"]).astype(str)


def _incident_log(truth: esc.SampleData) -> pd.DataFrame:
    inc = truth.incidents
    return pd.DataFrame({
        "Ticket": inc["incident_id"],
        "Brand": inc["topic"],
        "Summary": inc["title"],
        "Opened": _paris(inc["started_at"], "%Y-%m-%d %H:%M"),
        "Closed": _paris(inc["ended_at"], "%Y-%m-%d %H:%M"),
        "Priority": inc["severity"].map(PRIORITY),
    })


def write_brandwatch_like(folder: Path, *, topic: bool = True) -> Written:
    """``exports/Mentions export.csv`` (Date, Full Text, Author, Sentiment, Query Name, Reach
    (new), Page Type, Url), ``incident log.csv`` and ``campaign calendar.csv`` in ``folder``;
    without ``topic`` the export has no Query Name column (one search, every brand)."""
    truth = _sample()
    m = truth.mentions
    export = pd.DataFrame({
        "Date": _paris(m["created_at"], "%d/%m/%Y %H:%M:%S"),
        "Full Text": m["text"],
        "Author": m["author"],
        "Sentiment": _label_sentiment(m["sentiment"]),
        "Query Name": m["topic"],
        "Reach (new)": m["author_followers"],
        "Page Type": m["platform"],
        "Url": "https://social.example/p/" + m["mention_id"],
    })
    if not topic:
        export = export.drop(columns="Query Name")
    (folder / "exports").mkdir(parents=True, exist_ok=True)
    mentions = folder / "exports" / "Mentions export.csv"
    export.to_csv(mentions, index=False)
    incidents = folder / "incident log.csv"
    _incident_log(truth).to_csv(incidents, index=False)
    planned = folder / "campaign calendar.csv"
    truth.planned_events.to_csv(planned, index=False)
    return Written(folder, mentions, incidents, planned, truth)


def write_sprout_like(folder: Path) -> Written:
    """``sprout_messages.csv`` (Timestamp (ISO), Message, Profile, Network, Sentiment score,
    Brand Tag, Followers) beside the same incident log and calendar."""
    truth = _sample()
    m = truth.mentions
    export = pd.DataFrame({
        "Timestamp (ISO)": _paris(m["created_at"], "%Y-%m-%dT%H:%M:%S"),
        "Message": m["text"],
        "Profile": m["author"],
        "Network": m["platform"],
        "Sentiment score": m["sentiment"],
        "Brand Tag": m["topic"],
        "Followers": m["author_followers"],
    })
    folder.mkdir(parents=True, exist_ok=True)
    mentions = folder / "sprout_messages.csv"
    export.to_csv(mentions, index=False)
    incidents = folder / "incident log.csv"
    _incident_log(truth).to_csv(incidents, index=False)
    planned = folder / "campaign calendar.csv"
    truth.planned_events.to_csv(planned, index=False)
    return Written(folder, mentions, incidents, planned, truth)
