"""``esc-analytics alerts``: preview what a plan would have sent over the last days of the
data, grouped by episode, as text, Markdown or webhook payloads (nothing is sent).

The whole history is evaluated (baselines need it); only the alerts sent in the last
``--last`` of the data are shown. With --mentions each alert carries its top example posts.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from typing import Any

from .._util.errors import EscAnalyticsError
from ._common import add_alert_options, feature_warnings
from ._inputs import (
    add_input_options,
    load_inputs,
    load_policy_for,
    mention_rows,
    with_plan_measures,
)


def register(subparsers: Any) -> None:
    """Add the ``alerts`` parser."""
    parser = subparsers.add_parser(
        "alerts",
        help="preview the alerts a plan would have sent, grouped by episode",
        description="Evaluate the plan over the whole history and show the alerts sent in "
        "the last --last of the data (ending at its last window), grouped by episode: time, "
        "tier, owner, opened or raised, the condition values against their thresholds and, "
        "with --mentions, example posts. --markdown for a Markdown report, --payload for the "
        "JSON a Slack, Teams or PagerDuty webhook would receive (printed, never sent).",
    )
    add_input_options(parser, incidents=False)
    parser.add_argument("--policy", required=True, metavar="FILE", help="policy YAML")
    parser.add_argument(
        "--last",
        default="7d",
        metavar="DURATION",
        help="how far back from the end of the data: 7d, 36h, 90min, or 'all' (7d)",
    )
    add_alert_options(parser)
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--markdown", action="store_true", help="print Markdown (for a report)")
    shown.add_argument(
        "--payload",
        choices=("slack", "teams", "pagerduty"),
        help="print one webhook JSON body per alert (one per line) instead of the preview",
    )
    parser.add_argument(
        "--routing-key",
        metavar="KEY",
        help="PagerDuty Events API v2 integration key (needed with --payload pagerduty)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate, keep the last --last, print the preview (or the payloads)."""
    from ..escalations import alert_payload, alerts

    if args.payload == "pagerduty" and not args.routing_key:
        raise EscAnalyticsError(
            "--payload pagerduty needs --routing-key (your service's Events API v2 "
            "integration key)"
        )
    if args.routing_key and args.payload != "pagerduty":
        raise EscAnalyticsError("--routing-key goes with --payload pagerduty")
    # Markdown and payloads are documents on stdout: the load summary goes to stderr then.
    document = args.markdown or args.payload
    with contextlib.redirect_stdout(sys.stderr) if document else contextlib.nullcontext():
        features, rows = load_inputs(args)
        policy = load_policy_for(args.policy, features)
        features = with_plan_measures(args, features, rows, policy)
        with feature_warnings(args):
            found = alerts(
                policy,
                features,
                mentions=mention_rows(args, rows),
                examples=args.examples,
                max_chars=args.max_chars,
                freq=args.freq,
            )
    if str(args.last).strip().lower() != "all":
        found = found.last(args.last)
    if args.payload:
        for alert in found:
            payload = alert_payload(alert, args.payload, routing_key=args.routing_key)
            print(json.dumps(payload, ensure_ascii=False))
        if not len(found):
            print(f"no alert in the last {args.last} of the data", file=sys.stderr)
        return 0
    print(found.to_markdown() if args.markdown else found.summary(), end="\n" * (not args.markdown))
    return 0
