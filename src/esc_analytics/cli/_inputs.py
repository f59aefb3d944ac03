"""What the sub-commands read, shared by all of them: the argparse options of the inputs and
of a fit's objective, and the loading of mention or series files into features (through
:func:`esc_analytics.load_inputs`, the library's one "files → features" path), of incident logs
(NAB's ``anomaly_windows.json`` recognised), of policy files and of mention texts.

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
from ._common import parse_mapping, report_load, report_read

# --- options ------------------------------------------------------------------------------


def add_input_options(
    parser: argparse.ArgumentParser, *, incidents: bool, severity: bool = False
) -> None:
    """--mentions/--series FILE..., --column, --tz, --freq (and --incidents, --severity)."""
    source = parser.add_mutually_exclusive_group(required=True)
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
            required=True,
            metavar="FILE",
            help="incident log (CSV/JSON: incident_id, topic, started_at, ended_at, severity) "
            "or NAB's anomaly_windows.json",
        )
    if severity:
        parser.add_argument(
            "--severity",
            action="append",
            metavar="LABEL=TIER",
            help="map a severity label of your incident log to a tier (higher = more severe), "
            "e.g. --severity P1=3 --severity P2=2 --severity P3=1 (repeatable)",
        )


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
        planned_events=False,
        freq=args.freq,
        columns=parse_mapping(args.column) or None,
        tz=args.tz,
    )
    loaded = inputs.mentions if args.mentions else inputs.series
    report_load(args, loaded.summary)
    return inputs.features, loaded.data


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
    return features


def _aggregated(args: argparse.Namespace, engine: dict[str, Any]) -> Any:
    """The features of --mentions aggregated out of core (DuckDB or Spark), as ``aggregate``
    makes them; the load summary is reported."""
    from ..features import aggregate_files

    files = expand_files(args.mentions, args.glob)
    result = aggregate_files(
        files,
        columns=parse_mapping(args.column) or None,
        tz=args.tz,
        freq=args.freq if args.freq is not None else "1h",
        **engine,
    )
    report_load(args, result.summary)
    if result.features.empty:
        raise DataLoadError(
            f"no usable mention ({_with_notes(result.summary)})", source=result.summary.source
        )
    return result.features


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
        raise DataLoadError("incident file not found", source=path)
    if file.suffix.lower() == ".json" and (is_nab_windows(file) or _keyed_by_files(file)):
        incidents = incidents_from_nab_windows(file)
        report_read(
            args,
            f"incidents {path}: {len(incidents)} anomaly windows (NAB) read as incidents",
            {"source": path, "kind": "incidents", "nab_windows": len(incidents)},
        )
        return incidents
    loaded = load_incidents(path, tz=tz, severity_map=severity_map)
    bad_severity = loaded.summary.reasons.get(REASON_BAD_SEVERITY, 0)
    if loaded.data.empty:
        hint = f"; {_SEVERITY_HINT}" if bad_severity else ""
        raise DataLoadError(
            f"no usable incident ({_with_notes(loaded.summary)}){hint}", source=path
        )
    report_load(args, loaded.summary, _SEVERITY_HINT if bad_severity else "")
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
    missing = [
        f
        for f in policy.features_used
        if f not in features.columns and not is_detection_measure(f)  # those come from volume
    ]
    if missing:
        raise PolicyError(f"{path}: the policy uses feature(s) {missing} absent from the data")
    return policy


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
