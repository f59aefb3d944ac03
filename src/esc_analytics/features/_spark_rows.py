"""The Spark engine's native rows: a typed file's rows normalised by Spark SQL expressions.

A Parquet file whose columns are already typed (a timestamp, numbers, booleans, text) needs
none of the text rules (dates, comma conventions, number words), so its rows are normalised
by Spark itself, in the JVM, at Spark's speed: the same columns, values and reasons as the
DuckDB engine's row SQL (``_duckdb.normalized_rows_sql``), which stays the one source of the
rules for every other file and is what the parity tests compare this module against. A file
with any column this module does not cover is normalised by that SQL on the executors.

Spark's comparisons treat NaN as larger than any number (DuckDB's as well, but not always in
the same places), so every NaN is decided explicitly before a comparison.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._util.schema import (
    DEFAULT_TOPIC,
    REASON_BAD_NUMBER,
    REASON_BAD_SENTIMENT,
    REASON_MISSING_TIME,
    REASON_NEGATIVE_NUMBER,
    REASON_TIME_OUT_OF_RANGE,
    TIME_RANGE_US,
)
from ._duckdb import COUNT_COLUMNS, TRUE_WORDS

__all__ = ["native_rows", "native_supported"]

#: DuckDB type names (of the Arrow schema Spark hands to the executors) this module reads.
_FLOATS = ("DOUBLE", "FLOAT", "REAL")
_INTEGERS = ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "USMALLINT",
             "UTINYINT")
_NUMBERS = (*_FLOATS, *_INTEGERS, "BOOLEAN")
_TEXTS = ("VARCHAR", *_INTEGERS)  # read as text: integers print alike in DuckDB and Spark
_UTC_NAMES = ("UTC", "Etc/UTC", "Z", "GMT", "Etc/GMT", "+00:00")


def native_supported(
    types: Mapping[str, str], resolved: Mapping[str, str], tz: str | None, session_tz: str
) -> bool:
    """Whether every column the rules read has a type this module covers, so that Spark's
    own expressions give exactly the DuckDB engine's rows. Naive times are read as UTC wall
    times only: another zone's gaps and folds are left to the DuckDB rules."""
    def kind(canonical: str) -> str | None:
        name = resolved.get(canonical)
        return types.get(name) if name is not None else None

    time_type = kind("created_at") or ""
    if time_type.startswith("TIMESTAMP WITH TIME ZONE"):
        pass
    elif time_type in ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE"):
        if (tz is not None and tz not in _UTC_NAMES) or session_tz not in _UTC_NAMES:
            return False
    else:
        return False
    for canonical in (*COUNT_COLUMNS, "sentiment"):
        dtype = kind(canonical)
        if dtype is not None and dtype not in _NUMBERS:
            return False
    dtype = kind("is_verified")
    if dtype is not None and dtype not in (*_NUMBERS, "VARCHAR"):
        return False
    for canonical in ("author", "mention_id", "topic", "text"):
        dtype = kind(canonical)
        if dtype is not None and dtype not in _TEXTS:
            return False
    return True


def _column(name: str) -> Any:
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def _text(expr: Any, dtype: str) -> Any:
    """A cell as trimmed text (spaces only, as DuckDB's ``trim``), empty = NULL."""
    from pyspark.sql import functions as F

    if dtype != "VARCHAR":
        return F.nullif(F.trim(expr.cast("string")), F.lit(""))
    # trimmed only where a space starts or ends it (the same text; no copy of every value)
    padded = expr.startswith(" ") | expr.endswith(" ")
    return F.nullif(F.when(padded, F.trim(expr)).otherwise(expr), F.lit(""))


def _finite(value: Any) -> Any:
    from pyspark.sql import functions as F

    return ~F.isnan(value) & (F.abs(value) != F.lit(float("inf")))


def _as_text(expr: Any, dtype: str) -> Any:
    """The raw cell of a quarantined row, worded as DuckDB's cast words it where they differ
    (±inf, NaN)."""
    from pyspark.sql import functions as F

    if dtype not in _FLOATS:
        return expr.cast("string")
    value = expr.cast("double")
    return (
        F.when(F.isnan(value), F.lit("nan"))
        .when(value == F.lit(float("inf")), F.lit("inf"))
        .when(value == F.lit(float("-inf")), F.lit("-inf"))
        .otherwise(expr.cast("string"))
    )


def native_rows(
    frame: Any,
    index: int,
    types: Mapping[str, str],
    resolved: Mapping[str, str],
    topic: str | None,
    file_column: str,
) -> Any:
    """``frame`` (a Parquet scan with ``file_row_number`` and ``file_column``) as the
    engine's normalised rows, plus ``text`` (kept for the sentiment a row lacks) and
    ``pending_score`` (the row has text and no sentiment: scored after the aggregation)."""
    from pyspark.sql import functions as F

    def col(canonical: str) -> tuple[Any, str] | None:
        name = resolved.get(canonical)
        return (_column(name), types[name]) if name in types else None

    time_expr, time_type = col("created_at")
    if time_type.startswith("TIMESTAMP WITH TIME ZONE"):
        t_us = F.unix_micros(time_expr)
        has_offset = F.lit(True)
    else:  # naive (UTC wall time, see native_supported) or a date
        t_us = F.unix_micros(time_expr.cast("timestamp_ntz").cast("timestamp"))
        has_offset = F.lit(False)
    # (condition, reason, canonical column) in the DuckDB row SQL's order
    reasons: list[tuple[Any, str, str]] = [
        (time_expr.isNull(), REASON_MISSING_TIME, "created_at"),
        (
            ~((t_us >= F.lit(TIME_RANGE_US[0])) & (t_us < F.lit(TIME_RANGE_US[1]))),
            REASON_TIME_OUT_OF_RANGE,
            "created_at",
        ),
    ]
    selects: dict[str, Any] = {
        "src": F.lit(index).cast("int"),
        "file": F.col(file_column),
        "line": F.col("file_row_number") + F.lit(1),
        "t_us": t_us,
        "has_offset": has_offset,
    }
    negatives = []
    for canonical in COUNT_COLUMNS:
        found = col(canonical)
        if found is None:
            selects[canonical] = F.lit(0.0)
            continue
        number = found[0].cast("double")
        value = F.when(_finite(number), number)
        reasons.append((F.coalesce(F.abs(number) == F.lit(float("inf")), F.lit(False)),
                        REASON_BAD_NUMBER, canonical))
        negatives.append((F.coalesce(value < F.lit(0.0), F.lit(False)), REASON_NEGATIVE_NUMBER,
                          canonical))
        selects[canonical] = F.coalesce(value, F.lit(0.0))
    found = col("sentiment")
    reasons.extend(negatives)
    if found is None:
        sentiment = F.lit(None).cast("double")
    else:
        number = found[0].cast("double")
        valid = F.when(~F.isnan(number), number)
        out_of_range = F.coalesce(
            ~((valid >= F.lit(-1.0)) & (valid <= F.lit(1.0))), F.lit(False)
        )
        reasons.append((out_of_range, REASON_BAD_SENTIMENT, "sentiment"))
        sentiment = F.when((valid >= F.lit(-1.0)) & (valid <= F.lit(1.0)), valid)
    selects["sentiment"] = sentiment
    found = col("is_verified")
    if found is None:
        verified = F.lit(False)
    elif found[1] == "BOOLEAN":
        verified = F.coalesce(found[0], F.lit(False))
    elif found[1].startswith(("DOUBLE", "FLOAT", "INT", "BIGINT")):  # as DuckDB's _bool_sql
        verified = F.coalesce(found[0].cast("double") != F.lit(0.0), F.lit(False))
    else:
        verified = F.coalesce(
            F.lower(_text(*found)).isin(*TRUE_WORDS), F.lit(False)
        )
    selects["is_verified"] = verified
    for canonical in ("author", "mention_id"):
        found = col(canonical)
        selects[canonical] = _text(*found) if found else F.lit(None).cast("string")
    fallback = F.lit(topic if topic is not None else DEFAULT_TOPIC)
    found = col("topic")
    selects["topic"] = F.coalesce(_text(*found), fallback) if found else fallback
    found = col("text")
    text = _text(*found) if found else F.lit(None).cast("string")
    selects["has_text"] = text.isNotNull()
    reason = F.lit(None).cast("string")
    bad_column = F.lit(None).cast("string")
    raw = F.lit(None).cast("string")
    for condition, name, canonical in reversed(reasons):  # the first that holds wins
        reason = F.when(condition, F.lit(name)).otherwise(reason)
        bad_column = F.when(condition, F.lit(resolved.get(canonical, canonical))).otherwise(
            bad_column
        )
        if canonical in resolved:
            found = col(canonical)
            raw = F.when(condition, _as_text(*found)).otherwise(raw)
    selects["reason"] = reason
    selects["bad_column"] = bad_column
    selects["raw"] = raw
    selects["scored_negative"] = F.lit(False)
    selects["text"] = text
    selects["pending_score"] = sentiment.isNull() & text.isNotNull()
    return frame.select(*[value.alias(name) for name, value in selects.items()])
