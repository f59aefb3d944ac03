"""``esc-analytics calibrate``: fit a tiered policy's thresholds to an incident history.

Also holds the input helpers shared with ``backtest`` and ``detect`` (mentions or series files
→ features; incident files, NAB ``anomaly_windows.json`` recognised). Imports are lazy.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path
from typing import Any

from .._util.errors import DataLoadError, EscAnalyticsError
from .._util.schema import REASON_BAD_SEVERITY
from ._common import parse_mapping, report_load, report_read, report_warning


def add_objective_options(parser: argparse.ArgumentParser) -> None:
    """--objective, --nab-profile, --max-false-per-week and --tiers: what a fit optimises
    (calibrate and fit-model share them)."""
    parser.add_argument("--objective", choices=("recall", "cost", "nab"), default="recall")
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
    parser.add_argument("--tiers", type=int, default=3, metavar="N", help="number of tiers (3)")


def objective_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The fit's objective from the options of :func:`add_objective_options`, as keyword
    arguments of the calibrations and the classifiers."""
    return {
        "objective": args.objective,
        "max_false_per_week": args.max_false_per_week,
        "nab_profile": args.nab_profile,
    }


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
    parser.add_argument(
        "--column",
        action="append",
        metavar="CANONICAL=SOURCE",
        help="map a column of your files, e.g. created_at=tweet_created",
    )
    parser.add_argument("--tz", metavar="ZONE", help="zone of times without an offset (UTC)")
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


def load_inputs(args: argparse.Namespace) -> tuple[Any, Any]:
    """Features and the accepted input rows, from --mentions or --series (each series topic
    gets its own time span), plus the burst detection feature ``level_q99_7d_s3`` (see
    ``add_detection_features``). The load summary is reported, and the measures the input
    could not provide (no sentiment in a volume series...) are marked: evaluating a policy
    on them warns."""
    import pandas as pd

    from ..calibration._sweep import add_detection_features
    from ..features._build import build_features, features_from_series, mark_absent_features
    from ..io._load import load_mentions, load_series

    columns = parse_mapping(args.column)
    if args.mentions:
        loaded = load_mentions(list(args.mentions), columns=columns or None, tz=args.tz)
        if loaded.data.empty:
            raise DataLoadError(
                f"no usable mention ({_with_notes(loaded.summary)})", source=loaded.summary.source
            )
        report_load(args, loaded.summary)
        features = build_features(loaded.data, freq=args.freq or "1h")
        kind = "mentions"
    else:
        loaded = load_series(list(args.series), columns=columns or None, tz=args.tz)
        if loaded.data.empty:
            raise DataLoadError(
                f"no usable volume row ({_with_notes(loaded.summary)})",
                source=loaded.summary.source,
            )
        report_load(args, loaded.summary)
        parts = [
            features_from_series(frame, freq=args.freq)
            for _, frame in loaded.data.groupby("topic", sort=True)
        ]
        features = pd.concat(parts, ignore_index=True)
        kind = "series"
    with contextlib.suppress(ValueError):  # one window per topic: no window length to learn
        features = add_detection_features(features)
    # marked again over all topics (per-topic marks of series parts do not survive concat)
    return mark_absent_features(features, loaded.data, kind), loaded.data


def load_features(args: argparse.Namespace) -> Any:
    """Features from --mentions or --series (see :func:`load_inputs`)."""
    return load_inputs(args)[0]


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
    from ..io._load import incidents_from_nab_windows, load_incidents

    file = Path(path)
    if not file.is_file():
        raise DataLoadError("incident file not found", source=path)
    if file.suffix.lower() == ".json":
        try:
            payload = json.loads(file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            payload = None
        if isinstance(payload, dict) and all(isinstance(v, list) for v in payload.values()):
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
        raise DataLoadError(f"no usable incident ({_with_notes(loaded.summary)}){hint}",
                            source=path)
    report_load(args, loaded.summary, _SEVERITY_HINT if bad_severity else "")
    return loaded.data


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


def register(subparsers: Any) -> None:
    """Add the ``calibrate`` parser."""
    parser = subparsers.add_parser(
        "calibrate",
        help="fit escalation thresholds to your incident history",
        description="Sweep thresholds, persistence and cooldown of a tiered policy over your "
        "history and write the best policy for the objective as YAML.",
    )
    add_input_options(parser, incidents=True, severity=True)
    add_objective_options(parser)
    parser.add_argument(
        "--max-early",
        default="24h",
        help="an alert this long before an incident still counts (24h)",
    )
    parser.add_argument(
        "--feature",
        action="append",
        metavar="NAME",
        help="candidate detection feature (repeatable; default: all known)",
    )
    parser.add_argument(
        "--persistence",
        default="1,2,3",
        metavar="K,K,...",
        help="persistence values to try, in windows (1,2,3)",
    )
    parser.add_argument(
        "--cooldown",
        default="0,6,24",
        metavar="C,C,...",
        help="cooldown values to try, in windows (0,6,24)",
    )
    parser.add_argument(
        "--policy",
        metavar="YAML",
        help="fit this plan's own thresholds, keeping its tiers, conditions and owners",
    )
    parser.add_argument("--out", required=True, metavar="PATH", help="policy YAML to write")
    parser.set_defaults(func=run)


def _int_list(text: str, option: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise EscAnalyticsError(
            f"{option} expects whole numbers like 1,2,3, got {text!r}"
        ) from None
    if not values or min(values) < 0:
        raise EscAnalyticsError(f"{option} expects whole numbers >= 0, got {text!r}")
    return values


def run(args: argparse.Namespace) -> int:
    """Calibrate and write the policy; print the chosen thresholds and fit figures."""
    import warnings

    from ..escalations._evaluate import AbsentFeatureWarning, absent_feature_uses
    from ..policy._policy import save_policy

    if args.tiers < 1:
        raise EscAnalyticsError(f"--tiers must be >= 1, got {args.tiers}")
    severity = parse_severity(args.severity)
    features = load_features(args)
    incidents = load_incident_file(args.incidents, args.tz, severity, args=args)
    with warnings.catch_warnings():  # the sweep evaluates many candidates: judge the result
        warnings.simplefilter("ignore", AbsentFeatureWarning)
        result = _calibrate(args, features, incidents)
    for message in absent_feature_uses(result.policy, features):
        report_warning(args, message)
    for message in _fit_warnings(result, incidents, args):
        report_warning(args, message)
    save_policy(result.policy, args.out)
    print(result.summary())
    print(f"policy written to {args.out}")
    return 0


def _fit_warnings(result: Any, incidents: Any, args: argparse.Namespace) -> list[str]:
    """What a user should know before trusting the written policy: a policy that catches
    nothing on its own history, severities above the number of tiers."""
    warnings_ = []
    n_tiers = len(result.policy.tiers)
    above = int((incidents["severity"] > n_tiers).sum())
    if above:
        warnings_.append(
            f"{above} incident(s) have a severity above the policy's {n_tiers} tier(s): they "
            f"count as tier {n_tiers} (use --tiers to add tiers)"
        )
    bt = result.backtest
    if bt is not None and len(bt.tiers) and int(bt.tiers["caught"].sum()) == 0:
        hint = (
            "loosen --max-false-per-week, or try --objective cost or nab"
            if args.objective == "recall"
            else "check that the incidents' topics and times match the data"
        )
        warnings_.append(
            "the written policy catches none of the incidents on this history: " + hint
        )
    return warnings_


def _calibrate(args: argparse.Namespace, features: Any, incidents: Any) -> Any:
    """The calibration the options ask for: a given plan's thresholds, or a fresh plan."""
    from ..calibration._sweep import calibrate

    if args.policy:
        from ..calibration._template import calibrate_policy
        from ..policy._policy import load_policy

        return calibrate_policy(
            load_policy(args.policy),
            features,
            incidents,
            max_early=args.max_early,
            **objective_kwargs(args),
        )
    return calibrate(
        features,
        incidents,
        n_tiers=args.tiers,
        max_early=args.max_early,
        **objective_kwargs(args),
        feature_candidates=args.feature,
        persistence_grid=_int_list(args.persistence, "--persistence"),
        cooldown_grid=_int_list(args.cooldown, "--cooldown"),
    )
