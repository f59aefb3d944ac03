"""Reading one input (file or DataFrame) into a table of values as written, with line numbers.

Private helper of :mod:`esc_analytics.io`. The format is told from the content (gzip, Parquet
magic bytes, a leading ``[`` or ``{`` for JSON), not trusted from the extension. Text is decoded
as UTF-8 (BOM removed), else cp1252, else latin-1, with a note. CSV records are split with a
vectorised quote-aware scan so that every row keeps the line where its record *starts* (quoted
newlines included; the header is line 1); records whose field count differs from the header's are
returned as malformed instead of being guessed. The C parser of pandas does the heavy lifting;
Python's ``csv`` module is only a fallback for files the scan and pandas disagree on.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._util.errors import DataLoadError

DELIMITERS = (",", ";", "\t", "|")
_SNIFF_BYTES = 64 * 1024
_RAW_LIMIT = 500  # characters of a raw record kept in the quarantine


@dataclass
class RawTable:
    """One input as read: its original columns (text formats give ``str`` values, "" = empty)."""

    source: str
    frame: pd.DataFrame
    lines: np.ndarray  # 1-based line (CSV/JSON lines), record (JSON array) or row number
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (line, raw text)
    notes: list[str] = field(default_factory=list)
    delimiter: str = ","
    stem: str = ""

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.malformed)

    def raw_row(self, position: int) -> str:
        """The row at ``position`` as a compact delimiter-joined string (for the quarantine)."""
        values = self.frame.iloc[position].tolist()
        text = self.delimiter.join("" if _is_missing(v) else str(v) for v in values)
        return text[:_RAW_LIMIT]


def _is_missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def table_from_frame(frame: pd.DataFrame, source: str = "<DataFrame>") -> RawTable:
    """Wrap a caller's DataFrame: rows are numbered 1..n in their current order."""
    if not isinstance(frame, pd.DataFrame):
        raise DataLoadError(f"expected a path, a list of paths or a DataFrame, got {type(frame)}")
    out = frame.reset_index(drop=True)
    out.columns = [str(c) for c in out.columns]
    return RawTable(source, out, np.arange(1, len(out) + 1, dtype=np.int64), stem="")


def read_table(path: str | Path) -> RawTable:
    """Read one file of any supported format; raise DataLoadError when it cannot be used."""
    p = Path(path)
    source = str(path)
    if not p.exists():
        raise DataLoadError("file not found", source=source)
    if p.is_dir():
        raise DataLoadError(
            "is a directory, not a file; pass the files inside it (e.g. a list or a glob "
            "such as 'dir/*.csv')",
            source=source,
        )
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DataLoadError(f"cannot be read: {exc.strerror or exc}", source=source) from exc
    notes: list[str] = []
    data = _decompress(data, source, notes)
    stem = _stem(p)
    if not data.strip():
        raise DataLoadError("file is empty (no header, no rows)", source=source)
    if data[:4] == b"PAR1":
        return _read_parquet(data, source, stem, notes)
    if data[:4] == b"PK\x03\x04":
        raise DataLoadError(
            "looks like a zip archive or an Excel workbook; export the sheet as CSV "
            "(or unzip it) and load that",
            source=source,
        )
    data, encoding = _decode_setup(data, source, notes)
    first = data.lstrip()[:1]
    if first in (b"[", b"{"):
        check_json_depth(data, source)
    if first == b"[":
        return _read_json_array(data, encoding, source, stem, notes)
    if first == b"{":
        return _read_json_lines(data, encoding, source, stem, notes)
    return _read_csv(data, encoding, source, stem, notes)


def _stem(p: Path) -> str:
    name = p.name
    for suffix in (".gz", ".gzip"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return Path(name).stem


def _decompress(data: bytes, source: str, notes: list[str]) -> bytes:
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as exc:
        # A truncated gzip stream: keep what decompresses, say so.
        try:
            part = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)
        except zlib.error:
            part = b""
        if not part:
            raise DataLoadError(
                "gzip file is corrupt (nothing decompresses)", source=source
            ) from exc
        notes.append(f"gzip stream truncated: read the first {len(part)} bytes")
        return part


def _decode_setup(data: bytes, source: str, notes: list[str]) -> tuple[bytes, str]:
    """Normalise the bytes (BOM, UTF-16, NULs, CR-only endings) and pick the text encoding."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeError as exc:
            raise DataLoadError(
                f"starts like UTF-16 text but is not (byte {exc.start}); re-save it as UTF-8",
                source=source,
            ) from exc
        notes.append("UTF-16 text converted to UTF-8")
    elif data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    if not data.strip():
        raise DataLoadError("file is empty (no header, no rows)", source=source)
    sample = data[:_SNIFF_BYTES]
    nuls = sample.count(0)
    if nuls and nuls * 4 >= len(sample) * 1.6 and sample[1::2].count(0) > 0.9 * len(sample) / 2:
        # UTF-16-LE without a BOM: every other byte is NUL.
        try:
            data = data.decode("utf-16-le").encode("utf-8")
            notes.append("UTF-16 text converted to UTF-8")
            sample = data[:_SNIFF_BYTES]
            nuls = 0
        except UnicodeDecodeError:
            pass
    control = sum(sample.count(b) for b in (*range(1, 9), 11, *range(14, 27), *range(28, 32)))
    if (nuls + control) > 0.05 * len(sample):
        at = next(i for i, b in enumerate(sample) if b < 9 or (13 < b < 32 and b != 27) or b == 11)
        raise DataLoadError(
            f"does not look like text (binary data from byte {at}); expected CSV, "
            "JSON lines, JSON or Parquet",
            source=source,
        )
    total_nuls = data.count(0)
    if total_nuls:
        data = data.replace(b"\x00", b"")
        notes.append(f"{total_nuls} NUL byte(s) removed")
    if b"\n" not in data and b"\r" in data:
        data = data.replace(b"\r", b"\n")
    try:
        data.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        try:
            data.decode("cp1252")
            encoding = "cp1252"
        except UnicodeDecodeError:
            encoding = "latin-1"
        notes.append(f"not valid UTF-8 (first at line {line}): decoded as {encoding}")
    return data, encoding


def _read_parquet(data: bytes, source: str, stem: str, notes: list[str]) -> RawTable:
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise DataLoadError(f"unreadable Parquet file: {exc}", source=source) from exc
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    lines = np.arange(1, len(frame) + 1, dtype=np.int64)
    return RawTable(source, frame, lines, notes=notes, stem=stem)


# --- JSON ------------------------------------------------------------------------------------

#: Deepest nesting of arrays and objects read from a JSON input. Records are flat objects (a
#: user object inside a post is two or three levels); deeper is not a record, and a document
#: nested 100,000 deep would exhaust Python's recursion (json) before any message.
MAX_JSON_DEPTH = 64


def check_json_depth(data: bytes, source: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise DataLoadError when ``[``/``{`` nest deeper than ``limit`` outside strings.

    Vectorised over the positions of brackets, quotes and backslashes only (a quote preceded
    by an odd run of backslashes is inside a string), so it costs little next to parsing."""
    buf = np.frombuffer(data, dtype=np.uint8)
    brackets = np.flatnonzero((buf == 91) | (buf == 93) | (buf == 123) | (buf == 125))
    if len(brackets) <= limit:
        return
    quotes = np.flatnonzero(buf == 34)
    if len(quotes):
        slashes = np.flatnonzero(buf == 92)
        if len(slashes):
            # length of the run of backslashes just before each quote
            new_run = np.ones(len(slashes), dtype=bool)
            new_run[1:] = slashes[1:] != slashes[:-1] + 1
            starts = np.maximum.accumulate(np.where(new_run, np.arange(len(slashes)), 0))
            run_start = slashes[starts]
            k = np.searchsorted(slashes, quotes)
            before = np.where(k > 0, slashes[np.maximum(k - 1, 0)], -2)
            adjacent = before == quotes - 1
            run = np.where(adjacent, quotes - run_start[np.maximum(k - 1, 0)], 0)
            quotes = quotes[run % 2 == 0]
        outside = (np.searchsorted(quotes, brackets) & 1) == 0
        brackets = brackets[outside]
    steps = np.where((buf[brackets] == 91) | (buf[brackets] == 123), 1, -1)
    depth = np.cumsum(steps)
    if len(depth) and int(depth.max()) > limit:
        at = int(brackets[int(np.argmax(depth > limit))])
        line = int(np.count_nonzero(buf[:at] == 10)) + 1
        raise DataLoadError(
            f"JSON nested deeper than {limit} levels; expected records: a list of objects "
            '[{...}, ...], {"incidents": [{...}, ...]} or one object per line',
            source=source,
            lines=[line],
        )


def _loads(text: str, source: str) -> object:
    """json.loads, with Python's own recursion limit turned into a DataLoadError."""
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise DataLoadError(
            f"JSON nested too deeply to read (more than {MAX_JSON_DEPTH} levels)", source=source
        ) from exc


def _flatten(frame: pd.DataFrame) -> pd.DataFrame:
    """Expand columns holding dicts (nested JSON such as ``user.followers_count``)."""
    for col in list(frame.columns):
        values = frame[col]
        if values.dtype != object:
            continue
        first = values.dropna().head(1).tolist()
        if first and isinstance(first[0], dict):
            records = [v if isinstance(v, dict) else {} for v in values.tolist()]
            inner = pd.json_normalize(records).add_prefix(f"{col}.")
            inner.index = frame.index
            frame = pd.concat([frame.drop(columns=[col]), inner], axis=1)
    return frame


def _read_json_array(
    data: bytes, encoding: str, source: str, stem: str, notes: list[str]
) -> RawTable:
    text = data.decode(encoding)
    try:
        payload = _loads(text, source)
    except json.JSONDecodeError as exc:
        raise DataLoadError(
            f"invalid JSON ({exc.msg}, column {exc.colno})", source=source, lines=[exc.lineno]
        ) from exc
    return _records_table(payload, source, stem, notes)


def _records_table(payload: object, source: str, stem: str, notes: list[str]) -> RawTable:
    if isinstance(payload, dict):
        lists = [k for k, v in payload.items() if isinstance(v, list)]
        if len(lists) != 1:
            keys = ", ".join(repr(str(k)[:40]) for k in list(payload)[:8])
            more = f" (+{len(payload) - 8} more)" if len(payload) > 8 else ""
            raise DataLoadError(
                f"a JSON object holding {len(lists)} lists (keys: {keys or 'none'}{more}); "
                'expected a list of records [{...}, ...] or an object holding exactly one, '
                'such as {"incidents": [{...}, ...]}',
                source=source,
            )
        notes.append(f"records read from the JSON object's {str(lists[0])[:40]!r} list")
        payload = payload[lists[0]]
    if not isinstance(payload, list):
        raise DataLoadError("JSON is not a list of records", source=source)
    good = [(i + 1, r) for i, r in enumerate(payload) if isinstance(r, dict)]
    malformed = [(i + 1, json.dumps(r)[:_RAW_LIMIT]) for i, r in enumerate(payload)
                 if not isinstance(r, dict)]
    if payload and not good:
        raise DataLoadError(
            "the JSON list holds no record (object); expected [{...}, ...]",
            source=source,
            lines=[n for n, _ in malformed],
        )
    if not payload:
        raise DataLoadError("JSON list holds no records", source=source)
    frame = _flatten(pd.DataFrame.from_records([r for _, r in good]))
    frame.columns = [str(c) for c in frame.columns]
    lines = np.array([n for n, _ in good], dtype=np.int64)
    notes.append("JSON array: 'line' numbers are record numbers (1 = first record)")
    return RawTable(source, frame, lines, malformed, notes, stem=stem)


def _read_json_lines(
    data: bytes, encoding: str, source: str, stem: str, notes: list[str]
) -> RawTable:
    text = data.decode(encoding)
    try:  # one JSON document (on one line or pretty-printed): maybe {"incidents": [...]}
        payload = _loads(text, source)
    except json.JSONDecodeError:  # JSON lines: "Extra data" after the first object
        payload = None
    if isinstance(payload, dict) and any(
        isinstance(v, list) and (not v or isinstance(v[0], dict)) for v in payload.values()
    ):
        return _records_table(payload, source, stem, notes)
    physical = text.split("\n")
    numbered = [(i + 1, s) for i, s in enumerate(physical) if s.strip()]
    frame: pd.DataFrame | None = None
    malformed: list[tuple[int, str]] = []
    try:
        frame = pd.read_json(
            io.StringIO("\n".join(s for _, s in numbered)),
            lines=True,
            dtype=False,
        )
        if len(frame) != len(numbered):
            frame = None
        lines = np.array([n for n, _ in numbered], dtype=np.int64)
    except ValueError:
        frame = None
    if frame is None:  # slow path: one line at a time, bad lines quarantined
        records, kept = [], []
        for n, s in numbered:
            try:
                rec = _loads(s, source)
            except json.JSONDecodeError:
                rec = None
            if isinstance(rec, dict):
                records.append(rec)
                kept.append(n)
            else:
                malformed.append((n, s.strip()[:_RAW_LIMIT]))
        if not records:
            raise DataLoadError(
                "no line is a JSON object", source=source, lines=[n for n, _ in malformed]
            )
        frame = pd.DataFrame.from_records(records)
        lines = np.array(kept, dtype=np.int64)
    frame = _flatten(frame)
    frame.columns = [str(c) for c in frame.columns]
    return RawTable(source, frame, lines, malformed, notes, stem=stem)


# --- CSV -------------------------------------------------------------------------------------


def sniff_delimiter(sample: str) -> str:
    """The delimiter among , ; tab | that splits the header into most fields consistently."""
    best, best_key = ",", (-1.0, 0)
    for delim in DELIMITERS:
        try:
            reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delim)
            records = list(itertools.islice(reader, 50))
        except csv.Error:
            continue
        records = [r for r in records if r and any(x.strip() for x in r)]
        if len(records) > 2 and len(records) < 50:
            records = records[:-1]  # the last one may be cut by the sample boundary
        if not records:
            continue
        width = len(records[0])
        if width < 2:
            continue
        consistent = sum(len(r) == width for r in records) / len(records)
        key = (consistent, width)
        if key > best_key:
            best, best_key = delim, key
    return best


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names):
        name = name.strip() or f"Unnamed: {i}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def _read_csv(data: bytes, encoding: str, source: str, stem: str, notes: list[str]) -> RawTable:
    sample = data[:_SNIFF_BYTES].decode(encoding, errors="replace")
    delim = sniff_delimiter(sample)
    if delim != ",":
        notes.append(f"delimiter {delim!r} detected")
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    quotes = np.flatnonzero(buf == 34)
    # a newline ends a record unless an odd number of quotes precedes it (inside a quoted field)
    ends = newlines[(np.searchsorted(quotes, newlines) & 1) == 0] if len(quotes) else newlines
    starts = np.concatenate([[0], ends + 1])
    ends = np.concatenate([ends, [len(buf)]])
    trimmed = ends.copy()
    has_cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
    trimmed[has_cr] -= 1
    nonblank = trimmed > starts
    starts, ends, trimmed = starts[nonblank], ends[nonblank], trimmed[nonblank]
    first_lines = 1 + np.searchsorted(newlines, starts)
    delims = np.flatnonzero(buf == ord(delim))
    if len(quotes):
        delims = delims[(np.searchsorted(quotes, delims) & 1) == 0]
    widths = np.searchsorted(delims, trimmed) - np.searchsorted(delims, starts) + 1

    def text_of(k: int) -> str:
        return data[starts[k] : trimmed[k]].decode(encoding, errors="replace")

    header = next(csv.reader([text_of(0)], delimiter=delim))
    names = _unique_names(header)
    width = len(names)
    if len(starts) == 1:
        raise DataLoadError(
            f"has a header ({', '.join(names[:8])}) but no data rows", source=source
        )
    bad = widths[1:] != width
    if len(quotes) % 2:  # EOF inside a quoted field: the last record is cut
        bad[-1] = True
    bad_idx = np.flatnonzero(bad) + 1
    malformed = [(int(first_lines[k]), text_of(k)[:_RAW_LIMIT]) for k in bad_idx]
    good_idx = np.flatnonzero(~bad) + 1
    if len(good_idx) == 0:
        raise DataLoadError(
            f"no row splits into the header's {width} fields with delimiter {delim!r}",
            source=source,
            lines=[n for n, _ in malformed],
        )
    if len(bad_idx):
        segments, pos = [], int(starts[1])
        for k in bad_idx:
            segments.append(data[pos : starts[k]])
            pos = int(ends[k]) + 1
        segments.append(data[pos:])
        body = b"".join(segments)
    else:
        body = data[int(starts[1]) :]
    frame = _arrow_csv(body, names, delim, encoding)
    if frame is not None and len(frame) == len(good_idx):
        lines = first_lines[good_idx].astype(np.int64)
        return RawTable(source, frame, lines, malformed, notes, delim, stem)
    try:
        frame = pd.read_csv(
            io.BytesIO(body),
            sep=delim,
            header=None,
            names=names,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding=encoding,
            encoding_errors="replace",
            engine="c",
            skip_blank_lines=True,
            low_memory=False,
        )
    except (pd.errors.ParserError, ValueError):
        frame = None
    if frame is not None and len(frame) == len(good_idx):
        lines = first_lines[good_idx].astype(np.int64)
        return RawTable(source, frame, lines, malformed, notes, delim, stem)
    return _read_csv_python(data, encoding, delim, source, stem, notes)


def _arrow_csv(body: bytes, names: list[str], delim: str, encoding: str) -> pd.DataFrame | None:
    """Fast path: pyarrow's multithreaded CSV reader, every column as text ("" = empty)."""
    try:
        import pyarrow as pa
        from pyarrow import csv as pacsv

        table = pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(column_names=names, encoding=encoding),
            parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except Exception:  # anything pyarrow cannot split goes to the slower parsers
        return None
    frame = table.to_pandas()
    for name in frame.columns:
        if not pd.api.types.is_string_dtype(frame[name].dtype):
            return None
    return frame


def _read_csv_python(
    data: bytes, encoding: str, delim: str, source: str, stem: str, notes: list[str]
) -> RawTable:
    """Slow but forgiving: Python's csv module, one record at a time (dirty files only)."""
    text = data.decode(encoding, errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=False)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    malformed: list[tuple[int, str]] = []
    previous = 0
    while True:
        start = previous + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error:
            rest = "\n".join(text.split("\n")[previous:])
            malformed.append((start, rest[:_RAW_LIMIT]))
            break
        previous = reader.line_num
        if not record or not any(x.strip() for x in record):
            continue
        if header is None:
            header = record
            continue
        if len(record) != len(header):
            malformed.append((start, delim.join(record)[:_RAW_LIMIT]))
            continue
        rows.append(record)
        lines.append(start)
    assert header is not None  # the file is not blank (checked by the caller)
    names = _unique_names(header)
    if not rows and not malformed:
        raise DataLoadError(f"has a header ({', '.join(names[:8])}) but no data rows",
                            source=source)
    if not rows:
        raise DataLoadError(
            f"no row splits into the header's {len(names)} fields with delimiter {delim!r}",
            source=source,
            lines=[n for n, _ in malformed],
        )
    frame = pd.DataFrame(rows, columns=names, dtype=str)
    return RawTable(source, frame, np.array(lines, dtype=np.int64), malformed, notes, delim, stem)
