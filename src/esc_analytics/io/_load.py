"""Loading mentions, volume series and incident logs into the data contracts, losing nothing.

Every loader reads one or several inputs (CSV, CSV.gz, Parquet, JSON lines, JSON arrays or a
DataFrame), maps the user's column names onto the contract (:func:`resolve_columns`), converts
times to UTC and checks values. Rows that cannot be used are *quarantined* with their source
file, line, reason and raw text; ``rows_read == accepted + quarantined`` always holds. Problems
that make a whole file unusable raise :class:`~esc_analytics.DataLoadError`.

Behaviours chosen (documented for users):

- Line numbers are what an editor shows: the CSV header is line 1, the first data row line 2; a
  quoted multi-line record gets the line where it starts. JSON lines use physical lines; JSON
  arrays, Parquet files and DataFrames use 1-based record / row numbers.
- A missing ``mention_id`` / ``incident_id`` is generated as ``"<file name>:<line>"``
  (deterministic; the full path is used when two inputs share a file name).
- Duplicate ids: the first row that passes every other check is kept, later ones quarantined.
- Naive times are UTC unless ``tz=`` is given. With ``tz``, a wall time repeated by a DST
  fall-back is taken as its first occurrence and one skipped by a spring-forward is shifted
  forward; both are counted in the summary notes. Numeric time columns are epoch seconds,
  milliseconds, microseconds or nanoseconds (told by magnitude). ``GMT+1``, ``UTC-05:30`` and
  an hour-only ``+02`` are offsets (ISO sign: ``GMT+1`` is one hour ahead of UTC), never
  localised again by ``tz``.
- Numbers: a comma is a thousands separator only when every comma in the column (per file) is
  well-formed grouping (``1,234``, ``12,345.5``); otherwise it is the decimal mark (``12,5``)
  and dots that group are thousands (``1.234,5``). A column of single groups only (``1,234``)
  is read as thousands with a note. ``nan`` and ``±inf`` counts are quarantined (bad_number).
- A file with a time column and a numeric count column (value, volume...) and no mention
  column is refused by load_mentions (it is a volume series: load_series).
- A file name is read as written (``mentions[1].csv``, ``star*.csv`` are those files); with
  ``glob=True`` each name is a pattern, expanded in sorted order.
- Mentions keep input order (files in the order given, rows in file order); series are sorted
  by (topic, window_start) and incidents by (started_at, incident_id).
- ``detected_at`` earlier than ``started_at`` is kept (the social onset may be estimated
  late) and counted in the notes; ``ended_at`` earlier than ``started_at`` is quarantined.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._util.atomic import write_table
from .._util.errors import DataLoadError
from .._util.paths import input_paths
from .._util.schema import (
    DEFAULT_TOPIC,
    FIRST_YEAR,
    INCIDENT_COLUMNS,
    LAST_YEAR,
    MAX_SEVERITY_TIER,
    MENTION_COLUMNS,
    QUARANTINE_COLUMNS,
    REASON_BAD_NUMBER,
    REASON_BAD_SENTIMENT,
    REASON_BAD_SEVERITY,
    REASON_BAD_TIME,
    REASON_DUPLICATE_ID,
    REASON_END_BEFORE_START,
    REASON_MALFORMED_ROW,
    REASON_MISSING_TIME,
    REASON_NEGATIVE_NUMBER,
    REASON_TIME_OUT_OF_RANGE,
    SENTIMENT_WORDS,
    SERIES_REQUIRED,
    SEVERITY_LABELS,
    TIME_RANGE_US,
)
from .._util.times import check_time_zone
from ._readers import RawTable, check_json_depth, read_table, table_from_frame

__all__ = [
    "LoadResult",
    "LoadSummary",
    "incidents_from_nab_windows",
    "is_nab_windows",
    "load_incidents",
    "load_mentions",
    "load_series",
    "resolve_columns",
    "score_sentiment",
]

TIME_DTYPE = "datetime64[us, UTC]"

# --- column recognition ----------------------------------------------------------------------
# canonical -> accepted export names, most specific first (compared case-insensitively, with
# spaces, dots and hyphens read as underscores).
COLUMN_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "mentions": {
        "mention_id": ("mention_id", "tweet_id", "post_id", "message_id", "status_id", "id",
                       "url", "permalink"),
        "created_at": ("created_at", "tweet_created", "timestamp", "datetime", "date_time",
                       "published_at", "post_date", "created", "created_time", "published",
                       "date", "time"),
        "topic": ("topic", "brand", "airline", "company", "keyword", "query", "product",
                  "campaign"),
        "text": ("text", "full_text", "tweet_text", "content", "body", "message", "tweet"),
        "author": ("author", "screen_name", "username", "user_name", "user_screen_name",
                   "handle", "user", "name"),
        "author_followers": ("author_followers", "followers", "followers_count",
                             "user_followers", "user_followers_count", "follower_count"),
        "engagement": ("engagement", "engagements", "interactions", "retweet_count"),
        "sentiment": ("sentiment", "airline_sentiment", "sentiment_label", "sentiment_score",
                      "polarity", "tone"),
        "platform": ("platform", "source", "network", "channel", "site"),
        "is_verified": ("is_verified", "verified", "user_verified", "author_verified"),
        "sentiment_estimated": ("sentiment_estimated",),
    },
    "series": {
        "topic": ("topic", "brand", "company", "keyword", "query", "product", "campaign",
                  "series"),
        "window_start": ("window_start", "timestamp", "datetime", "time", "date", "period",
                         "window", "bucket", "interval_start", "start"),
        "volume": ("volume", "value", "count", "mentions", "mention_count", "posts", "n"),
    },
    "incidents": {
        "incident_id": ("incident_id", "id", "ticket_id", "ticket", "case_id", "key"),
        "topic": ("topic", "brand", "company", "product", "airline", "account", "campaign"),
        "started_at": ("started_at", "start", "start_time", "started", "begin", "began_at",
                       "opened_at", "created_at", "timestamp", "date"),
        "severity": ("severity", "tier", "level", "sev", "priority"),
        "ended_at": ("ended_at", "end", "end_time", "ended", "finished_at", "closed_at"),
        "detected_at": ("detected_at", "detected", "noticed_at", "reported_at"),
        "escalated_at": ("escalated_at", "escalated"),
        "resolved_at": ("resolved_at", "resolved"),
        "title": ("title", "name", "summary", "subject", "headline"),
        "category": ("category", "type", "kind", "cause"),
    },
}
_REQUIRED_TIME = {"mentions": "created_at", "series": "window_start", "incidents": "started_at"}


def _norm(name: str) -> str:
    return re.sub(r"[\s.\-]+", "_", str(name).strip().lower())


def resolve_columns(
    available: Sequence[str],
    mapping: Mapping[str, str] | None,
    kind: str,
    *,
    source: str | None = None,
) -> dict[str, str]:
    """Map canonical column names onto the names of ``available`` columns.

    The user's ``mapping`` (canonical -> source name) wins; other canonical columns are found by
    their usual export names (:data:`COLUMN_ALIASES`), case-insensitively. A source column is
    used at most once. Raises DataLoadError for an unknown canonical name or a mapping to a
    column that is not there.
    """
    if kind not in COLUMN_ALIASES:
        raise DataLoadError(f"unknown kind {kind!r}; expected one of {sorted(COLUMN_ALIASES)}")
    aliases = COLUMN_ALIASES[kind]
    names = [str(c) for c in available]
    by_norm: dict[str, str] = {}
    for name in names:
        by_norm.setdefault(_norm(name), name)
    resolved: dict[str, str] = {}
    for canonical, wanted in (mapping or {}).items():
        if canonical not in aliases:
            raise DataLoadError(
                f"unknown column {canonical!r} in the mapping for {kind}; known: "
                f"{', '.join(aliases)}",
                source=source,
            )
        wanted = str(wanted)
        found = wanted if wanted in names else by_norm.get(_norm(wanted))
        if found is None:
            raise DataLoadError(
                f"mapping {canonical}={wanted!r}: no column {wanted!r}; the columns are: "
                f"{', '.join(names)}",
                source=source,
                column=wanted,
            )
        resolved[canonical] = found
    used = set(resolved.values())
    for canonical, candidates in aliases.items():
        if canonical in resolved:
            continue
        for candidate in candidates:
            found = by_norm.get(_norm(candidate))
            if found is not None and found not in used:
                resolved[canonical] = found
                used.add(found)
                break
    return {c: resolved[c] for c in aliases if c in resolved}


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadSummary:
    """What a load did: rows read, accepted and quarantined by reason, and how times were read.

    ``notes`` lists everything else worth knowing (delimiter detected, encoding fallback,
    defaults filled in, DST adjustments...).
    """

    source: str
    kind: str
    rows_read: int
    accepted: int
    quarantined: int
    reasons: dict[str, int] = field(default_factory=dict)
    timezone_note: str = ""
    columns_mapped: dict[str, str] = field(default_factory=dict)
    sentiment_estimated: bool = False
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"read {self.rows_read}, accepted {self.accepted}, quarantined {self.quarantined}"
        if self.reasons:
            parts = sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))
            text += " (" + ", ".join(f"{r}: {n}" for r, n in parts) + ")"
        return text

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON reports)."""
        return {
            "source": self.source,
            "kind": self.kind,
            "rows_read": self.rows_read,
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "reasons": dict(self.reasons),
            "timezone_note": self.timezone_note,
            "columns_mapped": dict(self.columns_mapped),
            "sentiment_estimated": self.sentiment_estimated,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class LoadResult:
    """Accepted rows in the contract (``data``), rejected rows with reasons (``quarantine``)."""

    data: pd.DataFrame
    quarantine: pd.DataFrame
    summary: LoadSummary

    def write_quarantine(self, path: str | Path) -> Path:
        """Write the quarantined rows to CSV (or Parquet for a ``.parquet`` path)."""

        return write_table(self.quarantine, path)


# --- shared machinery ------------------------------------------------------------------------


_INCIDENT_ONLY = ("severity", "ended_at", "detected_at", "escalated_at", "resolved_at")
_MENTION_ONLY = ("text", "author", "author_followers", "engagement", "sentiment")
_PLAIN_IDS = frozenset({"id", "key", "url", "permalink"})  # ids any export may have


def _refuse_mention_table(frame: pd.DataFrame, source: str, mapping: Mapping[str, str]) -> None:
    """An incident log read from a mention export would turn every post into an incident
    (its date column read as started_at): refuse a table with post columns (text, author...)
    and none of an incident's own (severity, ended_at, detected_at...) nor an incident id
    column named as such (``incident_id``, ``ticket``... — a plain ``id`` proves nothing)."""
    if any(c in mapping for c in _INCIDENT_ONLY):
        return
    id_column = mapping.get("incident_id")
    if id_column is not None and _norm(id_column) not in _PLAIN_IDS:
        return
    as_mentions = resolve_columns(frame.columns, None, "mentions", source=source)
    used = set(mapping.values())
    post = [
        as_mentions[c] for c in _MENTION_ONLY if c in as_mentions and as_mentions[c] not in used
    ]
    if post:
        raise DataLoadError(
            f"this looks like a mention file (columns {', '.join(map(repr, post))}), not an "
            "incident log: it has none of an incident's own columns (incident_id, "
            f"{', '.join(_INCIDENT_ONLY)}). Load posts with load_mentions (--mentions); "
            "incidents with load_incidents (--incidents), or map the columns with "
            "columns={'incident_id': ...}",
            source=source,
        )


MENTION_OWN_COLUMNS = ("mention_id", *_MENTION_ONLY, "platform", "is_verified")


def refuse_series_table(frame: pd.DataFrame, source: str, mapping: Mapping[str, str]) -> None:
    """Mentions read from a volume series would make each count one post (its value ignored):
    refuse a table with a time column and a numeric count column (value, volume, count...) and
    none of a mention's own columns (id, text, author, followers...)."""
    if any(c in mapping for c in MENTION_OWN_COLUMNS):
        return
    as_series = resolve_columns(frame.columns, None, "series", source=source)
    count = as_series.get("volume")
    if count is None or count in mapping.values():
        return
    sample = frame[count].head(1000)
    _, bad, _ = _parse_numbers(sample)
    present = sample.notna().to_numpy() & (_text(sample) != "").to_numpy()
    if not present.any() or (bad & present).sum() > 0.1 * present.sum():
        return
    raise DataLoadError(
        f"this looks like a volume series (a time column {mapping['created_at']!r} and a count "
        f"column {count!r}), not a mention file: mentions have one row per post with columns "
        "such as id, text or author, and a count column would be ignored. Load counts per "
        "window with load_series (--series)",
        source=source,
    )


class _Load:
    """Working state of one load: the tables read, the combined frame, reasons per row."""

    def __init__(
        self,
        kind: str,
        source: Any,
        columns: Mapping[str, str] | None,
        tz: str | None,
        glob: bool = False,
    ) -> None:
        check_time_zone(tz)
        self.kind = kind
        self.tz = tz
        self.tables = _read_inputs(source, glob)
        self.notes: list[str] = []
        for table in self.tables:
            self.notes.extend(f"{_label(table)}: {n}" for n in table.notes)
        self.mapped: list[dict[str, str]] = []
        frames = []
        for i, table in enumerate(self.tables):
            mapping = resolve_columns(table.frame.columns, columns, kind, source=table.source)
            time_col = _REQUIRED_TIME[kind]
            if time_col not in mapping:
                _raise_missing_column(table, kind, time_col)
            if kind == "incidents":
                _refuse_mention_table(table.frame, table.source, mapping)
            elif kind == "mentions":
                refuse_series_table(table.frame, table.source, mapping)
            self.mapped.append(mapping)
            part = pd.DataFrame({c: table.frame[s] for c, s in mapping.items()})
            part["_file"] = i
            part["_row"] = np.arange(len(part), dtype=np.int64)
            part["_line"] = table.lines
            frames.append(part)
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        self.frame = frame
        self.reason = np.full(len(frame), None, dtype=object)
        self.reason_col = np.full(len(frame), None, dtype=object)
        self.time_notes: list[str] = []
        labels = [_label(t) for t in self.tables]
        if len(set(labels)) < len(labels):
            labels = [t.source for t in self.tables]
        self.labels = labels

    # reasons: the first reason found for a row wins
    def flag(self, mask: np.ndarray | pd.Series, reason: str, column: str | None) -> None:
        mask = np.asarray(mask, dtype=bool) & (self.reason == None)  # noqa: E711
        self.reason[mask] = reason
        self.reason_col[mask] = column

    @property
    def ok(self) -> np.ndarray:
        return self.reason == None  # noqa: E711

    def has(self, canonical: str) -> bool:
        return canonical in self.frame.columns

    def generated_ids(self) -> pd.Series:
        files = self.frame["_file"].to_numpy()
        labels = np.asarray(self.labels, dtype=object)[files]
        return pd.Series(labels, dtype=object) + ":" + self.frame["_line"].astype(str).to_numpy()

    def ids(self, column: str) -> pd.Series:
        """The id column as text; missing ids (or a missing column) generated as file:line,
        with a note saying how many."""
        if not self.has(column):
            self.notes.append(f"no {column} column: ids generated as file:line")
            return self.generated_ids()
        ids = _id_text(self.frame[column])
        empty = ids == ""
        if empty.any():
            ids = ids.where(~empty, self.generated_ids())
            self.notes.append(f"{int(empty.sum())} missing {column} generated as file:line")
        return ids

    def per_file(self, column: str, parse: Any, reason: str) -> pd.Series:
        """Parse ``column`` one input at a time with ``parse(values, european)`` -> (values,
        bad, notes), so each file's number conventions (decimal comma...) are its own; bad
        rows are flagged with ``reason`` and notes name the file and its column."""
        values = self.frame[column]
        files = self.frame["_file"].to_numpy()
        out = pd.Series(np.nan, index=values.index, dtype="float64")
        bad = np.zeros(len(values), dtype=bool)
        for i, table in enumerate(self.tables):
            rows = files == i if len(self.tables) > 1 else slice(None)
            part, part_bad, notes = parse(values[rows], table.delimiter == ";")
            out[rows] = part.to_numpy()
            bad[rows] = part_bad
            source = self.mapped[i].get(column, column)
            self.notes.extend(f"{self.labels[i]}: column {source!r}: {n}" for n in notes)
        self.flag(bad, reason, column)
        return out

    def times(self, column: str, tz: str | None, *, required: bool) -> pd.Series:
        """Parse a time column to UTC, flagging missing (if required) and bad values. In an
        optional column (``ended_at``...) words such as ``ongoing`` or ``N/A`` mean no time."""
        values = self.frame[column]
        if not required:
            values = _blank_missing_words(values, _NO_TIME_WORDS)
        parsed, missing, bad, notes = parse_times(values, tz)
        self.time_notes.extend(n for n in notes if n in ("aware", "naive", "epoch"))
        self.notes.extend(f"{column}: {n}" for n in notes if n not in ("aware", "naive", "epoch"))
        if required:
            self.flag(missing, REASON_MISSING_TIME, column)
        self.flag(bad, REASON_BAD_TIME, column)
        if required:
            self._check_parseable(column, parsed)
        outside = _outside_time_range(parsed)
        if outside.any():
            self.flag(outside, REASON_TIME_OUT_OF_RANGE, column)
            self.notes.append(
                f"{column}: {int(outside.sum())} time(s) outside {FIRST_YEAR}-{LAST_YEAR} "
                f"quarantined ({REASON_TIME_OUT_OF_RANGE})"
            )
            parsed = parsed.where(~outside)
        return parsed

    def _check_parseable(self, column: str, parsed: pd.Series) -> None:
        valid = parsed.notna().to_numpy()
        files = self.frame["_file"].to_numpy()
        for i, table in enumerate(self.tables):
            in_file = files == i
            if in_file.any() and not valid[in_file].any():
                src = self.mapped[i][column]
                values = self.frame.loc[in_file, column].head(3).tolist()
                raise DataLoadError(
                    f"no value of the time column could be read as a date/time "
                    f"(first values: {values!r}); map the right column with "
                    f"columns={{{column!r}: ...}}",
                    source=table.source,
                    column=src,
                    lines=self.frame.loc[in_file, "_line"].head(5).tolist(),
                )

    def finish(
        self,
        data: pd.DataFrame,
        *,
        sentiment_estimated: bool = False,
        sort_by: Sequence[str] | None = None,
    ) -> LoadResult:
        ok = self.ok
        accepted = data.loc[ok]
        if sort_by:
            accepted = accepted.sort_values(list(sort_by), kind="stable")
        accepted = accepted.reset_index(drop=True)
        quarantine = self._quarantine_frame()
        reasons = dict(Counter(quarantine["reason"].tolist()))
        rows_read = sum(t.rows_read for t in self.tables)
        columns_mapped: dict[str, str] = {}
        for mapping in self.mapped:
            for canonical, name in mapping.items():
                previous = columns_mapped.get(canonical)
                if previous is None:
                    columns_mapped[canonical] = name
                elif name not in previous.split(" | "):
                    columns_mapped[canonical] = f"{previous} | {name}"
        summary = LoadSummary(
            source=", ".join(t.source for t in self.tables),
            kind=self.kind,
            rows_read=rows_read,
            accepted=len(accepted),
            quarantined=len(quarantine),
            reasons=reasons,
            timezone_note=_timezone_note(self.time_notes, self.tz),
            columns_mapped=columns_mapped,
            sentiment_estimated=sentiment_estimated,
            notes=tuple(dict.fromkeys(self.notes)),
        )
        assert summary.accepted + summary.quarantined == summary.rows_read
        return LoadResult(accepted, quarantine, summary)

    def _quarantine_frame(self) -> pd.DataFrame:
        rows: list[tuple[str, int, str, str, str]] = []
        for table in self.tables:
            for line, raw in table.malformed:
                rows.append((table.source, line, REASON_MALFORMED_ROW, "", raw.rstrip("\r\n")))
        bad = np.flatnonzero(~self.ok)
        files = self.frame["_file"].to_numpy()
        positions = self.frame["_row"].to_numpy()
        lines = self.frame["_line"].to_numpy()
        for k in bad:
            table = self.tables[files[k]]
            column = self.reason_col[k]
            source_col = self.mapped[files[k]].get(column, column) if column else ""
            rows.append(
                (table.source, int(lines[k]), self.reason[k], source_col,
                 table.raw_row(int(positions[k])))
            )
        frame = pd.DataFrame(rows, columns=list(QUARANTINE_COLUMNS))
        frame["line"] = frame["line"].astype("int64")
        for col in ("source", "reason", "column", "raw"):
            frame[col] = frame[col].astype("str")
        return frame.sort_values(["source", "line"], kind="stable").reset_index(drop=True)


def _label(table: RawTable) -> str:
    return Path(table.source).name if table.source != "<DataFrame>" else "frame"


def _read_inputs(source: Any, glob: bool = False) -> list[RawTable]:
    if isinstance(source, pd.DataFrame):
        if source.empty and not len(source.columns):
            raise DataLoadError("the DataFrame has no columns", source="<DataFrame>")
        return [table_from_frame(source)]
    if isinstance(source, (str, Path)):
        items: list[Any] = [source]
    elif isinstance(source, Sequence):
        items = list(source)
    else:
        raise DataLoadError(
            f"expected a path, a list of paths or a DataFrame, got {type(source).__name__}"
        )
    if not items:
        raise DataLoadError("no input given (empty list of paths)")
    tables: list[RawTable] = []
    for item in items:
        if isinstance(item, pd.DataFrame):
            tables.append(table_from_frame(item, source=f"<DataFrame {len(tables) + 1}>"))
            continue
        if not isinstance(item, str | os.PathLike):
            raise DataLoadError(
                f"expected a path, a list of paths or a DataFrame, got a list holding "
                f"{type(item).__name__}"
            )
        # a name is read as written; patterns only with glob=True (see input_paths)
        tables.extend(read_table(p) for p in input_paths(item, glob=glob))
    return tables


def _raise_missing_column(table: RawTable, kind: str, canonical: str) -> None:
    names = [str(c) for c in table.frame.columns]
    hint = ""
    if len(names) == 1:
        for delim in (";", "\t", "|", ",", ":"):
            if delim in names[0]:
                hint = f" The file has one column; it looks {delim!r}-separated."
    known = ", ".join(COLUMN_ALIASES[kind][canonical][:8])
    raise DataLoadError(
        f"no {canonical} column: none of ({known}) among the columns ({', '.join(names)}). "
        f"Pass columns={{{canonical!r}: '<your column>'}} (CLI: --column {canonical}=NAME).{hint}",
        source=table.source,
        column=canonical,
    )


def _text(values: pd.Series) -> pd.Series:
    """Values as stripped strings, missing -> ""."""
    if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        out = values.fillna("").str.strip()
    else:
        out = values.map(lambda v: "" if _missing(v) else str(v)).astype("str").str.strip()
    return out


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _optional_text(values: pd.Series) -> pd.Series:
    text = _text(values)
    return text.where(text != "", None).astype("str")


# --- times -----------------------------------------------------------------------------------

_AWARE = re.compile(
    r"(?:\d(?:\.\d+)?\s*(?:[zZ]|[+-]\d{2}:?\d{2}|\s(?:UTC|GMT|utc|gmt))(?:\s+\d{4})?\s*$)"
    r"|(?:\s[+-]\d{4}\s+\d{4}$)"
)
# "GMT+1", "UTC-05:30" (a number after the zone name) and an hour-only "+02" after a time:
# rewritten to ISO "+01:00" before parsing (dateutil reads "GMT+1" POSIX-style, sign inverted;
# and both forms would otherwise be taken for naive times). Bare Z / UTC / GMT stay UTC.
_NAMED_OFFSET = re.compile(  # "(Central European Standard Time)" after it (JavaScript) dropped
    r"\s*(?:GMT|UTC)\s*([+-])(\d{1,2})(?::?(\d{2}))?(?:\s*\([^()]*\))?\s*$", re.IGNORECASE
)
_HOUR_OFFSET = re.compile(r"(\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*([+-])(\d{2})\s*$")
_NUMERIC = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_DATE_LIKE = re.compile(r"\d{4}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2}")
_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}(?:\D|$)")


def _numeric_date_order(text: pd.Series) -> tuple[bool, int, str]:
    """How numeric dates (24/02/2015) in a column are read, decided from the whole column, not
    its first value, so one file never mixes dd/mm and mm/dd readings: ``(day_first,
    ambiguous, example)``. A first field above 12 somewhere (and no second field above 12)
    means day-first; otherwise month-first, the usual export default. ``ambiguous`` counts the
    dates that could be read either way when no field above 12 decides it (day ≠ month), with
    one of them as ``example``."""
    fields = text.str.extract(_NUMERIC_DATE.pattern)
    first = pd.to_numeric(fields[0], errors="coerce")
    second = pd.to_numeric(fields[1], errors="coerce")
    first_high, second_high = bool((first > 12).any()), bool((second > 12).any())
    if first_high or second_high:
        return first_high and not second_high, 0, ""
    either = first.notna() & second.notna() & (first != second)
    return False, int(either.sum()), (str(text[either].iloc[0]) if either.any() else "")


def _regex_mask(text: pd.Series, pattern: str) -> np.ndarray:
    """Vectorised regex search (RE2 through pyarrow when available; pandas otherwise)."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        found = pc.match_substring_regex(pa.array(text.array, type=pa.string()), pattern)
        return np.asarray(found.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    except Exception:  # pyarrow missing or pattern unsupported by RE2
        return text.str.contains(pattern, regex=True).fillna(False).to_numpy(dtype=bool)


def _epoch(numbers: pd.Series) -> pd.Series:
    """Numbers -> UTC times; the unit (s, ms, us, ns) is told by the median magnitude."""
    valid = numbers.dropna()
    scale = float(valid.abs().median()) if len(valid) else 0.0
    unit = "s" if scale < 1e11 else "ms" if scale < 1e14 else "us" if scale < 1e17 else "ns"
    out = pd.to_datetime(numbers, unit=unit, utc=True, errors="coerce")
    return out.astype(TIME_DTYPE)


def _iso_offsets(text: pd.Series) -> pd.Series:
    """Rewrite ``GMT±h[:mm]`` / ``UTC±h[:mm]`` and hour-only ``±hh`` offsets as ISO ``±hh:mm``
    (only the values that have one are touched)."""
    named = _regex_mask(text, r"(?i)(?:GMT|UTC)\s*[+-]\d")
    hour = _regex_mask(text, r":\d{2}(?:[.,]\d+)?\s*[+-]\d{2}\s*$")
    touch = named | hour
    if not touch.any():
        return text
    out = text.copy()
    part = out[touch]
    part = part.str.replace(
        _NAMED_OFFSET,
        lambda m: f"{m[1]}{int(m[2]):02d}:{m[3] or '00'}",
        regex=True,
    )
    part = part.str.replace(_HOUR_OFFSET, r"\1\2\3:00", regex=True)
    out[touch] = part
    return out


def _localise(wall: pd.Series, tz: str, notes: list[str]) -> pd.Series:
    """Naive wall times in ``tz`` -> UTC; DST gaps shifted forward, repeats taken first."""
    strict = wall.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    flagged = strict.isna() & wall.notna()
    if flagged.any():
        first = np.ones(len(wall), dtype=bool)
        fixed = wall.dt.tz_localize(tz, ambiguous=first, nonexistent="shift_forward")
        gaps = wall.dt.tz_localize(tz, ambiguous=first, nonexistent="NaT").isna() & wall.notna()
        n_gap, n_amb = int(gaps.sum()), int((flagged & ~gaps).sum())
        if n_amb:
            notes.append(f"{n_amb} ambiguous local time(s) (DST fall-back) taken as the first "
                         f"occurrence: in {tz}")
        if n_gap:
            notes.append(f"{n_gap} nonexistent local time(s) (DST spring-forward) shifted "
                         f"forward: in {tz}")
        strict = strict.where(~flagged, fixed)
    return strict.dt.tz_convert("UTC").astype(TIME_DTYPE)


def parse_times(
    values: pd.Series, tz: str | None
) -> tuple[pd.Series, np.ndarray, np.ndarray, list[str]]:
    """Parse times to tz-aware UTC. Returns (times, missing mask, bad mask, notes)."""
    notes: list[str] = []
    index = values.index
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        out = values.dt.tz_convert("UTC").astype(TIME_DTYPE)
        notes.append("aware")
        missing = out.isna().to_numpy()
        return out, missing, np.zeros(len(out), dtype=bool), notes
    if pd.api.types.is_datetime64_dtype(values.dtype):
        wall = values.astype("datetime64[us]")
        out = _localise(wall, tz, notes) if tz else wall.dt.tz_localize("UTC")
        notes.append("naive")
        return out.astype(TIME_DTYPE), out.isna().to_numpy(), np.zeros(len(out), bool), notes
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype
    ):
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        out = _epoch(numbers)
        notes.append("epoch")
        missing = numbers.isna().to_numpy()
        return out, missing, (out.isna().to_numpy() & ~missing), notes
    text = _text(values)
    missing = (text == "").to_numpy()
    present = _iso_offsets(text[~missing])
    out = pd.Series(pd.NaT, index=index, dtype=TIME_DTYPE)
    if present.empty:
        return out, missing, np.zeros(len(text), dtype=bool), notes
    numeric = _regex_mask(present, _NUMERIC.pattern)
    if numeric.all() and not present.str.len().eq(8).all():
        out = _epoch(pd.to_numeric(present, errors="coerce")).reindex(index)
        notes.append("epoch")
        bad = out.isna().to_numpy() & ~missing
        return out, missing, bad, notes
    parsed = pd.to_datetime(present, format="ISO8601", utc=True, errors="coerce")
    parsed = parsed.astype(TIME_DTYPE)  # fallbacks below may hold sub-second values
    failed = parsed.isna()
    if failed.any():
        rest = present[failed]
        from pandas.tseries.api import guess_datetime_format

        dayfirst, ambiguous, example = _numeric_date_order(rest)
        if ambiguous:
            notes.append(
                f"{ambiguous} numeric date(s) such as {example!r} read month-first "
                "(MM/DD, the usual export default): no value in the column has a day above 12 "
                "to tell; if they are day-first, export ISO dates (YYYY-MM-DD)"
            )
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' dayfirst hint: decided above
            fmt = guess_datetime_format(rest.iloc[0], dayfirst=dayfirst)
        if fmt:
            again = pd.to_datetime(rest, format=fmt, utc=True, errors="coerce")
            parsed[failed] = again
            failed = parsed.isna()
        if failed.any():
            rest = present[failed]
            datey = rest.str.contains(_DATE_LIKE.pattern, regex=True)
            uniq = pd.unique(rest[datey])
            if len(uniq):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    lookup = pd.Series(
                        pd.to_datetime(
                            uniq, format="mixed", dayfirst=dayfirst, utc=True, errors="coerce"
                        ),
                        index=uniq,
                    )
                parsed[failed & datey.reindex(present.index, fill_value=False)] = rest[
                    datey
                ].map(lookup)
    parsed = parsed.astype(TIME_DTYPE)
    aware = pd.Series(_regex_mask(present, _AWARE.pattern), index=present.index)
    if aware.any():
        notes.append("aware")
    if (~aware & parsed.notna()).any():
        notes.append("naive")
        if tz:
            naive_idx = ~aware & parsed.notna()
            wall = parsed[naive_idx].dt.tz_convert(None)
            parsed[naive_idx] = _localise(wall, tz, notes)
    out = parsed.reindex(index)
    bad = out.isna().to_numpy() & ~missing
    return out, missing, bad, notes


def _outside_time_range(times: pd.Series) -> np.ndarray:
    """Parsed times before FIRST_YEAR or after LAST_YEAR (missing ones are not)."""
    us = times.astype(TIME_DTYPE).array.asi8 if len(times) else np.empty(0, dtype="i8")
    present = times.notna().to_numpy()
    first, end = TIME_RANGE_US
    return present & ((us < first) | (us >= end))


def _timezone_note(notes: Sequence[str], tz: str | None = None) -> str:
    kinds = set(notes)
    parts = []
    if "aware" in kinds:
        parts.append("offsets converted to UTC")
    if "naive" in kinds:
        parts.append(
            f"naive times taken as {tz} and converted to UTC" if tz
            else "naive times taken as UTC"
        )
    if "epoch" in kinds:
        parts.append("epoch numbers read as UTC")
    return "; ".join(parts)


# --- numbers, sentiment, flags ---------------------------------------------------------------

_SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9}
# A comma (dot) is a thousands separator only in well-formed 3-digit grouping; a leading 0 is
# never a group ("0,500" is a decimal comma).
GROUPED_COMMA = re.compile(r"^[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?[kmb]?$")
_ONE_GROUP_COMMA = re.compile(r"^[+-]?[1-9]\d{0,2},\d{3}[kmb]?$")
GROUPED_DOT = re.compile(r"^[+-]?[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?[kmb]?$")
_ONE_GROUP_DOT = re.compile(r"^[+-]?[1-9]\d{0,2}\.\d{3}$")
SUFFIXED_NUMBER = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)([kmb])$")


def _fast_float(text: pd.Series) -> pd.Series | None:
    """Text -> float64 through pyarrow ("" -> NaN); None when some value is not a plain number."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(text.array, type=pa.string())
        arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
        numbers = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    except Exception:  # pyarrow.ArrowInvalid for a value like "1.2K"
        return None
    return pd.Series(numbers, index=text.index, dtype="float64")


def _sample(values: pd.Series) -> str:
    return repr(str(values.iloc[0]))


def _numbers_from_text(text: pd.Series, european: bool = False) -> tuple[pd.Series, list[str]]:
    """Stripped number text ("" = missing) -> float64 (NaN where unreadable), plus notes.

    Understands 1,234 / 1.234,5 / 12,5 / 1.2K / 1 234. Whether a comma is a decimal mark or a
    thousands separator is decided for the whole column (never cell by cell, never silently
    ×1000): thousands only if every comma-bearing value is well-formed 3-digit grouping
    (1,234 / 12,345,678.5); otherwise the comma is the decimal mark and dots are thousands
    separators where they group (1.234,5). A column whose only commas are single groups
    ("1,234") is ambiguous: read as thousands, with a note. ``european`` (a ';'-delimited
    file) also notes dot values that are all single groups ("1.234", read as 1.234).
    """
    notes: list[str] = []
    numbers = _fast_float(text)
    if numbers is not None:  # plain numbers only: no comma anywhere
        if european:
            dotted = text[text.str.contains(".", regex=False)]
            if len(dotted) and dotted.str.match(_ONE_GROUP_DOT.pattern).all():
                notes.append(
                    f"{len(dotted)} value(s) such as {_sample(dotted)} read with '.' as a "
                    "decimal point, not a thousands separator (ambiguous in a ';'-separated "
                    "file; write 1234 or 1,234 to mean a thousand)"
                )
        return numbers, notes
    cleaned = text.str.replace(r"[_\s]", "", regex=True).str.lower()
    has_comma = cleaned.str.contains(",", regex=False)
    with_comma = cleaned[has_comma]
    decimal_comma = bool(len(with_comma)) and not with_comma.str.match(
        GROUPED_COMMA.pattern
    ).all()
    if decimal_comma:
        grouped = cleaned.str.match(GROUPED_DOT.pattern)
        cleaned = cleaned.where(~grouped, cleaned.str.replace(".", "", regex=False))
        # a value with both marks that is not 1.234,5 grouping (e.g. "1,234.5") is unreadable
        mixed = has_comma & ~grouped & cleaned.str.contains(".", regex=False)
        cleaned = cleaned.str.replace(",", ".", regex=False).where(~mixed, "?")
    elif len(with_comma):
        has_dot = cleaned.str.contains(".", regex=False).any()
        if not has_dot and with_comma.str.match(_ONE_GROUP_COMMA.pattern).all():
            notes.append(
                f"{len(with_comma)} value(s) such as {_sample(text[has_comma])} read with ',' "
                "as a thousands separator, not a decimal comma (ambiguous; write 1234 or "
                "1.234 if a decimal was meant)"
            )
        cleaned = cleaned.str.replace(",", "", regex=False)
    numbers = pd.to_numeric(cleaned.where(cleaned != "", None), errors="coerce").astype(
        "float64"
    )
    failed = numbers.isna() & (cleaned != "")
    if failed.any():
        parts = cleaned[failed].str.extract(SUFFIXED_NUMBER.pattern)
        again = pd.to_numeric(parts[0], errors="coerce") * parts[1].map(_SUFFIX).fillna(1.0)
        numbers[failed] = again.astype("float64")
    return numbers, notes


#: Cells that exports write for "no value" (compared lower-case, stripped): an optional
#: measure is then missing, not bad, and the mention keeps its place in the volume.
MISSING_WORDS = frozenset({"n/a", "#n/a", "na", "-", "--", "—", "null", "none", "(none)"})
#: ... and in an optional time column (an incident's ``ended_at`` while it is still open).
_NO_TIME_WORDS = MISSING_WORDS | {"ongoing", "open", "active", "unresolved", "tbd", "pending"}


def _blank_missing_words(values: pd.Series, words: frozenset[str]) -> pd.Series:
    """Text cells that are one of ``words`` become empty (missing); other cells unchanged."""
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_datetime64_any_dtype(
        values.dtype
    ):
        return values
    lowered = values.astype("string").str.strip().str.lower()
    return values.where(~lowered.isin(words).fillna(False).to_numpy(), None)


def _parse_numbers(
    values: pd.Series, european: bool = False
) -> tuple[pd.Series, np.ndarray, list[str]]:
    """Counts -> float (missing allowed; nan and ±inf are bad). Returns (numbers, bad, notes).

    Text goes through :func:`_numbers_from_text` (decimal comma or thousands, decided per
    column)."""
    if pd.api.types.is_bool_dtype(values.dtype):
        values = values.astype("float64")
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.astype("float64")
        bad = np.isinf(numbers.to_numpy())
        return numbers.where(~bad), bad, []
    text = _text(_blank_missing_words(values, MISSING_WORDS))
    numbers, notes = _numbers_from_text(text, european)
    bad = (~np.isfinite(numbers.to_numpy()) & (text != "").to_numpy())
    return numbers.where(~bad), bad, notes


def _parse_sentiment(
    values: pd.Series, european: bool = False
) -> tuple[pd.Series, np.ndarray, list[str]]:
    """Labels or numbers -> float; returns (scores, bad, notes) (range is checked by the schema).

    Numbers, also with a decimal comma ("-0,25" from European exports), are read by
    :func:`_numbers_from_text`."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype
    ):
        return values.astype("float64"), np.zeros(len(values), dtype=bool), []
    text = _text(_blank_missing_words(values, MISSING_WORDS)).str.lower()
    scores = text.map(SENTIMENT_WORDS).astype("float64")
    unknown = scores.isna() & (text != "")
    notes: list[str] = []
    if unknown.any():
        numeric, notes = _numbers_from_text(text[unknown], european)
        scores[unknown] = numeric
    bad = (scores.isna() & (text != "")).to_numpy()
    return scores, bad, notes


_TRUE = {"true", "t", "yes", "y", "1", "1.0", "verified"}
_FALSE = {"false", "f", "no", "n", "0", "0.0", "unverified", "not verified"}


def _parse_bool(values: pd.Series) -> tuple[pd.Series, int]:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean"), 0
    text = _text(values).str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[text.isin(_TRUE).to_numpy()] = True
    out[text.isin(_FALSE).to_numpy()] = False
    unknown = int((out.isna() & (text != "")).sum())
    return out, unknown


@functools.lru_cache(maxsize=1)
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def score_sentiment(texts: Sequence[str]) -> np.ndarray:
    """VADER compound score (−1…1) per text; each distinct text is scored once, missing -> NaN.

    VADER's lexicon ships inside the vaderSentiment package, so nothing is downloaded.
    """
    series = pd.Series(list(texts) if not isinstance(texts, pd.Series) else texts, dtype=object)
    out = np.full(len(series), np.nan)
    present = series.map(lambda v: isinstance(v, str) and bool(v.strip())).to_numpy(bool)
    if not present.any():
        return out
    codes, uniques = pd.factorize(series[present])
    analyzer = _analyzer()
    scores = np.fromiter(
        (analyzer.polarity_scores(t)["compound"] for t in uniques),
        dtype="float64",
        count=len(uniques),
    )
    out[present] = scores[codes]
    return out


_score_texts = score_sentiment  # load_mentions' keyword argument shadows the public name


# --- pandera checks --------------------------------------------------------------------------


def _pandera() -> Any:
    """``pandera.pandas``, imported without pandas-on-Spark: when pyspark is installed (the
    ``[spark]`` extra) pandera's own import loads ``pyspark.pandas``, which costs seconds,
    warns about the pandas version and patches pandas' classes. The loader needs none of it,
    so that one optional import is made to fail while pandera initialises."""
    import sys

    if "pandera.pandas" in sys.modules:
        return sys.modules["pandera.pandas"]
    blocked = "pyspark.pandas" not in sys.modules
    if blocked:
        sys.modules["pyspark.pandas"] = None  # type: ignore[assignment]  # import fails
    try:
        import pandera.pandas as pa
    finally:
        if blocked and sys.modules.get("pyspark.pandas", 0) is None:
            del sys.modules["pyspark.pandas"]
    return pa


def _schema_failures(frame: pd.DataFrame, schema: Any) -> list[tuple[np.ndarray, str, str]]:
    """Run a pandera schema lazily; return (row positions, reason, column) per failed check.

    Check names are the quarantine reason codes.
    """
    pa = _pandera()

    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        cases = cases[cases["index"].notna()]
        out = []
        wide = cases["schema_context"] == "DataFrameSchema"
        cases = cases.assign(column=cases["column"].where(~wide, ""))
        for (column, check), group in cases.groupby(["column", "check"], sort=False):
            positions = np.unique(group["index"].astype("int64").to_numpy())
            out.append((positions, str(check), str(column)))
        return out
    return []


@functools.lru_cache(maxsize=1)
def _mention_schema() -> Any:
    pa = _pandera()

    def count(name: str) -> Any:
        return pa.Column(
            "float64", pa.Check(lambda s: s >= 0, name=REASON_NEGATIVE_NUMBER), nullable=True,
            required=False, name=name,
        )

    return pa.DataFrameSchema(
        {
            "author_followers": count("author_followers"),
            "engagement": count("engagement"),
            "sentiment": pa.Column(
                "float64", pa.Check(lambda s: s.between(-1.0, 1.0), name=REASON_BAD_SENTIMENT),
                nullable=True, required=False,
            ),
        }
    )


@functools.lru_cache(maxsize=1)
def _series_schema() -> Any:
    pa = _pandera()

    return pa.DataFrameSchema(
        {"volume": pa.Column("float64", pa.Check(lambda s: s >= 0, name=REASON_NEGATIVE_NUMBER),
                             nullable=True)}
    )


@functools.lru_cache(maxsize=1)
def _incident_schema() -> Any:
    pa = _pandera()

    return pa.DataFrameSchema(
        {"started_at": pa.Column(TIME_DTYPE), "ended_at": pa.Column(TIME_DTYPE, nullable=True)},
        checks=pa.Check(
            lambda frame: ~(frame["ended_at"] < frame["started_at"]),
            name=REASON_END_BEFORE_START,
        ),
    )


def _apply_schema(
    load: _Load, frame: pd.DataFrame, schema: Any, wide_column: str | None = None
) -> None:
    """Flag the rows failing a pandera schema; frame-wide checks blame ``wide_column``."""
    checked = frame.reset_index(drop=True)
    for positions, reason, column in _schema_failures(checked, schema):
        mask = np.zeros(len(checked), dtype=bool)
        mask[positions] = True
        load.flag(mask, reason, column or wide_column)


# --- loaders ---------------------------------------------------------------------------------


def load_mentions(
    source: Any,
    *,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    topic: str | None = None,
    score_sentiment: bool = True,
    glob: bool = False,
) -> LoadResult:
    """Load mentions (one row per post) from files or a DataFrame into the Mentions contract.

    ``columns`` maps canonical names to yours (``{"created_at": "tweet_created"}``); usual
    export names are recognised without it. ``tz`` is the zone of naive times (default UTC).
    ``topic`` fills empty or absent topics (default ``"all"``). Sentiment missing from the source
    is scored from ``text`` with VADER when ``score_sentiment`` (flagged ``sentiment_estimated``).
    """
    load = _Load("mentions", source, columns, tz, glob)
    f = load.frame
    n = len(f)
    data: dict[str, Any] = {}
    created = load.times("created_at", tz, required=True)

    ids = load.ids("mention_id")
    data["mention_id"] = ids.astype("str").array
    data["created_at"] = created.array
    default_topic = topic if topic is not None else DEFAULT_TOPIC
    if load.has("topic"):
        topics = _text(f["topic"])
        empty = topics == ""
        if empty.any():
            topics = topics.where(~empty, default_topic)
            load.notes.append(f"{int(empty.sum())} empty topic cell(s) set to {default_topic!r}")
    else:
        topics = pd.Series(default_topic, index=f.index)
        load.notes.append(f"no topic column: every mention has topic {default_topic!r}")
    data["topic"] = topics.astype("str").array
    for name in ("text", "author"):
        if load.has(name):
            data[name] = _optional_text(f[name]).array
    numbers: dict[str, pd.Series] = {}
    for name in ("author_followers", "engagement"):
        if load.has(name):
            values = load.per_file(name, _parse_numbers, REASON_BAD_NUMBER)
            numbers[name] = values
            data[name] = values.to_numpy()
    estimated = np.zeros(n, dtype=bool)
    sentiment: pd.Series | None = None
    if load.has("sentiment"):
        sentiment = load.per_file("sentiment", _parse_sentiment, REASON_BAD_SENTIMENT)
    if score_sentiment and "text" in data:
        need = np.ones(n, bool) if sentiment is None else sentiment.isna().to_numpy()
        need = need & load.ok & pd.notna(data["text"])
        if need.any():
            scores = _score_texts(data["text"][need])
            if sentiment is None:
                sentiment = pd.Series(np.nan, index=f.index)
            sentiment = sentiment.copy()
            sentiment[need] = scores
            estimated = need
            load.notes.append(f"sentiment scored from text with VADER for {int(need.sum())} "
                              "mention(s)")
    if sentiment is not None:
        data["sentiment"] = sentiment.to_numpy()
        data["sentiment_estimated"] = estimated
    if load.has("platform"):
        data["platform"] = _optional_text(f["platform"]).array
    if load.has("is_verified"):
        flags, unknown = _parse_bool(f["is_verified"])
        data["is_verified"] = flags.array
        if unknown:
            load.notes.append(f"{unknown} is_verified value(s) not understood: set to missing")
    frame = pd.DataFrame(data)
    for name in ("text", "author", "platform"):
        if name in frame:
            frame[name] = frame[name].astype("str")
    frame["created_at"] = frame["created_at"].astype(TIME_DTYPE)
    _apply_schema(load, frame[[c for c in ("author_followers", "engagement", "sentiment")
                               if c in frame]], _mention_schema())
    ok = load.ok
    dup = np.zeros(n, dtype=bool)
    dup[ok] = frame.loc[ok, "mention_id"].duplicated(keep="first").to_numpy()
    load.flag(dup, REASON_DUPLICATE_ID, "mention_id")
    ordered = [c for c in MENTION_COLUMNS if c in frame.columns]
    return load.finish(frame[ordered], sentiment_estimated=bool(estimated[load.ok].any()))


def _id_text(values: pd.Series) -> pd.Series:
    """Ids as strings; integral floats (from JSON/Parquet with gaps) lose their ``.0``."""
    if pd.api.types.is_float_dtype(values.dtype):
        whole = values.dropna()
        exact = (whole == np.floor(whole)) & (whole.abs() < 2**53)  # int64-safe
        if len(whole) and exact.all():
            values = values.astype("Int64")
    return _text(values)


def load_series(
    source: Any,
    *,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    topic: str | None = None,
    glob: bool = False,
) -> LoadResult:
    """Load pre-aggregated volumes (``topic, window_start, volume``), e.g. NAB ``timestamp,value``.

    The topic comes from a column, else ``topic=``, else the file name stem (``"all"`` for a
    DataFrame). Negative or non-numeric volumes and repeated (topic, window_start) are
    quarantined. Sorted by (topic, window_start).
    """
    load = _Load("series", source, columns, tz, glob)
    for i, mapping in enumerate(load.mapped):
        if "volume" not in mapping:
            table = load.tables[i]
            raise DataLoadError(
                f"no volume column: none of ({', '.join(COLUMN_ALIASES['series']['volume'])}) "
                f"among ({', '.join(map(str, table.frame.columns))}); pass "
                "columns={'volume': '<your column>'}",
                source=table.source,
                column="volume",
            )
    f = load.frame
    starts = load.times("window_start", tz, required=True)
    stems = np.asarray([t.stem or (topic or DEFAULT_TOPIC) for t in load.tables], dtype=object)
    fallback = pd.Series(
        [topic] * len(f) if topic is not None else stems[f["_file"].to_numpy()], index=f.index
    ).astype("str")
    if load.has("topic"):
        topics = _text(f["topic"])
        empty = topics == ""
        if empty.any():
            load.notes.append(f"{int(empty.sum())} empty topic cell(s) filled from topic=/file")
        topics = topics.where(~empty, fallback)
    else:
        topics = fallback
    volume = load.per_file("volume", _parse_numbers, REASON_BAD_NUMBER)
    load.flag(volume.isna().to_numpy(), REASON_BAD_NUMBER, "volume")  # missing volume
    frame = pd.DataFrame(
        {"topic": topics.astype("str").array, "window_start": starts.array,
         "volume": volume.to_numpy()}
    )
    frame["window_start"] = frame["window_start"].astype(TIME_DTYPE)
    _apply_schema(load, frame[["volume"]], _series_schema())
    ok = load.ok
    dup = np.zeros(len(frame), dtype=bool)
    dup[ok] = frame.loc[ok].duplicated(["topic", "window_start"], keep="first").to_numpy()
    load.flag(dup, REASON_DUPLICATE_ID, "window_start")
    accepted_volume = frame.loc[load.ok, "volume"]
    if len(accepted_volume) and (accepted_volume == np.floor(accepted_volume)).all():
        frame["volume"] = frame["volume"].fillna(0).astype("int64")
    return load.finish(frame[list(SERIES_REQUIRED)], sort_by=("topic", "window_start"))


def _parse_severity(
    values: pd.Series, severity_map: Mapping[str, int] | None
) -> tuple[pd.Series, np.ndarray]:
    labels = {str(k).lower(): int(v) for k, v in SEVERITY_LABELS.items()}
    labels.update({str(k).strip().lower(): int(v) for k, v in (severity_map or {}).items()})
    text = _text(values).str.lower()
    tiers = text.map(labels).astype("float64")
    unmapped = tiers.isna() & (text != "")
    # plain whole numbers only ("2", "2.0"): never 1e20, inf, 0x10 or 2_5
    plain = unmapped & text.str.fullmatch(r"[+-]?\d{1,6}(?:\.0*)?").fillna(False)
    numeric = pd.to_numeric(text.where(plain, None), errors="coerce")
    tiers = tiers.where(tiers.notna(), numeric)
    bad = (
        tiers.isna() | ~np.isfinite(tiers) | (tiers < 1) | (tiers > MAX_SEVERITY_TIER)
        | (tiers != np.floor(tiers))
    ).to_numpy()
    return tiers.where(~bad), bad


def load_incidents(
    source: Any,
    *,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    severity_map: Mapping[str, int] | None = None,
    topic: str | None = None,
    glob: bool = False,
) -> LoadResult:
    """Load an incident log (CSV, JSON array, JSON lines, Parquet or DataFrame) into Incidents.

    Severity labels map onto tiers through SEVERITY_LABELS updated by ``severity_map``; whole
    numbers 1..MAX_SEVERITY_TIER (99) are tiers; anything else (``inf``, ``1e20``, ``0``, an
    unknown label) is quarantined as bad_severity. Times outside 1900-2200 are quarantined
    (time_out_of_range). A missing severity column makes every incident tier 1 (noted).
    Sorted by (started_at, incident_id).
    """
    load = _Load("incidents", source, columns, tz, glob)
    f = load.frame
    data: dict[str, Any] = {}
    started = load.times("started_at", tz, required=True)
    ids = load.ids("incident_id")
    data["incident_id"] = ids.astype("str").array
    default_topic = topic if topic is not None else DEFAULT_TOPIC
    if load.has("topic"):
        topics = _text(f["topic"])
        empty = topics == ""
        if empty.any():
            load.notes.append(f"{int(empty.sum())} empty topic cell(s) set to {default_topic!r}")
        topics = topics.where(~empty, default_topic)
    else:
        topics = pd.Series(default_topic, index=f.index)
        load.notes.append(f"no topic column: every incident has topic {default_topic!r}")
    data["topic"] = topics.astype("str").array
    data["started_at"] = started.array
    if load.has("severity"):
        tiers, bad = _parse_severity(f["severity"], severity_map)
        load.flag(bad, REASON_BAD_SEVERITY, "severity")
        if bad.any():
            load.notes.append(
                f"severity: {int(bad.sum())} value(s) neither a whole tier 1-{MAX_SEVERITY_TIER}"
                " nor a known label (low, medium, high... or map yours with severity_map / "
                "--severity LABEL=TIER): quarantined"
            )
        data["severity"] = tiers.fillna(0).astype("int64").to_numpy()
    else:
        data["severity"] = np.ones(len(f), dtype="int64")
        load.notes.append("no severity column: every incident is tier 1")
    for name in ("ended_at", "detected_at", "escalated_at", "resolved_at"):
        if load.has(name):
            data[name] = load.times(name, tz, required=False).array
    for name in ("title", "category"):
        if load.has(name):
            data[name] = _optional_text(f[name]).array
    frame = pd.DataFrame(data)
    for name in ("started_at", "ended_at", "detected_at", "escalated_at", "resolved_at"):
        if name in frame:
            frame[name] = frame[name].astype(TIME_DTYPE)
    for name in ("title", "category"):
        if name in frame:
            frame[name] = frame[name].astype("str")
    if "ended_at" in frame:
        _apply_schema(
            load, frame[["started_at", "ended_at"]], _incident_schema(), "ended_at"
        )
    ok = load.ok
    dup = np.zeros(len(frame), dtype=bool)
    dup[ok] = frame.loc[ok, "incident_id"].duplicated(keep="first").to_numpy()
    load.flag(dup, REASON_DUPLICATE_ID, "incident_id")
    if "detected_at" in frame:
        early = int((load.ok & (frame["detected_at"] < frame["started_at"]).to_numpy()).sum())
        if early:
            load.notes.append(f"{early} incident(s) detected before started_at (kept)")
    ordered = [c for c in INCIDENT_COLUMNS if c in frame.columns]
    return load.finish(frame[ordered], sort_by=("started_at", "incident_id"))


def is_nab_windows(path: str | Path) -> bool:
    """Whether ``path`` is a NAB anomaly-windows file (``{file name: [[start, end], ...]}``),
    not an incident log such as ``{"incidents": [{...}, ...]}``. Never raises: an unreadable,
    invalid or too deeply nested file is simply not one (its loader then says why)."""
    try:
        data = Path(path).read_bytes()
        check_json_depth(data, str(path))
        payload = json.loads(data.decode("utf-8-sig"))
    except (OSError, ValueError, RecursionError, DataLoadError):
        return False
    if not isinstance(payload, dict) or not payload:
        return False
    for windows in payload.values():
        if not isinstance(windows, list):
            return False
        for window in windows:
            pair = isinstance(window, list) and len(window) == 2
            if not pair and not (isinstance(window, dict) and set(window) <= {"start", "end"}):
                return False
    return True


def incidents_from_nab_windows(path: str | Path, *, severity: int = 1) -> pd.DataFrame:
    """NAB's labelled anomaly windows (``anomaly_windows.json``) as an Incidents frame.

    One incident per window: topic = the data file's stem (as :func:`load_series` names it),
    ``started_at``/``ended_at`` = the window's inclusive edges (naive UTC), id ``topic#k``.
    Each window is ``[start, end]`` or ``{"start": ..., "end": ...}`` with both edges, ending
    no earlier than it starts, within 1900-2200; anything else raises DataLoadError naming the
    file, the key and the window.
    """
    p = Path(path)
    if not p.is_file():
        raise DataLoadError("NAB anomaly windows file not found", source=str(path))
    source = str(path)
    try:
        data = p.read_bytes()
        text = data.decode("utf-8-sig")
    except OSError as exc:
        raise DataLoadError(f"cannot be read: {exc.strerror or exc}", source=source) from exc
    except UnicodeDecodeError as exc:
        raise DataLoadError(
            f"not UTF-8 text (byte {exc.start}); expected NAB's anomaly_windows.json",
            source=source,
        ) from exc
    check_json_depth(data, source)
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataLoadError(f"not valid JSON: {exc}", source=source) from exc
    except RecursionError as exc:  # check_json_depth bounds it; belt and braces
        raise DataLoadError("JSON nested too deeply", source=source) from exc
    if not isinstance(payload, dict):
        raise DataLoadError("expected an object {file name: [windows...]}", source=source)
    if not payload:
        raise DataLoadError(
            "the windows file lists no data file ({}); expected {file name: [windows...]}",
            source=source,
        )
    if isinstance(severity, bool) or not isinstance(severity, (int, np.integer)) or severity < 1:
        raise DataLoadError(f"severity must be a whole number >= 1, got {severity!r}")
    allowed = 'each window is ["start", "end"] or {"start": ..., "end": ...}'
    rows = []
    for name, windows in payload.items():
        stem = Path(Path(str(name)).name).stem
        key = repr(str(name)[:80])
        if windows is None:
            continue
        if not isinstance(windows, list):
            raise DataLoadError(
                f"key {key}: expected a list of windows, got {type(windows).__name__}; "
                f"{allowed}",
                source=source,
            )
        for k, window in enumerate(windows, start=1):
            if isinstance(window, dict) and set(window) == {"start", "end"}:
                start, end = window["start"], window["end"]
            elif isinstance(window, list) and len(window) == 2:
                start, end = window
            elif isinstance(window, dict) and window and "start" not in window:
                raise DataLoadError(
                    f"key {key}: holds records ({', '.join(map(str, list(window)[:5]))}), not "
                    "windows: this looks like an incident log; load it with load_incidents "
                    f"(CLI: --incidents reads both); {allowed}",
                    source=source,
                )
            else:
                shown = json.dumps(window)[:80]
                raise DataLoadError(
                    f"key {key}, window {k}: {shown} is not a window; {allowed}",
                    source=source,
                )
            edges = []
            for label, edge in (("start", start), ("end", end)):
                when = (
                    pd.to_datetime(edge, utc=True, format="ISO8601", errors="coerce")
                    if isinstance(edge, str)
                    else pd.NaT
                )
                if pd.isna(when):
                    raise DataLoadError(
                        f"key {key}, window {k}: unparseable {label} {str(edge)[:80]!r}; "
                        "edges are ISO times such as '2015-02-26 21:42:53.000000'",
                        source=source,
                        column="started_at" if label == "start" else "ended_at",
                    )
                us = int(when.asm8.astype("datetime64[us]").astype("int64"))
                if not TIME_RANGE_US[0] <= us < TIME_RANGE_US[1]:
                    raise DataLoadError(
                        f"key {key}, window {k}: {label} {edge[:40]!r} is outside "
                        f"{FIRST_YEAR}-{LAST_YEAR}",
                        source=source,
                    )
                edges.append(when)
            if edges[1] < edges[0]:
                raise DataLoadError(
                    f"key {key}, window {k}: ends ({end[:40]}) before it starts "
                    f"({start[:40]})",
                    source=source,
                )
            rows.append((f"{stem}#{k}", stem, edges[0], edges[1]))
    frame = pd.DataFrame(rows, columns=["incident_id", "topic", "started_at", "ended_at"])
    for col in ("started_at", "ended_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True).astype(TIME_DTYPE)
    frame["severity"] = int(severity)
    frame = frame[["incident_id", "topic", "started_at", "severity", "ended_at"]]
    for col in ("incident_id", "topic"):
        frame[col] = frame[col].astype("str")
    return frame.sort_values(["started_at", "incident_id"], kind="stable").reset_index(drop=True)
