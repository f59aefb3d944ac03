"""``esc-analytics backtest``: replay a policy file against an incident log."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ._common import feature_warnings, gathered_report
from ._inputs import (
    add_input_options,
    add_max_early_option,
    load_features,
    load_incident_file,
    load_policy_for,
    parse_severity,
)


def register(subparsers: Any) -> None:
    """Add the ``backtest`` parser."""
    parser = subparsers.add_parser(
        "backtest",
        help="replay an escalation policy against past incidents",
        description="Which incidents the policy would have caught, at which tier, how early, "
        "and how many false notifications per week.",
    )
    add_input_options(parser, incidents=True, severity=True)
    parser.add_argument("--policy", required=True, metavar="FILE", help="policy YAML")
    add_max_early_option(parser, described=False)
    parser.add_argument("--nab-profile", default=None, help="also print the NAB score")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print per-tier figures and per-incident outcomes (or JSON), after what was read."""
    from .._util.format import format_duration
    from ..backtesting import backtest
    from ..escalations import evaluate

    severity = parse_severity(args.severity)
    features = load_features(args)
    policy = load_policy_for(args.policy, features)
    incidents = load_incident_file(args.incidents, args.tz, severity, args=args)
    with feature_warnings(args):
        escalations = evaluate(policy, features, freq=args.freq)
    result = backtest(
        escalations,
        incidents,
        max_early=args.max_early,
        nab_profile=args.nab_profile,
    )
    if args.json:
        payload = result.to_dict()
        payload.update(gathered_report(args))
        print(json.dumps(payload, default=str, indent=2))
        return 0
    print(result.summary())
    reasons = not_evaluated_line(result.incidents)
    if reasons:
        print(reasons)
    cols = [
        "incident_id",
        "topic",
        "severity",
        "outcome",
        "tier_reached",
        "detection_delay",
        "lead_time",
    ]
    table = result.incidents.loc[:, cols].copy()
    for name in ("detection_delay", "lead_time"):  # "-42 min", not "-1 days +23:18:00"
        table[name] = table[name].map(format_duration)
    print(table.to_string(index=False))
    return 0


def not_evaluated_line(incidents: Any) -> str:
    """Why incidents were not evaluated, with counts (and the topics the escalations lack):
    ``  not evaluated: 3 topic not in escalations (CVS, KO), 1 outside escalations' time span``;
    empty when every incident was evaluated."""
    if "not_evaluated_reason" not in incidents or not len(incidents):
        return ""
    skipped = incidents.loc[~incidents["evaluated"].astype(bool)]
    if skipped.empty:
        return ""
    parts = []
    counts = skipped["not_evaluated_reason"].astype(str).value_counts()
    for reason, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        part = f"{count} {reason or 'unknown reason'}"
        if reason == "topic not in escalations":
            topics = sorted(map(str, skipped.loc[skipped["not_evaluated_reason"] == reason,
                                                 "topic"].unique()))
            shown = ", ".join(topics[:5]) + (f", … ({len(topics)} topics)" if len(topics) > 5
                                              else "")
            part += f" ({shown})"
        parts.append(part)
    return "  not evaluated: " + ", ".join(parts)
