"""``esc-analytics render NOTEBOOK [-p NAME=VALUE ...] --out FILE.html``: execute a notebook with
parameters (the papermill way) and write one self-contained HTML file, readable offline."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from .._util.errors import EscAnalyticsError


def parse_parameter(pair: str) -> tuple[str, Any]:
    """``"NAME=VALUE"`` → (name, value) with VALUE read as a YAML scalar like papermill's
    ``-p``/``-y``: ``3`` → 3, ``0.5`` → 0.5, ``true`` → True, ``null`` → None, ``[a, b]`` → list,
    anything else (including dates) stays the text given."""
    name, sep, raw = pair.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise EscAnalyticsError(f"-p {pair!r}: expected NAME=VALUE, e.g. -p freq=1h")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if isinstance(value, dt.date | dt.datetime):
        value = raw.strip()
    return name, value


#: Parameter names read as paths: a relative value is read against the caller's working
#: directory (the kernel runs in the notebook's folder, where ``tweets.csv`` is not).
PATH_SUFFIXES = ("_path", "_dir", "_file")


def resolve_path_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """``-p mentions_path=tweets.csv`` → the absolute path of ``tweets.csv`` from here: every
    parameter named ``*_path``, ``*_dir`` or ``*_file`` holding a relative path (``~``
    expanded); other values, absolute paths, empty text and None pass unchanged."""
    out = dict(parameters)
    for name, value in parameters.items():
        if name.endswith(PATH_SUFFIXES) and isinstance(value, str) and value.strip():
            out[name] = os.path.abspath(os.path.expanduser(value))
    return out


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``render`` sub-command."""
    parser = subparsers.add_parser(
        "render",
        help="execute a notebook with parameters and write a self-contained HTML report",
        description=(
            "Execute NOTEBOOK headless with parameters injected after its 'parameters' cell "
            "(papermill style) and write ONE HTML file that opens offline from file://: with "
            "--meeting a light static report for the room, else the interactive page (plotly.js, "
            "widget state and widget scripts inlined; its controls are frozen)."
        ),
    )
    parser.add_argument("notebook", type=Path, help="the .ipynb to execute")
    parser.add_argument(
        "-p",
        "--parameter",
        dest="parameters",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a parameter (VALUE read as YAML: 3, 0.5, true, null, text); repeatable",
    )
    parser.add_argument("--out", "-o", type=Path, required=True, help="the .html file to write")
    parser.add_argument(
        "--timeout", type=int, default=600, help="seconds allowed per cell (default 600)"
    )
    parser.add_argument(
        "--cwd",
        type=Path,
        default=None,
        help="working directory of the kernel (default: the notebook's folder)",
    )
    parser.add_argument(
        "--project",
        metavar="FILE",
        help="project file passed to the notebook as project_path (default: esc-analytics.toml "
        "in the working directory, if any)",
    )
    parser.add_argument("--no-project", action="store_true", help="pass no project file")
    parser.add_argument(
        "--hide-code",
        action="store_true",
        help="leave the code cells out (the interactive page otherwise kept as is)",
    )
    parser.add_argument(
        "--meeting",
        action="store_true",
        help=(
            "write the light meeting report: narrative, tables and figures only (no code, no "
            "printed text, widgets as static figures and text, warnings in one data-notes box)"
        ),
    )
    parser.add_argument(
        "--snapshot",
        default=None,
        metavar="DATE",
        help="the date the meeting report says it is a snapshot of (default: the data's end)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Execute and render; progress messages go to stderr, the output path to stdout."""
    from ..report._render import render_notebook

    parameters = resolve_path_parameters(dict(parse_parameter(pair) for pair in args.parameters))
    if "project_path" not in parameters and not args.no_project:
        from ..io import find_project, load_project

        found = find_project(args.project, parents=False)
        if found is not None:
            load_project(found)  # a broken project file is one line here, not a kernel traceback
            parameters["project_path"] = str(found)

    def progress(message: str) -> None:
        print(f"esc-analytics render: {message}", file=sys.stderr, flush=True)

    out = render_notebook(
        args.notebook,
        args.out,
        parameters,
        timeout=args.timeout,
        cwd=args.cwd,
        progress=progress,
        hide_code=args.hide_code,
        meeting=args.meeting,
        snapshot=args.snapshot,
    )
    print(out)
    return 0
