"""Helpers shared by the sub-commands: option parsing, progress bars and the command's report of
what it read (load summaries) and of what may make its results misleading (warnings).

Load summaries and warnings go to stdout, ahead of the command's results, so that stderr holds
only the one ``error:`` line of a failure; with ``--json`` they go into the JSON instead
(``gathered_report``), so that stdout stays one parseable document.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .._util.errors import EscAnalyticsError

_REPORT = "_report"  # attribute of the parsed options holding what --json will print


def parse_mapping(
    pairs: Sequence[str] | None,
    option: str = "--column",
    example: str = "CANONICAL=SOURCE, e.g. created_at=tweet_created",
) -> dict[str, str]:
    """Turn ``["created_at=tweet_created", ...]`` into ``{"created_at": "tweet_created"}``;
    ``example`` is the expected form shown when a pair has no ``=``."""
    mapping: dict[str, str] = {}
    for pair in pairs or ():
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise EscAnalyticsError(f"{option} {pair!r}: expected {example}")
        mapping[name.strip()] = value.strip()
    return mapping


def progress(
    iterable: Iterable[Any] | None = None, *, args: Any = None, **kwargs: Any
) -> Any:
    """A tqdm progress bar on an interactive terminal, silent otherwise (pipes, CI, notebooks
    rendered headless, ``--quiet``): the library's one helper (``_util.progress``)."""
    from .._util.progress import progress as progress_bar

    kwargs.setdefault("enabled", progress_of(args))
    return progress_bar(iterable, **kwargs)


# --- the command's report: load summaries and warnings ----------------------------------------


def _gathering(args: Any) -> dict[str, list[Any]] | None:
    """The lists --json output gathers into, or None when the report is printed as it goes."""
    if not getattr(args, "json", False):
        return None
    return vars(args).setdefault(_REPORT, {"load": [], "warnings": []})


def report_load(args: Any, summary: Any, hint: str = "") -> None:
    """Tell the user what a load did (the library's ``load_summary_lines``, as the notebooks
    show it): printed on stdout, or kept for the JSON document with ``--json``."""
    gathered = _gathering(args)
    if gathered is None:
        from ..features._inputs import load_summary_lines

        print("\n".join(load_summary_lines(summary, hint)))
        return
    entry = summary.to_dict() if hasattr(summary, "to_dict") else dict(vars(summary))
    if hint:
        entry["hint"] = hint
    gathered["load"].append(entry)


def report_read(args: Any, line: str, entry: dict[str, Any]) -> None:
    """What a read without a loader summary did (e.g. NAB anomaly windows): ``line`` printed,
    or ``entry`` kept for the JSON document's ``load`` list."""
    gathered = _gathering(args)
    if gathered is None:
        print(line)
    else:
        gathered["load"].append(entry)


def report_warning(args: Any, message: str) -> None:
    """One ``warning:`` line on stdout (or an entry of the JSON's ``warnings``)."""
    gathered = _gathering(args)
    if gathered is None:
        print(f"warning: {message}")
    else:
        gathered["warnings"].append(message)


def gathered_report(args: Any) -> dict[str, list[Any]]:
    """``{"load": [summary dicts], "warnings": [...]}`` kept by ``--json`` runs."""
    return vars(args).get(_REPORT) or {"load": [], "warnings": []}


@contextmanager
def feature_warnings(args: Any) -> Iterator[None]:
    """Report each distinct :class:`~esc_analytics.AbsentFeatureWarning` raised inside
    (a policy reading a measure the data did not carry) once, however many policies were
    evaluated; other warnings pass through unchanged."""
    from ..escalations._evaluate import AbsentFeatureWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AbsentFeatureWarning)
        yield
    seen: dict[str, None] = {}
    for item in caught:
        if issubclass(item.category, AbsentFeatureWarning):
            seen.setdefault(str(item.message))
        else:
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
    for message in seen:
        report_warning(args, message)


# --- progress bars ------------------------------------------------------------------------------


def add_quiet_option(parser: Any) -> None:
    """--quiet: no progress bar even on a terminal (bars are already off when stderr is not a
    terminal: pipes, CI logs)."""
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar (there is none anyway when stderr is not a terminal)",
    )


def progress_of(args: Any) -> bool | None:
    """The ``progress=`` a command passes to the library: False with --quiet, else None
    (automatic: a bar only when stderr is a terminal)."""
    return False if getattr(args, "quiet", False) else None


# --- alerts -------------------------------------------------------------------------------------


def add_alert_options(parser: Any) -> None:
    """--examples and --max-chars: the example posts an alert carries (shared with detect)."""
    parser.add_argument(
        "--examples",
        type=int,
        default=3,
        metavar="N",
        help="example posts per alert with --mentions: highest reach, then earliest (3; 0 = none)",
    )
    parser.add_argument(
        "--max-chars",
        type=int,
        default=200,
        metavar="N",
        help="example texts are cut to this many characters (200)",
    )
