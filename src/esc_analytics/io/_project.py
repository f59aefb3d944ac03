"""The project file: where a team's data is and how to read it, written once.

``esc-analytics.toml`` names the mention export (or volume series), the incident log, the
planned events and the escalation plan, how their columns map onto the data contracts, the
time zone of times written without an offset, the incident log's severity labels and the
window length. Every command and notebook reads it (:func:`load_project`); options given
explicitly win. Relative paths are read against the project file's folder, so the same file
works from a shell, from ``notebooks/`` (a kernel's working directory) and from Voilà.

:func:`draft_project` takes a first look at a folder (the header and first rows of each file):
which file looks like mentions, incidents, planned events or a plan, which of its columns is
which (the loaders' own column aliases, then a word of the header), the time zone and the
severity labels; :func:`project_toml` writes a project as commented TOML and
:func:`save_project` saves it (never over an existing file unless asked).

Format (TOML, read with the standard library's ``tomllib``)::

    [data]
    mentions = "export.csv"          # or a list of files; or series = [...]
    incidents = "incidents.csv"
    planned_events = "launches.csv"
    policy = "policy.yaml"

    [time]
    zone = "UTC"
    window = "1h"

    [columns.mentions]               # canonical = "your column"
    created_at = "Date"

    [columns.incidents]
    started_at = "Opened"

    [severity]                       # your label = tier (higher = more severe)
    P1 = 3
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._util.atomic import atomic_write_text
from .._util.errors import DataLoadError, EscAnalyticsError, ProjectError
from .._util.paths import not_found
from .._util.schema import MAX_SEVERITY_TIER, SEVERITY_LABELS
from .._util.times import check_time_zone
from ._load import COLUMN_ALIASES, is_nab_windows, parse_times, resolve_columns
from ._readers import read_head

#: The project file's name, looked for in the working directory (and, for notebooks, above it).
PROJECT_FILE = "esc-analytics.toml"
#: Environment variable naming a project file (how Voilà or a scheduled job is pointed at data).
PROJECT_ENV = "ESC_ANALYTICS_PROJECT"

_DATA_KEYS = ("mentions", "series", "incidents", "planned_events", "policy")
_TIME_KEYS = ("zone", "window")
_COLUMN_KINDS = ("mentions", "series", "incidents")
_TABLES = ("data", "time", "columns", "severity")
# keys people write for a key of the format (suggested when refused)
_SYNONYMS = {
    "tz": "time.zone",
    "timezone": "time.zone",
    "time_zone": "time.zone",
    "zone": "time.zone",
    "freq": "time.window",
    "window": "time.window",
    "window_length": "time.window",
    "severity_map": "severity",
    "severities": "severity",
    "column": "columns",
    "mapping": "columns",
    "planned": "data.planned_events",
    "events": "data.planned_events",
    "plan": "data.policy",
    **{key: f"data.{key}" for key in _DATA_KEYS},
}


@dataclass(frozen=True)
class Project:
    """A project file read and validated (:func:`load_project`) or drafted (:func:`draft_project`).

    Paths are absolute (read against the project file's folder); an empty tuple or None means
    "not named". ``tz`` is the zone of times without an offset (None = UTC), ``freq`` the
    window length (None = the commands' default, 1 h). ``mention_columns`` (or
    ``series_columns``) and ``incident_columns`` map canonical names onto the files' columns;
    ``severity_map`` maps the incident log's labels onto tiers. ``notes`` says what a draft
    guessed (empty for a file read)."""

    path: Path | None = None
    mentions: tuple[Path, ...] = ()
    series: tuple[Path, ...] = ()
    incidents: Path | None = None
    planned_events: Path | None = None
    policy: Path | None = None
    tz: str | None = None
    freq: str | None = None
    mention_columns: Mapping[str, str] = field(default_factory=dict)
    series_columns: Mapping[str, str] = field(default_factory=dict)
    incident_columns: Mapping[str, str] = field(default_factory=dict)
    severity_map: Mapping[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def folder(self) -> Path:
        """The folder relative paths are read against (the project file's, else the cwd)."""
        return self.path.parent if self.path is not None else Path.cwd()

    def summary(self) -> str:
        """One line: which project file, and what it names."""
        named = [
            f"{key} {', '.join(p.name for p in value) if isinstance(value, tuple) else value.name}"
            for key in _DATA_KEYS
            if (value := getattr(self, key))
        ]
        extra = [f"time zone {self.tz or 'UTC'}", f"window {self.freq or '1h'}"]
        return f"project {self.path}: " + "; ".join(named + extra)


# --- finding and reading ----------------------------------------------------------------------


def find_project(
    path: str | os.PathLike[str] | None = None,
    *,
    start: str | os.PathLike[str] | None = None,
    parents: bool = True,
) -> Path | None:
    """The project file to read, or None when there is none.

    ``path`` given: that file (or ``<path>/esc-analytics.toml`` for a folder), which must
    exist. Otherwise the file named by ``$ESC_ANALYTICS_PROJECT``, else ``esc-analytics.toml``
    in ``start`` (default: the working directory) or, with ``parents``, the nearest folder
    above it (a notebook's kernel runs in ``notebooks/``)."""
    if path is not None and os.fspath(path) != "":
        return _existing(Path(os.fspath(path)).expanduser(), "project file")
    env = os.environ.get(PROJECT_ENV, "").strip()
    if env:
        return _existing(Path(env).expanduser(), f"project file (${PROJECT_ENV})")
    here = Path(start) if start is not None else Path.cwd()
    here = here.absolute()
    for folder in (here, *here.parents) if parents else (here,):
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            return candidate
    return None


def _existing(path: Path, what: str) -> Path:
    if path.is_dir():
        path = path / PROJECT_FILE
    if not path.is_file():
        raise ProjectError(f"{not_found(path, what)}; 'esc-analytics init' writes one",
                           source=str(path))
    return path.absolute()


def load_project(path: str | os.PathLike[str] | None = None) -> Project:
    """Read and validate a project file (see :func:`find_project` for where it is looked for
    when ``path`` is None). Raises :class:`~esc_analytics.ProjectError` naming the file and
    the key: not TOML, an unknown key (with a suggestion), a wrong type, an unknown column or
    time zone, a bad window length or severity tier."""
    found = find_project(path)
    if found is None:
        raise ProjectError(
            f"no {PROJECT_FILE} in {Path.cwd()} or the folders above it (nor ${PROJECT_ENV}); "
            "'esc-analytics init' writes one"
        )
    source = str(found)
    try:
        text = found.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProjectError(f"not UTF-8 text (byte {exc.start}); save it as UTF-8",
                           source=source) from None
    except OSError as exc:
        raise ProjectError(f"cannot be read: {exc.strerror or exc}", source=source) from None
    try:
        raw = tomllib.loads(text)
    except RecursionError:
        raise ProjectError("not valid TOML: nested too deep", source=source) from None
    except tomllib.TOMLDecodeError as exc:
        hint = ""
        at = re.search(r"at line (\d+)", str(exc))
        line = text.splitlines()[int(at.group(1)) - 1] if at and int(at.group(1)) <= len(
            text.splitlines()) else ""
        if "\\" in line:
            hint = "; in double quotes a backslash starts an escape: write paths with / or " \
                   "in single quotes ('C:\\data\\x.csv')"
        raise ProjectError(f"not valid TOML: {exc}{hint}", source=source) from None
    return project_from_dict(raw, path=found)


def project_from_dict(raw: Mapping[str, Any], *, path: str | os.PathLike[str]) -> Project:
    """Validate the parsed TOML of a project file at ``path`` (paths read against its folder)."""
    source = str(path)
    folder = Path(path).absolute().parent
    _refuse_unknown(raw, _TABLES, "", source)
    data = _table(raw, "data", source)
    _refuse_unknown(data, _DATA_KEYS, "data.", source)
    time = _table(raw, "time", source)
    _refuse_unknown(time, _TIME_KEYS, "time.", source)
    columns = _table(raw, "columns", source)
    _refuse_unknown(columns, _COLUMN_KINDS, "columns.", source)
    if data.get("mentions") and data.get("series"):
        raise ProjectError("give mentions or series, not both", source=source, key="data")
    mappings = {}
    for kind in _COLUMN_KINDS:
        table = _table(columns, kind, source, prefix="columns.")
        _refuse_unknown(table, tuple(COLUMN_ALIASES[kind]), f"columns.{kind}.", source)
        for canonical, name in table.items():
            if not isinstance(name, str) or not name.strip():
                raise ProjectError(
                    f"expected the name of a column of your file, e.g. {canonical} = \"Date\"",
                    source=source, key=f"columns.{kind}.{canonical}",
                )
        mappings[kind] = {str(k): str(v) for k, v in table.items()}
    severity = _table(raw, "severity", source)
    severity_map: dict[str, int] = {}
    for label, tier in severity.items():
        if isinstance(tier, bool) or not isinstance(tier, int) or not 1 <= tier <= \
                MAX_SEVERITY_TIER:
            raise ProjectError(
                f"expected a tier, a whole number 1-{MAX_SEVERITY_TIER} (higher = more "
                f"severe), got {tier!r}", source=source, key=f"severity.{_toml_key(label)}",
            )
        severity_map[str(label)] = tier
    tz = time.get("zone")
    if tz is not None:
        if not isinstance(tz, str) or not tz.strip():
            raise ProjectError("expected a time zone name such as \"Europe/Paris\"",
                               source=source, key="time.zone")
        try:
            check_time_zone(tz)
        except DataLoadError as exc:
            raise ProjectError(str(exc), source=source, key="time.zone") from None
    freq = time.get("window")
    if freq is not None:
        freq = _window(freq, source)
    return Project(
        path=Path(path).absolute(),
        mentions=_paths(data, "mentions", folder, source),
        series=_paths(data, "series", folder, source),
        incidents=_path(data, "incidents", folder, source),
        planned_events=_path(data, "planned_events", folder, source),
        policy=_path(data, "policy", folder, source),
        tz=tz,
        freq=freq,
        mention_columns=mappings["mentions"],
        series_columns=mappings["series"],
        incident_columns=mappings["incidents"],
        severity_map=severity_map,
    )


def _table(raw: Mapping[str, Any], key: str, source: str, prefix: str = "") -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ProjectError(
            f"expected a table ([{prefix}{key}] followed by key = value lines), got "
            f"{type(value).__name__}", source=source, key=f"{prefix}{key}",
        )
    return value


def _refuse_unknown(table: Mapping[str, Any], known: Sequence[str], prefix: str,
                    source: str) -> None:
    for key in table:
        if key in known:
            continue
        guess = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.6)
        suggestion = f"{prefix}{guess[0]}" if guess else _SYNONYMS.get(str(key).lower(), "")
        if suggestion == f"{prefix}{key}":
            suggestion = ""
        hint = f" (did you mean {suggestion}?)" if suggestion else ""
        raise ProjectError(
            f"unknown key{hint}; known here: {', '.join(known)}",
            source=source, key=f"{prefix}{_toml_key(str(key))}",
        )


def _resolve(value: str, folder: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else folder / path


def _check_path_text(value: Any, key: str, source: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProjectError(f"expected a file name in quotes, got {value!r}", source=source,
                           key=key)
    if "\x00" in value:
        raise ProjectError("a file name cannot hold a NUL character", source=source, key=key)
    return value


def _path(data: Mapping[str, Any], key: str, folder: Path, source: str) -> Path | None:
    if key not in data:
        return None
    return _resolve(_check_path_text(data[key], f"data.{key}", source), folder)


def _paths(data: Mapping[str, Any], key: str, folder: Path, source: str) -> tuple[Path, ...]:
    value = data.get(key)
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ProjectError("expected a file name or a list of file names, got []",
                           source=source, key=f"data.{key}")
    return tuple(
        _resolve(_check_path_text(item, f"data.{key}", source), folder) for item in items
    )


def _window(value: Any, source: str) -> str:
    error = ProjectError(
        f"expected a fixed window length such as \"5min\", \"1h\" or \"1D\", got {value!r}",
        source=source, key="time.window",
    )
    if not isinstance(value, str):
        raise error
    try:
        length = pd.Timedelta(value)
    except ValueError:
        raise error from None
    if pd.isna(length) or length <= pd.Timedelta(0) or length.value % 1_000_000_000:
        raise error
    return value


# --- writing ----------------------------------------------------------------------------------

_DATA_HELP = {
    "mentions": "one row per post (CSV, CSV.gz, Parquet, JSON lines); a list for several",
    "series": "or pre-aggregated volumes (topic, window_start, volume) instead of mentions",
    "incidents": "your incident log (incident_id, topic, started_at, severity...)",
    "planned_events": "launches, campaigns (topic, started_at, ended_at): kept out of baselines",
    "policy": "your escalation plan (YAML)",
}


def _toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_string(key)


def _relative(path: Path, folder: Path) -> str:
    try:
        return Path(os.path.relpath(path, folder)).as_posix() if path.is_relative_to(
            folder) else str(path)
    except ValueError:  # another drive (Windows)
        return str(path)


def project_toml(project: Project, folder: str | os.PathLike[str] | None = None) -> str:
    """The project as a commented TOML file whose paths are relative to ``folder`` (default:
    the project's own folder); :func:`load_project` reads it back to the same project."""
    where = Path(folder).absolute() if folder is not None else project.folder
    lines = [
        "# esc-analytics project: where your data is and how to read it.",
        "# Every command (check, calibrate, backtest, detect, fit-model, aggregate, render) and",
        "# every notebook reads this file when it is in the working directory (or give",
        f"# --project FILE, or set ${PROJECT_ENV}); options given on the command line win.",
        "# Paths are relative to this file's folder.",
    ]
    if project.notes:
        lines.append("#")
        lines.append("# What `esc-analytics init` saw (check it):")
        lines.extend(f"#   {note}" for note in project.notes)
    lines += ["", "[data]"]
    for key in _DATA_KEYS:
        value = getattr(project, key)
        if isinstance(value, tuple):
            text = (
                _toml_string(_relative(value[0], where)) if len(value) == 1
                else "[" + ", ".join(_toml_string(_relative(p, where)) for p in value) + "]"
            ) if value else ""
        else:
            text = _toml_string(_relative(value, where)) if value is not None else ""
        if text:
            lines.append(f"{key} = {text}  # {_DATA_HELP[key]}")
        else:
            example = {"mentions": '"mentions.csv"', "series": '["volumes.csv"]',
                       "incidents": '"incidents.csv"', "planned_events": '"planned_events.csv"',
                       "policy": '"policy.yaml"'}[key]
            if not (key == "series" and project.mentions) and not (
                    key == "mentions" and project.series):
                lines.append(f"# {key} = {example}  # {_DATA_HELP[key]}")
    lines += [
        "",
        "[time]",
        f"zone = {_toml_string(project.tz or 'UTC')}  # zone of times written without an "
        "offset (an IANA name, e.g. \"Europe/Paris\")",
        f"window = {_toml_string(project.freq or '1h')}  # window length of the features, "
        "e.g. \"5min\", \"1h\", \"1D\"",
    ]
    for kind, mapping, what in (
        ("mentions", project.mention_columns, "mention export"),
        ("series", project.series_columns, "volume series"),
        ("incidents", project.incident_columns, "incident log"),
    ):
        if not mapping and kind == "series":
            continue
        lines += ["", f"[columns.{kind}]  # canonical name = \"the column of your {what}\""]
        if not mapping:
            known = ", ".join(k for k in COLUMN_ALIASES[kind] if k != "sentiment_estimated")
            lines.append(f"# known: {known}")
        lines.extend(f"{k} = {_toml_string(v)}" for k, v in mapping.items())
    lines += ["", "[severity]  # your incident log's labels -> tier (higher = more severe)"]
    if project.severity_map:
        lines.extend(f"{_toml_key(k)} = {v}" for k, v in project.severity_map.items())
    else:
        known = ", ".join(f"{k}={v}" for k, v in list(SEVERITY_LABELS.items())[:6])
        lines.append(f"# known without a mapping: 1-{MAX_SEVERITY_TIER}, {known}...")
        lines.append("# P1 = 3")
    lines.extend(f"# {k} = ?   (a label of your log: give its tier)"
                 for k in _unmapped_labels(project))
    return "\n".join(lines) + "\n"


def _unmapped_labels(project: Project) -> list[str]:
    prefix = "severity label not understood: "
    return [note[len(prefix):] for note in project.notes if note.startswith(prefix)]


def save_project(
    project: Project, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write ``project`` as commented TOML at ``path`` (a folder gets ``esc-analytics.toml``),
    atomically, paths relative to its folder. An existing file is kept unless ``overwrite``
    (its previous content then stays as ``.bak``)."""
    target = Path(path)
    if target.is_dir():
        target = target / PROJECT_FILE
    if target.exists() and not overwrite:
        raise ProjectError(f"{target} already exists; keep it, or overwrite it with --force "
                           "(overwrite=True)")
    text = project_toml(project, folder=target.absolute().parent)
    return atomic_write_text(target, text, backup=target.exists())


# --- a first look at a folder -----------------------------------------------------------------

_DATA_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".txt", ".parquet", ".json", ".jsonl",
                  ".ndjson", ".json.gz", ".jsonl.gz")
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".ipynb_checkpoints",
              "out", "policies", "retro-notes"}
_MAX_FILES = 200
_MENTION_SIGNS = ("text", "author", "sentiment", "author_followers", "engagement",
                  "is_verified")
_INCIDENT_SIGNS = ("severity", "ended_at", "detected_at", "escalated_at", "resolved_at")
_PLANNED_NAME = re.compile(r"plan+ed|launch|campaign|calendar|event", re.IGNORECASE)
_INCIDENT_NAME = re.compile(r"incident|escalation|crisis|ticket|issue", re.IGNORECASE)
_RANKED_LABEL = re.compile(r"^\s*(p|sev|s|priority|prio)\s*[-_ ]?\s*(\d{1,2})\s*$", re.I)


def _candidate_files(folder: Path) -> list[Path]:
    files: list[Path] = []
    for root, dirs, names in os.walk(folder):
        depth = len(Path(root).relative_to(folder).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS
                         and depth < 2)
        for name in sorted(names):
            if name.startswith(".") or name == PROJECT_FILE:
                continue
            if name.lower().endswith((*_DATA_SUFFIXES, ".yaml", ".yml")):
                files.append(Path(root) / name)
        if len(files) >= _MAX_FILES:
            break
    return files[:_MAX_FILES]


# words of listening tools' headers that name a canonical column (Brandwatch "Reach (new)",
# "Page Type"; Sprout "Network"), guessed by init only: the loaders never map them by themselves
_GUESS_WORDS = {
    "author_followers": ("reach", "audience"),
    "platform": ("page", "network"),
    "engagement": ("likes", "reactions"),
    "author": ("profile", "sender"),
}


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[^0-9a-z]+", str(name).lower()) if t]


def _guess_columns(columns: Sequence[str], kind: str) -> tuple[dict[str, str], list[str]]:
    """The loaders' own mapping of ``columns`` for ``kind``, completed by a word of a header
    (``Query Name`` → topic); the guesses by word are listed."""
    mapping = resolve_columns(columns, None, kind)
    used = set(mapping.values())
    guessed = []
    for canonical, aliases in COLUMN_ALIASES[kind].items():
        if canonical in mapping or canonical == "sentiment_estimated":
            continue
        words = {a for a in aliases if "_" not in a} | set(_GUESS_WORDS.get(canonical, ()))
        for column in columns:
            if column not in used and words & set(_tokens(column)):
                mapping[canonical] = str(column)
                used.add(column)
                guessed.append(canonical)
                break
    order = list(COLUMN_ALIASES[kind])
    return {c: mapping[c] for c in sorted(mapping, key=order.index)}, guessed


@dataclass
class _Look:
    path: Path
    kind: str
    columns: list[str]
    mapping: dict[str, str] = field(default_factory=dict)
    guessed: list[str] = field(default_factory=list)
    frame: pd.DataFrame | None = None


def _look(path: Path) -> _Look | None:
    name = path.name.lower()
    if name.endswith((".yaml", ".yml")):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")[:200_000]
        except OSError:
            return None
        return _Look(path, "policy", []) if re.search(r"^tiers\s*:", text, re.M) else None
    if name.endswith(".json") and is_nab_windows(path):
        return _Look(path, "nab_windows", [])
    try:
        table = read_head(path)
    except (EscAnalyticsError, OSError, ValueError):
        return None
    columns = [str(c) for c in table.frame.columns]
    mentions, m_guessed = _guess_columns(columns, "mentions")
    incidents, i_guessed = _guess_columns(columns, "incidents")
    literal = {c.strip().lower() for c in columns}
    if "created_at" in mentions and any(k in mentions for k in _MENTION_SIGNS) and not (
        "started_at" in incidents and any(k in incidents for k in ("severity", "ended_at"))
        and _INCIDENT_NAME.search(path.name)
    ):
        return _Look(path, "mentions", columns, mentions, m_guessed, table.frame)
    if "started_at" in incidents:
        is_planned = (
            "started_at" in literal
            and not any(k in incidents for k in ("severity", "detected_at", "escalated_at"))
            and (bool(_PLANNED_NAME.search(path.name)) or not _INCIDENT_NAME.search(path.name))
        )
        if is_planned:
            return _Look(path, "planned_events", columns)
        if any(k in incidents for k in _INCIDENT_SIGNS) or _INCIDENT_NAME.search(path.name):
            return _Look(path, "incidents", columns, incidents, i_guessed, table.frame)
    series, s_guessed = _guess_columns(columns, "series")
    if "window_start" in series and "volume" in series:
        return _Look(path, "series", columns, series, s_guessed, table.frame)
    return None


def _mapping_notes(look: _Look, folder: Path) -> list[str]:
    rel = _relative(look.path, folder)
    pairs = ", ".join(
        canonical if source == canonical else f"{source!r} → {canonical}"
        + (" (guessed from a word: check)" if canonical in look.guessed else "")
        for canonical, source in look.mapping.items()
    )
    return [f"{rel}: {look.kind}; columns {pairs}" if pairs else f"{rel}: {look.kind}"]


def _time_zone_note(look: _Look, column: str) -> str:
    if look.frame is None or column not in look.mapping:
        return ""
    values = look.frame[look.mapping[column]].head(200)
    try:
        _, _, _, notes = parse_times(values, None)
    except Exception:  # a sample the parser cannot take: no note
        return ""
    source = look.mapping[column]
    if "naive" in notes:
        return (f"{look.path.name}: times in {source!r} have no offset: read as UTC; set "
                "time.zone to your export's zone if it is not UTC")
    if "aware" in notes:
        return f"{look.path.name}: times in {source!r} carry their offset (converted to UTC)"
    return ""


def _window_guess(look: _Look) -> str | None:
    if look.frame is None or "window_start" not in look.mapping:
        return None
    try:
        times, _, _, _ = parse_times(look.frame[look.mapping["window_start"]], None)
    except Exception:  # a sample the parser cannot take: keep the default
        return None
    steps = pd.Series(sorted(times.dropna().unique())).diff().dropna()
    steps = steps[steps > pd.Timedelta(0)]
    if steps.empty:
        return None
    step = pd.Timedelta(steps.min())
    minutes = step / pd.Timedelta(minutes=1)
    if minutes != int(minutes) or minutes <= 0:
        return None
    return f"{int(minutes // 60)}h" if minutes % 60 == 0 else f"{int(minutes)}min"


def _severity_guess(look: _Look) -> tuple[dict[str, int], list[str]]:
    """Labels of the log's severity column that are neither tiers nor known labels: ranked
    ones (P1, Sev-2) mapped with 1 = most severe; others listed for the user."""
    if look.frame is None or "severity" not in look.mapping:
        return {}, []
    values = look.frame[look.mapping["severity"]].astype(str).str.strip()
    labels = sorted({v for v in values if v and v.lower() not in SEVERITY_LABELS
                     and not re.fullmatch(r"\d{1,2}", v)})
    ranked = {label: int(m.group(2)) for label in labels if (m := _RANKED_LABEL.match(label))}
    mapping: dict[str, int] = {}
    if ranked:
        # the ranks the sample skipped (P2 between P1 and P3) are written too, in its style
        worst = max(max(ranked.values()), 1)
        first = min(ranked, key=lambda label: (ranked[label], label))
        style = re.sub(r"\d+", "{}", first, count=1)
        for rank in range(1, worst + 1):
            mapping[style.format(rank)] = worst - rank + 1
        for label, rank in sorted(ranked.items(), key=lambda kv: (kv[1], kv[0])):
            mapping.setdefault(label, max(worst - rank + 1, 1))
    return mapping, [label for label in labels if label not in mapping]


def _renamed(mapping: Mapping[str, str]) -> dict[str, str]:
    """The pairs a project file must say: a column already named as the contract is read by
    its own name (and stays readable when an export adds or drops columns)."""
    return {canonical: source for canonical, source in mapping.items() if canonical != source}


def draft_project(folder: str | os.PathLike[str] = ".") -> Project:
    """A first look at ``folder`` (and two levels of subfolders): the project a team would
    write for it. Each data file's header and first rows are read: a file with a time column
    and post-like columns (text, author, sentiment...) is mentions, one with a start time and
    severity or end times is the incident log, ``started_at`` without severity in a file named
    like launches/campaigns/events is planned events, ``timestamp, value`` is a volume series,
    a YAML file with ``tiers:`` the plan. Columns are mapped by the loaders' aliases, then by a
    word of the header (``Query Name`` → topic); ranked severity labels (P1, Sev-2) are mapped
    1 = most severe. ``notes`` says what was seen and guessed. Paths are absolute."""
    root = Path(folder).expanduser().absolute()
    if not root.is_dir():
        raise ProjectError(f"{not_found(root, 'folder')}", source=str(root))
    looks = [look for look in map(_look, _candidate_files(root)) if look is not None]
    by_kind: dict[str, list[_Look]] = {}
    for look in looks:
        by_kind.setdefault(look.kind, []).append(look)
    notes: list[str] = []
    mentions: tuple[Path, ...] = ()
    series: tuple[Path, ...] = ()
    mention_columns: dict[str, str] = {}
    series_columns: dict[str, str] = {}
    tz_notes: list[str] = []
    freq = None
    if by_kind.get("mentions"):
        first = max(by_kind["mentions"], key=lambda look: look.path.stat().st_size)
        same = [look for look in by_kind["mentions"] if look.columns == first.columns]
        mentions = tuple(look.path for look in same)
        mention_columns = _renamed(first.mapping)
        notes.extend(_mapping_notes(first, root))
        notes.extend(f"{_relative(look.path, root)}: mentions too (same columns)"
                     for look in same if look is not first)
        notes.extend(f"{_relative(look.path, root)}: looks like mentions with other columns: "
                     "not listed (add it with its own export's columns)"
                     for look in by_kind["mentions"] if look not in same)
        tz_notes.append(_time_zone_note(first, "created_at"))
        if "topic" not in first.mapping:
            notes.append("no topic column in the mentions: every post gets topic 'all', "
                         "so incidents need topic 'all' to be evaluated (map your topic "
                         "column under [columns.mentions] topic = ...)")
    elif by_kind.get("series"):
        series = tuple(look.path for look in by_kind["series"])
        first = by_kind["series"][0]
        series_columns = _renamed(first.mapping)
        notes.extend(_mapping_notes(first, root))
        freq = _window_guess(first)
    incidents = None
    incident_columns: dict[str, str] = {}
    severity_map: dict[str, int] = {}
    candidates = by_kind.get("incidents", []) + by_kind.get("nab_windows", [])
    if candidates:
        chosen = sorted(candidates, key=lambda look: (
            not _INCIDENT_NAME.search(look.path.name), look.kind != "incidents",
            str(look.path)))[0]
        incidents = chosen.path
        if chosen.kind == "incidents":
            incident_columns = _renamed(chosen.mapping)
            notes.extend(_mapping_notes(chosen, root))
            tz_notes.append(_time_zone_note(chosen, "started_at"))
            severity_map, unknown = _severity_guess(chosen)
            if severity_map:
                shown = ", ".join(f"{k}={v}" for k, v in severity_map.items())
                notes.append(f"severity labels ranked 1 = most severe: {shown} (check)")
            notes.extend(f"severity label not understood: {label}" for label in unknown)
        else:
            notes.append(f"{_relative(chosen.path, root)}: NAB anomaly windows (incidents)")
        notes.extend(f"{_relative(look.path, root)}: looks like an incident log too: not used"
                     for look in candidates if look is not chosen)
    planned = by_kind.get("planned_events", [])
    policy = by_kind.get("policy", [])
    for kind, found in (("planned events", planned), ("policy", policy)):
        if found:
            notes.append(f"{_relative(found[0].path, root)}: {kind}")
            notes.extend(f"{_relative(look.path, root)}: {kind} too: not used"
                         for look in found[1:])
    if not mentions and not series:
        notes.append("no file looks like mentions (a time column and text, author or "
                     "sentiment) or a volume series: set data.mentions yourself")
    notes.extend(note for note in tz_notes if note)
    return Project(
        path=None,
        mentions=mentions,
        series=series,
        incidents=incidents,
        planned_events=planned[0].path if planned else None,
        policy=policy[0].path if policy else None,
        tz=None,
        freq=freq,
        mention_columns=mention_columns,
        series_columns=series_columns,
        incident_columns=incident_columns,
        severity_map=severity_map,
        notes=tuple(notes),
    )
