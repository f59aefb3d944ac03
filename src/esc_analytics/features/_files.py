"""The features file: what ``esc-analytics aggregate`` writes (on any engine) and every command
and notebook can start from, so that a cluster job writes one small file (topics × windows) and
the analysis goes on from it without the raw mentions.

The file carries its window length and the measures it holds:

* Parquet: the key-value metadata ``esc_analytics.features`` of the file's schema (JSON);
* CSV: a sidecar ``<file>.meta.json`` beside it (the CSV itself stays a plain table any tool
  reads). Without the sidecar the window length is told from the windows' spacing and every
  measure column present is taken as carried.

The JSON: ``{"format": 1, "freq": "1h", "freq_seconds": 3600, "measures": [...],
"absent_features": {measure: why}}``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd

from .._util.atomic import atomic_write_bytes, atomic_write_text
from .._util.errors import DataLoadError
from .._util.schema import FEATURE_KEYS, infer_freq
from ._build import ABSENT_FEATURES_ATTR
from ._grid import utc_times, window_length

#: Parquet schema metadata key holding the features file's JSON description.
FEATURES_METADATA_KEY = "esc_analytics.features"
#: Suffix of the CSV features file's sidecar (``features.csv.meta.json``).
SIDECAR_SUFFIX = ".meta.json"
#: ``features.attrs`` key set by :func:`read_features`: the window length (a Timedelta).
FREQ_ATTR = "freq"
_FORMAT = 1
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _freq_text(step: pd.Timedelta) -> str:
    seconds = int(step.total_seconds())
    for unit, name in ((86_400, "D"), (3_600, "h"), (60, "min")):
        if seconds % unit == 0:
            return f"{seconds // unit}{name}"
    return f"{seconds}s"


def features_metadata(features: pd.DataFrame, freq: str | pd.Timedelta) -> dict[str, Any]:
    """The JSON description of a features frame: window length, measure columns and the
    measures its input did not carry (``features.attrs``)."""
    step = window_length(freq)
    return {
        "format": _FORMAT,
        "freq": _freq_text(step),
        "freq_seconds": int(step.total_seconds()),
        "measures": [c for c in features.columns if c not in FEATURE_KEYS],
        "absent_features": dict(features.attrs.get(ABSENT_FEATURES_ATTR, {})),
    }


def sidecar_path(path: str | Path) -> Path:
    """Where the description of a CSV features file lives: ``<file>.meta.json``."""
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def write_features(features: pd.DataFrame, path: str | Path, *, freq: str | pd.Timedelta) -> Path:
    """Write features as ``.parquet`` (description in the schema metadata) or ``.csv`` (times
    as ``2024-01-01T00:00:00Z``, description in the sidecar), atomically; returns the path."""
    if not isinstance(features, pd.DataFrame):
        raise DataLoadError(f"features must be a DataFrame, got {type(features).__name__}")
    meta = json.dumps(features_metadata(features, freq), sort_keys=True)
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(features, preserve_index=False)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), FEATURES_METADATA_KEY.encode(): meta.encode()}
        )
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        return atomic_write_bytes(path, buffer.getvalue())
    if path.suffix.lower() != ".csv":
        raise DataLoadError("a features file is .csv or .parquet", source=str(path))
    atomic_write_text(path, features.to_csv(index=False, date_format=_TIME_FORMAT))
    atomic_write_text(sidecar_path(path), meta + "\n")
    return path


def read_features(path: str | Path) -> pd.DataFrame:
    """Read a features file written by ``esc-analytics aggregate`` (or :func:`write_features`).

    Returns the features (one row per topic × window) with ``attrs["freq"]`` (the window
    length, a Timedelta) and the absent measures marked as :func:`mark_absent_features` does
    (a policy reading one warns). Raises :class:`~esc_analytics.DataLoadError` for a missing
    file or one that is not a features table (no ``topic``, ``window_start``, ``volume``)."""
    path = Path(path)
    if not path.is_file():
        raise DataLoadError("features file not found", source=str(path))
    meta: dict[str, Any] | None = None
    try:
        if path.suffix.lower() == ".parquet" or path.read_bytes()[:4] == b"PAR1":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            raw = (table.schema.metadata or {}).get(FEATURES_METADATA_KEY.encode())
            meta = json.loads(raw) if raw else None
            frame = table.to_pandas()
        else:
            frame = pd.read_csv(path, keep_default_na=True)
            side = sidecar_path(path)
            meta = json.loads(side.read_text(encoding="utf-8")) if side.is_file() else None
    except (OSError, ValueError) as exc:
        raise DataLoadError(f"cannot be read as a features file: {exc}", source=str(path)) from exc
    missing = [c for c in (*FEATURE_KEYS, "volume") if c not in frame.columns]
    if missing:
        raise DataLoadError(
            f"not a features file (no {', '.join(missing)} column); write one with "
            "'esc-analytics aggregate ... --out FILE'",
            source=str(path),
        )
    frame["topic"] = frame["topic"].astype("str")
    frame["window_start"] = utc_times(frame["window_start"], "window_start")
    frame = frame.sort_values(list(FEATURE_KEYS), kind="stable").reset_index(drop=True)
    if meta is not None and "freq_seconds" in meta:
        step = pd.Timedelta(seconds=int(meta["freq_seconds"]))
    else:
        try:
            step = window_length(infer_freq(frame))
        except ValueError as exc:
            raise DataLoadError(
                f"{exc}; the window length cannot be told (no description of the file)",
                source=str(path),
            ) from exc
    frame.attrs[FREQ_ATTR] = step
    frame.attrs[ABSENT_FEATURES_ATTR] = dict((meta or {}).get("absent_features", {}))
    return frame
