"""``esc-analytics`` command line: one sub-command per module in this package.

Each sub-command lives in ``cli/_<name>.py`` and exposes ``register(subparsers)`` which adds its
parser and sets ``func=run`` (``run(args) -> int``). Errors the user can fix
(:class:`~esc_analytics.EscAnalyticsError`, bad options, missing files) exit with status 2 and a
one-line message; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .._util.errors import EscAnalyticsError

# Order is the order shown in --help.
_COMMANDS = (
    "demo",
    "sample",
    "init",
    "aggregate",
    "check",
    "calibrate",
    "backtest",
    "detect",
    "alerts",
    "fit_model",
    "render",
    "retro",
)


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that exits with status 2 and a short message (its default) on bad options."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Build the top-level parser with every available sub-command (``only``: that one
    alone, so a command starts without importing what the others need)."""
    parser = _ArgumentParser(
        prog="esc-analytics",
        description=(
            "Fit, backtest and review social-media escalation plans against your own history."
        ),
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback when something fails"
    )
    from importlib.metadata import PackageNotFoundError, version

    try:
        pkg_version = version("esc-analytics")
    except PackageNotFoundError:  # running from a source tree
        pkg_version = "unknown"
    parser.add_argument("--version", action="version", version=f"esc-analytics {pkg_version}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMANDS if only is None else (only,):
        module_name = f"{__name__}._{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # a command not built yet in this source tree
            if exc.name == module_name:
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``esc-analytics`` console script; returns the exit status."""
    words = list(sys.argv[1:] if argv is None else argv)
    chosen = next((w for w in words if not w.startswith("-")), None)
    known = chosen is not None and chosen.replace("-", "_") in _COMMANDS
    parser = build_parser(chosen.replace("-", "_") if known else None)
    args = parser.parse_args(words)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from .._util.progress import progress_default

    try:
        prepare = getattr(args, "prepare", None)  # e.g. the project file's defaults
        if prepare is not None:
            prepare(args)
        # --quiet (where a command has it) silences every progress bar of the library calls
        with progress_default(False if getattr(args, "quiet", False) else None):
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("esc-analytics: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `esc-analytics backtest ... | head`
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except (EscAnalyticsError, OSError) as exc:  # OSError: a full disk, a read-only folder...
        if args.debug:
            raise
        print(f"esc-analytics {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2


def _one_line(exc: BaseException) -> str:
    """The error as one line a user can act on (an OSError names its file once)."""
    if isinstance(exc, OSError) and not isinstance(exc, EscAnalyticsError) and exc.strerror:
        text = exc.strerror
        if exc.filename and str(exc.filename) not in text:
            text += f": {exc.filename}"
    else:
        text = " ".join(str(exc).splitlines())
    # file names and cells come from users' files: no control character reaches the terminal
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
