"""Keyword and segment measures a plan reads (``terms.safety``, ``volume[platform=tiktok]``,
``mentions[followers>=100000]``…), per topic × window, by both aggregation engines.

The names are read by ``_util.measures`` (the policy declares term lists and spells the
measures in its conditions); here they are computed from mentions: :func:`plan_measures_frame`
with pandas from mentions in memory, :func:`plan_measures_duckdb` in SQL over the DuckDB
engine's accepted rows (the text never enters pandas: ``regexp_matches(lower(strip_accents(
text)), ?)`` with each term list's pattern as a bound parameter, every term's characters
escaped). Both fold text the same way (``_util.measures.fold_text``) and return the same
numbers on the same mentions (tested on shared fixtures).

- ``terms.L``: mentions of the window whose text matches any term of list ``L``;
  ``terms.L_share``: that count over the window's mentions (NaN in an empty window);
- ``base[filters]``: ``volume``/``mentions``, ``negative_volume``, ``reach``, ``engagement``
  over the mentions passing every filter (``platform=x``: the platform, case and surrounding
  spaces ignored; ``verified``; ``followers>=N``), ``negative_share`` = negative over all of
  the segment's mentions (NaN where the segment is empty).

A measure needs the mention columns it reads: a DataLoadError names the missing one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._util.errors import DataLoadError
from .._util.measures import PlanMeasure, fold_text, parse_plan_measure, term_pattern
from .._util.schema import NEGATIVE_SENTIMENT_BAR
from .._util.times import to_epoch_us
from ._grid import floor_us, utc_times, window_length

_ENGINES = ("pandas", "duckdb")


def measures_of(plan: Any) -> tuple[tuple[PlanMeasure, ...], dict[str, tuple[str, ...]]]:
    """``(measures, term lists)`` of a Policy (its :attr:`plan_measures`), or of a
    ``(names, {list: terms})`` pair."""
    if hasattr(plan, "plan_measures") and hasattr(plan, "term_lists"):
        return tuple(plan.plan_measures), dict(plan.term_lists)
    names, lists = plan
    lists = {str(k): tuple(v) for k, v in dict(lists or {}).items()}
    return tuple(parse_plan_measure(n, tuple(lists)) for n in names), lists


def check_engine(engine: str, measures: Sequence[PlanMeasure]) -> None:
    """A DataLoadError when ``engine`` cannot compute plan measures (only pandas and DuckDB
    do: the Spark engine does not)."""
    if measures and engine not in _ENGINES:
        names = ", ".join(m.name for m in measures)
        raise DataLoadError(
            f"the plan reads {names}, which the {engine} engine does not compute; aggregate "
            "with the duckdb or pandas engine"
        )


def _missing(measures: Iterable[PlanMeasure], has: Mapping[str, bool], where: str) -> None:
    for measure in measures:
        for column in measure.columns:
            if not has.get(column, False):
                raise DataLoadError(
                    f"the plan reads {measure.name}, which needs the mentions' {column} column; "
                    f"{where} carry none (map it with columns={{'{column}': 'YOUR_COLUMN'}})",
                    column=column,
                )


# --- pandas ---------------------------------------------------------------------------------
def _has(mentions: pd.DataFrame, column: str) -> bool:
    return column in mentions.columns and bool(mentions[column].notna().any())


def plan_measures_frame(
    mentions: pd.DataFrame, plan: Any, *, freq: str | pd.Timedelta = "1h"
) -> pd.DataFrame:
    """``topic, window_start`` + one column per plan measure, over the windows that hold
    mentions (the pandas engine). ``plan``: a Policy or ``(names, {list: terms})``."""
    measures, lists = measures_of(plan)
    if not isinstance(mentions, pd.DataFrame):
        raise DataLoadError(f"mentions must be a DataFrame, got {type(mentions).__name__}")
    _missing(measures, {c: _has(mentions, c) for c in
                        ("text", "platform", "is_verified", "author_followers", "sentiment",
                         "engagement")}, "the mentions")
    step_us = window_length(freq).value // 1000
    times = utc_times(mentions["created_at"], "created_at")
    window = floor_us(to_epoch_us(times), step_us)
    topic = mentions["topic"].astype("str").fillna("") if "topic" in mentions else "all"
    keys = pd.DataFrame({"topic": topic, "w": window})
    columns: dict[str, np.ndarray] = {}
    texts = None
    for measure in measures:
        if measure.kind == "terms":
            if texts is None:
                texts = mentions["text"].fillna("").astype("str").map(fold_text)
            pattern = re.compile(term_pattern(lists[measure.term_list]), re.ASCII)
            columns[f"_t_{measure.term_list}"] = texts.str.contains(pattern).to_numpy(float)
        else:
            mask = _segment_mask(mentions, measure)
            columns[f"_s_{measure.name}"] = mask.astype(float)
            if measure.base in ("negative_volume", "negative_share"):
                sentiment = pd.to_numeric(mentions["sentiment"], errors="coerce").to_numpy(float)
                negative = np.nan_to_num(sentiment, nan=np.inf) <= NEGATIVE_SENTIMENT_BAR
                columns[f"_n_{measure.name}"] = (mask & negative).astype(float)
            elif measure.base in ("reach", "engagement"):
                column = "author_followers" if measure.base == "reach" else "engagement"
                values = pd.to_numeric(mentions[column], errors="coerce").fillna(0.0)
                columns[f"_v_{measure.name}"] = np.where(mask, values.to_numpy(float), 0.0)
    sums = keys.assign(_volume=1.0, **columns).groupby(["topic", "w"], sort=True).sum()
    out = pd.DataFrame(index=sums.index)
    for measure in measures:
        out[measure.name] = _finish(measure, sums)
    out = out.reset_index()
    out["window_start"] = pd.to_datetime(out.pop("w"), unit="us", utc=True)
    return out[["topic", "window_start", *[m.name for m in measures]]]


def _finish(measure: PlanMeasure, sums: pd.DataFrame) -> np.ndarray:
    """The measure from the per-window sums of its indicator columns."""
    if measure.kind == "terms":
        count = sums[f"_t_{measure.term_list}"].to_numpy(float)
        if not measure.share:
            return count
        volume = sums["_volume"].to_numpy(float)
        return np.divide(count, volume, out=np.full(len(volume), np.nan), where=volume > 0)
    segment = sums[f"_s_{measure.name}"].to_numpy(float)
    if measure.base == "volume":
        return segment
    if measure.base == "negative_volume":
        return sums[f"_n_{measure.name}"].to_numpy(float)
    if measure.base == "negative_share":
        negative = sums[f"_n_{measure.name}"].to_numpy(float)
        return np.divide(negative, segment, out=np.full(len(segment), np.nan), where=segment > 0)
    return sums[f"_v_{measure.name}"].to_numpy(float)


def _segment_mask(mentions: pd.DataFrame, measure: PlanMeasure) -> np.ndarray:
    mask = np.ones(len(mentions), dtype=bool)
    for f in measure.filters:
        if f.kind == "platform":
            platform = mentions["platform"].astype("str").str.strip().str.lower()
            mask &= (platform == str(f.value)).to_numpy(dtype=bool) & mentions[
                "platform"
            ].notna().to_numpy()
        elif f.kind == "verified":
            verified = mentions["is_verified"]
            mask &= verified.fillna(False).astype(bool).to_numpy(dtype=bool)
        else:
            followers = pd.to_numeric(mentions["author_followers"], errors="coerce").to_numpy(float)
            compare = np.greater_equal if f.op == ">=" else np.greater
            mask &= compare(np.nan_to_num(followers, nan=-np.inf), float(f.value))
    return mask


# --- DuckDB ---------------------------------------------------------------------------------
def plan_measures_sql(
    measures: Sequence[PlanMeasure],
    lists: Mapping[str, tuple[str, ...]],
    *,
    window_sql: str,
    accepted_filter: str,
    scored_negatives: bool = False,
) -> tuple[str, list[Any]]:
    """``(query, parameters)`` computing the measures per ``topic, w`` over the DuckDB
    engine's ``rows_all`` view (columns ``text``, ``platform``, ``is_verified``,
    ``author_followers``, ``engagement``, ``sentiment``). Every value from the plan — term
    patterns, platform names, follower bounds — is a bound parameter, never query text;
    ``scored_negatives``: rows in ``scored_negative(src, line)`` (sentiment scored from text)
    count as negative too."""
    params: list[Any] = []
    negative = f"coalesce(sentiment <= {NEGATIVE_SENTIMENT_BAR!r}, false)"
    if scored_negatives:
        negative = (
            f"({negative} OR EXISTS (SELECT 1 FROM scored_negative s"
            " WHERE s.src = r.src AND s.line = r.line))"
        )
    selects = []
    for measure in measures:
        if measure.kind == "terms":
            params.append(term_pattern(lists[measure.term_list]))
            count = (
                "count(*) FILTER (WHERE coalesce(regexp_matches("
                "lower(strip_accents(text)), ?), false))"
            )
            expr = f"CAST({count} AS DOUBLE) / count(*)" if measure.share else count
        else:
            conditions, mine = [], []
            for f in measure.filters:
                if f.kind == "platform":
                    conditions.append("lower(trim(platform)) = ?")
                    mine.append(str(f.value))
                elif f.kind == "verified":
                    conditions.append("coalesce(is_verified, false)")
                else:
                    conditions.append(f"coalesce(author_followers {f.op} ?, false)")
                    mine.append(float(f.value))
            where = " AND ".join(conditions) or "true"
            uses = 1  # times the filters (and their parameters) appear in the expression
            if measure.base == "volume":
                expr = f"count(*) FILTER (WHERE {where})"
            elif measure.base == "negative_volume":
                expr = f"count(*) FILTER (WHERE {where} AND {negative})"
            elif measure.base == "negative_share":
                expr = (
                    f"CAST(count(*) FILTER (WHERE {where} AND {negative}) AS DOUBLE)"
                    f" / nullif(count(*) FILTER (WHERE {where}), 0)"
                )
                uses = 2
            else:
                column = "author_followers" if measure.base == "reach" else "engagement"
                expr = f"coalesce(sum({column}) FILTER (WHERE {where}), 0)"
            params.extend(mine * uses)
        selects.append(f"CAST({expr} AS DOUBLE) AS m{len(selects)}")
    query = (
        f"SELECT topic, {window_sql} AS w, {', '.join(selects)}"
        f" FROM rows_all r WHERE {accepted_filter} GROUP BY ALL"
    )
    return query, params


def plan_measures_duckdb(
    con: Any,
    plan: Any,
    *,
    window_sql: str,
    accepted_filter: str,
    mappings: Sequence[Mapping[str, str]],
    scored_negatives: bool = False,
) -> pd.DataFrame:
    """The plan measures per ``topic, w`` (window start in µs) computed in DuckDB on the
    connection's ``rows_all`` (see :func:`plan_measures_sql`); ``mappings``: the columns each
    file provides (a measure needing a column no file has is a DataLoadError)."""
    measures, lists = measures_of(plan)
    if not measures:
        return pd.DataFrame(columns=["topic", "w"])
    has = {c: any(c in m for m in mappings) for c in
           ("text", "platform", "is_verified", "author_followers", "engagement")}
    has["sentiment"] = any("sentiment" in m for m in mappings) or has["text"]
    _missing(measures, has, "the files")
    query, params = plan_measures_sql(
        measures, lists, window_sql=window_sql, accepted_filter=accepted_filter,
        scored_negatives=scored_negatives,
    )
    frame = con.execute(query, params).fetch_df()
    return frame.rename(columns={f"m{i}": m.name for i, m in enumerate(measures)})


def merge_plan_measures(
    features: pd.DataFrame, measures: pd.DataFrame, plan: Any
) -> pd.DataFrame:
    """``features`` with the plan measure columns of ``measures`` (per ``topic`` and
    ``window_start`` or ``w`` in µs): counts and sums are 0 in windows without mentions,
    shares NaN."""
    wanted, _ = measures_of(plan)
    if not wanted:
        return features
    table = measures.copy()
    if "window_start" not in table:
        table["window_start"] = pd.to_datetime(table.pop("w").astype("int64"), unit="us",
                                               utc=True)
    table["topic"] = table["topic"].astype("str")
    keys = pd.MultiIndex.from_arrays([
        features["topic"].astype("str").to_numpy(),
        pd.to_datetime(features["window_start"], utc=True).dt.as_unit("us").to_numpy(),
    ])
    index = pd.MultiIndex.from_arrays([
        table["topic"].to_numpy(), table["window_start"].dt.as_unit("us").to_numpy(),
    ])
    out = features.copy()
    for measure in wanted:
        values = pd.Series(table[measure.name].to_numpy(float), index=index).reindex(keys)
        share = measure.share or measure.base == "negative_share"
        out[measure.name] = values.to_numpy(float) if share else values.fillna(0.0).to_numpy(
            float
        )
    return out


def add_plan_measures(
    features: pd.DataFrame,
    mentions: pd.DataFrame,
    plan: Any,
    *,
    freq: str | pd.Timedelta | None = None,
) -> pd.DataFrame:
    """``features`` with the keyword and segment measures ``plan`` reads (``terms.safety``,
    ``volume[platform=tiktok]``…), computed from the ``mentions`` they were built from (window
    ``freq``: default the features' own step). For a plan loaded after its features (the
    command line, a notebook)."""
    if freq is None:
        starts = pd.to_datetime(features["window_start"], utc=True).drop_duplicates()
        steps = starts.sort_values().diff().dropna()
        freq = steps.min() if len(steps) else pd.Timedelta("1h")
    return merge_plan_measures(features, plan_measures_frame(mentions, plan, freq=freq), plan)
