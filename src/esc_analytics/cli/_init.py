"""``esc-analytics init [DIR]``: write a commented project file from a first look at your files.

The library's :func:`~esc_analytics.draft_project` reads the header and first rows of each
file in DIR (and two levels of subfolders) and tells which looks like mentions, the incident
log, planned events or the plan, and how their columns map; this command writes it as
``DIR/esc-analytics.toml`` (never over an existing file without ``--force``) and prints what
it saw, so that every other command run in DIR reads the data without options.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``init`` parser."""
    parser = subparsers.add_parser(
        "init",
        help="write a project file (esc-analytics.toml) from a first look at your files",
        description="Look at the files in DIR (default: the working directory): which are "
        "mentions, the incident log, planned events, the escalation plan; which column is "
        "which; then write DIR/esc-analytics.toml, commented, for you to check. Every "
        "command and notebook run from DIR then reads it.",
    )
    parser.add_argument("dir", nargs="?", default=".", type=Path, metavar="DIR",
                        help="the folder holding your data (default: .)")
    parser.add_argument("--out", type=Path, default=None, metavar="FILE",
                        help="where to write the project file (default: DIR/esc-analytics.toml)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite an existing project file (the old one is kept as .bak)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Draft the project, write it, print what was found and what to check."""
    from ..io import PROJECT_FILE, draft_project, load_project, save_project

    target = args.out if args.out is not None else args.dir / PROJECT_FILE
    if target.exists() and not args.force:
        from .._util.errors import ProjectError

        raise ProjectError(
            f"{target.absolute()} already exists: keep it, or overwrite it with --force"
        )
    project = draft_project(args.dir)
    written = save_project(project, target, overwrite=args.force)
    load_project(written)  # what every command will read: it must read back
    print(f"wrote {written.absolute()}")
    for note in project.notes:
        print(f"  {note}")
    named = [name for name in ("mentions", "series", "incidents") if getattr(project, name)]
    if "incidents" not in named:
        print("  no incident log found: set data.incidents before check, backtest or calibrate")
    print("check the file, then run e.g. 'esc-analytics check' and "
          "'esc-analytics calibrate --out policy.yaml' from its folder")
    return 0
