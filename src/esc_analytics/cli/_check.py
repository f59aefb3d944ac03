"""``esc-analytics check``: is this history ready for a calibrated plan? (before any fit)"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ._common import gathered_report
from ._inputs import add_input_options, load_features, load_incident_file, parse_severity


def register(subparsers: Any) -> None:
    """Add the ``check`` parser."""
    parser = subparsers.add_parser(
        "check",
        help="check a history before calibrating on it",
        description="Per topic: history against the baselines' warm-up, zero baselines, "
        "incidents (and those in warm-up); per severity: how many incidents a tier would be "
        "fitted on; measures the data lacks. Each finding says what it means for the fit. "
        "Exits 1 when nothing can be fitted.",
    )
    add_input_options(parser, incidents=True, severity=True)
    parser.add_argument(
        "--tiers", type=int, default=None, help="tiers you mean to fit (default: top severity)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the readiness report; 0 when a fit can go ahead, 1 when nothing can be fitted."""
    from ..calibration import check_history

    severity = parse_severity(args.severity)
    features = load_features(args)
    incidents = load_incident_file(args.incidents, args.tz, severity, args=args)
    result = check_history(features, incidents, n_tiers=args.tiers, freq=args.freq)
    if args.json:
        payload = {
            "ok": result.ok,
            "blocking": list(result.blocking),
            "notes": list(result.notes),
            "absent_measures": result.absent_measures,
            "severities": result.severities.to_dict(orient="records"),
            "topics": json.loads(result.topics.to_json(orient="records", date_format="iso")),
            **gathered_report(args),
        }
        print(json.dumps(payload, indent=2, default=str))
    else:
        print(result.summary())
    return 0 if result.ok else 1
