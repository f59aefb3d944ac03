"""The Spark aggregation engine: mention files in a data lake → measures per topic × window.

Private engine of :func:`esc_analytics.aggregate_files` (``engine="spark"``). Spark reads the
files (Parquet, CSV, JSON lines; local, ``s3a://``, ``abfss://``, ``hdfs://``, a folder of
part files, a pattern with ``glob=True``) and normalises their rows by the rules of the other
engines (the same reasons and numbers): a typed Parquet file by Spark's own expressions
(:mod:`._spark_rows`, in the JVM), any other file batch by batch on the executors by the
DuckDB engine's own SQL (an embedded DuckDB on an Arrow batch). Spark then finds the
repeated ids, computes the per topic × window measures (exact distinct authors) and the
quarantine counts. Only topics × windows rows, reason counts and a bounded sample of
quarantined rows come back to the driver; the text column never leaves the executors
(sentiment missing from a row is scored there). Every quarantined row can be written to a
Parquet folder with its reason.

Line numbers: Parquet rows are numbered by Spark's ``_metadata.row_index``; CSV records and
JSON lines by their position in the file, from the file block each comes from (one small
job counts the rows of every block). CSV is read one record per line (splittable): a quoted
field holding a newline makes its record malformed here, where the DuckDB and pandas engines
read it whole — convert such files to Parquet, or use those engines. Metadata lines above a
CSV header are not skipped (the DuckDB engine finds the header under them).

pyspark is an optional dependency: ``pip install 'esc-analytics[spark]'``.
"""

from __future__ import annotations

import csv
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._util.errors import DataLoadError
from .._util.paths import path_names
from .._util.schema import (
    NEGATIVE_SENTIMENT_BAR,
    QUARANTINE_COLUMNS,
    REASON_BAD_TIME,
    REASON_DUPLICATE_ID,
    REASON_MALFORMED_ROW,
    REASON_MISSING_TIME,
)
from ..io._load import MENTION_OWN_COLUMNS, parse_times, score_sentiment
from ..io._readers import sniff_delimiter
from ._duckdb import (
    QUARANTINE_FETCH_LIMIT,
    RECHECK_REASON,
    column_types,
    comma_decision_sql,
    dense_measures,
    file_kind,
    id_columns_of,
    json_lines_sql,
    make_summary,
    normalized_rows_sql,
)
from ._grid import CARRIED_ATTR
from ._spark_rows import native_rows, native_supported

__all__ = ["INSTALL_HINT", "QUARANTINE_SAMPLE", "aggregate_counts_spark", "spark_session"]

INSTALL_HINT = (
    "the Spark engine needs pyspark: pip install 'esc-analytics[spark]' (and Java 17+, e.g. "
    "Debian's openjdk-17-jre-headless)"
)
#: Quarantined rows brought back to the driver (all are counted; all are written to
#: ``quarantine_path`` when given).
QUARANTINE_SAMPLE = 10_000
#: The JVM heap of a local-mode session this engine starts (driver and executors in one).
_LOCAL_HEAP = "2g"
#: Repeated id hashes handled by broadcast (beyond, one window over every row decides).
_REPEATED_LIMIT = 200_000
_BATCH = "esc_batch"
_FILE = "__esc_file"  # the physical file a row comes from (a part file of a folder)
_CORRUPT = "__esc_corrupt"  # Spark's raw text of a CSV record that does not split right
_TEXT = "__esc_text"
_HADOOP_GLOB = re.compile(r"([\\*?\[\]{}])")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")

#: The normalised rows Spark computes on (text excluded).
_ROWS_SCHEMA = (
    "src INT, file STRING, line BIGINT, topic STRING, t_us BIGINT, author_followers DOUBLE,"
    " engagement DOUBLE, sentiment DOUBLE, is_verified BOOLEAN, author STRING,"
    " mention_id STRING, has_text BOOLEAN, has_offset BOOLEAN, reason STRING,"
    " bad_column STRING, raw STRING, scored_negative BOOLEAN"
)
_ROW_COLUMNS = [part.split()[0] for part in _ROWS_SCHEMA.split(",")]


# --- session -----------------------------------------------------------------------------------


def spark_session(
    spark: Any = None, *, master: str | None = None, remote: str | None = None
) -> Any:
    """The SparkSession to aggregate on: ``spark`` itself, else one on ``remote`` (Spark
    Connect, ``sc://host:15002``), else one on ``master`` (``local[2]``, ``yarn``...), else
    the active one or a new one (``SPARK_REMOTE`` honoured by pyspark). A session this
    function starts keeps running for later calls (Spark's own ``getOrCreate``)."""
    if spark is not None:
        return spark
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise DataLoadError(INSTALL_HINT) from exc
    # executors in local mode run this Python (the one with esc-analytics), not python3
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # pyspark 4 warns at every Arrow conversion that it was not tested with pandas 3; the
    # engine's conversions are plain tables (tested): said once in the docs, not per call
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )
    try:
        if remote:
            return SparkSession.builder.remote(remote).getOrCreate()
        active = SparkSession.getActiveSession()
        if active is not None and master is None:
            return active
        builder = SparkSession.builder.appName("esc-analytics aggregate")
        if master:
            builder = builder.master(master)
        elif not os.environ.get("SPARK_REMOTE"):
            builder = builder.master("local[*]")
            master = "local[*]"
        if master and master.startswith("local"):  # few cores: a few shuffle partitions
            cores = master[master.find("[") + 1 : master.find("]")] if "[" in master else "1"
            n = (os.cpu_count() or 2) if cores in ("*", "") else int(cores.split(",")[0])
            builder = builder.config("spark.sql.shuffle.partitions", str(max(2 * n, 2)))
            # smaller input splits: every core validates a part of a file of a few 100 MB
            builder = builder.config("spark.sql.files.maxPartitionBytes", "32m")
            # the driver is the executor here: a heap for both (with Spark's default 1 GB the
            # aggregation of 10 M rows took 27 s instead of 18 s, mostly collecting garbage)
            # and the throughput collector (a batch job: no pause matters)
            builder = builder.config("spark.driver.memory", _LOCAL_HEAP).config(
                "spark.driver.extraJavaOptions", "-XX:+UseParallelGC"
            )
        session = (
            builder.config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        return session
    except Exception as exc:  # no Java, a master that does not answer...
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataLoadError(f"cannot start Spark ({message}); {INSTALL_HINT}") from exc


# --- paths -------------------------------------------------------------------------------------


def _spark_path(name: str, glob: bool) -> str:
    """What Spark is asked to read for ``name``: a local name made absolute with Hadoop's
    pattern characters escaped (a name is read as written, as the DuckDB engine does), or
    the pattern / remote URL as given."""
    if _SCHEME.match(name) or glob:
        return name
    return "file://" + _HADOOP_GLOB.sub(r"\\\1", os.path.abspath(name))


def _kind(name: str) -> str:
    """parquet, csv or json for a file, a local folder of part files or a remote path."""
    if not _SCHEME.match(name):
        path = Path(name)
        if path.is_dir():
            parts = sorted(
                p for p in path.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))
            )
            if not parts:
                raise DataLoadError("the folder holds no data file", source=name)
            path = parts[0]
        if path.is_file():
            if path.stat().st_size == 0:
                raise DataLoadError("file is empty (no header, no rows)", source=name)
            return file_kind(path)
        if not any(ch in name for ch in "*?["):
            raise DataLoadError("file not found", source=name)
    lowered = name.lower().rstrip("/*")
    for kind, suffixes in (
        ("json", (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz", ".json.gz")),
        ("csv", (".csv", ".csv.gz", ".tsv", ".txt")),
    ):
        if lowered.endswith(suffixes):
            return kind
    return "parquet"


# --- reading ---------------------------------------------------------------------------------


def _with_line_index(spark: Any, frame: Any, first_line: int) -> Any:
    """``frame`` (a text or CSV scan) with ``file_row_number`` = its row's line in its file
    - 1, counting from ``first_line`` (0: JSON lines; 1: CSV records under the header).

    Rows keep their file order within a file block; one job counts the rows of every block
    (file, block start) — a few rows per file — and each row's number is the rows of the
    earlier blocks of its file plus its position in its own block."""
    from pyspark.sql import functions as F

    frame = frame.withColumn("__esc_id", F.monotonically_increasing_id()).withColumn(
        "__esc_block", F.col("_metadata.file_block_start")
    )
    blocks = (
        frame.groupBy(_FILE, "__esc_block")
        .agg(F.min("__esc_id").alias("__esc_first"), F.count(F.lit(1)).alias("__esc_n"))
        .toPandas()
        .sort_values([_FILE, "__esc_block"], kind="stable")
    )
    before = blocks.groupby(_FILE)["__esc_n"].cumsum() - blocks["__esc_n"]
    offsets = spark.createDataFrame(
        pd.DataFrame(
            {
                _FILE: blocks[_FILE].astype(str),
                "__esc_block": blocks["__esc_block"].astype("int64"),
                "__esc_first": blocks["__esc_first"].astype("int64"),
                "__esc_before": before.astype("int64") + int(first_line),
            }
        )
    )
    joined = frame.join(F.broadcast(offsets), on=[_FILE, "__esc_block"], how="left")
    number = F.col("__esc_before") + F.col("__esc_id") - F.col("__esc_first")
    return joined.withColumn("file_row_number", number).drop(
        "__esc_id", "__esc_block", "__esc_first", "__esc_before"
    )


def _header(spark: Any, path: str) -> tuple[list[str], str]:
    """(column names, delimiter) of a CSV file from its first line (only that line is read)."""
    first = spark.read.text(path).limit(1).collect()
    if not first:
        raise DataLoadError("file is empty (no header, no rows)", source=path)
    line = str(first[0][0]).lstrip("\ufeff")
    delimiter = sniff_delimiter(line)
    names = next(csv.reader([line], delimiter=delimiter))
    return [n.strip() for n in names], delimiter


def _read_file(spark: Any, name: str, glob: bool) -> tuple[Any, str, list[str]]:
    """(Spark frame of the file's rows with ``file_row_number`` and the file column, kind,
    source column names)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    kind = _kind(name)
    path = _spark_path(name, glob)
    reader = spark.read.option("recursiveFileLookup", "true") if not glob else spark.read
    if kind == "parquet":
        frame = reader.parquet(path)
        names = list(frame.columns)
        frame = frame.select(
            "*",
            F.col("_metadata.row_index").alias("file_row_number"),
            F.col("_metadata.file_path").alias(_FILE),
        )
        return frame, kind, names
    if kind == "json":
        frame = reader.text(path).withColumnRenamed("value", "j")
        frame = frame.withColumn(_FILE, F.col("_metadata.file_path"))
        return _with_line_index(spark, frame, 0), kind, ["j"]
    names, delimiter = _header(spark, path)
    schema = StructType(
        [StructField(f"c{i}", StringType()) for i in range(len(names))]
        + [StructField(_CORRUPT, StringType())]
    )
    frame = (
        reader.options(
            header=True,
            sep=delimiter,
            quote='"',
            escape='"',
            mode="PERMISSIVE",
            columnNameOfCorruptRecord=_CORRUPT,
            ignoreLeadingWhiteSpace=False,
            ignoreTrailingWhiteSpace=False,
        )
        .schema(schema)
        .csv(path)
        .withColumn(_FILE, F.col("_metadata.file_path"))
    )
    frame = _with_line_index(spark, frame, 1)
    renamed = frame.select(
        *[F.col(f"c{i}").alias(n) for i, n in enumerate(names)],
        _CORRUPT,
        _FILE,
        "file_row_number",
    )
    return renamed, kind, names


def _json_columns(spark: Any, name: str, glob: bool) -> list[tuple[str, ...]]:
    """Key paths of a JSON lines file's objects (nested objects as their keys), from Spark's
    schema inference over the file."""
    from pyspark.sql.types import StructType

    reader = spark.read.option("recursiveFileLookup", "true") if not glob else spark.read
    schema = reader.option("primitivesAsString", "true").json(_spark_path(name, glob)).schema

    def walk(struct: Any, parent: tuple[str, ...]) -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = []
        for field in struct.fields:
            if field.name == "_corrupt_record" and not parent:
                continue
            keys = (*parent, field.name)
            if isinstance(field.dataType, StructType) and field.dataType.fields:
                out.extend(walk(field.dataType, keys))
            else:
                out.append(keys)
        return out

    return walk(schema, ())


# --- per batch, on the executors ---------------------------------------------------------------


class _Plan:
    """What the executors need to normalise one file's batches (pickled to them)."""

    def __init__(
        self,
        index: int,
        kind: str,
        rows_sql: str,
        bad_json_sql: str = "",
        json_sql: str = "",
        text_column: str | None = None,
        fallback: pd.DataFrame | None = None,
        decision_sql: str = "",
        tz: str | None = None,
    ) -> None:
        self.index, self.kind, self.rows_sql = index, kind, rows_sql
        self.bad_json_sql, self.json_sql = bad_json_sql, json_sql
        self.text_column, self.fallback, self.decision_sql, self.tz = (
            text_column,
            fallback,
            decision_sql,
            tz,
        )


def _connect(plan: _Plan) -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.execute(f"SET TimeZone = '{(plan.tz or 'UTC').replace(chr(39), '')}'")
    if plan.fallback is not None:
        con.register("time_fallback", plan.fallback)
    return con


def _source_rows(con: Any, plan: _Plan, batch: Any) -> tuple[Any, Any]:
    """(the batch as the file's columns, its malformed rows as ``file, line, raw``)."""
    import pyarrow as pa

    if plan.kind == "json":
        con.register("esc_lines", batch.select(["file_row_number", "j", _FILE]))
        lines = con.sql(
            f"SELECT file_row_number + 1 AS line, j, {_FILE} FROM esc_lines"
        ).to_arrow_table()
        con.unregister("esc_lines")
        con.register("esc_json_lines", lines)
        rows = con.sql(plan.json_sql).to_arrow_table()
        bad = con.sql(plan.bad_json_sql).to_arrow_table().rename_columns(["file", "line", "raw"])
        con.unregister("esc_json_lines")
        return rows, bad
    if plan.kind == "csv":
        table = pa.Table.from_batches([batch])
        corrupt = table.column(_CORRUPT)
        import pyarrow.compute as pc

        is_bad = pc.is_valid(corrupt)
        bad = pa.table(
            {
                "file": pc.filter(table.column(_FILE), is_bad),
                "line": pc.add(pc.filter(table.column("file_row_number"), is_bad), 1),
                "raw": pc.utf8_slice_codeunits(
                    pc.utf8_rtrim(pc.filter(corrupt, is_bad), characters="\r\n"), 0, 500
                ),
            }
        )
        good = pc.filter(table, pc.invert(is_bad)).drop_columns([_CORRUPT])
        return good, bad
    return pa.Table.from_batches([batch]), None


def _normalise(plan: _Plan, batches: Iterator[Any]) -> Iterator[Any]:
    """Batches of a file → normalised rows (``_ROWS_SCHEMA``): the DuckDB engine's row SQL,
    malformed rows, and sentiment scored from the text where it is missing."""
    import pyarrow as pa
    import pyarrow.compute as pc

    con = _connect(plan)
    for batch in batches:
        rows, bad = _source_rows(con, plan, batch)
        con.register(_BATCH, rows)
        out = con.sql(plan.rows_sql).to_arrow_table()
        con.unregister(_BATCH)
        scored = np.zeros(out.num_rows, dtype=bool)
        if plan.text_column is not None and out.num_rows:
            texts = out.column(_TEXT)
            pending = pc.and_(pc.is_null(out.column("sentiment")), out.column("has_text"))
            where = np.flatnonzero(pending.to_numpy(zero_copy_only=False))
            if len(where):
                values = pc.take(texts, pa.array(where)).to_pylist()
                scores = np.asarray(score_sentiment(values), dtype="float64")
                scored[where] = scores <= NEGATIVE_SENTIMENT_BAR
        names = [c for c in _ROW_COLUMNS if c != "scored_negative"]
        table = out.select(names).append_column("scored_negative", pa.array(scored))
        if bad is not None and bad.num_rows:
            n = bad.num_rows
            extra = {
                "src": pa.array([plan.index] * n, pa.int32()),
                "file": bad.column("file"),
                "line": bad.column("line").cast(pa.int64()),
                "reason": pa.array([REASON_MALFORMED_ROW] * n, pa.string()),
                "bad_column": pa.array([""] * n, pa.string()),
                "raw": bad.column("raw"),
            }
            columns = {
                c: extra.get(c, pa.nulls(n, table.schema.field(c).type)) for c in table.schema.names
            }
            table = pa.concat_tables(
                [table, pa.table(columns).cast(table.schema)], promote_options="none"
            )
        yield from _conformed(table).to_batches()
    con.close()


def _conformed(table: Any) -> Any:
    """The normalised rows with ``_ROWS_SCHEMA``'s types."""
    import pyarrow as pa

    types = {
        "src": pa.int32(), "file": pa.string(), "line": pa.int64(), "topic": pa.string(),
        "t_us": pa.int64(), "author_followers": pa.float64(), "engagement": pa.float64(),
        "sentiment": pa.float64(), "is_verified": pa.bool_(), "author": pa.string(),
        "mention_id": pa.string(), "has_text": pa.bool_(), "has_offset": pa.bool_(),
        "reason": pa.string(), "bad_column": pa.string(), "raw": pa.string(),
        "scored_negative": pa.bool_(),
    }
    return pa.table({c: table.column(c).cast(types[c]) for c in _ROW_COLUMNS})


def _decisions(plan: _Plan, batches: Iterator[Any]) -> Iterator[Any]:
    """Per batch: the comma decision of each text number column (``kind`` comma, ``key`` the
    column, ``flag``) and the time texts the row SQL cannot read (``kind`` time, ``key`` the
    text, ``line`` its first line)."""
    import pyarrow as pa

    con = _connect(plan)
    for batch in batches:
        rows, _ = _source_rows(con, plan, batch)
        con.register(_BATCH, rows)
        kinds, keys, flags, lines = [], [], [], []
        if plan.decision_sql:
            names, sql = plan.decision_sql.split("\n", 1)
            for name, flag in zip(names.split(","), con.execute(sql).fetchone(), strict=True):
                kinds.append("comma")
                keys.append(name)
                flags.append(flag)
                lines.append(None)
        failed = con.execute(
            f"SELECT time_text, min(line) FROM ({plan.rows_sql}) WHERE reason = ?"
            " AND time_text IS NOT NULL GROUP BY time_text",
            [REASON_BAD_TIME],
        ).fetchall()
        for text, line in failed:
            kinds.append("time")
            keys.append(text)
            flags.append(None)
            lines.append(int(line))
        con.unregister(_BATCH)
        yield pa.RecordBatch.from_pydict(
            {
                "kind": pa.array(kinds, pa.string()),
                "key": pa.array(keys, pa.string()),
                "flag": pa.array(flags, pa.bool_()),
                "line": pa.array(lines, pa.int64()),
            }
        )
    con.close()


# --- the aggregation ---------------------------------------------------------------------------


class _File:
    """One input of the aggregation: its Spark frame and the SQL that normalises it."""

    def __init__(self, spark: Any, index: int, name: str, glob: bool, options: Mapping) -> None:
        import duckdb
        from pyspark.sql import functions as F

        self.index, self.name = index, name
        self.frame, self.kind, _ = _read_file(spark, name, glob)
        self.options = options
        self.json_columns: list[tuple[str, ...]] = []
        con = duckdb.connect()
        try:
            if self.kind == "json":
                self.json_columns = _json_columns(spark, name, glob)
                if not self.json_columns:
                    raise DataLoadError("no line is a JSON object", source=name)
                json_sql, _ = json_lines_sql(self.json_columns, "esc_json_lines", [_FILE])
                empty = con.sql(
                    "SELECT 0::BIGINT AS line, ''::VARCHAR AS j, ''::VARCHAR AS"
                    f" {_FILE} LIMIT 0"
                ).to_arrow_table()
                con.register("esc_json_lines", empty)
                sample = con.sql(json_sql).to_arrow_table()
            else:
                sample = self.frame.drop(*[c for c in (_CORRUPT,) if c in self.frame.columns])
                sample = sample.limit(0).toArrow()
            con.register(_BATCH, sample)
            self.types = column_types(con, _BATCH, name)
            keep = {_FILE: "file"}
            _, self.resolved, self.text_time = normalized_rows_sql(
                con, index, name, _BATCH, options["columns"], options["topic"], keep=keep
            )
            if not any(c in self.resolved for c in MENTION_OWN_COLUMNS) and self.kind != "json":
                # a volume series read as mentions is refused on a sample (no text in it)
                small = self.frame.drop(
                    *[c for c in (_CORRUPT,) if c in self.frame.columns]
                ).limit(1000).toArrow()
                con.register(_BATCH, small)
                normalized_rows_sql(
                    con, index, name, _BATCH, options["columns"], options["topic"], keep=keep
                )
            self.text_column = self.resolved.get("text")
            self._con_sample = sample
            self.text_numbers = comma_decision_sql(_BATCH, self.types, self.resolved)[0]
        finally:
            con.close()
        #: whether Spark's own expressions normalise this file (typed Parquet)
        self.native = self.kind == "parquet" and native_supported(
            self.types, self.resolved, options["tz"], _session_zone(spark)
        )
        if self.kind != "json":  # Spark reads only the columns the rules use
            used = {*self.resolved.values(), "file_row_number", _FILE, _CORRUPT}
            self.frame = self.frame.select(
                *[F.col("`" + c.replace("`", "``") + "`") for c in self.frame.columns if c in used]
            )

    @property
    def needs_decision(self) -> bool:
        """Whether a first pass must decide something: a number column written as text (its
        comma convention) or a time column as text (the times DuckDB cannot read)."""
        return bool(self.text_numbers) or self.text_time

    def rows_sql(self, decimal: Mapping[str, bool] | None, fallback: bool) -> str:
        import duckdb

        con = duckdb.connect()
        try:
            con.register(_BATCH, self._con_sample)
            if fallback:
                con.execute("CREATE TEMP TABLE time_fallback (raw VARCHAR, us BIGINT)")
            keep = {_FILE: "file"}
            if self.text_column:  # passed through to score sentiment, dropped after it
                keep[self.text_column] = _TEXT
            sql, _, _ = normalized_rows_sql(
                con,
                self.index,
                self.name,
                _BATCH,
                self.options["columns"],
                self.options["topic"],
                time_fallback=fallback,
                decimal_comma=decimal,
                keep=keep,
            )
        finally:
            con.close()
        return sql

    def plan(self, decimal: Mapping[str, bool] | None, fallback: pd.DataFrame | None,
             decision: bool = False) -> _Plan:
        json_sql, bad_sql = (
            json_lines_sql(self.json_columns, "esc_json_lines", [_FILE])
            if self.kind == "json"
            else ("", "")
        )
        decision_sql = ""
        if decision:
            names, sql = comma_decision_sql(_BATCH, self.types, self.resolved)
            decision_sql = f"{','.join(names)}\n{sql}" if names else ""
        return _Plan(
            self.index,
            self.kind,
            self.rows_sql(decimal, fallback is not None),
            bad_json_sql=bad_sql,
            json_sql=json_sql,
            text_column=self.text_column if not decision else None,
            fallback=fallback,
            decision_sql=decision_sql,
            tz=self.options["tz"],
        )


def _decide(
    inputs: list[_File], tz: str | None, count: int
) -> tuple[list[dict[str, bool]], Any]:
    """Comma conventions per file (of ``count`` inputs) and column, and the fallback table
    of times the SQL cannot read (parsed with the loader's rules), from one Spark job over
    the rows of ``inputs`` (the files normalised by the DuckDB rules)."""
    from pyspark.sql import functions as F

    decimal: list[dict[str, bool]] = [{} for _ in range(count)]
    if not any(item.needs_decision for item in inputs):  # typed Parquet: nothing to decide
        return decimal, None
    frames = []
    for item in inputs:
        if not item.needs_decision:
            continue
        plan = item.plan({}, None, decision=True)  # time reasons do not wait for commas
        frames.append(
            item.frame.mapInArrow(
                lambda it, plan=plan: _decisions(plan, it),
                "kind STRING, key STRING, flag BOOLEAN, line BIGINT",
            ).withColumn("src", F.lit(item.index))
        )
    found = frames[0]
    for frame in frames[1:]:
        found = found.unionByName(frame)
    # cached for its two reads, and always dropped: Spark matches a cache by plan, so a cache
    # left behind would serve an old version of a file rewritten under the same name
    found = found.persist()
    try:
        commas = (
            found.where(F.col("kind") == "comma")
            .groupBy("src", "key")
            .agg(
                F.max(F.when(F.col("flag") == F.lit(False), 1)).alias("decimal"),
            )
            .collect()
        )
        for row in commas:
            decimal[int(row["src"])][row["key"]] = row["decimal"] == 1
        failed = (
            found.where(F.col("kind") == "time")
            .groupBy("key")
            .agg(F.min(F.struct("src", "line")).alias("first"))
            .orderBy("first")
            .limit(QUARANTINE_FETCH_LIMIT)
            .select("key")
            .toPandas()["key"]
        )
    finally:
        found.unpersist()
    if failed.empty:
        return decimal, None
    texts = failed.astype(object).reset_index(drop=True)
    parsed, _, _, _ = parse_times(texts, tz)
    table = pd.DataFrame(
        {"raw": texts.to_numpy(), "us": pd.DatetimeIndex(parsed).as_unit("us").asi8}
    )[parsed.notna().to_numpy()]
    return decimal, (table.reset_index(drop=True) if len(table) else None)


def aggregate_counts_spark(
    paths: Any,
    *,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    freq: pd.Timedelta,
    influencer_followers: float,
    topic: str | None = None,
    glob: bool = False,
    spark: Any = None,
    master: str | None = None,
    remote: str | None = None,
    quarantine_path: str | None = None,
) -> tuple[pd.DataFrame, Any, pd.DataFrame]:
    """Aggregate on Spark → (measures per topic × window, LoadSummary, quarantine sample):
    the DuckDB engine's contract (see :func:`aggregate_counts`), computed by Spark."""
    names = _names(paths)
    _check_tz(tz)
    session = spark_session(spark, master=master, remote=remote)
    from pyspark.sql import functions as F

    options = {"columns": columns, "topic": topic, "tz": tz}
    cached: list[Any] = []
    try:
        inputs = [_File(session, i, name, glob, options) for i, name in enumerate(names)]
        decimal, fallback = _decide([i for i in inputs if not i.native], tz, len(inputs))
        parts = []
        for item in inputs:
            if item.native:  # typed Parquet: Spark's own expressions (see _spark_rows)
                parts.append(
                    native_rows(item.frame, item.index, item.types, item.resolved, topic, _FILE)
                )
                continue
            plan = item.plan(decimal[item.index], fallback)
            slow = item.frame.mapInArrow(
                lambda it, plan=plan: _normalise(plan, it), _ROWS_SCHEMA
            ).select(
                *_ROW_COLUMNS,
                F.lit(None).cast("string").alias("text"),
                F.lit(False).alias("pending_score"),
            )
            # computed once (Python on the executors) for the few jobs that read the rows
            slow = slow.persist()
            cached.append(slow)
            parts.append(slow)
        rows = parts[0]
        for part in parts[1:]:
            rows = rows.unionByName(part)
        rows = _mark_duplicates(session, rows, id_columns_of([i.resolved for i in inputs]))
        step_us = int(freq.value // 1000)
        ok = F.col("reason").isNull()
        window = F.col("t_us") - F.pmod(F.col("t_us"), F.lit(step_us))
        grouped = _measures(rows, window, influencer_followers)
        if int(grouped["pending"].fillna(0).sum()):  # rows whose sentiment is scored here
            grouped = _add_scored(rows.where(ok & F.col("pending_score")), window, grouped)
        accepted_rows = grouped["reason"].isna().to_numpy()
        agg = grouped[accepted_rows].drop(columns=["src", "reason"]).reset_index(drop=True)
        per_reason = grouped.loc[~accepted_rows, ["src", "reason", "volume"]].rename(
            columns={"volume": "count"}
        )
        _check_times_readable(
            per_reason, inputs, lambda i: rows.where(ok & (F.col("src") == i)).count()
        )
        quarantined = rows.where(F.col("reason").isNotNull())
        source_names = F.element_at(
            F.array(*[F.lit(n) for n in names]), F.col("src") + F.lit(1)
        )
        single = [_is_one_file(n, glob) for n in names]
        source = F.when(
            F.element_at(F.array(*[F.lit(s) for s in single]), F.col("src") + F.lit(1)),
            source_names,
        ).otherwise(F.col("file"))
        listed = quarantined.select(
            source.alias("source"),
            "line",
            "reason",
            F.coalesce(F.col("bad_column"), F.lit("")).alias("column"),
            F.coalesce(F.col("raw"), F.lit("")).alias("raw"),
            "src",
            "file",
        ).orderBy("src", "file", "line")
        if quarantine_path:
            listed.drop("src", "file").write.mode("overwrite").parquet(
                _spark_path(quarantine_path, False)
                if not _SCHEME.match(quarantine_path)
                else quarantine_path
            )
        sample = (
            listed.drop("src", "file").limit(QUARANTINE_SAMPLE).toPandas()
            if len(per_reason)
            else pd.DataFrame()
        )
    except DataLoadError:
        raise
    except Exception as exc:  # Spark's own errors: a path it cannot read, a bad file...
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataLoadError(
            f"cannot be aggregated with Spark ({message[:300]})", source=", ".join(names)
        ) from exc
    finally:  # see _decide: a cache left behind would serve a rewritten file's old rows
        for frame in cached:
            frame.unpersist()

    reasons_by_src = per_reason
    reasons = {
        str(k): int(v) for k, v in reasons_by_src.groupby("reason")["count"].sum().items()
    }
    accepted_n = int(agg["volume"].sum()) if len(agg) else 0
    for column in ("volume", "negative_volume", "unique_authors", "influencer_mentions"):
        agg[column] = agg[column].fillna(0).astype("int64")
    for column in ("reach", "engagement"):
        agg[column] = agg[column].fillna(0.0).astype("float64")
    counts = dense_measures(agg, step_us)
    counts.attrs[CARRIED_ATTR] = sorted({c for item in inputs for c in item.resolved})
    summary = make_summary(
        names,
        rows_read=accepted_n + sum(reasons.values()),
        accepted=accepted_n,
        reasons=reasons,
        tz=tz,
        mapping=inputs[0].resolved if inputs else {},
        estimated=bool(len(agg) and int(agg["scored"].fillna(0).sum()) > 0),
        with_offset=int(agg["with_offset"].fillna(0).sum()) if len(agg) else 0,
    )
    quarantine = sample.astype({"line": "int64"}) if len(sample) else pd.DataFrame(
        {c: pd.Series(dtype="str") for c in QUARANTINE_COLUMNS}
    ).astype({"line": "int64"})
    for name in ("source", "reason", "column", "raw"):
        quarantine[name] = quarantine[name].astype("str")
    return counts, summary, quarantine[list(QUARANTINE_COLUMNS)].reset_index(drop=True)



def _mark_duplicates(session: Any, rows: Any, id_columns: Sequence[str]) -> Any:
    """``rows`` with the repeats of a valid id quarantined as duplicates: the first row in
    file order (files as given) is kept.

    Repeated ids are found in two small jobs: the 64-bit hashes of the valid ids that occur
    more than once (a shuffle of one number per row, partitioned once, no partial
    aggregation over unique keys), then, among the rows with such a hash only, the ids that
    repeat and where each is first. Those few are joined back by broadcast. With more
    repeated hashes than ``_REPEATED_LIMIT``, one window over every row decides instead."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    valid_id = F.col("reason").isNull() & F.col("mention_id").isNotNull()
    # the hashes of every present id (a superset of the valid ones' repeats): Spark then
    # reads the id column only, the rules' columns are read again for the few candidates
    hashed = rows.where(F.col("mention_id").isNotNull()).select(
        F.xxhash64("mention_id").alias("__h")
    )
    repeated = (
        hashed.repartition("__h").groupBy("__h").count().where(F.col("count") > F.lit(1))
        .select("__h").limit(_REPEATED_LIMIT + 1).toPandas()
    )
    if repeated.empty:
        return rows
    id_column = F.element_at(
        F.array(*[F.lit(n) for n in id_columns]), F.col("src") + F.lit(1)
    )
    if len(repeated) <= _REPEATED_LIMIT:
        candidates = F.broadcast(session.createDataFrame(repeated.astype("int64")))
        firsts = (
            rows.where(valid_id)
            .join(candidates, F.xxhash64("mention_id") == candidates["__h"], "left_semi")
            .groupBy("mention_id")
            .agg(F.count(F.lit(1)).alias("__n"), F.min(F.struct("src", "file", "line")).alias("f"))
            .where(F.col("__n") > F.lit(1))
            .select(
                F.col("mention_id").alias("__id"),
                F.col("f.src").alias("__src"),
                F.col("f.file").alias("__file"),
                F.col("f.line").alias("__line"),
            )
            .toPandas()
        )
        first = F.broadcast(
            session.createDataFrame(firsts, "__id STRING, __src INT, __file STRING, __line BIGINT")
        )
        joined = rows.join(first, rows["mention_id"] == first["__id"], "left")
        duplicate = (
            valid_id
            & F.col("__id").isNotNull()
            & ~((F.col("src") == F.col("__src")) & (F.col("file") == F.col("__file"))
                & (F.col("line") == F.col("__line")))
        )
        marked = joined.withColumn("__dup", duplicate).drop("__id", "__src", "__file", "__line")
    else:  # very many repeats: one window over every row (a valid id is its own group)
        ordered = Window.partitionBy(
            valid_id.alias("__v"),
            F.when(valid_id, F.col("mention_id")).alias("__id"),
            F.when(~valid_id, F.col("src")).alias("__src"),
            F.when(~valid_id, F.col("file")).alias("__file"),
            F.when(~valid_id, F.col("line")).alias("__line"),
        ).orderBy("src", "file", "line")
        marked = rows.withColumn("__dup", valid_id & (F.row_number().over(ordered) > F.lit(1)))
    duplicate = F.col("__dup")  # decided before the reason column changes
    return (
        marked.withColumn(
            "reason", F.when(duplicate, F.lit(REASON_DUPLICATE_ID)).otherwise(F.col("reason"))
        )
        .withColumn("bad_column", F.when(duplicate, id_column).otherwise(F.col("bad_column")))
        .withColumn("raw", F.when(duplicate, F.col("mention_id")).otherwise(F.col("raw")))
        .drop("__dup")
    )


def _measures(rows: Any, window: Any, influencer_followers: float) -> pd.DataFrame:
    """Accepted rows per (topic, window) and quarantined rows per (file, reason), as the
    DuckDB engine's main query, with exact distinct authors.

    Two jobs: the sums (partial aggregation, a few rows per group shuffled) and the distinct
    authors of the accepted rows, partitioned once by group and then grouped by (group,
    author) and by group on the same partitions (one shuffle of one author per row; Spark's
    ``countDistinct`` beside other sums shuffles every row twice)."""
    from pyspark.sql import functions as F

    ok = F.col("reason").isNull()
    negative = F.coalesce(F.col("sentiment") <= F.lit(NEGATIVE_SENTIMENT_BAR), F.lit(False))
    influencer = (
        (F.col("author_followers") >= F.lit(float(influencer_followers))) | F.col("is_verified")
    )
    sums = (
        rows.groupBy(
            F.when(~ok, F.col("src")).alias("src"),
            "reason",
            F.when(ok, F.col("topic")).alias("topic"),
            F.when(ok, window).alias("w"),
        )
        .agg(
            F.count(F.lit(1)).alias("volume"),
            F.sum((negative | F.col("scored_negative")).cast("long")).alias("negative_volume"),
            F.sum("author_followers").alias("reach"),
            F.sum("engagement").alias("engagement"),
            F.sum(influencer.cast("long")).alias("influencer_mentions"),
            F.sum((F.col("sentiment").isNull() & F.col("has_text")).cast("long")).alias("scored"),
            F.sum(F.col("has_offset").cast("long")).alias("with_offset"),
            F.sum(F.col("pending_score").cast("long")).alias("pending"),
        )
        .toPandas()
    )
    authors = (
        rows.where(ok & F.col("author").isNotNull())
        .select("topic", window.alias("w"), "author")
        .repartition("topic", "w")
        .distinct()
        .groupBy("topic", "w")
        .agg(F.count(F.lit(1)).alias("unique_authors"))
        .toPandas()
    )
    sums["unique_authors"] = _per_accepted_group(sums, authors, "unique_authors").astype("int64")
    return sums


def _per_accepted_group(grouped: pd.DataFrame, found: pd.DataFrame, column: str) -> np.ndarray:
    """``found[column]`` (rows per topic and window ``w``) lined up with the rows of
    ``grouped``: 0 where a group has none, and on the quarantine's rows (no topic)."""
    def key(frame: pd.DataFrame) -> pd.MultiIndex:
        return pd.MultiIndex.from_arrays(
            [frame["topic"].astype("str"), frame["w"].fillna(-1).astype("int64")]
        )

    values = found.set_index(key(found))[column].reindex(key(grouped)).fillna(0).to_numpy()
    return values * grouped["reason"].isna().to_numpy()


def _score_batches(batches: Iterator[Any]) -> Iterator[Any]:
    """(topic, w, text) batches → (topic, w, negative) with the loader's sentiment scorer."""
    import pyarrow as pa

    for batch in batches:
        texts = batch.column(2).to_pylist()
        scores = np.asarray(score_sentiment(texts), dtype="float64") if texts else np.zeros(0)
        yield pa.RecordBatch.from_pydict(
            {
                "topic": batch.column(0),
                "w": batch.column(1),
                "negative": pa.array((scores <= NEGATIVE_SENTIMENT_BAR).astype("int64")),
            }
        )


def _add_scored(pending: Any, window: Any, grouped: pd.DataFrame) -> pd.DataFrame:
    """``grouped`` with the negatives of the accepted rows that had text and no sentiment,
    scored on the executors (only the per topic × window counts come back)."""
    from pyspark.sql import functions as F

    scored = (
        pending.select("topic", window.alias("w"), "text")
        .mapInArrow(_score_batches, "topic STRING, w BIGINT, negative BIGINT")
        .groupBy("topic", "w")
        .agg(F.sum("negative").alias("extra"))
        .toPandas()
    )
    if scored.empty:
        return grouped
    out = grouped.copy()
    out["negative_volume"] = out["negative_volume"].fillna(0) + _per_accepted_group(
        grouped, scored, "extra"
    )
    return out


def _session_zone(spark: Any) -> str:
    """The session time zone Spark casts naive times in."""
    try:
        return str(spark.conf.get("spark.sql.session.timeZone"))
    except Exception:  # a Connect server that does not say: treat as not UTC
        return ""


def _names(paths: Any) -> list[str]:
    names = path_names(paths, what="the Spark engine reads paths:")
    if not names:
        raise DataLoadError("no input files given")
    return names


def _check_tz(tz: str | None) -> None:
    """Refuse an unknown time zone before Spark starts."""
    if tz is None:
        return
    try:
        pd.Timestamp("2024-01-01").tz_localize(tz)
    except Exception as exc:
        raise DataLoadError(f"unknown time zone {tz!r}; use e.g. 'Europe/Paris'") from exc


def _is_one_file(name: str, glob: bool) -> bool:
    return not glob and not _SCHEME.match(name) and Path(name).is_file()


def _check_times_readable(
    per_reason: pd.DataFrame, inputs: Sequence[_File], accepted: Callable[[int], int]
) -> None:
    """Like the loader: a file where no time at all can be read is unusable (``accepted``:
    the accepted rows of file i, counted only for a file with unreadable times)."""
    for item in inputs:
        mine = per_reason[per_reason["src"] == item.index]
        times = mine["reason"].isin([REASON_BAD_TIME, REASON_MISSING_TIME])
        bad = int(mine.loc[times, "count"].sum())
        rejected = int(mine.loc[mine["reason"] != REASON_MALFORMED_ROW, "count"].sum())
        if bad and bad == rejected and accepted(item.index) == 0:
            raise DataLoadError(
                "no value of the time column could be read as a date/time; map the right "
                "column with --column created_at=YOUR_COLUMN",
                source=item.name,
                column=item.resolved.get("created_at"),
            )


assert RECHECK_REASON  # decided before the final pass: never a reason of the rows
