"""What the sub-commands read, shared by all of them: the argparse options of the inputs and
of a fit's objective, and the loading of mention or series files into features (through
:func:`esc_analytics.load_inputs`, the library's one "files → features" path), of incident logs
(NAB's ``anomaly_windows.json`` recognised), of policy files and of mention texts.

Every loading command also reads the project file (``--project``, else ``esc-analytics.toml``
of the working directory): :func:`apply_project` fills the options not given before the
command runs (``cli.main`` calls the ``prepare`` hook these options set).

Commands import this module and ``_common`` only, never each other. The library is imported
inside the functions, so that a command starts without loading what it does not use.
"""

from __future__ import annotations

import argparse
import glob
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._util.errors import DataLoadError, EscAnalyticsError, PolicyError
from .._util.paths import not_found
from ._common import gathered_report, parse_mapping, report_load, report_read, report_warning

# --- options ------------------------------------------------------------------------------


def add_input_options(
    parser: argparse.ArgumentParser, *, incidents: bool, severity: bool = False
) -> None:
    """--mentions/--series FILE..., --column, --tz, --freq (and --incidents, --severity,
    --incident-column), each defaulting to the project file's (see :func:`apply_project`)."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--mentions", nargs="+", metavar="FILE", help="mention files")
    source.add_argument(
        "--series",
        nargs="+",
        metavar="FILE",
        help="volume files (topic, window_start, volume; NAB timestamp,value: topic = file stem)",
    )
    source.add_argument(
        "--features",
        metavar="FILE",
        help="a features file written by 'esc-analytics aggregate' (.parquet or .csv, on any "
        "engine): its windows and measures are used as they are",
    )
    add_column_options(parser)
    add_glob_option(parser)
    add_engine_options(parser)
    parser.add_argument(
        "--freq",
        default=None,
        help="window length: of --mentions windows (1h); of --series when it cannot be told "
        "from the file (a single row)",
    )
    if incidents:
        parser.add_argument(
            "--incidents",
            metavar="FILE",
            help="incident log (CSV/JSON: incident_id, topic, started_at, ended_at, severity) "
            "or NAB's anomaly_windows.json (default: the project's)",
        )
        parser.add_argument(
            "--incident-column",
            action="append",
            metavar="CANONICAL=SOURCE",
            help="map a column of your incident log, e.g. started_at=opened (repeatable)",
        )
    if severity:
        parser.add_argument(
            "--severity",
            action="append",
            metavar="LABEL=TIER",
            help="map a severity label of your incident log to a tier (higher = more severe), "
            "e.g. --severity P1=3 --severity P2=2 --severity P3=1 (repeatable)",
        )


def add_period_and_planned_options(parser: argparse.ArgumentParser) -> None:
    """--planned-events FILE, --planned-events-mode mute|mark, --from, --to."""
    parser.add_argument(
        "--planned-events",
        metavar="FILE",
        help="planned events (topic, started_at, ended_at): kept out of the baselines, and "
        "alerts during them muted (or marked, --planned-events-mode), never false escalations",
    )
    parser.add_argument(
        "--planned-events-mode",
        choices=("mute", "mark"),
        default="mute",
        help="mute: no alert during a planned event (listed as muted); mark: alerts go out, "
        "marked, and are not counted as false escalations (default: mute)",
    )
    parser.add_argument(
        "--from", dest="period_from", metavar="TIME",
        help="first time of the period scored (ISO 8601; naive = --tz, else UTC); earlier "
        "data still feeds the baselines",
    )
    parser.add_argument(
        "--to", dest="period_to", metavar="TIME",
        help="end of the period scored (exclusive)",
    )


def period_of(args: argparse.Namespace, features: Any) -> tuple[Any, Any] | None:
    """(start, end) of --from/--to in UTC (a missing side: the features' own first window
    start or last window end), or None when neither is given."""
    import pandas as pd

    from .._util.errors import EscAnalyticsError

    given = (getattr(args, "period_from", None), getattr(args, "period_to", None))
    if given == (None, None):
        return None
    bounds = []
    for option, text in zip(("--from", "--to"), given, strict=True):
        if text is None:
            bounds.append(None)
            continue
        try:
            ts = pd.Timestamp(text)
        except (ValueError, TypeError):
            raise EscAnalyticsError(
                f"{option} {text!r} is not a time; write e.g. 2026-03-01 or 2026-03-01T08:00Z"
            ) from None
        if ts.tzinfo is None:
            ts = ts.tz_localize(getattr(args, "tz", None) or "UTC")
        bounds.append(ts.tz_convert("UTC"))
    starts = pd.to_datetime(features["window_start"], utc=True)
    start = bounds[0] if bounds[0] is not None else starts.min()
    end = bounds[1] if bounds[1] is not None else starts.max() + pd.Timedelta(
        features.attrs.get("freq") or _step(starts)
    )
    if not end > start:
        raise EscAnalyticsError(f"--to ({end}) must be after --from ({start})")
    return start, end


def _step(starts: Any) -> Any:
    import pandas as pd

    values = starts.drop_duplicates().sort_values()
    return values.diff().min() if len(values) > 1 else pd.Timedelta("1h")


def in_period(frame: Any, period: tuple[Any, Any] | None) -> Any:
    """The rows of ``frame`` whose window_start lies in ``period`` (all when None)."""
    import pandas as pd

    if period is None:
        return frame
    starts = pd.to_datetime(frame["window_start"], utc=True)
    keep = ((starts >= period[0]) & (starts < period[1])).to_numpy()
    return frame[keep].reset_index(drop=True)


def planned_mode(args: argparse.Namespace) -> str | None:
    """The --planned-events-mode when --planned-events was given, else None."""
    return args.planned_events_mode if getattr(args, "planned_events", None) else None
def add_engine_options(parser: argparse.ArgumentParser) -> None:
    """--engine (auto: DuckDB for files, Spark when a master or remote is given or
    SPARK_REMOTE is set), --spark-master, --spark-remote, --memory-limit: how mention files
    are aggregated (``aggregate`` and every command's --mentions)."""
    from ..features import ENGINES

    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="auto (default): duckdb for files, spark when --spark-master/--spark-remote or "
        "SPARK_REMOTE is set; duckdb: out of core; pandas: in memory; spark: on a cluster",
    )
    parser.add_argument(
        "--spark-master", metavar="URL", help="Spark master for --engine spark, e.g. local[2]"
    )
    parser.add_argument(
        "--spark-remote",
        metavar="URL",
        help="Spark Connect server for --engine spark, e.g. sc://host:15002",
    )
    parser.add_argument(
        "--memory-limit",
        default=None,
        metavar="SIZE",
        help="memory DuckDB may use before spilling to disk (500MB)",
    )


def engine_kwargs(args: argparse.Namespace, source: Any = None) -> dict[str, Any]:
    """The aggregation engine's keyword arguments of :func:`esc_analytics.aggregate_files`
    from the options of :func:`add_engine_options`."""
    from ..features import choose_engine

    if args.spark_master and args.spark_remote:
        raise EscAnalyticsError("give --spark-master or --spark-remote, not both")
    engine = choose_engine(
        args.engine, source, spark_master=args.spark_master, spark_remote=args.spark_remote
    )
    if engine != "spark" and (args.spark_master or args.spark_remote):
        raise EscAnalyticsError(
            f"--spark-master/--spark-remote need --engine spark or auto, not {args.engine}"
        )
    out: dict[str, Any] = {"engine": engine}
    if engine == "spark":
        out.update(spark_master=args.spark_master, spark_remote=args.spark_remote)
    if args.memory_limit:
        out["memory_limit"] = args.memory_limit
    return out


def add_glob_option(parser: argparse.ArgumentParser) -> None:
    """--glob: read file names as patterns (``*``, ``?``, ``[...]``); without it a name is the
    one file it names, brackets and stars included."""
    parser.add_argument(
        "--glob",
        action="store_true",
        help="treat the file names given as patterns (quoted '*.csv', 'part-?.parquet'); "
        "without it every name is read as written",
    )


def expand_files(names: Sequence[str], use_glob: bool) -> list[str]:
    """The files to read: ``names`` as written, or each pattern's matches (sorted) with
    ``use_glob``; a pattern that matches nothing is an error naming it."""
    if not use_glob:
        return list(names)
    files: list[str] = []
    for name in names:
        matches = sorted(glob.glob(name, recursive=True))
        if not matches:
            raise DataLoadError(f"--glob: no file matches {name!r}", source=name)
        files.extend(m for m in matches if m not in files)
    return files


def add_column_options(
    parser: argparse.ArgumentParser,
    column_help: str = "map a column of your files, e.g. created_at=tweet_created",
) -> None:
    """--column CANONICAL=SOURCE (repeatable) and --tz: how to read the user's files."""
    parser.add_argument(
        "--column", action="append", metavar="CANONICAL=SOURCE", help=column_help
    )
    parser.add_argument("--tz", metavar="ZONE", help="zone of times without an offset (UTC)")
    add_project_option(parser)


# --- the project file ---------------------------------------------------------------------


def add_project_option(parser: argparse.ArgumentParser) -> None:
    """--project FILE / --no-project: where the inputs' defaults come from (the project file
    ``esc-analytics.toml`` of the working directory, or ``$ESC_ANALYTICS_PROJECT``). Options
    given on the command line win; :func:`apply_project` runs before the command."""
    parser.add_argument(
        "--project",
        metavar="FILE",
        help="project file naming your data, columns, time zone and severities "
        "(default: esc-analytics.toml in the working directory; 'esc-analytics init' writes one)",
    )
    parser.add_argument(
        "--no-project", action="store_true", help="ignore any project file"
    )
    parser.set_defaults(prepare=apply_project)


def apply_project(args: argparse.Namespace) -> None:
    """Fill the options not given from the project file (found as :func:`find_project` says,
    in the working directory only), then check that the inputs a command needs are named.

    Paths come from the project as absolute paths (read against its folder); column mappings
    (for the project's own files) and severity labels are merged under the ones given
    (``--column`` wins per column); the project's path is reported with the load summaries."""
    from ..io import PROJECT_FILE, find_project, load_project

    project = None
    if not getattr(args, "no_project", False):
        found = find_project(args.project, parents=False)
        project = load_project(found) if found is not None else None
    args.project_file = project
    if project is not None:
        report_read(args, project.summary(), {"kind": "project", "source": str(project.path)})
        _fill_from(args, project)
    if getattr(args, "files", None) == [] or (
        hasattr(args, "mentions") and not args.mentions and not args.series
        and not getattr(args, "features", None)
    ):
        where = (f"the project {project.path} names none" if project is not None
                 else f"no project file ({Path.cwd() / PROJECT_FILE} not found)")
        option = "FILE..." if hasattr(args, "files") else (
            "--mentions FILE..., --series FILE... or --features FILE"
            if hasattr(args, "features") else "--mentions FILE... or --series FILE..."
        )
        raise EscAnalyticsError(
            f"no input: give {option}, or name your data in a project file ({where}; "
            "'esc-analytics init' writes one)"
        )
    if getattr(args, "incidents", "") is None:  # the command reads an incident log
        where = (f"the project {project.path} names none" if project is not None
                 else f"no project file in {Path.cwd()}")
        raise EscAnalyticsError(
            f"no incident log: give --incidents FILE, or set data.incidents in the project "
            f"file ({where})"
        )
    wants_policy = getattr(args, "policy_from_project", False)
    if wants_policy and not args.policy and not getattr(args, "model", None):
        beside = project.folder / "policy.yaml" if project is not None else None
        if beside is not None and beside.is_file():
            args.policy = str(beside)
            report_read(args, f"policy {beside} (beside the project file)",
                        {"kind": "policy", "source": str(beside)})
        elif wants_policy == "starter":
            from .._util.paths import sample_dir

            args.policy = str(sample_dir() / "policy.yaml")
            report_warning(
                args,
                f"no policy given: the bundled starter plan ({args.policy}) is used; give "
                "--policy FILE or set data.policy in the project file "
                "('esc-analytics calibrate --out policy.yaml' fits one to your history)",
            )
        else:
            where = (f"the project {project.path} names none" if project is not None
                     else f"no project file in {Path.cwd()}")
            raise EscAnalyticsError(
                f"no policy: give --policy FILE, or set data.policy in the project file "
                f"({where})"
            )


def _fill_from(args: argparse.Namespace, project: Any) -> None:
    """The project's defaults under the options given. Its column mappings describe its own
    files: they apply to the files taken from it, not to files named on the command line."""
    own_files = False
    if hasattr(args, "files") and not args.files:
        args.files = [str(p) for p in project.mentions]
        own_files = True
    if hasattr(args, "mentions") and not args.mentions and not args.series:
        if project.series:
            args.series = [str(p) for p in project.series]
        elif project.mentions:
            args.mentions = [str(p) for p in project.mentions]
        own_files = True
    use_series = bool(getattr(args, "series", None))
    own = project.series_columns if use_series else project.mention_columns
    if hasattr(args, "column") and own_files:
        args.column = [f"{k}={v}" for k, v in own.items()] + list(args.column or [])
    if getattr(args, "incidents", "") is None and project.incidents is not None:
        args.incidents = str(project.incidents)
        if hasattr(args, "incident_column"):
            args.incident_column = [
                f"{k}={v}" for k, v in project.incident_columns.items()
            ] + list(args.incident_column or [])
    if getattr(args, "policy_from_project", False) and not args.policy and not getattr(
        args, "model", None
    ) and project.policy is not None:
        args.policy = str(project.policy)
    if getattr(args, "planned_events", "") is None and project.planned_events is not None:
        args.planned_events = str(project.planned_events)
    if getattr(args, "tz", "") is None:
        args.tz = project.tz
    if getattr(args, "freq", "") is None:
        args.freq = project.freq


def project_severity(args: argparse.Namespace | None) -> dict[str, int]:
    """The severity labels of the project file read by :func:`apply_project` (empty if none)."""
    project = getattr(args, "project_file", None)
    return dict(project.severity_map) if project is not None else {}


NAB_MAX_EARLY = "0h"  # NAB scores an alert before an anomaly window as a false positive
DEFAULT_TIERS = 3


def add_max_early_option(
    parser: argparse.ArgumentParser, *, described: bool = True, nab: bool = False
) -> None:
    """--max-early: how long before an incident an alert still counts (the library's
    default, ``DEFAULT_MAX_EARLY``). With ``nab`` the default depends on --objective
    (``NAB_MAX_EARLY`` for nab): read it with :func:`max_early_of`."""
    from ..backtesting._matching import DEFAULT_MAX_EARLY

    text = _duration_text(DEFAULT_MAX_EARLY)
    help_text = f"an alert this long before an incident still counts ({text})"
    if nab:
        help_text = (
            f"an alert this long before an incident still counts ({text}; "
            f"{NAB_MAX_EARLY} with --objective nab, whose scoring counts an alert "
            "before an anomaly window as a false positive)"
        )
    parser.add_argument(
        "--max-early", default=None if nab else text, help=help_text if described else None
    )


def max_early_of(args: argparse.Namespace) -> str:
    """--max-early as given, else its default for the objective (see
    :func:`add_max_early_option`)."""
    from ..backtesting._matching import DEFAULT_MAX_EARLY

    if args.max_early is not None:
        return args.max_early
    if getattr(args, "objective", None) == "nab":
        return NAB_MAX_EARLY
    return _duration_text(DEFAULT_MAX_EARLY)


def _duration_text(duration: Any) -> str:
    """A whole number of hours as ``24h`` (minutes as ``30min``): how the options write it."""
    import pandas as pd

    minutes = pd.Timedelta(duration) / pd.Timedelta(minutes=1)
    return f"{minutes / 60:g}h" if minutes % 60 == 0 else f"{minutes:g}min"


def add_objective_options(parser: argparse.ArgumentParser, *, tiers_from_log: bool = False) -> None:
    """--objective, --nab-profile, --max-false-per-week and --tiers: what a fit optimises
    (calibrate and fit-model share them). With ``tiers_from_log`` the number of tiers of
    objective nab defaults to what the incident log holds: read it with :func:`tiers_of`."""
    from ..calibration._sweep import OBJECTIVES

    parser.add_argument("--objective", choices=OBJECTIVES, default="recall")
    parser.add_argument(
        "--nab-profile", default="standard", help="standard, low_fp or low_fn (objective nab)"
    )
    parser.add_argument(
        "--max-false-per-week",
        type=float,
        default=1.0,
        metavar="X",
        help="false escalations per week allowed per tier (recall objective; 1.0)",
    )
    if not tiers_from_log:
        parser.add_argument(
            "--tiers", type=int, default=DEFAULT_TIERS, metavar="N", help="number of tiers (3)"
        )
        return
    parser.add_argument(
        "--tiers",
        type=int,
        default=None,
        metavar="N",
        help="number of tiers (3; with --objective nab the incident log's highest severity: "
        "1 for NAB's anomaly windows)",
    )


def tiers_of(args: argparse.Namespace, incidents: Any) -> int:
    """--tiers as given, else its default: ``DEFAULT_TIERS``, or for objective nab the
    highest severity of the incident log (NAB's windows have one: 1 tier)."""
    if args.tiers is not None:
        return int(args.tiers)
    if args.objective != "nab" or incidents is None or not len(incidents):
        return DEFAULT_TIERS
    return max(int(incidents["severity"].max()), 1)


def objective_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The fit's objective from the options of :func:`add_objective_options`, as keyword
    arguments of the calibrations and the classifiers."""
    return {
        "objective": args.objective,
        "max_false_per_week": args.max_false_per_week,
        "nab_profile": args.nab_profile,
    }


def parse_severity(pairs: list[str] | None) -> dict[str, int] | None:
    """``["P1=3", ...]`` -> ``{"P1": 3}``; None when no --severity was given."""
    mapping = parse_mapping(pairs, "--severity", "LABEL=TIER, e.g. P1=3")
    tiers: dict[str, int] = {}
    for label, tier in mapping.items():
        try:
            tiers[label] = int(tier)
        except ValueError:
            raise EscAnalyticsError(
                f"--severity {label}={tier}: the tier must be a whole number >= 1"
            ) from None
        if tiers[label] < 1:
            raise EscAnalyticsError(
                f"--severity {label}={tier}: the tier must be a whole number >= 1"
            )
    return tiers or None


# --- loading ------------------------------------------------------------------------------


def load_inputs(args: argparse.Namespace) -> tuple[Any, Any]:
    """Features and the accepted input rows, from --mentions or --series (each series topic
    gets its own time span), exactly as the library builds them (detection measures are
    computed from volume where a plan or a calibration needs them). The load summary is
    reported; the measures the input could not provide (no sentiment in a volume series...)
    are marked by the library: evaluating a policy on them warns."""
    from ..features import load_inputs

    if getattr(args, "features", None):
        return _features_file(args), None
    if args.mentions:
        engine = engine_kwargs(args)
        if engine["engine"] != "pandas":
            return _aggregated(args, engine), None
    files = {"mentions": args.mentions} if args.mentions else {"series": args.series}
    files = {kind: expand_files(paths, args.glob) for kind, paths in files.items()}
    inputs = load_inputs(
        **{kind: list(paths) for kind, paths in files.items()},
        incidents=False,
        policy=False,
        planned_events=getattr(args, "planned_events", None) or False,
        freq=args.freq,
        columns=parse_mapping(args.column) or None,
        tz=args.tz,
    )
    loaded = inputs.mentions if args.mentions else inputs.series
    report_load(args, loaded.summary)
    _report_features(args, inputs.features, inputs.planned_events)
    return inputs.features, loaded.data


def _report_features(args: argparse.Namespace, features: Any, planned: Any) -> None:
    """Say what the planned events do and which measures are absent or zero, and keep the
    features for the incident log's topic check (whatever engine made them)."""
    if planned is not None:
        n = len(planned)
        report_read(
            args,
            f"planned events: {n} from {args.planned_events}, kept out of the baselines; "
            "alerts during them: "
            + {"mute": "muted", "mark": "marked"}[args.planned_events_mode],
            {"planned_events": n, "file": str(args.planned_events),
             "mode": args.planned_events_mode},
        )
    from ..features._inputs import measures_line

    measures = measures_line(features)
    if measures and getattr(args, "json", False):  # with the load it describes
        gathered_report(args)["load"][-1]["measures"] = measures
    elif measures:
        print(measures)
    args.loaded_features = features  # for the incident log's topic check


def load_features(args: argparse.Namespace) -> Any:
    """Features from --mentions, --series or --features (see :func:`load_inputs`)."""
    return load_inputs(args)[0]


def _features_file(args: argparse.Namespace) -> Any:
    """The features of --features FILE; ``args.freq`` becomes the file's window length (a
    different --freq is an error: the windows are already made)."""
    from ..features import read_features, window_length
    from ..features._files import FREQ_ATTR

    features = read_features(args.features)
    step = features.attrs[FREQ_ATTR]
    if args.freq is not None and window_length(args.freq) != step:
        raise EscAnalyticsError(
            f"--freq {args.freq}: {args.features} holds windows of {step}; leave --freq out "
            "or aggregate again with that window length"
        )
    args.freq = step
    topics = features["topic"].nunique() if len(features) else 0
    report_read(
        args,
        f"features {args.features}: {len(features)} windows over {topics} topic(s)",
        {"source": args.features, "kind": "features", "windows": len(features)},
    )
    _report_features(args, features, None)
    return features


def _aggregated(
    args: argparse.Namespace, engine: dict[str, Any], measures: Any = None, *, report: bool = True
) -> Any:
    """The features of --mentions aggregated out of core (DuckDB or Spark), as ``aggregate``
    makes them, planned events kept out of the baselines (and marked for muting);
    ``measures``: a plan whose keyword or segment measures are computed too. The load
    summary is reported (``report``)."""
    from ..features import aggregate_files

    files = expand_files(args.mentions, args.glob)
    planned = load_planned_events(getattr(args, "planned_events", None), tz=args.tz)
    result = aggregate_files(
        files,
        columns=parse_mapping(args.column) or None,
        tz=args.tz,
        freq=args.freq if args.freq is not None else "1h",
        planned_events=planned,
        measures=measures,
        **engine,
    )
    if result.features.empty:
        raise DataLoadError(
            f"no usable mention ({_with_notes(result.summary)})", source=result.summary.source
        )
    if report:
        report_load(args, result.summary)
        _report_features(args, result.features, planned)
    return result.features


def mention_rows(args: argparse.Namespace, rows: Any) -> Any:
    """The accepted mention rows of --mentions (``rows`` when the features were built from
    them in pandas; read again when an engine aggregated the files out of core), or None
    without --mentions: what alerts take their example posts from."""
    if rows is not None or not getattr(args, "mentions", None):
        return rows
    from ..io import load_mentions

    columns = parse_mapping(args.column)
    files = expand_files(args.mentions, args.glob)
    return load_mentions(list(files), columns=columns or None, tz=args.tz).data


def _with_notes(summary: Any) -> str:
    """The summary and its notes on one line (an error message: why nothing was usable)."""
    return "; ".join([str(summary), *getattr(summary, "notes", ())])


_SEVERITY_HINT = (
    "severity must be a tier 1..N (higher = more severe) or low/medium/high/critical; "
    "map your labels with --severity, e.g. --severity P1=3 --severity P2=2 --severity P3=1"
)


def load_incident_file(
    path: str,
    tz: str | None = None,
    severity_map: dict[str, int] | None = None,
    *,
    args: argparse.Namespace | None = None,
) -> Any:
    """An incident log; NAB's ``{file: [{start, end}, ...]}`` JSON is recognised. The load
    summary is reported (with how to map unknown severity labels when some were quarantined)."""
    from .._util.schema import REASON_BAD_SEVERITY
    from ..io import incidents_from_nab_windows, is_nab_windows, load_incidents

    file = Path(path)
    if not file.is_file():
        raise DataLoadError(f"incident {not_found(path)}", source=path)
    if file.suffix.lower() == ".json" and (is_nab_windows(file) or _keyed_by_files(file)):
        incidents = incidents_from_nab_windows(file)
        report_read(
            args,
            f"incidents {path}: {len(incidents)} anomaly windows (NAB) read as incidents",
            {"source": path, "kind": "incidents", "nab_windows": len(incidents)},
        )
        return incidents
    severity_map = {**project_severity(args), **(severity_map or {})} or None
    columns = parse_mapping(
        getattr(args, "incident_column", None), "--incident-column",
        "CANONICAL=SOURCE, e.g. started_at=opened",
    )
    loaded = load_incidents(path, tz=tz, severity_map=severity_map, columns=columns or None)
    bad_severity = loaded.summary.reasons.get(REASON_BAD_SEVERITY, 0)
    if loaded.data.empty:
        hint = f"; {_SEVERITY_HINT}" if bad_severity else ""
        raise DataLoadError(
            f"no usable incident ({_with_notes(loaded.summary)}){hint}", source=path
        )
    report_load(args, loaded.summary, _SEVERITY_HINT if bad_severity else "")
    features = getattr(args, "loaded_features", None)
    if features is not None:
        from ..features._inputs import unmatched_topics_line

        line = unmatched_topics_line(features, loaded.data, cli=True)
        if line:
            report_warning(args, line)
    return loaded.data


def _keyed_by_files(file: Path) -> bool:
    """A JSON object whose keys are all data file names (``realTweets/x.csv``): meant as NAB
    windows even when some window is malformed (its loader then says which and why)."""
    try:
        head = file.read_bytes()[:1_000_000].decode("utf-8-sig")
        keys = re.findall(r'"([^"\\]{1,300})"\s*:\s*\[', head)
    except (OSError, UnicodeDecodeError):
        return False
    return bool(keys) and all(k.lower().endswith((".csv", ".csv.gz", ".parquet")) for k in keys)


def load_policy_for(path: str, features: Any) -> Any:
    """The policy file, with the feature frame's numeric columns as known features."""
    from ..features import is_detection_measure
    from ..policy import load_policy

    known = [c for c in features.columns if c not in ("topic", "window_start")]
    policy = load_policy(path, known_features=known)
    planned = {m.name for m in policy.plan_measures}  # keyword/segment: from the mentions
    missing = [
        f
        for f in policy.features_used
        if f not in features.columns and not is_detection_measure(f)  # those come from volume
        and f not in planned
    ]
    if missing:
        raise PolicyError(f"{path}: the policy uses feature(s) {missing} absent from the data")
    return policy


def with_plan_measures(args: argparse.Namespace, features: Any, rows: Any, policy: Any) -> Any:
    """``features`` with the keyword and segment measures ``policy`` reads, computed from the
    accepted mention rows (a volume series has no text or platform: a one-line error)."""
    if not policy.plan_measures:
        return features
    from ..features import add_plan_measures

    if getattr(args, "series", None):
        names = ", ".join(m.name for m in policy.plan_measures)
        raise PolicyError(
            f"the policy reads {names}, computed from mentions: give --mentions, not --series"
        )
    if all(m.name in features.columns for m in policy.plan_measures):
        return features  # e.g. a features file aggregated with this plan's measures
    if rows is None and getattr(args, "mentions", None):  # aggregated by an engine
        return _aggregated(args, engine_kwargs(args), measures=policy, report=False)
    if rows is None:
        names = ", ".join(m.name for m in policy.plan_measures)
        raise PolicyError(
            f"the policy reads {names}, computed from mentions: give --mentions (the features "
            "file does not hold them)"
        )
    return add_plan_measures(features, rows, policy, freq=args.freq or "1h")


def load_texts(args: argparse.Namespace) -> Any:
    """The mentions (with text) of ``--mentions`` for TF-IDF, or None."""
    if not getattr(args, "mentions", None):
        return None
    from ..io import load_mentions

    columns = parse_mapping(args.column)
    data = load_mentions(
        list(args.mentions), columns=columns or None, tz=args.tz, score_sentiment=False
    ).data
    return data if "text" in data.columns else None


def load_planned_events(path: str | None, tz: str | None = None) -> Any:
    """The planned events of ``--planned-events`` (validated by the library), or None."""
    if not path:
        return None
    from ..io import load_planned_events

    return load_planned_events(path, tz=tz)
