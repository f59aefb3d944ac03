"""``esc-analytics calibrate``: fit a tiered policy's thresholds to an incident history.

Inputs are read by ``_inputs`` (shared with the other commands). Imports are lazy.
"""

from __future__ import annotations

import argparse
from typing import Any

from .._util.errors import EscAnalyticsError
from ._common import report_warning
from ._inputs import (
    add_input_options,
    add_max_early_option,
    add_objective_options,
    load_features,
    load_incident_file,
    max_early_of,
    objective_kwargs,
    parse_severity,
    tiers_of,
)


def register(subparsers: Any) -> None:
    """Add the ``calibrate`` parser."""
    parser = subparsers.add_parser(
        "calibrate",
        help="fit escalation thresholds to your incident history",
        description="Sweep thresholds, persistence and cooldown of a tiered policy over your "
        "history and write the best policy for the objective as YAML. With --objective nab "
        "and an incident log of one severity (NAB's anomaly windows) it fits the rank "
        "detector: volume_rank_28d >= threshold for 1-3 windows, then silent for 12 h, 1 day "
        "or 2 days (refractory).",
    )
    add_input_options(parser, incidents=True, severity=True)
    add_objective_options(parser, tiers_from_log=True)
    add_max_early_option(parser, nab=True)
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
        default=None,
        metavar="C,C,...",
        help="cooldown values to try, in windows (0,6,24); with --objective nab, giving it "
        "sweeps the other measures with cooldowns instead of fitting the rank detector",
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

    from ..escalations import AbsentFeatureWarning, absent_feature_uses
    from ..policy import save_policy

    if args.tiers is not None and args.tiers < 1:
        raise EscAnalyticsError(f"--tiers must be >= 1, got {args.tiers}")
    severity = parse_severity(args.severity)
    features = load_features(args)
    incidents = load_incident_file(args.incidents, args.tz, severity, args=args)
    args.tiers, args.max_early = tiers_of(args, incidents), max_early_of(args)
    with warnings.catch_warnings():  # the sweep evaluates many candidates: judge the result
        warnings.simplefilter("ignore", AbsentFeatureWarning)
        result = _calibrate(args, features, incidents)
    for message in absent_feature_uses(result.policy, features):
        report_warning(args, message)
    for message in _fit_warnings(result, incidents, args):
        report_warning(args, message)
    # a plan file is written as an edit of itself: its comments and layout stay
    save_policy(result.policy, args.out, like=args.policy or None)
    print(result.summary())
    print(f"policy written to {args.out}")
    return 0


def _fit_warnings(result: Any, incidents: Any, args: argparse.Namespace) -> list[str]:
    """What a user should know before trusting the written policy: a policy that catches
    nothing on its own history, severities above the number of tiers."""
    warnings_ = []
    n_tiers = len(result.policy.tiers)
    if args.policy and (args.feature or args.cooldown not in (None, "0,6,24")):
        warnings_.append(
            "--feature and --cooldown shape a fresh plan: with --policy the plan's own tiers, "
            "conditions, persistence and cooldown are kept, only its thresholds are fitted"
        )
    above = int((incidents["severity"] > n_tiers).sum())
    if above:
        asked = n_tiers if args.policy else int(args.tiers)
        hint = (
            "use --tiers to add tiers" if asked <= n_tiers
            else f"{asked} asked: the history cannot separate more, see the notes"
        )
        warnings_.append(
            f"{above} incident(s) have a severity above the policy's {n_tiers} tier(s): they "
            f"count as tier {n_tiers} ({hint})"
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
    from ..calibration import calibrate

    if args.policy:
        from ..calibration import calibrate_policy
        from ..policy import load_policy

        return calibrate_policy(
            load_policy(args.policy),
            features,
            incidents,
            max_early=args.max_early,
            **objective_kwargs(args),
        )
    candidates = args.feature
    cooldowns = "0,6,24" if args.cooldown is None else args.cooldown
    if args.cooldown is not None and candidates is None and args.objective == "nab":
        # cooldowns asked for: the sweep of the default measures, not the rank detector
        from ..calibration._sweep import DEFAULT_FEATURE_CANDIDATES

        candidates = [f for f in DEFAULT_FEATURE_CANDIDATES if f in features.columns]
    return calibrate(
        features,
        incidents,
        n_tiers=args.tiers,
        max_early=args.max_early,
        **objective_kwargs(args),
        feature_candidates=candidates,
        persistence_grid=_int_list(args.persistence, "--persistence"),
        cooldown_grid=_int_list(cooldowns, "--cooldown"),
    )
