"""Mentions or volume series → Features, and the bookkeeping of which measures an input
carried.

Measures (``FEATURE_MEASURES``) count what happened in a window; baselines
(``FEATURE_BASELINES``) say what was *expected* there, learned from earlier windows only, so
that appending later data never changes an earlier window's features.

Conventions (shared by the pandas engine in ``_pandas`` and the DuckDB engine in ``_duckdb``,
both building on the window grid of ``_grid``):

* a window is ``[window_start, window_start + freq)`` with ``window_start`` = the event time
  floored to a multiple of ``freq`` since the Unix epoch (what ``Timestamp.floor(freq)`` does in
  UTC); ``freq`` is a fixed length of whole seconds (``"5min"``, ``"1h"``, ``"1D"``...);
* every topic gets every window from the global first to the global last window (empty = 0),
  rows sorted by ``(topic, window_start)``;
* a measure whose source column is absent (no ``author``, no ``sentiment``...) is 0, never NaN;
  a missing cell counts as 0 followers / engagement, an unknown sentiment is not negative.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._util.errors import DataLoadError
from .._util.schema import (
    DEFAULT_INFLUENCER_FOLLOWERS,
    DEFAULT_TOPIC,
    NEGATIVE_SENTIMENT_BAR,
    infer_freq,
)
from .._util.times import to_epoch_us
from ..io._load import LoadSummary, load_mentions
from ._baselines import add_baselines
from ._duckdb import DEFAULT_MEMORY_LIMIT, aggregate_counts
from ._grid import (
    CARRIED_ATTR,
    check_grid,
    check_influencer_threshold,
    empty_measures,
    measures_frame,
    utc_times,
    window_length,
)
from ._pandas import aggregate_mentions
from ._segments import check_engine, merge_plan_measures, plan_measures_frame
from ._spark import aggregate_counts_spark


@dataclass(frozen=True)
class AggregateResult:
    """What :func:`aggregate_files` returns: the features, the load summary (rows read,
    accepted, quarantined by reason) and the quarantined rows (``QUARANTINE_COLUMNS``)."""

    features: pd.DataFrame
    summary: LoadSummary
    quarantine: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The features frame (one row per topic × window)."""
        return self.features

    def summary_text(self) -> str:
        """One line: ``read N, accepted A, quarantined Q (reason: n, ...)``."""
        return str(self.summary)


# --- windows ---------------------------------------------------------------------------------


#: Key of ``features.attrs``: ``{feature: "why it is absent"}`` for measures the input did not
#: carry (set by :func:`mark_absent_features`, read by :func:`evaluate`).
ABSENT_FEATURES_ATTR = "absent_features"

#: Measure columns of Features -> the mention columns they are computed from. A measure is
#: carried when one of these (or the measure itself, as in a pre-aggregated series) has data;
#: every other column (volume, its baselines, ratios and burst levels) needs only volume.
FEATURE_INPUTS: dict[str, tuple[str, ...]] = {
    "negative_volume": ("sentiment",),
    "negative_share": ("sentiment", "negative_volume"),
    "negative_share_change": ("sentiment", "negative_volume"),
    "negative_share_rolling": ("sentiment", "negative_volume"),
    "unique_authors": ("author",),
    "reach": ("author_followers",),
    "engagement": ("engagement",),
    "influencer_mentions": ("author_followers", "is_verified"),
}


def mark_absent_features(
    features: pd.DataFrame,
    carried: Collection[str] | pd.DataFrame,
    kind: Literal["mentions", "series"] = "mentions",
) -> pd.DataFrame:
    """Record in ``features.attrs`` which measures of ``FEATURE_INPUTS`` the input could not
    provide (``carried``: the input's columns that hold data, or the input itself), so that
    :func:`evaluate` warns when a policy reads one of those filler columns. Returns
    ``features`` (marked in place)."""
    if isinstance(carried, pd.DataFrame):
        carried = [c for c in carried.columns if carried[c].notna().any()]
    have = set(carried)
    absent: dict[str, str] = {}
    for feature, inputs in FEATURE_INPUTS.items():
        if feature in have or have.intersection(inputs):
            continue
        if kind == "series":
            absent[feature] = "volume series do not carry"
        else:
            sources = [c for c in inputs if c not in FEATURE_INPUTS or c == feature]
            absent[feature] = (
                f"the mentions do not carry (no {' or '.join(sources)} column)"
            )
    features.attrs[ABSENT_FEATURES_ATTR] = absent
    return features


def build_features(
    mentions: pd.DataFrame,
    *,
    freq: str | pd.Timedelta = "1h",
    planned_events: pd.DataFrame | None = None,
    influencer_followers: float = DEFAULT_INFLUENCER_FOLLOWERS,
    measures: Any = None,
) -> pd.DataFrame:
    """Mentions → Features: :func:`aggregate_mentions` then :func:`add_baselines`.

    ``measures``: a Policy whose conditions read keyword or segment measures
    (``terms.safety``, ``volume[platform=tiktok]``…; or ``(names, {list: terms})``): they are
    computed from the mentions and added as columns (``features._segments``)."""
    counts = aggregate_mentions(mentions, freq=freq, influencer_followers=influencer_followers)
    features = add_baselines(counts, planned_events=planned_events, freq=freq)
    if measures is not None:
        features = merge_plan_measures(
            features, plan_measures_frame(mentions, measures, freq=freq), measures
        )
    return mark_absent_features(features, mentions, "mentions")


def rolling_negative_share(
    features: pd.DataFrame, *, freq: str | pd.Timedelta = "1h", span: str | pd.Timedelta = "1D"
) -> pd.Series:
    """Negative share over the trailing ``span`` of each topic (sums of ``negative_volume`` over
    sums of ``volume``; NaN where no mention): one window's share of a few posts is noisy.

    Aligned with ``features`` (rows of a topic in time order, as Features are)."""
    n = max(1, int(window_length(span) / window_length(freq)))
    by_topic = features.groupby("topic", sort=False, observed=True)
    negative = by_topic["negative_volume"].transform(lambda s: s.rolling(n, min_periods=1).sum())
    volume = by_topic["volume"].transform(lambda s: s.rolling(n, min_periods=1).sum())
    return (negative / volume.where(volume > 0)).rename("negative_share_rolling")


def topic_overview(mentions: pd.DataFrame, incidents: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per topic of ``mentions``: ``mentions`` (count), ``first`` and ``last`` mention times,
    ``negative_share`` (sentiment ≤ ``NEGATIVE_SENTIMENT_BAR``; unknown = not negative) and
    ``incidents`` (count in ``incidents``, 0 when none) — what the data holds, at a glance."""
    missing = [c for c in ("topic", "created_at") if c not in mentions]
    if missing:
        raise DataLoadError(f"mentions need the columns {missing} for an overview")
    if "sentiment" in mentions:
        sentiment = pd.to_numeric(mentions["sentiment"], errors="coerce").to_numpy(float)
        negative = np.nan_to_num(sentiment, nan=np.inf) <= NEGATIVE_SENTIMENT_BAR
    else:
        negative = np.zeros(len(mentions), dtype=bool)
    frame = pd.DataFrame(
        {"topic": mentions["topic"], "created_at": mentions["created_at"], "negative": negative}
    )
    overview = frame.groupby("topic", observed=True).agg(
        mentions=("created_at", "size"),
        first=("created_at", "min"),
        last=("created_at", "max"),
        negative_share=("negative", "mean"),
    )
    counts = (
        incidents.groupby("topic").size()
        if incidents is not None and len(incidents)
        else pd.Series(dtype="int64")
    )
    overview["incidents"] = counts.reindex(overview.index, fill_value=0).astype(int).to_numpy()
    return overview


def top_topics(
    features: pd.DataFrame, incidents: pd.DataFrame | None = None, *, n: int = 6
) -> list[str]:
    """The ``n`` topics to chart first when there are too many to show them all: most
    incidents first, then most mentions (``volume`` summed), then by name — deterministic.

    With 10,000 topics a chart per topic is unreadable (and a report too heavy to open); the
    rest stay reachable through a picker."""
    if int(n) < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    missing = [c for c in ("topic", "volume") if c not in features]
    if missing:
        raise DataLoadError(f"features need the columns {missing} to rank topics")
    volume = features.groupby("topic", observed=True)["volume"].sum()
    ranked = pd.DataFrame({"volume": volume.astype(float)})
    ranked.index = ranked.index.astype(str)
    ranked = ranked.groupby(level=0).sum()
    counts = (
        incidents["topic"].astype(str).value_counts()
        if incidents is not None and len(incidents) and "topic" in incidents
        else pd.Series(dtype="int64")
    )
    ranked["incidents"] = counts.reindex(ranked.index, fill_value=0).to_numpy()
    ranked["name"] = ranked.index
    ranked = ranked.sort_values(
        ["incidents", "volume", "name"], ascending=[False, False, True], kind="mergesort"
    )
    return ranked.index[: int(n)].tolist()


def _plain(step: pd.Timedelta) -> str:
    """``5 min``, ``1 h``, ``1 day``: a window length as people write it."""
    for unit, name in ((86_400, "day"), (3_600, "h"), (60, "min"), (1, "s")):
        seconds = step.total_seconds()
        if seconds >= unit and seconds % unit == 0:
            return f"{int(seconds // unit)} {name}"
    return str(step)


def _some_windows(frame: pd.DataFrame, mask: np.ndarray, limit: int = 3) -> str:
    """The first ``limit`` (topic, window_start) of ``mask``, for an error message."""
    rows = frame.loc[np.asarray(mask, dtype=bool), ["topic", "window_start"]]
    shown = [f"{r.topic} {r.window_start:%Y-%m-%d %H:%M:%S}" for r in rows.head(limit).itertuples()]
    more = f" (+{len(rows) - limit} more)" if len(rows) > limit else ""
    return ", ".join(shown) + more


def features_from_series(
    series: pd.DataFrame,
    *,
    planned_events: pd.DataFrame | None = None,
    freq: str | pd.Timedelta | None = None,
) -> pd.DataFrame:
    """VolumeSeries (``topic, window_start, volume``) → Features of the same shape.

    Missing windows inside the span become 0; measures the series does not carry are 0 (extra
    measure columns it has, e.g. ``negative_volume``, are kept); ``freq`` defaults to the
    step between windows (see :func:`~esc_analytics._util.schema.infer_freq`)."""
    if not isinstance(series, pd.DataFrame):
        raise DataLoadError(f"series must be a DataFrame, got {type(series).__name__}")
    missing = [c for c in ("window_start", "volume") if c not in series]
    if missing:
        raise DataLoadError(f"series lack the column(s) {', '.join(missing)}")
    frame = series.copy()
    if "topic" not in frame:
        frame["topic"] = DEFAULT_TOPIC
    frame["topic"] = frame["topic"].astype("str")
    frame["window_start"] = utc_times(frame["window_start"], "window_start")
    if freq is None:
        try:
            step = window_length(infer_freq(frame))
        except ValueError as exc:
            raise DataLoadError(f"{exc}; pass freq= (--freq on the command line)") from exc
    else:
        step = window_length(freq)
    step_us = step.value // 1000
    t = to_epoch_us(frame["window_start"])
    if len(frame) == 0:
        return add_baselines(empty_measures(), planned_events=planned_events, freq=step)
    duplicated = frame.duplicated(["topic", "window_start"]).to_numpy()
    if duplicated.any():
        raise DataLoadError(
            "the series has several rows for one topic and window: "
            f"{_some_windows(frame, duplicated)}",
            column="window_start",
        )
    first, last = int(t.min()), int(t.max())
    off_grid = np.mod(t - first, step_us) != 0
    if off_grid.any():
        how = "given as freq" if freq is not None else "the step between most rows"
        raise DataLoadError(
            f"{int(off_grid.sum())} window start(s) are off the {_plain(step)} grid "
            f"({how}): {_some_windows(frame, off_grid)}; fix or remove those rows, or pass "
            "freq= (--freq) with the real window length",
            column="window_start",
        )
    topic_codes, topic_names = pd.factorize(frame["topic"], sort=True)
    n_windows = (last - first) // step_us + 1
    check_grid(len(topic_names), n_windows, step)
    cell = topic_codes.astype("i8") * n_windows + (t - first) // step_us
    size = len(topic_names) * n_windows

    def dense(column: str, dtype: str) -> np.ndarray:
        out = np.zeros(size, dtype="float64")
        if column in frame:
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy("float64")
            out[cell] = np.nan_to_num(values, nan=0.0)
        return out.astype(dtype)

    volume = dense("volume", "float64")
    if (volume < 0).any():
        raise DataLoadError("the series has negative volumes", column="volume")
    grid_windows = first + np.arange(n_windows, dtype="i8") * step_us
    measures = measures_frame(
        topics=np.repeat(np.asarray(topic_names, dtype=object), n_windows),
        window_us=np.tile(grid_windows, len(topic_names)),
        volume=np.rint(volume),
        negative_volume=dense("negative_volume", "i8"),
        unique_authors=dense("unique_authors", "i8"),
        reach=dense("reach", "float64"),
        engagement=dense("engagement", "float64"),
        influencer_mentions=dense("influencer_mentions", "i8"),
    )
    features = add_baselines(measures, planned_events=planned_events, freq=step)
    return mark_absent_features(features, series, "series")


# --- out of core -----------------------------------------------------------------------------

#: The aggregation engines; ``auto`` picks one (see :func:`choose_engine`).
ENGINES = ("auto", "duckdb", "pandas", "spark")


def choose_engine(
    engine: str = "auto",
    source: Any = None,
    *,
    spark: Any = None,
    spark_master: str | None = None,
    spark_remote: str | None = None,
) -> str:
    """The engine that aggregates ``source``: ``engine`` itself unless it is ``"auto"``, which
    picks Spark when a Spark session, master or remote is given (or the ``SPARK_REMOTE``
    environment variable is set), pandas for a DataFrame, DuckDB (out of core) for files."""
    if engine not in ENGINES:
        raise DataLoadError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if engine != "auto":
        return engine
    if spark is not None or spark_master or spark_remote or os.environ.get("SPARK_REMOTE"):
        return "spark"
    if isinstance(source, pd.DataFrame) or (
        isinstance(source, list | tuple) and any(isinstance(s, pd.DataFrame) for s in source)
    ):
        return "pandas"
    return "duckdb"


def aggregate_files(
    paths: Any,
    *,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    freq: str | pd.Timedelta = "1h",
    influencer_followers: float = DEFAULT_INFLUENCER_FOLLOWERS,
    planned_events: pd.DataFrame | None = None,
    topic: str | None = None,
    glob: bool = False,
    measures: Any = None,
    engine: str = "auto",
    spark: Any = None,
    spark_master: str | None = None,
    spark_remote: str | None = None,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    quarantine_path: str | None = None,
) -> AggregateResult:
    """Aggregate mention files (CSV, CSV.gz, Parquet, JSON lines) → features, on one engine.

    Same rows accepted/quarantined and the same numbers as ``load_mentions`` followed by
    :func:`build_features`, whatever the engine (see :func:`choose_engine`): ``"duckdb"``
    out of core (DuckDB's memory capped at ``memory_limit``, spilling to disk beyond it),
    ``"pandas"`` in memory (also takes DataFrames), ``"spark"`` on a Spark cluster or in local
    mode (``spark``: your SparkSession, else one is started on ``spark_master`` or the Spark
    Connect ``spark_remote``; paths are any Spark can read, ``s3a://...`` included; needs the
    ``[spark]`` extra). File names are read as written (``mentions[1].csv`` is that file);
    ``glob=True`` expands each as a pattern. ``quarantine_path`` (Spark only): every
    quarantined row is also written there as Parquet (the result holds a bounded sample).
    ``measures``: a Policy reading keyword or segment measures (see :func:`build_features`),
    computed by the pandas and DuckDB engines (in SQL; the text never enters pandas)."""
    chosen = choose_engine(
        engine, paths, spark=spark, spark_master=spark_master, spark_remote=spark_remote
    )
    step = window_length(freq)
    threshold = check_influencer_threshold(influencer_followers)
    if measures is not None:
        check_engine(chosen, measures.plan_measures)
    if chosen == "pandas":
        loaded = load_mentions(
            paths if isinstance(paths, pd.DataFrame) else _as_list(paths),
            columns=columns,
            tz=tz,
            topic=topic,
            glob=glob,
        )
        features = build_features(
            loaded.data, freq=step, planned_events=planned_events, influencer_followers=threshold,
            measures=measures,
        )  # fmt: skip
        return AggregateResult(
            features=features, summary=loaded.summary, quarantine=loaded.quarantine
        )
    options = {
        "columns": columns,
        "tz": tz,
        "freq": step,
        "influencer_followers": threshold,
        "topic": topic,
        "glob": glob,
    }
    if chosen == "spark":
        counts, summary, quarantine = aggregate_counts_spark(
            paths,
            spark=spark,
            master=spark_master,
            remote=spark_remote,
            quarantine_path=quarantine_path,
            **options,
        )
    else:
        counts, summary, quarantine = aggregate_counts(
            paths, memory_limit=memory_limit, plan=measures, **options
        )
    carried = counts.attrs.pop(CARRIED_ATTR, None)
    features = add_baselines(counts, planned_events=planned_events, freq=step)
    if carried is not None:
        mark_absent_features(features, carried, "mentions")
    return AggregateResult(features=features, summary=summary, quarantine=quarantine)


def _as_list(paths: Any) -> Any:
    return list(paths) if isinstance(paths, tuple) else paths
