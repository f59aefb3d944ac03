"""``esc-analytics sample``: regenerate the bundled sample history (mentions, incidents, planned
events) from its seed, e.g. ``esc-analytics sample --out data/sample``."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sample`` sub-command."""
    from ..sample._generate import DEFAULT_DAYS, DEFAULT_SEED, DEFAULT_START

    parser = subparsers.add_parser(
        "sample",
        help="generate the synthetic sample history (mentions, incidents, planned events)",
        description=(
            "Generate a reproducible social-listening history of fictional brands with "
            "incidents, launches and viral spikes, and write mentions.csv.gz, incidents.csv "
            "and planned_events.csv into --out. The same seed always gives the same files."
        ),
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder (created)")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    parser.add_argument(
        "--days", type=int, default=DEFAULT_DAYS, help=f"days of history (default {DEFAULT_DAYS})"
    )
    parser.add_argument(
        "--start", default=DEFAULT_START, help=f"first day, UTC (default {DEFAULT_START})"
    )
    parser.add_argument(
        "--topics",
        nargs="+",
        default=None,
        metavar="NAME",
        help="topic (brand) names (default: the four built-in fictional brands)",
    )
    parser.add_argument(
        "--volume-scale",
        type=float,
        default=1.0,
        help="multiply every mention rate (default 1.0)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate the sample and write it; prints what was written. Returns the exit status."""
    from ..sample._generate import generate_sample, write_sample

    sample = generate_sample(
        seed=args.seed,
        start=args.start,
        days=args.days,
        topics=args.topics,
        volume_scale=args.volume_scale,
    )
    paths = write_sample(sample, args.out)
    print(sample.summary())
    for path in paths:
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0
