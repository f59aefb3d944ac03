"""``esc-analytics aggregate``: mention files → one row per topic × window (Features columns).

Imports are lazy (inside ``run``) so that the command starts fast: it never loads plotly,
scikit-learn or the widgets.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._util.atomic import write_table
from .._util.errors import DataLoadError, EscAnalyticsError
from ._common import add_quiet_option, parse_mapping, report_load
from ._inputs import (
    add_column_options,
    add_engine_options,
    add_glob_option,
    engine_kwargs,
    expand_files,
    load_planned_events,
)

_OUT_SUFFIXES = (".csv", ".parquet")


def register(subparsers: Any) -> None:
    """Add the ``aggregate`` parser."""
    parser = subparsers.add_parser(
        "aggregate",
        help="aggregate mention files into per-topic, per-window features",
        description=(
            "Count mentions per topic and time window (volume, negative volume and share, "
            "unique authors, reach, engagement, influencer mentions) and add baselines learned "
            "from earlier windows. Files are aggregated out of core with DuckDB, or on Spark "
            "(--engine spark). The output carries its window length and measures: every "
            "command and notebook can start from it (--features FILE)."
        ),
    )
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="CSV, CSV.gz, Parquet or JSON lines files (default: the project file's mentions; "
        "with --engine spark: any path Spark reads, s3a://... and folders of part files)",
    )
    add_glob_option(parser)
    add_column_options(
        parser, "map a column of your export, e.g. created_at=tweet_created (repeatable)"
    )
    parser.add_argument(
        "--freq", default=None, help="window length, e.g. 5min, 1h, 1D (the project's, else 1h)"
    )
    parser.add_argument("--topic", metavar="NAME", help="topic of rows without one")
    parser.add_argument(
        "--influencer-followers",
        type=float,
        default=None,
        metavar="N",
        help="followers from which an author counts as an influencer (10000)",
    )
    parser.add_argument(
        "--planned-events",
        metavar="FILE",
        help="CSV of planned events (topic, started_at, ended_at) kept out of baselines",
    )
    add_engine_options(parser)
    parser.add_argument(
        "--quarantine",
        metavar="PATH",
        help="write rejected rows here (CSV; with --engine spark a Parquet folder, every row)",
    )
    add_quiet_option(parser)
    parser.add_argument(
        "--out", required=True, metavar="PATH", help="output file (.csv or .parquet)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Aggregate, write the features and the quarantine, print the load summary."""
    from .._util.schema import DEFAULT_INFLUENCER_FOLLOWERS
    from ..features import aggregate_files, window_length, write_features

    engine = engine_kwargs(args)
    spark = engine["engine"] == "spark"
    if not spark:  # Spark expands its own patterns (--glob) and reads remote paths
        args.files = expand_files(args.files, args.glob)
    out = Path(args.out)
    if out.suffix.lower() not in _OUT_SUFFIXES:
        raise EscAnalyticsError(f"--out {args.out}: use a .csv or .parquet file name")
    if not out.parent.exists():
        raise EscAnalyticsError(f"--out {args.out}: directory {out.parent} does not exist")
    columns = parse_mapping(args.column)
    args.freq = args.freq or "1h"
    freq = window_length(args.freq)
    followers = (
        DEFAULT_INFLUENCER_FOLLOWERS
        if args.influencer_followers is None
        else args.influencer_followers
    )
    planned = load_planned_events(args.planned_events, tz=args.tz)

    from ._common import progress

    with progress(total=2, desc="aggregate", unit="step", args=args) as bar:
        bar.set_postfix_str(f"reading {len(args.files)} file(s) ({engine['engine']})")
        result = aggregate_files(
            list(args.files),
            columns=columns or None,
            tz=args.tz,
            freq=freq,
            influencer_followers=followers,
            planned_events=planned,
            topic=args.topic,
            glob=args.glob and spark,
            quarantine_path=args.quarantine if spark else None,
            **engine,
        )
        features, summary, quarantine = result.features, result.summary, result.quarantine
        bar.update(1)
        if features.empty:
            if args.quarantine and not spark:
                write_table(quarantine, args.quarantine)
            raise DataLoadError(
                _nothing_usable(summary, args.quarantine), source=getattr(summary, "source", None)
            )
        bar.set_postfix_str(f"writing {out.name}")
        write_features(features, out, freq=freq)
        bar.update(1)
    if args.quarantine and not spark:
        write_table(quarantine, args.quarantine)
    report_load(args, summary)
    from ..features._inputs import measures_line

    if measures_line(features):
        print(measures_line(features))
    print(
        f"wrote {len(features)} rows ({features['topic'].nunique()} topics × "
        f"{features['window_start'].nunique()} windows of {args.freq}) to {out}"
    )
    if args.quarantine:
        print(f"wrote {summary.quarantined if spark else len(quarantine)} quarantined rows to "
              f"{args.quarantine}")
    return 0


def _nothing_usable(summary: Any, quarantine_path: str | None) -> str:
    """The error when no row survived loading: how many were read and the top reasons."""
    reasons = sorted(summary.reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    top = ", ".join(f"{reason}: {count}" for reason, count in reasons[:3])
    if len(reasons) > 3:
        top += f", … ({len(reasons)} reasons)"
    if not summary.rows_read:
        what = "no row to aggregate (the files hold no data rows)"
    else:
        what = f"all {summary.rows_read} rows were quarantined ({top}); nothing written"
    where = (
        f"; rejected rows in {quarantine_path}" if quarantine_path and summary.rows_read
        else "; see them with --quarantine PATH" if summary.rows_read else ""
    )
    notes = "".join(f"; {note}" for note in getattr(summary, "notes", ()))
    return f"{what}{notes}{where}"
