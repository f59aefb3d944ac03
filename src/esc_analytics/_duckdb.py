"""Out-of-core aggregation of mention files with DuckDB (CSV, CSV.gz, Parquet).

Private engine of :func:`esc_analytics.aggregate_files`. The files are scanned in SQL; only the
per-(topic, window) counts, the counts of quarantined rows by reason and a bounded sample of the
quarantined rows come back to Python. The text column is read only when sentiment has to be
scored from it, and then in Arrow batches (never as one pandas column).

Validation follows the in-memory loader's rules for the columns the measures use: a row is
quarantined, with the first reason that applies, for a missing or unparseable time, a
non-numeric or negative ``author_followers`` / ``engagement``, a sentiment that is neither a
number in −1…1 nor a label; then, among the remaining rows, a repeated ``mention_id`` keeps its
first row (file order, files in the order given) and quarantines the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._errors import DataLoadError
from ._schema import (
    DEFAULT_TOPIC,
    NEGATIVE_SENTIMENT_BAR,
    QUARANTINE_COLUMNS,
    REASON_BAD_NUMBER,
    REASON_BAD_SENTIMENT,
    REASON_BAD_TIME,
    REASON_DUPLICATE_ID,
    REASON_MISSING_TIME,
    REASON_NEGATIVE_NUMBER,
    SENTIMENT_LABELS,
)

__all__ = ["QUARANTINE_FETCH_LIMIT", "aggregate_counts"]

#: At most this many quarantined rows are fetched for the quarantine file (all are counted).
QUARANTINE_FETCH_LIMIT = 1_000_000
_SCORE_BATCH = 100_000
_CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".txt", ".csv.zst", ".gz")
_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_COUNT_COLUMNS = ("author_followers", "engagement")
_TRUE_WORDS = ("true", "t", "yes", "y", "1", "1.0", "verified")  # as the loader's _parse_bool
_SENTIMENT_WORDS = {
    **{k.lower(): v for k, v in SENTIMENT_LABELS.items()},
    "neg": -1.0,
    "pos": 1.0,
    "neu": 0.0,
    "neut": 0.0,
    "mixed": 0.0,
}


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _file_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(_CSV_SUFFIXES):
        return "csv"
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic == b"PAR1":
        return "parquet"
    raise DataLoadError(
        "the DuckDB engine reads CSV (.csv, .csv.gz) and Parquet files; "
        "use --engine pandas for JSON lines",
        source=str(path),
    )


def _check_paths(paths: Any) -> list[Path]:
    if isinstance(paths, str | Path):
        paths = [paths]
    try:
        items = [Path(p) for p in paths]
    except TypeError as exc:
        raise DataLoadError(f"expected a path or a list of paths, got {paths!r}") from exc
    if not items:
        raise DataLoadError("no input files given")
    for path in items:
        if not path.exists():
            raise DataLoadError("file not found", source=str(path))
        if path.is_dir():
            raise DataLoadError("is a directory, not a file", source=str(path))
        if path.stat().st_size == 0:
            raise DataLoadError("file is empty (no header, no rows)", source=str(path))
    return items


def _resolve(available: Sequence[str], columns: Mapping[str, str] | None, source: str) -> dict:
    """Canonical → source column names, with the loader's recognition rules."""
    try:
        from ._io import resolve_columns
    except ImportError:  # the loader module is not in this tree yet: exact names + mapping
        resolve_columns = None
    if resolve_columns is None:
        mapping = dict(columns or {})
        for canonical, name in mapping.items():
            if name not in available:
                raise DataLoadError(
                    f"--column {canonical}={name}: no column {name!r} "
                    f"(columns: {', '.join(available)})",
                    source=source,
                )
        resolved = {c: c for c in available}
        resolved.update(mapping)
        return resolved
    return dict(resolve_columns(list(available), columns, "mentions", source=source))


def _scan_sql(path: Path, kind: str) -> str:
    literal = _quote_literal(str(path))
    if kind == "parquet":
        return f"read_parquet({literal}, file_row_number = true)"
    return f"read_csv({literal}, all_varchar = true, header = true)"


def _describe(con: Any, scan: str, source: str) -> list[tuple[str, str]]:
    import duckdb

    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        raise DataLoadError(f"cannot be read: {message}", source=source) from exc
    return [(str(r[0]), str(r[1]).upper()) for r in rows]


def _text(expr: str, dtype: str) -> str:
    """A column as trimmed text, empty = NULL."""
    return f"NULLIF(trim(CAST({expr} AS VARCHAR)), '')"


def _time_sql(expr: str, dtype: str) -> tuple[str, str]:
    """(SQL epoch microseconds or NULL, SQL 'cell was present') for a time column."""
    if dtype.startswith("TIMESTAMP WITH TIME ZONE"):
        return f"epoch_us({expr})", f"{expr} IS NOT NULL"
    if dtype.startswith("TIMESTAMP") or dtype == "DATE":
        # naive: wall time in the session zone (UTC unless tz= given)
        return f"epoch_us(CAST(CAST({expr} AS VARCHAR) AS TIMESTAMPTZ))", f"{expr} IS NOT NULL"
    text = _text(expr, dtype)
    # "2015-02-24 11:35:52 -0800" → "...-08:00": DuckDB wants the offset attached
    normalized = f"regexp_replace({text}, '\\s*([+-]\\d{{2}}):?(\\d{{2}})$', '\\1:\\2')"
    return f"epoch_us(TRY_CAST({normalized} AS TIMESTAMPTZ))", f"{text} IS NOT NULL"


def _number_sql(expr: str, dtype: str) -> tuple[str, str]:
    """(SQL double or NULL, SQL 'present but not a number')."""
    if any(
        dtype.startswith(t)
        for t in (
            "DOUBLE",
            "FLOAT",
            "INT",
            "BIGINT",
            "SMALLINT",
            "TINYINT",
            "HUGEINT",
            "UINT",
            "UBIGINT",
            "DECIMAL",
            "USMALLINT",
            "UTINYINT",
            "REAL",
        )
    ):
        value = f"CAST({expr} AS DOUBLE)"
        return value, f"(isnan({value}) OR isinf({value}))"
    text = _text(expr, dtype)
    # like the loader: plain numbers, else "1,234" / "1.2K" / "3M"
    cleaned = f"lower(regexp_replace({text}, '[,_\\s]', '', 'g'))"
    pattern = "'^([+-]?[0-9]+(?:[.][0-9]+)?)([kmb]?)$'"
    suffixed = (
        f"(TRY_CAST(regexp_extract({cleaned}, {pattern}, 1) AS DOUBLE) * CASE"
        f" regexp_extract({cleaned}, {pattern}, 2) WHEN 'k' THEN 1e3 WHEN 'm' THEN 1e6"
        " WHEN 'b' THEN 1e9 ELSE 1 END)"
    )
    plain = f"TRY_CAST({text} AS DOUBLE)"
    value = f"(CASE WHEN isnan({plain}) THEN NULL ELSE coalesce({plain}, {suffixed}) END)"
    return value, f"({text} IS NOT NULL AND {value} IS NULL)"


def _sentiment_sql(expr: str, dtype: str) -> tuple[str, str, str]:
    """(SQL score or NULL, SQL 'not a label nor a number', SQL 'number outside -1..1')."""
    if dtype in ("DOUBLE", "FLOAT", "REAL") or dtype.startswith(("DECIMAL", "INT", "BIGINT")):
        number = f"CAST({expr} AS DOUBLE)"
        value = f"(CASE WHEN isnan({number}) THEN NULL ELSE {number} END)"
        unreadable = "false"
    else:
        text = _text(expr, dtype)
        labels = " ".join(
            f"WHEN lower({text}) = {_quote_literal(k)} THEN {v!r}"
            for k, v in _SENTIMENT_WORDS.items()
        )
        number = f"TRY_CAST({text} AS DOUBLE)"
        value = f"(CASE {labels} ELSE (CASE WHEN isnan({number}) THEN NULL ELSE {number} END) END)"
        unreadable = f"({text} IS NOT NULL AND {value} IS NULL)"
    out_of_range = f"coalesce(NOT ({value} BETWEEN -1 AND 1), false)"
    valid = f"(CASE WHEN {out_of_range} THEN NULL ELSE {value} END)"
    return valid, unreadable, out_of_range


def _bool_sql(expr: str, dtype: str) -> str:
    if dtype == "BOOLEAN":
        return f"coalesce({expr}, false)"
    words = ", ".join(_quote_literal(w) for w in _TRUE_WORDS)
    if dtype.startswith(("DOUBLE", "FLOAT", "INT", "BIGINT", "DECIMAL")):
        return f"coalesce(CAST({expr} AS DOUBLE) <> 0, false)"
    return f"coalesce(lower({_text(expr, dtype)}) IN ({words}), false)"


def _file_view(
    con: Any,
    index: int,
    path: Path,
    columns: Mapping[str, str] | None,
    topic: str | None,
    time_fallback: bool = False,
) -> tuple[str, dict[str, str]]:
    """SQL of one file as normalised rows: src, line, id, topic, t_us, measures' inputs, reason,
    bad_column, raw; plus the resolved mapping."""
    source = str(path)
    kind = _file_kind(path)
    scan = _scan_sql(path, kind)
    described = _describe(con, scan, source)
    types = {name: dtype for name, dtype in described if name != "file_row_number"}
    resolved = _resolve(list(types), columns, source)
    if "created_at" not in resolved:
        raise DataLoadError(
            "no timestamp column (looked for created_at and the usual export names); "
            "map yours with --column created_at=YOUR_COLUMN",
            source=source,
            column="created_at",
        )

    def col(canonical: str) -> tuple[str, str] | None:
        name = resolved.get(canonical)
        return (_quote_ident(name), types[name]) if name in types else None

    time_expr, time_present = _time_sql(*col("created_at"))
    time_name, time_type = col("created_at")
    time_text = "CAST(NULL AS VARCHAR)"
    if not time_type.startswith(("TIMESTAMP", "DATE")):
        time_text = _text(time_name, time_type)
        if time_fallback:  # values DuckDB cannot read, parsed by the loader's own rules
            time_expr = (
                f"coalesce({time_expr}, (SELECT f.us FROM time_fallback f"
                f" WHERE f.raw = {time_text}))"
            )
    reasons: list[tuple[str, str, str]] = [  # (condition, reason, canonical column)
        (f"NOT ({time_present})", REASON_MISSING_TIME, "created_at"),
        (f"({time_expr}) IS NULL", REASON_BAD_TIME, "created_at"),
    ]
    selects = [f"{index} AS src", f"{time_expr} AS t_us", f"{time_text} AS time_text"]
    negatives = []
    for canonical in _COUNT_COLUMNS:
        found = col(canonical)
        if found is None:
            selects.append(f"0.0 AS {canonical}")
            continue
        value, invalid = _number_sql(*found)
        reasons.append((invalid, REASON_BAD_NUMBER, canonical))
        negatives.append((f"coalesce({value} < 0, false)", REASON_NEGATIVE_NUMBER, canonical))
        selects.append(f"coalesce({value}, 0.0) AS {canonical}")
    # the loader's order: unreadable values first, then the schema's range checks
    found = col("sentiment")
    if found is None:
        reasons.extend(negatives)
        selects.append("CAST(NULL AS DOUBLE) AS sentiment")
    else:
        value, unreadable, out_of_range = _sentiment_sql(*found)
        reasons.append((unreadable, REASON_BAD_SENTIMENT, "sentiment"))
        reasons.extend(negatives)
        reasons.append((out_of_range, REASON_BAD_SENTIMENT, "sentiment"))
        selects.append(f"{value} AS sentiment")
    found = col("is_verified")
    selects.append(f"{_bool_sql(*found) if found else 'false'} AS is_verified")
    found = col("author")
    selects.append(f"{_text(*found) if found else 'CAST(NULL AS VARCHAR)'} AS author")
    found = col("mention_id")
    selects.append(f"{_text(*found) if found else 'CAST(NULL AS VARCHAR)'} AS mention_id")
    fallback_topic = _quote_literal(topic if topic is not None else DEFAULT_TOPIC)
    found = col("topic")
    topic_expr = f"coalesce({_text(*found)}, {fallback_topic})" if found else fallback_topic
    selects.append(f"{topic_expr} AS topic")
    found = col("text")
    selects.append(f"({_text(*found)} IS NOT NULL) AS has_text" if found else "false AS has_text")

    reason_case = " ".join(
        f"WHEN {cond} THEN {_quote_literal(reason)}" for cond, reason, _ in reasons
    )
    column_case = " ".join(
        f"WHEN {cond} THEN {_quote_literal(resolved.get(canonical, canonical))}"
        for cond, _, canonical in reasons
    )
    raw_case = " ".join(
        f"WHEN {cond} THEN CAST({_quote_ident(resolved[canonical])} AS VARCHAR)"
        for cond, _, canonical in reasons
        if canonical in resolved
    )
    selects.append(f"CASE {reason_case} END AS reason")
    selects.append(f"CASE {raw_case} END AS raw" if raw_case else "CAST(NULL AS VARCHAR) AS raw")
    selects.append(f"CASE {column_case} END AS bad_column")
    if kind == "parquet":
        selects.append("file_row_number + 1 AS line")
        inner = f"SELECT * FROM {scan}"
    else:  # header = line 1
        selects.append("row_number() OVER () + 1 AS line")
        inner = f"SELECT * FROM {scan}"
    sql = f"SELECT {', '.join(selects)} FROM ({inner})"
    return sql, resolved


def aggregate_counts(
    paths: Any,
    *,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    freq: pd.Timedelta,
    influencer_followers: float,
    topic: str | None = None,
    score_sentiment: bool = True,
) -> tuple[pd.DataFrame, Any, pd.DataFrame]:
    """Scan the files in DuckDB → (measures per topic × window, LoadSummary, quarantine)."""
    import duckdb

    from ._features import _measures_frame

    files = _check_paths(paths)
    step_us = int(freq.value // 1000)
    con = duckdb.connect()
    try:
        try:
            con.execute(f"SET TimeZone = {_quote_literal(tz or 'UTC')}")
        except duckdb.Error as exc:
            raise DataLoadError(f"unknown time zone {tz!r}; use e.g. 'Europe/Paris'") from exc
        views, mappings = [], []
        for index, path in enumerate(files):
            sql, resolved = _file_view(con, index, path, columns, topic)
            views.append(sql)
            mappings.append(resolved)
        con.execute("CREATE TEMP VIEW rows_all AS " + " UNION ALL BY NAME ".join(views))

        # 1. reasons (one scan)
        count_reasons = "SELECT src, coalesce(reason, ''), count(*) FROM rows_all GROUP BY ALL"
        by_file = con.execute(count_reasons).fetchall()
        reason_counts = _sum_reasons(by_file)
        if reason_counts.get(REASON_BAD_TIME) and _add_time_fallback(con, tz):
            views = [
                _file_view(con, index, path, columns, topic, time_fallback=True)[0]
                for index, path in enumerate(files)
            ]
            con.execute(
                "CREATE OR REPLACE TEMP VIEW rows_all AS " + " UNION ALL BY NAME ".join(views)
            )
            by_file = con.execute(count_reasons).fetchall()
            reason_counts = _sum_reasons(by_file)
        _check_some_time_readable(by_file, files, mappings)
        accepted_before_dups = int(reason_counts.pop("", 0))
        rows_read = accepted_before_dups + sum(reason_counts.values())

        # 2. duplicate ids among valid rows: candidates by 64-bit hash, then exact check
        # hashes of every id, sorted in numpy (much cheaper than a 10-M-group hash aggregate);
        # only repeated hashes are checked exactly, on their rows
        hashes = con.execute(
            "SELECT hash(mention_id) AS h FROM rows_all WHERE mention_id IS NOT NULL"
        ).fetchnumpy()["h"]
        hashes = np.sort(np.asarray(hashes, dtype="uint64"))
        repeated = np.unique(hashes[1:][hashes[1:] == hashes[:-1]])
        del hashes
        con.register("dup_candidates_df", pd.DataFrame({"h": repeated}))
        con.execute("CREATE TEMP TABLE dup_candidates AS SELECT h FROM dup_candidates_df")
        con.unregister("dup_candidates_df")
        candidates = con.execute(
            "SELECT src, line, mention_id FROM rows_all WHERE reason IS NULL"
            " AND mention_id IS NOT NULL AND hash(mention_id) IN (SELECT h FROM dup_candidates)"
        ).fetch_df()
        dups = candidates.sort_values(["src", "line"], kind="stable")
        dups = dups[dups.duplicated("mention_id", keep="first")]
        if len(dups):
            reason_counts[REASON_DUPLICATE_ID] = len(dups)
        con.register("dup_rows_df", dups[["src", "line"]].astype("int64"))
        con.execute("CREATE TEMP TABLE dup_rows AS SELECT * FROM dup_rows_df")
        con.unregister("dup_rows_df")
        accepted_filter = (
            "reason IS NULL AND NOT EXISTS (SELECT 1 FROM dup_rows d"
            " WHERE d.src = r.src AND d.line = r.line)"
            if len(dups)
            else "reason IS NULL"
        )

        # 3. sentiment scored from text where it is missing
        estimated = False
        negative_sql = f"coalesce(sentiment <= {NEGATIVE_SENTIMENT_BAR!r}, false)"
        if score_sentiment:
            estimated = _score_missing_sentiment(con, files, mappings, accepted_filter)
            if estimated:
                negative_sql = (
                    f"coalesce(sentiment <= {NEGATIVE_SENTIMENT_BAR!r}, false)"
                    " OR EXISTS (SELECT 1 FROM scored_negative s"
                    " WHERE s.src = r.src AND s.line = r.line)"
                )

        # 4. the aggregation
        window = f"(t_us - (((t_us % {step_us}) + {step_us}) % {step_us}))"
        agg = con.execute(
            f"SELECT topic, {window} AS w, count(*) AS volume,"
            f" count(*) FILTER (WHERE {negative_sql}) AS negative_volume,"
            " count(DISTINCT author) AS unique_authors,"
            " sum(author_followers) AS reach, sum(engagement) AS engagement,"
            f" count(*) FILTER (WHERE author_followers >= {float(influencer_followers)!r}"
            " OR is_verified) AS influencer_mentions"
            f" FROM rows_all r WHERE {accepted_filter} GROUP BY ALL"
        ).fetch_df()

        # 5. quarantined rows (bounded)
        quarantine = (
            _fetch_quarantine(con, files, accepted_filter)
            if sum(reason_counts.values())
            else pd.DataFrame({c: pd.Series(dtype="str") for c in QUARANTINE_COLUMNS}).astype(
                {"line": "int64"}
            )
        )
    except duckdb.Error as exc:  # e.g. a ragged CSV row or a corrupt Parquet page
        message = str(exc).strip().splitlines()[0]
        raise DataLoadError(
            f"cannot be aggregated with DuckDB ({message}); try --engine pandas, which "
            "quarantines malformed rows",
            source=", ".join(str(p) for p in files),
        ) from exc
    finally:
        con.close()

    counts = _dense_grid(agg, step_us, _measures_frame)
    summary = _make_summary(
        files,
        rows_read=rows_read,
        accepted=int(agg["volume"].sum()) if len(agg) else 0,
        reasons=reason_counts,
        tz=tz,
        mapping=mappings[0] if mappings else {},
        estimated=estimated,
    )
    return counts, summary, quarantine


def _sum_reasons(by_file: list[tuple]) -> dict[str, int]:
    out: dict[str, int] = {}
    for _, reason, n in by_file:
        out[reason] = out.get(reason, 0) + int(n)
    return out


def _check_some_time_readable(by_file: list[tuple], files: list[Path], mappings: list) -> None:
    """Like the loader: a file where no time at all can be read is unusable, not quarantined."""
    for index, path in enumerate(files):
        counts = {reason: n for src, reason, n in by_file if src == index}
        unreadable = counts.get(REASON_BAD_TIME, 0) + counts.get(REASON_MISSING_TIME, 0)
        if counts and unreadable == sum(counts.values()):
            raise DataLoadError(
                "no value of the time column could be read as a date/time; map the right "
                "column with --column created_at=YOUR_COLUMN",
                source=str(path),
                column=mappings[index].get("created_at"),
            )


def _add_time_fallback(con: Any, tz: str | None) -> bool:
    """Parse the time strings DuckDB could not read with the loader's rules (formats such as
    "02/24/2015 11:35", epoch numbers...) into ``time_fallback(raw, us)``; True if any parsed."""
    from ._io import _parse_times

    failed = con.execute(
        "SELECT time_text FROM rows_all WHERE reason = ? AND time_text IS NOT NULL"
        " GROUP BY time_text ORDER BY min(src), min(line) LIMIT ?",
        [REASON_BAD_TIME, QUARANTINE_FETCH_LIMIT],
    ).fetch_df()["time_text"]
    if failed.empty:
        return False
    parsed, _, _, _ = _parse_times(failed.astype(object).reset_index(drop=True), tz)
    table = pd.DataFrame(
        {
            "raw": failed.astype(object).to_numpy(),
            "us": pd.DatetimeIndex(parsed).as_unit("us").asi8,
        }
    )[parsed.notna().to_numpy()]
    if table.empty:
        return False
    con.register("time_fallback_df", table)
    con.execute("CREATE OR REPLACE TEMP TABLE time_fallback AS SELECT * FROM time_fallback_df")
    con.unregister("time_fallback_df")
    return True


def _score_missing_sentiment(
    con: Any, files: list[Path], mappings: list[dict], accepted_filter: str
) -> bool:
    """Score text where sentiment is missing, streaming Arrow batches; record negative rows in
    ``scored_negative(src, line)``. Returns whether any row was scored."""
    con.execute("CREATE TEMP TABLE scored_negative (src BIGINT, line BIGINT)")
    pending = con.execute(
        f"SELECT count(*) FROM rows_all r WHERE {accepted_filter} AND sentiment IS NULL"
        " AND has_text"
    ).fetchone()[0]
    if not pending:
        return False
    from ._io import score_sentiment

    parts = []
    for index, (path, resolved) in enumerate(zip(files, mappings, strict=True)):
        if "text" not in resolved:
            continue
        kind = _file_kind(path)
        line = "file_row_number + 1" if kind == "parquet" else "row_number() OVER () + 1"
        parts.append(
            f"SELECT {index} AS src, {line} AS line, CAST({_quote_ident(resolved['text'])}"
            f" AS VARCHAR) AS text FROM {_scan_sql(path, kind)}"
        )
    con.execute("CREATE TEMP VIEW texts AS " + " UNION ALL ".join(parts))
    reader = con.execute(
        "SELECT t.src, t.line, t.text FROM texts t JOIN (SELECT src, line FROM rows_all r"
        f" WHERE {accepted_filter} AND sentiment IS NULL AND has_text) k"
        " ON t.src = k.src AND t.line = k.line"
    ).to_arrow_reader(_SCORE_BATCH)
    negatives: list[pd.DataFrame] = []
    for batch in reader:
        scores = np.asarray(score_sentiment(batch.column(2).to_pylist()), dtype="float64")
        negative = scores <= NEGATIVE_SENTIMENT_BAR
        if negative.any():
            negatives.append(
                pd.DataFrame(
                    {
                        "src": batch.column(0).to_numpy()[negative].astype("int64"),
                        "line": batch.column(1).to_numpy()[negative].astype("int64"),
                    }
                )
            )
    if negatives:
        con.register("negatives_df", pd.concat(negatives, ignore_index=True))
        con.execute("INSERT INTO scored_negative SELECT src, line FROM negatives_df")
        con.unregister("negatives_df")
    return True


def _fetch_quarantine(con: Any, files: list[Path], accepted_filter: str) -> pd.DataFrame:
    sources = ", ".join(_quote_literal(str(p)) for p in files)
    frame = con.execute(
        f"SELECT list_value({sources})[src + 1] AS source, line,"
        f" coalesce(reason, {_quote_literal(REASON_DUPLICATE_ID)}) AS reason,"
        " CASE WHEN reason IS NULL THEN 'mention_id' ELSE bad_column END AS column,"
        " CASE WHEN reason IS NULL THEN mention_id ELSE coalesce(raw, '') END AS raw"
        f" FROM rows_all r WHERE NOT ({accepted_filter})"
        f" ORDER BY src, line LIMIT {QUARANTINE_FETCH_LIMIT}"
    ).fetch_df()
    frame["line"] = frame["line"].astype("int64")
    for name in ("source", "reason", "column", "raw"):
        frame[name] = frame[name].astype("str")
    return frame[list(QUARANTINE_COLUMNS)]


def _dense_grid(agg: pd.DataFrame, step_us: int, measures_frame: Any) -> pd.DataFrame:
    """Spread the sparse SQL result over the full topic × window grid (zeros where empty)."""
    from ._features import _check_grid, _empty_measures

    if agg.empty:
        return _empty_measures()
    windows = agg["w"].to_numpy(dtype="i8")
    first, last = int(windows.min()), int(windows.max())
    n_windows = (last - first) // step_us + 1
    topic_codes, topic_names = pd.factorize(agg["topic"].astype("str"), sort=True)
    _check_grid(len(topic_names), n_windows, pd.Timedelta(step_us, unit="us"))
    size = len(topic_names) * n_windows
    cell = topic_codes.astype("i8") * n_windows + (windows - first) // step_us

    def dense(column: str) -> np.ndarray:
        out = np.zeros(size, dtype="float64")
        out[cell] = agg[column].to_numpy(dtype="float64", na_value=0.0)
        return out

    grid = first + np.arange(n_windows, dtype="i8") * step_us
    return measures_frame(
        topics=np.repeat(np.asarray(topic_names, dtype=object), n_windows),
        window_us=np.tile(grid, len(topic_names)),
        volume=dense("volume"),
        negative_volume=dense("negative_volume"),
        unique_authors=dense("unique_authors"),
        reach=dense("reach"),
        engagement=dense("engagement"),
        influencer_mentions=dense("influencer_mentions"),
    )


def _make_summary(
    files: list[Path],
    *,
    rows_read: int,
    accepted: int,
    reasons: dict[str, int],
    tz: str | None,
    mapping: dict,
    estimated: bool,
) -> Any:
    source = ", ".join(str(p) for p in files)
    note = (
        f"times without an offset were taken as {tz} and converted to UTC"
        if tz
        else "times without an offset were taken as UTC"
    )
    reasons = {k: int(v) for k, v in sorted(reasons.items()) if v}
    fields = {
        "source": source,
        "kind": "mentions",
        "rows_read": int(rows_read),
        "accepted": int(accepted),
        "quarantined": int(rows_read - accepted),
        "reasons": reasons,
        "timezone_note": note,
        "columns_mapped": {k: v for k, v in mapping.items() if k != v},
        "sentiment_estimated": bool(estimated),
    }
    try:
        from ._io import LoadSummary
    except ImportError:
        return _Summary(**fields)
    return LoadSummary(**fields)


class _Summary:
    """Stand-in for ``_io.LoadSummary`` while that module is not in the tree."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def __str__(self) -> str:
        text = f"read {self.rows_read}, accepted {self.accepted}, quarantined {self.quarantined}"
        if self.reasons:
            text += " (" + ", ".join(f"{k}: {v}" for k, v in self.reasons.items()) + ")"
        return text
