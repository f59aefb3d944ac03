"""Data contracts: the column names are the API (see DESIGN.md), plus small shared helpers.

Every frame that crosses a module boundary uses these names. Times are tz-aware UTC
(``datetime64[..., UTC]``), ids are strings, frames are sorted deterministically.
"""

from __future__ import annotations

import re

import pandas as pd

# --- Mentions: one row per post ------------------------------------------------------------
MENTION_REQUIRED = ("mention_id", "created_at", "topic")
MENTION_OPTIONAL = (
    "text",
    "author",
    "author_followers",
    "engagement",
    "sentiment",  # float in [-1, 1]
    "platform",
    "is_verified",
    "sentiment_estimated",  # bool: True where sentiment was scored from text by the library
)
MENTION_COLUMNS = MENTION_REQUIRED + MENTION_OPTIONAL
DEFAULT_TOPIC = "all"

# --- VolumeSeries: pre-aggregated counts --------------------------------------------------
SERIES_REQUIRED = ("topic", "window_start", "volume")

# --- Incidents ----------------------------------------------------------------------------
INCIDENT_REQUIRED = ("incident_id", "topic", "started_at", "severity")
INCIDENT_OPTIONAL = (
    "ended_at",
    "detected_at",
    "escalated_at",
    "resolved_at",
    "title",
    "category",
)
INCIDENT_COLUMNS = INCIDENT_REQUIRED + INCIDENT_OPTIONAL
# Severity labels (any case) -> tier. Whole numbers 1..MAX_SEVERITY_TIER are taken as tiers
# directly (a severity of 1e20 or inf is an error in the log, not a tier).
MAX_SEVERITY_TIER = 99
SEVERITY_LABELS: dict[str, int] = {
    "low": 1,
    "minor": 1,
    "tier1": 1,
    "medium": 2,
    "moderate": 2,
    "tier2": 2,
    "high": 3,
    "major": 3,
    "severe": 3,
    "critical": 3,
    "crisis": 3,
    "tier3": 3,
}

# --- Features: one row per (topic, window_start) -------------------------------------------
FEATURE_KEYS = ("topic", "window_start")
FEATURE_MEASURES = (
    "volume",
    "negative_volume",
    "negative_share",
    "unique_authors",
    "reach",
    "engagement",
    "influencer_mentions",
)
FEATURE_BASELINES = (
    "baseline_volume",  # robust seasonal baseline from earlier windows only
    "volume_ratio",  # (volume + 1) / (baseline_volume + 1)
    "volume_z",  # robust z-score against the baseline
    "negative_share_change",  # negative_share - its baseline
)

# Detection measures: how unusual the current volume is for the topic, judged against the
# topic's own past only; scale-free, so one threshold means the same on every topic. Computed on
# demand from ``volume`` (features.add_detection_measures; evaluate adds them when a policy
# names one). name -> what it means, in a line.
DETECTION_MEASURES: dict[str, str] = {
    "volume_rank_28d": (
        "where the volume of the last 3 windows ranks among the topic's own windows of the past "
        "28 days (ending 1 h before): 0 to 1, 1 = above everything in four weeks"
    ),
    "burst_level_7d": (
        "log volume of the last 3 windows above the topic's own 99th percentile of the past "
        "7 days (ending 1 h before), in log units: > 0 = higher than 99% of the week"
    ),
}
# Parametrised burst levels written by earlier versions' calibration (level_q99_7d_s3 ...).
BURST_LEVEL_NAME = re.compile(r"^level_q(\d+)_(\d+(?:\.\d+)?)d_s(\d+)$")


# --- Escalations ---------------------------------------------------------------------------
# windows:       topic, window_start, tier (int, 0 = none), escalation (1 = notification)
# episodes:      episode_id, topic, tier (max reached), started_at, ended_at (exclusive end)
# notifications: topic, window_start, alerted_at (= window_start + freq, when the window closes),
#                tier, episode_id  -- the window where an episode starts or rises a tier
ESCALATION_WINDOW_COLUMNS = ("topic", "window_start", "tier", "escalation")
EPISODE_COLUMNS = ("episode_id", "topic", "tier", "started_at", "ended_at")
NOTIFICATION_COLUMNS = ("topic", "window_start", "alerted_at", "tier", "episode_id")

# --- Quarantine: rows that could not be used, never silently dropped ------------------------
QUARANTINE_COLUMNS = ("source", "line", "reason", "column", "raw")
# Reason codes (stable strings; summaries count by these).
REASON_BAD_TIME = "unparseable_time"
REASON_MISSING_TIME = "missing_time"
REASON_DUPLICATE_ID = "duplicate_id"
REASON_BAD_NUMBER = "bad_number"
REASON_NEGATIVE_NUMBER = "negative_number"
REASON_BAD_SENTIMENT = "bad_sentiment"
REASON_MISSING_ID = "missing_id"
REASON_MALFORMED_ROW = "malformed_row"
REASON_BAD_SEVERITY = "bad_severity"
REASON_END_BEFORE_START = "ended_before_started"
REASON_TIME_OUT_OF_RANGE = "time_out_of_range"
# Times outside these years (inclusive) are quarantined: year 1 or 9999 is a placeholder or a
# typo in an export, never a mention or an incident (and would stretch the window grid).
FIRST_YEAR, LAST_YEAR = 1900, 2200
TIME_RANGE_US = (
    int(pd.Timestamp(f"{FIRST_YEAR}-01-01", tz="UTC").value // 1000),
    int(pd.Timestamp(f"{LAST_YEAR + 1}-01-01", tz="UTC").value // 1000),
)  # [first, last) in epoch microseconds


def infer_freq(frame: pd.DataFrame, column: str = "window_start") -> pd.Timedelta:
    """Return the window length of a features/escalations frame: the smallest positive step
    between consecutive windows of one topic that is not a stray (at least a tenth of all
    steps), so one odd timestamp cannot turn 5-minute windows into 1-minute ones. Raises
    ValueError when it cannot be told."""
    if frame.empty or column not in frame:
        raise ValueError(f"cannot infer the window length: no {column!r} values")
    keys = frame["topic"] if "topic" in frame else pd.Series(0, index=frame.index)
    steps = (
        frame.assign(_k=keys.to_numpy())
        .sort_values(["_k", column])
        .groupby("_k", sort=False)[column]
        .diff()
        .dropna()
    )
    steps = steps[steps > pd.Timedelta(0)]
    if steps.empty:
        raise ValueError("cannot infer the window length: every topic has a single window")
    counts = steps.value_counts()
    common = counts[counts >= 0.1 * len(steps)]
    if common.empty:  # irregular (e.g. a zero-suppressed export): no step stands out
        return pd.Timedelta(steps.min())
    return pd.Timedelta(common.index.min())


# --- Sentiment -----------------------------------------------------------------------------
# Labels (any case) -> score; a mention counts as negative when its score is <= this bar
# (VADER's own convention for its compound score).
SENTIMENT_LABELS: dict[str, float] = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}
# Every label the loaders read (lower case), common abbreviations included.
SENTIMENT_WORDS: dict[str, float] = {
    **SENTIMENT_LABELS,
    "neg": -1.0,
    "pos": 1.0,
    "neu": 0.0,
    "neut": 0.0,
    "mixed": 0.0,
}
NEGATIVE_SENTIMENT_BAR = -0.05
DEFAULT_INFLUENCER_FOLLOWERS = 10_000
