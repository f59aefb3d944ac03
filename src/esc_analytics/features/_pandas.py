"""The pandas aggregation engine: mentions already in memory → measures per topic × window."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._util.errors import DataLoadError
from .._util.schema import (
    DEFAULT_INFLUENCER_FOLLOWERS,
    DEFAULT_TOPIC,
    NEGATIVE_SENTIMENT_BAR,
)
from .._util.times import to_epoch_us
from ._grid import (
    check_grid,
    check_influencer_threshold,
    empty_measures,
    floor_us,
    measures_frame,
    utc_times,
    window_length,
)


def _numeric(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A count column as float64 with missing = 0 (absent column = all 0)."""
    if column not in frame:
        return np.zeros(len(frame))
    values = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return values.fillna(0.0).to_numpy()


def _truthy(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A boolean-like column (bool, 0/1, "true"/"yes"...) as bool, missing = False."""
    if column not in frame:
        return np.zeros(len(frame), dtype=bool)
    values = frame[column]
    if pd.api.types.is_bool_dtype(values):
        return values.fillna(False).to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(values):
        return (values.fillna(0) != 0).to_numpy(dtype=bool)
    text = values.astype("str").str.strip().str.lower()
    return text.isin(("true", "t", "yes", "y", "1")).to_numpy(dtype=bool)


def aggregate_mentions(
    mentions: pd.DataFrame,
    *,
    freq: str | pd.Timedelta = "1h",
    influencer_followers: float = DEFAULT_INFLUENCER_FOLLOWERS,
) -> pd.DataFrame:
    """Count mentions per topic × window: ``topic, window_start`` + ``FEATURE_MEASURES``.

    Empty windows are zeros; every topic spans the global first to last window. An influencer
    mention has ``author_followers >= influencer_followers`` or ``is_verified``."""
    if not isinstance(mentions, pd.DataFrame):
        raise DataLoadError(f"mentions must be a DataFrame, got {type(mentions).__name__}")
    if "created_at" not in mentions:
        raise DataLoadError("mentions have no created_at column", column="created_at")
    step = window_length(freq)
    threshold = check_influencer_threshold(influencer_followers)
    times = utc_times(mentions["created_at"], "created_at")
    if "topic" in mentions:
        topics = mentions["topic"].astype("str").fillna("")
    else:
        topics = pd.Series(DEFAULT_TOPIC, index=mentions.index, dtype="str")
    step_us = step.value // 1000
    windows = floor_us(to_epoch_us(times), step_us)
    if len(mentions) == 0:
        return empty_measures()
    topic_codes, topic_names = pd.factorize(topics, sort=True)
    first, last = int(windows.min()), int(windows.max())
    n_windows = (last - first) // step_us + 1
    check_grid(len(topic_names), n_windows, step)
    cell = topic_codes.astype("i8") * n_windows + (windows - first) // step_us
    size = len(topic_names) * n_windows

    sentiment = (
        pd.to_numeric(mentions["sentiment"], errors="coerce").to_numpy(dtype="float64")
        if "sentiment" in mentions
        else np.full(len(mentions), np.nan)
    )
    negative = np.nan_to_num(sentiment, nan=np.inf) <= NEGATIVE_SENTIMENT_BAR
    followers = _numeric(mentions, "author_followers")
    influencer = (followers >= threshold) | _truthy(mentions, "is_verified")

    volume = np.bincount(cell, minlength=size)
    negative_volume = np.bincount(cell[negative], minlength=size)
    reach = np.bincount(cell, weights=followers, minlength=size)
    engagement = np.bincount(cell, weights=_numeric(mentions, "engagement"), minlength=size)
    influencers = np.bincount(cell[influencer], minlength=size)
    if "author" in mentions:
        authors = mentions["author"]
        known = authors.notna().to_numpy()
        author_codes = pd.factorize(authors)[0].astype("i8")
        pairs = np.unique(np.stack([cell[known], author_codes[known]], axis=1), axis=0)
        unique_authors = (
            np.bincount(pairs[:, 0], minlength=size) if len(pairs) else np.zeros(size, dtype="i8")
        )
    else:
        unique_authors = np.zeros(size, dtype="i8")

    grid_windows = first + np.arange(n_windows, dtype="i8") * step_us
    return measures_frame(
        topics=np.repeat(np.asarray(topic_names, dtype=object), n_windows),
        window_us=np.tile(grid_windows, len(topic_names)),
        volume=volume,
        negative_volume=negative_volume,
        unique_authors=unique_authors,
        reach=reach,
        engagement=engagement,
        influencer_mentions=influencers,
    )
