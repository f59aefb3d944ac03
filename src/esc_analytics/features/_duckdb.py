"""Out-of-core aggregation of mention files with DuckDB (CSV, CSV.gz, Parquet, JSON lines).

Private engine of :func:`esc_analytics.aggregate_files`. The files are scanned in SQL; only the
per-(topic, window) counts, the counts of quarantined rows by reason and a bounded sample of the
quarantined rows come back to Python. The text column is read only when sentiment has to be
scored from it, and then in Arrow batches (never as one pandas column). DuckDB's memory is
capped (``memory_limit``, default ``DEFAULT_MEMORY_LIMIT``) and it spills to a temporary
directory beyond it, so peak memory does not grow with the input.

JSON lines are streamed line by line into a DuckDB table (``line``, text, whether it is a JSON
object); lines that are not a JSON object are quarantined as ``malformed_row`` with their line
number, blank lines are skipped, nested objects become ``parent.child`` columns: the loader's
rules.

Validation follows the in-memory loader's rules for the columns the measures use: a row is
quarantined, with the first reason that applies, for a missing or unparseable time, a
non-numeric or negative ``author_followers`` / ``engagement``, a sentiment that is neither a
number in −1…1 nor a label; then, among the remaining rows, a repeated ``mention_id`` keeps its
first row (file order, files in the order given) and quarantines the others.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import tempfile
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._util.errors import DataLoadError
from .._util.paths import input_paths, not_found
from .._util.schema import (
    DEFAULT_TOPIC,
    NEGATIVE_SENTIMENT_BAR,
    QUARANTINE_COLUMNS,
    REASON_BAD_NUMBER,
    REASON_BAD_SENTIMENT,
    REASON_BAD_TIME,
    REASON_DUPLICATE_ID,
    REASON_MALFORMED_ROW,
    REASON_MISSING_TIME,
    REASON_NEGATIVE_NUMBER,
    REASON_TIME_OUT_OF_RANGE,
    SENTIMENT_WORDS,
    TIME_RANGE_US,
)
from ..io._load import (
    GROUPED_COMMA,
    GROUPED_DOT,
    MENTION_OWN_COLUMNS,
    MISSING_WORDS,
    SUFFIXED_NUMBER,
    LoadSummary,
    parse_times,
    refuse_series_table,
    resolve_columns,
    score_sentiment,
)
from ._grid import CARRIED_ATTR, check_grid, empty_measures, measures_frame
from ._segments import merge_plan_measures, plan_measures_duckdb

__all__ = [
    "COUNT_COLUMNS",
    "DEFAULT_MEMORY_LIMIT",
    "QUARANTINE_FETCH_LIMIT",
    "RECHECK_REASON",
    "TRUE_WORDS",
    "aggregate_counts",
    "column_types",
    "comma_decision_sql",
    "dense_measures",
    "file_kind",
    "id_columns_of",
    "json_lines_sql",
    "make_summary",
    "normalized_rows_sql",
]

#: DuckDB's memory cap during an aggregation (it spills to a temporary directory beyond it).
DEFAULT_MEMORY_LIMIT = "500MB"
#: Above this many input bytes, repeated ids are found by a (spilling) SQL aggregate instead
#: of sorting every id hash in numpy (faster, but its memory grows with the rows).
_NUMPY_ID_BYTES = 256 * 1024 * 1024

#: At most this many quarantined rows are fetched for the quarantine file (all are counted).
QUARANTINE_FETCH_LIMIT = 1_000_000
_SCORE_BATCH = 100_000
_CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".txt", ".csv.zst", ".gz")
_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_JSON_SUFFIXES = tuple(
    s + z for s in (".jsonl", ".ndjson", ".json") for z in ("", ".gz")
)
_JSON_LINES = "esc_json_"  # + file index: table (line, j, object) of a JSON lines file
_JSON_BATCH = 100_000  # lines per Arrow batch inserted
_JSON_DEPTH = 8  # levels of nested objects flattened into parent.child columns
_COUNT_COLUMNS = ("author_followers", "engagement")
_TRUE_WORDS = ("true", "t", "yes", "y", "1", "1.0", "verified")  # as the loader's _parse_bool
#: The count columns and the words read as true, for the Spark engine's native rows.
COUNT_COLUMNS, TRUE_WORDS = _COUNT_COLUMNS, _TRUE_WORDS
_REJECTS = "esc_rejects_"  # + file index: CSV lines DuckDB could not split (store_rejects)
_REJECT_SCANS = "esc_reject_scans_"
_NEWLINES = "chr(13) || chr(10)"
_SPACES = " || ".join(f"chr({c})" for c in (32, 9, 10, 11, 12, 13))  # Python's str.strip()
#: DuckDB's reject error types that make a row malformed whatever columns a scan reads (the
#: others, e.g. a byte that is not UTF-8, are found only in the columns read, so they raise)
_MALFORMED_ERRORS = (
    "TOO MANY COLUMNS",
    "MISSING COLUMNS",
    "UNQUOTED VALUE",
    "LINE SIZE OVER MAXIMUM",
)
_HIDDEN = "__esc_"  # prefix of columns another engine adds to a file's own (see _file_view)
_RAW_LIMIT = 500  # characters of a malformed line kept in the quarantine (as the loader)
_NOT_UTF8 = (
    "is not UTF-8 text (perhaps cp1252 / latin-1); the DuckDB engine reads UTF-8 and UTF-16 "
    "only: use --engine pandas, which decodes it, or re-save the file as UTF-8"
)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _first_bytes(path: Path, n: int = 64) -> bytes:
    """The first ``n`` bytes of the file's content (gzip decompressed), b"" if unreadable."""
    try:
        with path.open("rb") as handle:
            head = handle.read(n)
            if head[:2] == b"\x1f\x8b":
                with gzip.open(path, "rb") as unzipped:
                    head = unzipped.read(n)
    except (OSError, EOFError):
        return b""
    return head


def _file_kind(path: Path) -> str:
    """"parquet", "csv" or "json" (JSON lines) from the name, else from the content."""
    name = path.name.lower()
    if name.endswith(_JSON_SUFFIXES):
        return "json"
    if name.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    head = _first_bytes(path)
    if head[:4] == b"PAR1":
        return "parquet"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":  # as the loader: a JSON object
        return "json"
    if name.endswith(_CSV_SUFFIXES):
        return "csv"
    raise DataLoadError(
        "the DuckDB engine reads CSV (.csv, .csv.gz), Parquet and JSON lines (.jsonl) files; "
        "use --engine pandas for other formats",
        source=str(path),
    )


def _check_paths(paths: Any, glob: bool = False) -> list[Path]:
    items = input_paths(paths, glob=glob)
    if not items:
        raise DataLoadError("no input files given")
    for path in items:
        if not path.exists():
            raise DataLoadError(not_found(path), source=str(path))
        if path.is_dir():
            raise DataLoadError("is a directory, not a file", source=str(path))
        if path.stat().st_size == 0:
            raise DataLoadError("file is empty (no header, no rows)", source=str(path))
    return items


def _resolve(available: Sequence[str], columns: Mapping[str, str] | None, source: str) -> dict:
    """Canonical → source column names, with the loader's recognition rules."""
    return dict(resolve_columns(list(available), columns, "mentions", source=source))


def _glob_escaped(path: Path) -> str:
    """``path`` (made absolute) with DuckDB's glob characters bracketed (``[`` → ``[[]``,
    ``*`` → ``[*]``, ``?`` → ``[?]``, ``]`` → ``[]]``), so that its readers open exactly this
    file: they read every name as a pattern (a list of names too), and ``mentions[1].csv``
    would otherwise read ``mentions1.csv``. Absolute, so a leading ``~`` or a ``scheme://``
    in a relative name is never read as a home folder or a URL."""
    text = os.path.abspath(os.fspath(path))
    return "".join(f"[{ch}]" if ch in "[]*?" else ch for ch in text)


def _path_literal(path: Path) -> str:
    """SQL literal naming exactly ``path`` for read_csv / read_parquet / sniff_csv."""
    return _quote_literal(_glob_escaped(path))


def _check_exact(con: Any, path: Path) -> None:
    """Refuse to read anything but ``path``: the escaped name must match this one file."""
    found = [
        str(r[0]) for r in con.execute("SELECT file FROM glob(?)", [_glob_escaped(path)]).fetchall()
    ]
    if found != [os.path.abspath(os.fspath(path))]:
        raise DataLoadError(
            "the DuckDB engine cannot name this file exactly (its name reads as a pattern "
            f"matching {len(found)} file(s)); rename it or use --engine pandas",
            source=str(path),
        )


def _scan_sql(path: Path, kind: str, index: int, skip: int = 0) -> str:
    """The table function reading file number ``index`` (CSV: after ``skip`` lines).

    CSV rows DuckDB cannot split into the header's fields (too many or too few, a stray quote)
    are skipped and recorded in ``esc_rejects_<index>`` (``store_rejects``) instead of failing
    the whole scan; with it the dialect sniffer also tolerates such rows in its sample (without
    it one short row can make it take a data row for the header). See :func:`_collect_malformed`.
    """
    literal = _path_literal(path)
    if kind == "parquet":
        return f"read_parquet({literal}, file_row_number = true)"
    if kind == "json":  # created by _load_json_lines
        return f"{_JSON_LINES}view_{index}"
    encoding = ", encoding = 'utf-16'" if _is_utf16(path) else ""
    skipped = f", skip = {int(skip)}" if skip else ""
    return (
        f"read_csv({literal}, all_varchar = true, header = true{encoding}{skipped},"
        f" store_rejects = true, rejects_table = '{_REJECTS}{index}',"
        f" rejects_scan = '{_REJECT_SCANS}{index}')"
    )


def _json_path(keys: Sequence[str]) -> str:
    """A DuckDB JSON path literal for nested ``keys`` (each quoted: any character allowed)."""
    parts = "".join('."' + k.replace("\\", "\\\\").replace('"', '\\"') + '"' for k in keys)
    return _quote_literal("$" + parts)


def _iter_lines(path: Path) -> Any:
    """The file's physical lines (split on LF only, as the loader does), as bytes."""
    with path.open("rb") as handle:
        zipped = handle.read(2) == b"\x1f\x8b"
    opener = gzip.open if zipped else open
    with opener(path, "rb") as handle:
        yield from handle


def _load_json_lines(con: Any, path: Path, index: int) -> None:
    """Stream a JSON lines file into ``esc_json_<index>(line, j, object)`` (DuckDB spills it
    to disk beyond its memory limit) and create the view ``esc_json_view_<index>`` of its
    objects' fields as text, one column per key (nested objects as ``parent.child``, as the
    loader's ``json_normalize``), with ``file_row_number`` = line - 1. Blank lines are not
    rows; a file with no JSON object line raises, as in the loader."""
    import pyarrow as pa

    table = f"{_JSON_LINES}{index}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (line BIGINT, j VARCHAR)")
    numbers: list[int] = []
    texts: list[bytes] = []

    def flush() -> None:
        if not texts:
            return
        try:
            column = pa.array(texts, type=pa.binary()).cast(pa.string())
        except pa.ArrowInvalid as exc:
            raise DataLoadError(_NOT_UTF8, source=str(path)) from exc
        batch = pa.table({"line": pa.array(numbers, type=pa.int64()), "j": column})
        con.register("esc_json_batch", batch)
        con.execute(f"INSERT INTO {table} SELECT line, j FROM esc_json_batch")
        con.unregister("esc_json_batch")
        numbers.clear()
        texts.clear()

    for number, raw in enumerate(_iter_lines(path), start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue
        numbers.append(number)
        texts.append(raw.rstrip(b"\r\n"))
        if len(texts) >= _JSON_BATCH:
            flush()
    flush()
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT line, j, object,"
        " CASE WHEN object THEN CAST(j AS JSON) END AS o FROM (SELECT line, j,"
        " coalesce(CASE WHEN json_valid(j) THEN json_type(j) = 'OBJECT' END, false) AS object"
        f" FROM {table})"
    )
    first = con.execute(
        f"SELECT bool_or(object), (SELECT ltrim(j) FROM {table} ORDER BY line LIMIT 1)"
        f" FROM {table}"
    ).fetchone()
    if not first[0]:
        lines = [
            r[0] for r in con.execute(f"SELECT line FROM {table} ORDER BY line LIMIT 20").fetchall()
        ]
        if first[1] is not None and first[1].startswith("["):
            message = "is one JSON array, not JSON lines: use --engine pandas for it"
        else:
            message = "no line is a JSON object"
        raise DataLoadError(message, source=str(path), lines=lines)
    columns = _json_columns(con, table, ())
    selects = ["line - 1 AS file_row_number"] + [
        f"json_extract_string(o, {_json_path(keys)}) AS {_quote_ident('.'.join(keys))}"
        for keys in columns
    ]
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {table.replace(_JSON_LINES, _JSON_LINES + 'view_')} AS"
        f" SELECT {', '.join(selects)} FROM {table} WHERE object"
    )


def _json_columns(con: Any, table: str, parent: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The keys of the objects at ``parent`` (in order of first appearance), each expanded
    into its own keys when its first non-null value is an object (as the loader does)."""
    where = "object" if not parent else f"json_type(o, {_json_path(parent)}) = 'OBJECT'"
    source = "o" if not parent else f"json_extract(o, {_json_path(parent)})"
    keys = [
        str(r[0])
        for r in con.execute(
            f"SELECT k FROM (SELECT line, unnest(json_keys({source})) AS k,"
            f" unnest(range(len(json_keys({source})))) AS i FROM {table} WHERE {where})"
            " GROUP BY k ORDER BY min(line * 100000 + i), k"
        ).fetchall()
    ]
    if not keys:
        return []
    paths = [(*parent, k) for k in keys]
    firsts = ", ".join(
        f"arg_min(json_type(o, {_json_path(p)}), line) FILTER (WHERE json_type(o,"
        f" {_json_path(p)}) <> 'NULL')"
        for p in paths
    )
    types = con.execute(f"SELECT {firsts} FROM {table} WHERE {where}").fetchone()
    out: list[tuple[str, ...]] = []
    for keys_path, kind in zip(paths, types, strict=True):
        if kind == "OBJECT" and len(keys_path) < _JSON_DEPTH:
            inner = _json_columns(con, table, keys_path)
            out.extend(inner or [keys_path])
        else:
            out.append(keys_path)
    return out


def _is_utf16(path: Path) -> bool:
    """A UTF-16 byte-order mark (Excel's "Unicode text" export): DuckDB must be told."""
    try:
        with open(path, "rb") as handle:
            return handle.read(2) in (b"\xff\xfe", b"\xfe\xff")
    except OSError:
        return False


def _describe(con: Any, scan: str, source: str) -> list[tuple[str, str]]:
    import duckdb

    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        if "not utf-8" in str(exc).lower():
            raise DataLoadError(_NOT_UTF8, source=source) from exc
        if "gzip" in message.lower():
            message += "; the pandas engine (--engine pandas) reads what a cut gzip holds"
        raise DataLoadError(f"cannot be read: {message}", source=source) from exc
    return [(str(r[0]), str(r[1]).upper()) for r in rows]


def _text(expr: str, dtype: str) -> str:
    """A column as trimmed text, empty = NULL.

    For text columns ``trim`` runs only on values that start or end with a space (same result,
    much cheaper on millions of rows than trimming every value)."""
    if dtype != "VARCHAR":
        return f"NULLIF(trim(CAST({expr} AS VARCHAR)), '')"
    return (
        f"(CASE WHEN starts_with({expr}, ' ') OR ends_with({expr}, ' ')"
        f" THEN NULLIF(trim({expr}), '') WHEN {expr} = '' THEN NULL ELSE {expr} END)"
    )


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
    # "UTC+05:30" / "GMT+1": DuckDB's cast drops or misreads the minutes; left to the loader's
    # own rules (the time fallback), like every value DuckDB cannot read.
    named = f"regexp_matches({text}, '(?i)(GMT|UTC)\\s*[+-]\\d')"
    cast = f"epoch_us(TRY_CAST({normalized} AS TIMESTAMPTZ))"
    return f"CASE WHEN {named} THEN NULL ELSE {cast} END", f"{text} IS NOT NULL"


_NUMERIC_TYPES = (
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
    "BOOLEAN",
)
#: Reason given, in a first pass, to a row whose number text has a comma that is not 3-digit
#: grouping: its file's comma convention must then be decided over the whole column (one
#: aggregate query) and the rows view rebuilt. Never reported.
_RECHECK = "esc_recheck_numbers"
_FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")  # the numeric types that hold NaN and ±inf


def _is_numeric(dtype: str) -> bool:
    return dtype.startswith(_NUMERIC_TYPES)


def _regex(pattern: re.Pattern[str]) -> str:
    return _quote_literal(pattern.pattern)


def _number_text_sql(text: str, plain: str, decimal_comma: bool | None) -> tuple[str, str]:
    """(SQL number of a trimmed text cell: NULL when missing or a "no value" word, NaN when
    unreadable (or "nan"), else its value, ±inf included; SQL 'comma not 3-digit grouping').

    The loader's rules (``io._load``'s number reading): "_" and spaces dropped, K/M/B suffixes;
    ``decimal_comma`` (decided per file and column) makes "12,5" 12.5 and "1.234,5" 1234.5,
    else commas are thousands separators; ``None`` = not decided yet: read as thousands, and
    the second SQL flags the values that would decide otherwise. ``plain`` is
    ``TRY_CAST(text AS DOUBLE)``: plain numbers (and, with a decimal comma, values without a
    dot) are cast first, the regular expressions run only on the other values."""

    cleaned = f"lower(regexp_replace({text}, '[_\\s]', '', 'g'))"
    if decimal_comma:
        prepared = (
            f"(CASE WHEN regexp_full_match({cleaned}, {_regex(GROUPED_DOT)})"
            f" THEN replace(replace({cleaned}, '.', ''), ',', '.')"
            f" WHEN contains({cleaned}, ',') AND contains({cleaned}, '.') THEN '?'"
            f" ELSE replace({cleaned}, ',', '.') END)"
        )
    else:
        prepared = f"replace({cleaned}, ',', '')"
    suffixed = _regex(SUFFIXED_NUMBER)
    slow = (
        f"coalesce(TRY_CAST({prepared} AS DOUBLE), TRY_CAST(regexp_extract({prepared},"
        f" {suffixed}, 1) AS DOUBLE) * CASE regexp_extract({prepared}, {suffixed}, 2)"
        " WHEN 'k' THEN 1e3 WHEN 'm' THEN 1e6 WHEN 'b' THEN 1e9 END, 'NaN'::DOUBLE)"
    )
    words = ", ".join(_quote_literal(w) for w in sorted(MISSING_WORDS))
    missing = f"{text} IS NULL OR lower({text}) IN ({words})"
    if decimal_comma:
        comma = f"TRY_CAST(replace({text}, ',', '.') AS DOUBLE)"
        number = (
            f"(CASE WHEN {text} IS NULL THEN NULL WHEN NOT contains({text}, '.')"
            f" AND {comma} IS NOT NULL THEN {comma} WHEN {missing} THEN NULL ELSE {slow} END)"
        )
        return number, "false"
    number = (
        f"(CASE WHEN {plain} IS NOT NULL THEN {plain} WHEN {missing} THEN NULL ELSE {slow} END)"
    )
    if decimal_comma is False:
        return number, "false"
    recheck = (
        f"(CASE WHEN {plain} IS NOT NULL OR {text} IS NULL THEN false ELSE contains({text}, ',')"
        f" AND NOT regexp_full_match({cleaned}, {_regex(GROUPED_COMMA)}) END)"
    )
    return number, recheck


def _comma_decision_sql(expr: str, dtype: str) -> str:
    """SQL aggregate: false if some value has a comma that is not 3-digit grouping (decimal
    comma), true if all comma values are grouping, NULL if none has a comma."""

    text = _text(expr, dtype)
    cleaned = f"lower(regexp_replace({text}, '[_\\s]', '', 'g'))"
    return (
        f"bool_and(regexp_full_match({cleaned}, {_regex(GROUPED_COMMA)}))"
        f" FILTER (WHERE contains({text}, ','))"
    )


class _Prepared:
    """Subquery levels computing each text number once (trimmed text, its plain cast, then
    the number and the comma recheck): DuckDB would otherwise evaluate an expression as many
    times as the reason, column and raw cases repeat it."""

    def __init__(self) -> None:
        self.levels: list[list[str]] = [[], [], []]

    def text_number(self, canonical: str, expr: str, dtype: str, decimal_comma: bool | None,
                    labels: bool = False) -> tuple[str, str]:
        """(column: number as in :func:`_number_text_sql`, column: recheck); with ``labels``
        the sentiment words are read first (NaN = neither a label nor a number)."""
        t, p = _quote_ident(f"__esc_t_{canonical}"), _quote_ident(f"__esc_p_{canonical}")
        n, r = _quote_ident(f"__esc_n_{canonical}"), _quote_ident(f"__esc_r_{canonical}")
        number, recheck = _number_text_sql(t, p, decimal_comma)
        if labels:  # labels are words: a value that casts as a number is none of them
            words = " ".join(
                f"WHEN {_quote_literal(k)} THEN {v!r}" for k, v in SENTIMENT_WORDS.items()
            )
            number = (
                f"(CASE WHEN {p} IS NULL AND {t} IS NOT NULL"
                f" THEN (CASE lower({t}) {words} ELSE {number} END) ELSE {number} END)"
            )
        self.levels[0].append(f"{_text(expr, dtype)} AS {t}")
        self.levels[1].append(f"TRY_CAST({t} AS DOUBLE) AS {p}")
        self.levels[2].append(f"{number} AS {n}")
        if recheck == "false":
            return n, "false"
        self.levels[2].append(f"{recheck} AS {r}")
        return n, r

    def wrap(self, scan: str) -> str:
        sql = f"SELECT * FROM {scan}"
        for level in self.levels:
            if level:
                sql = f"SELECT *, {', '.join(level)} FROM ({sql})"
        return sql


def _number_sql(
    expr: str, dtype: str, prepared: _Prepared, canonical: str, decimal_comma: bool | None = None
) -> tuple[str, str, str]:
    """(SQL double or NULL, SQL 'present but not a finite number', SQL 'recheck the comma
    convention'). Typed columns: NaN is missing and ±inf bad, as in the loader."""
    if _is_numeric(dtype):
        value = f"CAST({expr} AS DOUBLE)"
        if not dtype.startswith(_FLOAT_TYPES):  # integers, decimals, booleans: always finite
            return value, "false", "false"
        return f"(CASE WHEN isfinite({value}) THEN {value} END)", f"isinf({value})", "false"
    number, recheck = prepared.text_number(canonical, expr, dtype, decimal_comma)
    valid = f"(CASE WHEN isfinite({number}) THEN {number} END)"
    return valid, f"coalesce(NOT isfinite({number}), false)", recheck


def _sentiment_sql(
    expr: str, dtype: str, prepared: _Prepared, decimal_comma: bool | None = None
) -> tuple[str, str, str, str]:
    """(SQL score or NULL, SQL 'not a label nor a number', SQL 'number outside -1..1', SQL
    'recheck the comma convention'). Text: labels, else numbers read as counts are."""
    recheck = "false"
    if _is_numeric(dtype):
        number = f"CAST({expr} AS DOUBLE)"
        unreadable = "false"
    else:
        number, recheck = prepared.text_number("sentiment", expr, dtype, decimal_comma, True)
        unreadable = f"coalesce(isnan({number}), false)"
    value = f"(CASE WHEN isnan({number}) THEN NULL ELSE {number} END)"
    out_of_range = f"coalesce(NOT ({value} BETWEEN -1 AND 1), false)"
    valid = f"(CASE WHEN {number} BETWEEN -1 AND 1 THEN {number} END)"
    return valid, unreadable, out_of_range, recheck


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
    skips: dict[int, int] | None = None,
    commas: dict[int, dict[str, bool]] | None = None,
    decide: Collection[int] = (),
    *,
    scan: str | None = None,
    keep: Mapping[str, str] | None = None,
) -> tuple[str, dict[str, str], bool, bool]:
    """SQL of one file as normalised rows: src, line, id, topic, t_us, measures' inputs, reason,
    bad_column, raw, recheck; plus the resolved mapping, whether the time column is text and
    whether some number column's comma convention is undecided. Lines skipped above the header
    (an export's metadata) are recorded in ``skips[index]``; the comma convention of the text
    number columns (decimal comma or not) in ``commas[index]``, decided by one aggregate query
    when ``index`` is in ``decide`` (else undecided: see :func:`_number_text_sql`).

    ``scan``: read this table instead of the file (another engine's batch of the file's rows,
    with ``file_row_number`` = line - 1); ``keep``: its columns passed through as they are,
    ``{column: output name}`` (columns named ``__esc_...`` are not the file's own)."""
    keep = dict(keep or {})
    source = str(path)
    kind = "parquet" if scan is not None else _file_kind(path)
    scan = scan if scan is not None else _scan_sql(path, kind, index)
    described = _describe(con, scan, source)
    types = {
        name: dtype
        for name, dtype in described
        if name != "file_row_number" and not name.startswith(_HIDDEN)
    }
    resolved = _resolve(list(types), columns, source)
    skip = _metadata_lines(con, path) if kind == "csv" and "created_at" not in resolved else 0
    if skip:  # the header is below metadata lines ("Report:,...", a blank line)
        skipped_scan = _scan_sql(path, kind, index, skip)
        skipped = _describe(con, skipped_scan, source)
        skipped_types = {name: dtype for name, dtype in skipped}
        skipped_resolved = _resolve(list(skipped_types), columns, source)
        if "created_at" in skipped_resolved:
            scan, types, resolved = skipped_scan, skipped_types, skipped_resolved
        else:
            skip = 0
    if skips is not None:
        skips[index] = skip
    if "created_at" not in resolved:
        raise DataLoadError(
            "no timestamp column (looked for created_at and the usual export names); "
            "map yours with --column created_at=YOUR_COLUMN",
            source=source,
            column="created_at",
        )
    _refuse_series(con, scan, resolved, source)

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
        (
            f"NOT (({time_expr}) >= {TIME_RANGE_US[0]} AND ({time_expr}) < {TIME_RANGE_US[1]})",
            REASON_TIME_OUT_OF_RANGE,
            "created_at",
        ),
    ]
    if time_type.startswith("TIMESTAMP WITH TIME ZONE"):
        has_offset = "true"
    elif time_type.startswith(("TIMESTAMP", "DATE")):
        has_offset = "false"
    else:  # text: an explicit offset or Z at the end ("... -0800", "...+01:00", "...Z")
        offset_re = "'([Zz]|[+-]\\d{2}:?\\d{2})$'"
        has_offset = f"coalesce(regexp_matches({time_text}, {offset_re}), false)"
    selects = [
        f"{index} AS src",
        f"{time_expr} AS t_us",
        f"{time_text} AS time_text",
        f"{has_offset} AS has_offset",
    ]
    commas = {} if commas is None else commas
    text_numbers = {
        c: found
        for c in (*_COUNT_COLUMNS, "sentiment")
        if (found := col(c)) is not None and not _is_numeric(found[1])
    }
    if index in decide and index not in commas and text_numbers:
        aggregates = ", ".join(_comma_decision_sql(*found) for found in text_numbers.values())
        decided = con.execute(f"SELECT {aggregates} FROM {scan}").fetchone()
        commas[index] = {c: d is False for c, d in zip(text_numbers, decided, strict=True)}
    decimal = commas.get(index)
    prepared = _Prepared()
    rechecks = []
    negatives = []
    for canonical in _COUNT_COLUMNS:
        found = col(canonical)
        if found is None:
            selects.append(f"0.0 AS {canonical}")
            continue
        value, invalid, recheck = _number_sql(
            *found, prepared, canonical, None if decimal is None else decimal.get(canonical, False)
        )
        rechecks.append(recheck)
        reasons.append((invalid, REASON_BAD_NUMBER, canonical))
        negatives.append((f"coalesce({value} < 0, false)", REASON_NEGATIVE_NUMBER, canonical))
        selects.append(f"coalesce({value}, 0.0) AS {canonical}")
    # the loader's order: unreadable values first, then the schema's range checks
    found = col("sentiment")
    if found is None:
        reasons.extend(negatives)
        selects.append("CAST(NULL AS DOUBLE) AS sentiment")
    else:
        value, unreadable, out_of_range, recheck = _sentiment_sql(
            *found, prepared, None if decimal is None else decimal.get("sentiment", False)
        )
        rechecks.append(recheck)
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
    # read only by a plan's keyword and segment measures (features._segments)
    selects.append(f"{_text(*found)} AS text" if found else "CAST(NULL AS VARCHAR) AS text")
    found = col("platform")
    selects.append(f"{_text(*found)} AS platform" if found else "CAST(NULL AS VARCHAR) AS platform")

    rechecks = [r for r in rechecks if r != "false"]
    recheck = f"({' OR '.join(rechecks)})" if rechecks else "false"
    selects.append(f"{recheck} AS recheck")
    if rechecks:  # first: the comma convention decides the other reasons
        reasons.insert(0, (recheck, _RECHECK, "author_followers"))
    reasons = [r for r in reasons if r[0] != "false"]  # checks a column's type already passes
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
    if kind in ("parquet", "json"):
        selects.append("file_row_number + 1 AS line")
    else:  # header = line skip + 1; rows DuckDB rejected not counted (see _fetch_quarantine)
        selects.append(f"row_number() OVER () + {skip + 1} AS line")
    selects.extend(f"{_quote_ident(name)} AS {_quote_ident(alias)}" for name, alias in keep.items())
    inner = prepared.wrap(scan)
    sql = f"SELECT {', '.join(selects)} FROM ({inner})"
    return sql, resolved, not time_type.startswith(("TIMESTAMP", "DATE")), bool(rechecks)


def _refuse_series(con: Any, scan: str, resolved: Mapping[str, str], source: str) -> None:
    """Like the loader, refuse a volume series (time + count column, no mention column) read as
    mentions: each row would count as one post. Reads at most 1000 rows, and only then."""

    if any(c in resolved for c in MENTION_OWN_COLUMNS):
        return
    sample = con.execute(f"SELECT * FROM {scan} LIMIT 1000").fetch_df()
    sample = sample.drop(columns=["file_row_number"], errors="ignore")
    refuse_series_table(sample, source, resolved)


def aggregate_counts(
    paths: Any,
    *,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    freq: pd.Timedelta,
    influencer_followers: float,
    topic: str | None = None,
    score_sentiment: bool = True,
    glob: bool = False,
    plan: Any = None,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
) -> tuple[pd.DataFrame, Any, pd.DataFrame]:
    """Scan the files in DuckDB → (measures per topic × window, LoadSummary, quarantine).

    Usually two scans: the ids (hashed, for the duplicate check) and one pass computing the
    measures and the quarantine reason counts together. Extra scans only when needed: repeated
    id hashes, times DuckDB cannot parse, sentiment to score from text, quarantined rows.
    DuckDB uses at most ``memory_limit`` (e.g. ``"500MB"``) and spills to a temporary
    directory, removed afterwards."""
    import duckdb

    files = _check_paths(paths, glob)
    step_us = int(freq.value // 1000)
    spill = tempfile.mkdtemp(prefix="esc-duckdb-")
    con = duckdb.connect()
    try:
        try:
            con.execute(f"SET memory_limit = {_quote_literal(str(memory_limit))}")
        except duckdb.Error as exc:
            raise DataLoadError(
                f"memory limit {memory_limit!r} not understood; write it like '500MB' or '2GB'"
            ) from exc
        con.execute(f"SET temp_directory = {_quote_literal(spill)}")
        for index, path in enumerate(files):
            _check_exact(con, path)
            if _file_kind(path) == "json":
                _load_json_lines(con, path, index)
        try:
            con.execute(f"SET TimeZone = {_quote_literal(tz or 'UTC')}")
        except duckdb.Error as exc:
            raise DataLoadError(f"unknown time zone {tz!r}; use e.g. 'Europe/Paris'") from exc
        con.execute("SET preserve_insertion_order = false")
        skips: dict[int, int] = {}  # metadata lines above a CSV header, by file
        commas: dict[int, dict[str, bool]] = {}  # decimal comma by file and number column
        fallback = False  # whether the view reads times with the loader's rules too

        def rebuild(decide: Collection[int] = ()) -> tuple[list[dict], bool, bool]:
            return _create_rows_view(
                con, files, columns, topic, fallback, skips, commas, decide
            )

        mappings, text_time, undecided = rebuild()
        has_ids = any("mention_id" in m for m in mappings)

        # 1. duplicate ids among valid rows: 64-bit hashes of every id sorted in numpy (much
        # cheaper than a 10-M-group hash aggregate); only repeated hashes are checked exactly
        in_numpy = sum(p.stat().st_size for p in files) <= _NUMPY_ID_BYTES
        repeated = _repeated_id_hashes(con, in_numpy) if has_ids else np.empty(0, dtype="uint64")
        fallback_tried = False
        if len(repeated) and undecided:  # validity must be final before duplicates are known
            recheck = con.execute("SELECT DISTINCT src FROM rows_all WHERE recheck").fetchall()
            if recheck:
                rebuild(decide=[int(r[0]) for r in recheck])
        if len(repeated) and text_time:
            fallback_tried = True
            if _add_time_fallback(con, tz):
                fallback = True
                rebuild()
        n_dups = _mark_duplicates(con, repeated)
        accepted_filter = (
            "reason IS NULL AND NOT EXISTS (SELECT 1 FROM dup_rows d"
            " WHERE d.src = r.src AND d.line = r.line)"
            if n_dups
            else "reason IS NULL"
        )

        # 2. one pass: measures of accepted rows per (topic, window) + rejected rows per reason
        query = _main_query(accepted_filter, step_us, influencer_followers)
        agg, rejected = _split(con.execute(query).fetch_df())
        # a comma that is not 3-digit grouping: decide those files' convention over the whole
        # column and count again (no duplicate ids here, else it was decided above)
        recheck = rejected.loc[rejected["reason"] == _RECHECK, "src"].unique()
        if len(recheck):
            rebuild(decide=[int(i) for i in recheck])
            agg, rejected = _split(con.execute(query).fetch_df())
        retry = not fallback_tried and text_time and _count(rejected, REASON_BAD_TIME)
        if retry and _add_time_fallback(con, tz):  # no duplicate ids here: none to recompute
            fallback = True
            rebuild()
            agg, rejected = _split(con.execute(query).fetch_df())
        _check_some_time_readable(con, rejected, files, mappings)
        reason_counts = _sum_reasons(rejected)
        if n_dups:
            reason_counts[REASON_DUPLICATE_ID] = n_dups
        rows_read = int(agg["volume"].sum()) + sum(reason_counts.values())
        agg["unique_authors"] = _exact_unique_authors(con, agg, accepted_filter, step_us)

        # 3. sentiment scored from text where it is missing (only such rows are read again)
        estimated = False
        if score_sentiment and int(agg["missing_sentiment"].sum()):
            estimated = _score_missing_sentiment(con, files, mappings, accepted_filter, skips)
            if estimated:
                agg = _add_scored_negatives(con, agg, step_us)

        # a plan's keyword and segment measures, in SQL (features._segments)
        plan_rows = None if plan is None else plan_measures_duckdb(
            con, plan, window_sql=_window_sql(step_us), accepted_filter=accepted_filter,
            mappings=mappings, scored_negatives=estimated,
        )

        # 4. malformed CSV rows, recorded by the scans above (after them all: a row rejected
        # for its bytes in one scan only would misalign the row numbers, so that raises)
        n_malformed = _collect_malformed(con, files, skips)
        if n_malformed:
            reason_counts[REASON_MALFORMED_ROW] = n_malformed
            rows_read += n_malformed

        # 5. quarantined rows (bounded)
        quarantine = (
            _fetch_quarantine(
                con,
                files,
                accepted_filter,
                malformed=bool(n_malformed),
                others=sum(reason_counts.values()) > n_malformed,
                id_columns=id_columns_of(mappings),
            )
            if sum(reason_counts.values())
            else pd.DataFrame({c: pd.Series(dtype="str") for c in QUARANTINE_COLUMNS}).astype(
                {"line": "int64"}
            )
        )
    except duckdb.Error as exc:  # e.g. a corrupt Parquet page
        message = str(exc).strip().splitlines()[0]
        raise DataLoadError(
            f"cannot be aggregated with DuckDB ({message}); try --engine pandas",
            source=", ".join(str(p) for p in files),
        ) from exc
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)

    counts = _dense_grid(agg, step_us)
    if plan_rows is not None:
        counts = merge_plan_measures(counts, plan_rows, plan)
    counts.attrs[CARRIED_ATTR] = sorted({c for m in mappings for c in m})
    summary = _make_summary(
        files,
        rows_read=rows_read,
        accepted=int(agg["volume"].sum()) if len(agg) else 0,
        reasons=reason_counts,
        tz=tz,
        mapping=mappings[0] if mappings else {},
        estimated=estimated,
        with_offset=int(agg["with_offset"].sum()) if len(agg) else 0,
    )
    return counts, summary, quarantine


#: Distinct authors are counted as distinct 64-bit hashes. Two different authors of one window
#: sharing a hash (which would undercount that window by one) has, for a well-mixed hash, a
#: chance of at most Σ n·(n−1)/2 / 2⁶⁴ over windows (n = distinct hashes): ~3e-11 for 10 M rows
#: in hourly windows. Above this bound the hashes are checked exactly (one more scan, ~2-3 s
#: at 10 M rows) and the windows recounted from the text if any collide. Deliberately
#: constructed colliding author names below the bound would go unnoticed.
_HASH_COLLISION_BOUND = 1e-9


def _metadata_lines(con: Any, path: Path) -> int:
    """Lines DuckDB's sniffer would skip above the header (0 if none or it cannot tell).

    Asked only when the strict read (``store_rejects``, which makes the sniffer keep line 1 as
    the header) finds no time column: the tolerant sniff finds a header under metadata lines,
    but also takes a malformed row for the header, so its answer is kept only if it yields a
    time column."""
    import duckdb

    encoding = ", encoding = 'utf-16'" if _is_utf16(path) else ""
    try:
        row = con.execute(
            f"SELECT SkipRows FROM sniff_csv({_path_literal(path)}{encoding})"
        ).fetchone()
    except duckdb.Error:
        return 0
    return int(row[0]) if row and row[0] else 0


def _create_rows_view(
    con: Any,
    files: list[Path],
    columns: Mapping[str, str] | None,
    topic: str | None,
    time_fallback: bool = False,
    skips: dict[int, int] | None = None,
    commas: dict[int, dict[str, bool]] | None = None,
    decide: Collection[int] = (),
) -> tuple[list[dict], bool, bool]:
    """(Re)create the ``rows_all`` view over all files → (mappings, any time column is text,
    any comma convention undecided); ``commas``/``decide`` as in :func:`_file_view`."""
    views, mappings, text_time, undecided = [], [], False, False
    for index, path in enumerate(files):
        sql, resolved, is_text, open_commas = _file_view(
            con, index, path, columns, topic, time_fallback, skips, commas, decide
        )
        views.append(sql)
        mappings.append(resolved)
        text_time = text_time or is_text
        undecided = undecided or open_commas
    con.execute("CREATE OR REPLACE TEMP VIEW rows_all AS " + " UNION ALL BY NAME ".join(views))
    return mappings, text_time, undecided


def _repeated_id_hashes(con: Any, in_numpy: bool = True) -> np.ndarray:
    """Hashes that occur more than once among the non-missing ids (sorted, unique): every
    hash sorted in numpy (fast, memory grows with the rows), or with ``in_numpy=False`` a
    DuckDB aggregate that spills to disk beyond its memory limit.

    Missing ids hash to NULL and are dropped from the result: a WHERE would be pushed into the
    scan as a filter and each id's trimming computed twice (≈ 0.2 s of 0.7 s at 10 M rows)."""
    hashes = "SELECT CASE WHEN mention_id IS NOT NULL THEN hash(mention_id) END AS h FROM rows_all"
    if not in_numpy:
        found = con.execute(
            f"SELECT h FROM ({hashes}) GROUP BY h HAVING count(*) > 1 ORDER BY h"
        ).fetchnumpy()["h"]
        return np.asarray(np.ma.compressed(found), dtype="uint64")
    values = np.asarray(np.ma.compressed(con.execute(hashes).fetchnumpy()["h"]), dtype="uint64")
    values.sort()  # numpy's SIMD sort: ≈ 0.12 s for 10 M hashes
    return np.unique(values[1:][values[1:] == values[:-1]])


def _mark_duplicates(con: Any, repeated: np.ndarray) -> int:
    """Exact check of the rows whose id hash repeats → ``dup_rows(src, line)``; their count."""
    if not len(repeated):
        return 0
    con.register("dup_candidates_df", pd.DataFrame({"h": repeated}))
    con.execute("CREATE OR REPLACE TEMP TABLE dup_candidates AS SELECT h FROM dup_candidates_df")
    con.unregister("dup_candidates_df")
    candidates = con.execute(
        "SELECT src, line, mention_id FROM rows_all WHERE reason IS NULL"
        " AND mention_id IS NOT NULL AND hash(mention_id) IN (SELECT h FROM dup_candidates)"
    ).fetch_df()
    dups = candidates.sort_values(["src", "line"], kind="stable")
    dups = dups[dups.duplicated("mention_id", keep="first")]
    if not len(dups):
        return 0
    con.register("dup_rows_df", dups[["src", "line"]].astype("int64"))
    con.execute("CREATE OR REPLACE TEMP TABLE dup_rows AS SELECT * FROM dup_rows_df")
    con.unregister("dup_rows_df")
    return len(dups)


def _window_sql(step_us: int) -> str:
    return f"(t_us - (((t_us % {step_us}) + {step_us}) % {step_us}))"


def _main_query(accepted_filter: str, step_us: int, influencer_followers: float) -> str:
    """Accepted rows grouped by (topic, window) with their measures; rejected rows grouped by
    (file, reason) — one scan. Distinct authors: distinct 64-bit hashes per window (checked
    against collisions afterwards), far cheaper in DuckDB than COUNT(DISTINCT text)."""
    negative = f"coalesce(sentiment <= {NEGATIVE_SENTIMENT_BAR!r}, false)"
    return (
        "SELECT CASE WHEN ok THEN NULL ELSE src END AS src,"
        " CASE WHEN ok THEN NULL ELSE reason END AS reason,"
        " CASE WHEN ok THEN topic END AS topic,"
        f" CASE WHEN ok THEN {_window_sql(step_us)} END AS w,"
        " count(*) AS volume,"
        f" count(*) FILTER (WHERE {negative}) AS negative_volume,"
        " coalesce(list_unique(list(hash(author)) FILTER (WHERE ok AND author IS NOT NULL)), 0)"
        " AS unique_authors,"
        " sum(author_followers) AS reach, sum(engagement) AS engagement,"
        f" count(*) FILTER (WHERE author_followers >= {float(influencer_followers)!r}"
        " OR is_verified) AS influencer_mentions,"
        " count(*) FILTER (WHERE sentiment IS NULL) AS missing_sentiment,"
        " count(*) FILTER (WHERE has_offset) AS with_offset"
        f" FROM (SELECT *, ({accepted_filter}) AS ok FROM rows_all r)"
        " GROUP BY ALL"
    )


def _split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Main query result → (accepted groups, rejected groups with src, reason, n)."""
    ok = frame["src"].isna().to_numpy()
    agg = frame[ok].drop(columns=["src", "reason"]).reset_index(drop=True)
    rejected = frame.loc[~ok, ["src", "reason", "volume"]].rename(columns={"volume": "n"})
    return agg, rejected.reset_index(drop=True)


def _count(rejected: pd.DataFrame, reason: str) -> int:
    return int(rejected.loc[rejected["reason"] == reason, "n"].sum())


def _exact_unique_authors(
    con: Any, agg: pd.DataFrame, accepted_filter: str, step_us: int
) -> np.ndarray:
    """Distinct authors per window from the hash counts, exact: when the data make a hash
    collision inside a window at all plausible, check that no two different authors share a
    hash (one extra scan), and recount with the author text if some do."""
    counts = agg["unique_authors"].to_numpy(dtype="float64")
    if float(np.sum(counts * (counts - 1) / 2)) / 2.0**64 <= _HASH_COLLISION_BOUND:
        return counts
    if not _author_hashes_collide(con):
        return counts
    exact = con.execute(
        f"SELECT topic, {_window_sql(step_us)} AS w, count(DISTINCT author) AS n"
        f" FROM rows_all r WHERE {accepted_filter} GROUP BY ALL"
    ).fetch_df()
    merged = agg[["topic", "w"]].merge(exact, on=["topic", "w"], how="left")
    return merged["n"].to_numpy(dtype="float64", na_value=0.0)


def _author_hashes_collide(con: Any) -> bool:
    """Whether two different (non-missing) authors share a 64-bit hash."""
    return bool(
        con.execute(
            "SELECT count(*) FROM (SELECT hash(author) FROM (SELECT DISTINCT author"
            " FROM rows_all WHERE author IS NOT NULL) GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()[0]
    )


def _add_scored_negatives(con: Any, agg: pd.DataFrame, step_us: int) -> pd.DataFrame:
    """Add the rows whose sentiment was scored negative from text to ``negative_volume``."""
    scored = con.execute(
        f"SELECT topic, {_window_sql(step_us)} AS w, count(*) AS scored FROM rows_all r"
        " SEMI JOIN scored_negative s ON s.src = r.src AND s.line = r.line GROUP BY ALL"
    ).fetch_df()
    merged = agg.merge(scored, on=["topic", "w"], how="left")
    merged["negative_volume"] = merged["negative_volume"] + merged["scored"].fillna(0)
    return merged.drop(columns=["scored"])


def _sum_reasons(rejected: pd.DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in rejected.groupby("reason")["n"].sum().items()}


def _check_some_time_readable(
    con: Any, rejected: pd.DataFrame, files: list[Path], mappings: list
) -> None:
    """Like the loader: a file where no time at all can be read is unusable, not quarantined."""
    for index, path in enumerate(files):
        mine = rejected[rejected["src"] == index]
        time_reasons = mine["reason"].isin([REASON_BAD_TIME, REASON_MISSING_TIME])
        unreadable = int(mine.loc[time_reasons, "n"].sum())
        if not unreadable:
            continue
        total = con.execute(f"SELECT count(*) FROM rows_all WHERE src = {index}").fetchone()[0]
        if unreadable == total:
            raise DataLoadError(
                "no value of the time column could be read as a date/time; map the right "
                "column with --column created_at=YOUR_COLUMN",
                source=str(path),
                column=mappings[index].get("created_at"),
            )


def _add_time_fallback(con: Any, tz: str | None) -> bool:
    """Parse the time strings DuckDB could not read with the loader's rules (formats such as
    "02/24/2015 11:35", epoch numbers...) into ``time_fallback(raw, us)``; True if any parsed."""

    failed = con.execute(
        "SELECT time_text FROM rows_all WHERE reason = ? AND time_text IS NOT NULL"
        " GROUP BY time_text ORDER BY min(src), min(line) LIMIT ?",
        [REASON_BAD_TIME, QUARANTINE_FETCH_LIMIT],
    ).fetch_df()["time_text"]
    if failed.empty:
        return False
    parsed, _, _, _ = parse_times(failed.astype(object).reset_index(drop=True), tz)
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
    con: Any,
    files: list[Path],
    mappings: list[dict],
    accepted_filter: str,
    skips: Mapping[int, int],
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

    parts = []
    for index, (path, resolved) in enumerate(zip(files, mappings, strict=True)):
        if "text" not in resolved:
            continue
        kind, skip = _file_kind(path), skips.get(index, 0)
        line = (
            "file_row_number + 1"
            if kind in ("parquet", "json")
            else f"row_number() OVER () + {skip + 1}"
        )
        parts.append(
            f"SELECT {index} AS src, {line} AS line, CAST({_quote_ident(resolved['text'])}"
            f" AS VARCHAR) AS text FROM {_scan_sql(path, kind, index, skip)}"
        )
    con.execute("CREATE TEMP VIEW texts AS " + " UNION ALL ".join(parts))
    reader = con.sql(
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


def _collect_malformed(con: Any, files: list[Path], skips: Mapping[int, int]) -> int:
    """Gather the CSV rows DuckDB rejected (recorded by every scan, so deduplicated by line)
    into ``malformed(src, line, raw)``; their count. ``line`` is DuckDB's: the record's number
    in the file, header = 1, like the ``line`` of ``rows_all``.

    Raises, like the loader, for a file none of whose rows splits into the header's fields,
    and for bytes that are not UTF-8 (a wrong encoding, not a malformed row)."""
    tables = {
        str(r[0])
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary AND"
            " (starts_with(table_name, ?) OR starts_with(table_name, ?))",
            [_REJECTS, _JSON_LINES],
        ).fetchall()
    }
    structural = ", ".join(_quote_literal(t) for t in _MALFORMED_ERRORS)
    parts = [
        f"SELECT {index} AS src, line, rtrim(ltrim(any_value(csv_line), {_NEWLINES}), {_NEWLINES})"
        f" AS raw, bool_and(error_type IN ({structural})) AS structural,"
        " any_value(error_type) FILTER (WHERE error_type NOT IN"
        f" ({structural})) AS other_error, false AS exact FROM {_REJECTS}{index} GROUP BY line"
        for index in range(len(files))
        if f"{_REJECTS}{index}" in tables
    ]
    # JSON lines that are not an object: their line numbers are the file's (exact)
    parts += [
        f"SELECT {index} AS src, line, left(trim(j, {_SPACES}), {_RAW_LIMIT}) AS raw,"
        " true AS structural,"
        f" CAST(NULL AS VARCHAR) AS other_error, true AS exact FROM {_JSON_LINES}{index}"
        " WHERE NOT object"
        for index in range(len(files))
        if f"{_JSON_LINES}{index}" in tables
    ]
    if not parts:
        return 0
    con.execute("CREATE OR REPLACE TEMP TABLE malformed AS " + " UNION ALL ".join(parts))
    per_file = dict(con.execute("SELECT src, count(*) FROM malformed GROUP BY src").fetchall())
    if not per_file:
        return 0
    other = con.execute(
        "SELECT src, line, other_error FROM malformed WHERE NOT structural"
        " ORDER BY src, line LIMIT 1"
    ).fetchone()
    if other is not None:
        index, line, error = other
        message = (
            _NOT_UTF8
            if "ENCODING" in error or "UNICODE" in error
            else f"cannot be read by DuckDB ({error.lower()}); try --engine pandas"
        )
        raise DataLoadError(message, source=str(files[index]), lines=[line])
    for index in sorted(per_file):
        if _file_kind(files[index]) != "csv":
            continue
        scan = _scan_sql(files[index], "csv", index, skips.get(index, 0))
        if con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {scan} LIMIT 1)").fetchone()[0]:
            continue
        lines = con.execute(
            f"SELECT line FROM malformed WHERE src = {index} ORDER BY line"
            f" LIMIT {QUARANTINE_FETCH_LIMIT}"
        ).fetchall()
        width = len(con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall())
        delimiter = con.execute(f"SELECT any_value(delimiter) FROM {_REJECT_SCANS}{index}")
        raise DataLoadError(
            f"no row splits into the header's {width} fields with delimiter "
            f"{delimiter.fetchone()[0]!r}",
            source=str(files[index]),
            lines=[r[0] for r in lines],
        )
    return int(sum(per_file.values()))


def _id_column_sql(id_columns: Sequence[str]) -> str:
    """SQL naming, per file (``src``), the id column a duplicate is reported under: the
    file's own name for it, as the loader reports it."""
    if not id_columns:
        return "'mention_id'"
    names = ", ".join(_quote_literal(n) for n in id_columns)
    return f"list_value({names})[src + 1]"


def id_columns_of(mappings: Sequence[Mapping[str, str]]) -> list[str]:
    """Each file's own name of its id column (``mention_id`` when it has none)."""
    return [m.get("mention_id", "mention_id") for m in mappings]


def _fetch_quarantine(
    con: Any,
    files: list[Path],
    accepted_filter: str,
    malformed: bool = False,
    others: bool = True,
    id_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """Quarantined rows in file order (at most QUARANTINE_FETCH_LIMIT); ``others=False`` when
    all are malformed rows, which then come from the small ``malformed`` table alone (no scan).

    When DuckDB skipped malformed CSV rows, ``rows_all.line`` (a count of the rows it kept) is
    shifted to the file's line: a kept row is preceded by every malformed row j (1-based, in
    line order) with ``line_j - 1 - j`` (kept rows before it) below its own kept-row number."""
    sources = ", ".join(_quote_literal(str(p)) for p in files)
    rows = (
        f"SELECT src, line, coalesce(reason, {_quote_literal(REASON_DUPLICATE_ID)}) AS reason,"
        f" CASE WHEN reason IS NULL THEN {_id_column_sql(id_columns)} ELSE bad_column END"
        ' AS "column",'
        " CASE WHEN reason IS NULL THEN mention_id ELSE coalesce(raw, '') END AS raw"
        f" FROM rows_all r WHERE NOT ({accepted_filter})"
    )
    if malformed and not others:
        rows = (
            f"SELECT src, line, {_quote_literal(REASON_MALFORMED_ROW)} AS reason,"
            f" '' AS \"column\", left(raw, {_RAW_LIMIT}) AS raw FROM malformed"
        )
    elif malformed:
        shifts = (
            "SELECT src, line - 1 - j AS kept_before, max(j) AS shift FROM (SELECT src, line,"
            " row_number() OVER (PARTITION BY src ORDER BY line) AS j FROM malformed"
            " WHERE NOT exact)"
            " GROUP BY ALL"
        )
        rows = (
            "SELECT q.src, q.line + coalesce(s.shift, 0) AS line, q.reason, q.\"column\", q.raw"
            f" FROM ({rows}) q ASOF LEFT JOIN ({shifts}) s"
            " ON q.src = s.src AND q.line - 1 > s.kept_before"
            f" UNION ALL SELECT src, line, {_quote_literal(REASON_MALFORMED_ROW)}, '',"
            f" left(raw, {_RAW_LIMIT}) FROM malformed"
        )
    frame = con.execute(
        f"SELECT list_value({sources})[src + 1] AS source, line, reason, \"column\", raw"
        f" FROM ({rows}) ORDER BY src, line LIMIT {QUARANTINE_FETCH_LIMIT}"
    ).fetch_df()
    frame["line"] = frame["line"].astype("int64")
    for name in ("source", "reason", "column", "raw"):
        frame[name] = frame[name].astype("str")
    return frame[list(QUARANTINE_COLUMNS)]


def _dense_grid(agg: pd.DataFrame, step_us: int) -> pd.DataFrame:
    """Spread the sparse SQL result over the full topic × window grid (zeros where empty)."""
    if agg.empty:
        return empty_measures()
    windows = agg["w"].to_numpy(dtype="i8")
    first, last = int(windows.min()), int(windows.max())
    n_windows = (last - first) // step_us + 1
    topic_codes, topic_names = pd.factorize(agg["topic"].astype("str"), sort=True)
    check_grid(len(topic_names), n_windows, pd.Timedelta(step_us, unit="us"))
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
    with_offset: int = 0,
) -> Any:
    source = ", ".join(str(p) for p in files)
    parts = []
    if with_offset:  # the loader's wording (io._load's timezone note)
        parts.append("offsets converted to UTC")
    if accepted - with_offset > 0 or not parts:
        parts.append(
            f"naive times taken as {tz} and converted to UTC" if tz and tz != "UTC"
            else "naive times taken as UTC"
        )
    note = "; ".join(parts)
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
    return LoadSummary(**fields)


# --- shared with the Spark engine (which runs this SQL on each batch of rows) ---------------


def normalized_rows_sql(
    con: Any,
    index: int,
    source: str,
    scan: str,
    columns: Mapping[str, str] | None,
    topic: str | None,
    *,
    time_fallback: bool = False,
    decimal_comma: Mapping[str, bool] | None = None,
    keep: Mapping[str, str] | None = None,
) -> tuple[str, dict[str, str], bool]:
    """SQL turning the rows of table ``scan`` (one file's columns, ``file_row_number`` = its
    line - 1) into this engine's normalised rows (validation and quarantine reasons included):
    (SQL, resolved mapping, whether the time column is text). ``decimal_comma``: per text
    number column, whether its file writes decimal commas (None: undecided, rows needing the
    decision get the reason ``RECHECK_REASON``); ``time_fallback``: the SQL reads times it
    cannot parse from a ``time_fallback(raw, us)`` table."""
    commas = {index: dict(decimal_comma)} if decimal_comma is not None else {}
    sql, resolved, text_time, _ = _file_view(
        con, index, Path(source), columns, topic, time_fallback, None, commas, (),
        scan=scan, keep=keep,
    )
    return sql, resolved, text_time


def comma_decision_sql(
    scan: str, types: Mapping[str, str], resolved: Mapping[str, str]
) -> tuple[list[str], str]:
    """(canonical number columns written as text, SQL of one row with each one's comma
    decision over ``scan``: false = some value has a decimal comma, true = all commas group
    thousands, NULL = no comma)."""
    names = [
        c
        for c in (*_COUNT_COLUMNS, "sentiment")
        if c in resolved and not _is_numeric(types[resolved[c]])
    ]
    if not names:
        return [], ""
    aggregates = ", ".join(
        _comma_decision_sql(_quote_ident(resolved[c]), types[resolved[c]]) for c in names
    )
    return names, f"SELECT {aggregates} FROM {scan}"


def column_types(con: Any, scan: str, source: str) -> dict[str, str]:
    """DuckDB's type of each column of ``scan``."""
    return dict(_describe(con, scan, source))


#: Reason of rows whose number columns' comma convention must be decided first (never shown).
RECHECK_REASON = _RECHECK


def dense_measures(agg: pd.DataFrame, step_us: int) -> pd.DataFrame:
    """Per (topic, window ``w`` in epoch µs) measures → the full topic × window grid."""
    return _dense_grid(agg, step_us)


def make_summary(sources: Sequence[str], **fields: Any) -> Any:
    """The LoadSummary of an aggregation (as this engine words it) over ``sources``."""
    return _make_summary([Path(s) for s in sources], **fields)


def json_lines_sql(
    columns: Sequence[tuple[str, ...]], lines: str, keep: Sequence[str] = ()
) -> tuple[str, str]:
    """(SQL of the objects of table ``lines(line, j, *keep)`` as text columns, one per key
    path, with ``file_row_number`` and ``keep``; SQL of its lines that are not a JSON object,
    ``*keep, line, raw``): the JSON-lines rules of :func:`_load_json_lines` for another
    engine's batch."""
    kept = "".join(f"{_quote_ident(k)}, " for k in keep)
    parsed = (
        f"SELECT {kept}line, j, object, CASE WHEN object THEN CAST(j AS JSON) END AS o FROM"
        f" (SELECT {kept}line, j, coalesce(CASE WHEN json_valid(j) THEN json_type(j) ="
        f" 'OBJECT' END, false) AS object FROM {lines} WHERE trim(j, {_SPACES}) <> '')"
    )
    selects = [f"{kept}line - 1 AS file_row_number"] + [
        f"json_extract_string(o, {_json_path(keys)}) AS {_quote_ident('.'.join(keys))}"
        for keys in columns
    ]
    rows = f"SELECT {', '.join(selects)} FROM ({parsed}) WHERE object"
    bad = (
        f"SELECT {kept}line, left(trim(j, {_SPACES}), {_RAW_LIMIT}) AS raw FROM ({parsed})"
        " WHERE NOT object"
    )
    return rows, bad


def file_kind(path: Path) -> str:
    """"parquet", "csv" or "json" (JSON lines) of a local file, as this engine reads it."""
    return _file_kind(path)
