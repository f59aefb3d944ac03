"""``esc-analytics detect``: apply a policy to data, one output row per input window
(``--out``), and/or one row per notification with who to page and why (``--alerts``).

Sources of escalations are functions ``(args, features) -> Escalations`` in ``_SOURCES``; the
MODELS helper adds ``--model`` as a second source next to ``--policy``. Alerts need a policy
(their conditions are what they explain).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._util.errors import EscAnalyticsError
from ._common import add_alert_options, feature_warnings
from ._inputs import (
    add_input_options,
    add_period_and_planned_options,
    in_period,
    load_inputs,
    load_policy_for,
    load_texts,
    mention_rows,
    period_of,
    planned_mode,
    with_plan_measures,
)


def _from_policy(args: argparse.Namespace, features: Any, rows: Any = None) -> Any:
    from ..escalations import evaluate

    args.loaded_policy = load_policy_for(args.policy, features)
    features = with_plan_measures(args, features, rows, args.loaded_policy)
    args.measured_features = features
    return evaluate(args.loaded_policy, features, freq=args.freq, planned_events=planned_mode(args))


def _from_model(args: argparse.Namespace, features: Any, rows: Any = None) -> Any:
    from ..models import load_model

    model = load_model(args.model)
    mentions = load_texts(args) if model.use_text_ else None
    if model.use_text_ and mentions is None:
        raise EscAnalyticsError(f"{args.model} was fitted with mention texts: give --mentions")
    return model.escalations(features, mentions=mentions)


# option name -> builder of Escalations; exactly one must be given.
_SOURCES: dict[str, Callable[[argparse.Namespace, Any, Any], Any]] = {
    "policy": _from_policy,
    "model": _from_model,
}


def register(subparsers: Any) -> None:
    """Add the ``detect`` parser."""
    parser = subparsers.add_parser(
        "detect",
        help="tier and notifications per window under a policy; --alerts: who to page and why",
        description="Write one row per input window, in input order (files as given, each "
        "in time order): topic, window_start, tier, escalation (1 where a notification would "
        "go out). With --mentions the windows are those the mentions are aggregated into. "
        "--alerts writes one row per notification instead (or as well): tier number, name "
        "and owner, the condition values against their thresholds, the episode it opens or "
        "raises and, with --mentions, example posts.",
    )
    add_input_options(parser, incidents=False)
    parser.add_argument(
        "--policy", metavar="FILE", help="policy YAML (default: the project file's)"
    )
    parser.add_argument("--model", metavar="FILE", help="model saved by fit-model (.skops)")
    parser.add_argument("--out", metavar="PATH", help="per-window output .csv or .parquet")
    parser.add_argument(
        "--alerts", metavar="PATH", help="per-notification alerts (.csv or .jsonl; needs --policy)"
    )
    parser.add_argument(
        "--format",
        choices=("csv", "jsonl"),
        default=None,
        help="format of --alerts (default: from its suffix, .jsonl = jsonl, else csv)",
    )
    add_alert_options(parser)
    add_period_and_planned_options(parser)
    parser.set_defaults(func=run, policy_from_project=True)


def run(args: argparse.Namespace) -> int:
    """Evaluate and write the per-window tiers in input order."""
    import pandas as pd

    given = [name for name in _SOURCES if getattr(args, name, None)]
    if len(given) != 1:
        options = " or ".join(f"--{n}" for n in _SOURCES)
        raise EscAnalyticsError(f"give exactly one of {options}")
    if not args.out and not args.alerts:
        raise EscAnalyticsError("give --out (per-window tiers) and/or --alerts (per notification)")
    if args.alerts and not args.policy:
        raise EscAnalyticsError("--alerts needs --policy (alerts explain a plan's conditions)")
    if args.format and not args.alerts:
        raise EscAnalyticsError("--format is the format of --alerts: give --alerts PATH")
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".csv", ".parquet"):
        raise EscAnalyticsError(f"--out must end in .csv or .parquet, got {args.out}")
    features, rows = load_inputs(args)
    with feature_warnings(args):
        escalations = _SOURCES[given[0]](args, features, rows)
    windows = escalations.windows.loc[:, ["topic", "window_start", "tier", "escalation"]]
    if planned_mode(args) == "mark" and given[0] == "policy":
        windows = windows.assign(planned_event=features["planned_event"].to_numpy(dtype=bool))
    filled = 0
    if args.series:
        # One row per input window: windows missing from a file were filled with 0 for the
        # rolling features; they are evaluated but not written.
        given_windows = pd.MultiIndex.from_frame(rows[["topic", "window_start"]])
        keep = pd.MultiIndex.from_frame(windows[["topic", "window_start"]]).isin(given_windows)
        filled = int((~keep).sum())
        windows = windows[keep]
        # files in the order given, each in time order (the loader sorts rows)
        stems = list(dict.fromkeys(Path(f).stem for f in args.series))
        rank = {t: i for i, t in enumerate(stems)}
        key = windows["topic"].astype(str).map(lambda t: rank.get(t, len(rank)))
        windows = windows.assign(_k=key.to_numpy()).sort_values("_k", kind="stable")
        windows = windows.drop(columns="_k").reset_index(drop=True)
    windows = in_period(windows, period_of(args, features))
    from .._util.atomic import write_table

    n_alerts = int(windows["escalation"].sum())
    gaps = f" ({filled} missing window(s) filled with 0, not written)" if filled else ""
    muted = getattr(escalations, "muted", None)
    if muted is not None and len(muted):
        gaps += f" ({len(muted)} muted in planned events)"
    if out is not None:
        write_table(windows, out)  # .csv or .parquet (checked above), atomically
        print(f"{len(windows)} windows, {n_alerts} notifications -> {out}{gaps}")
    if args.alerts:
        from ..escalations import alerts

        found = alerts(
            args.loaded_policy,
            getattr(args, "measured_features", features),
            escalations=escalations,
            mentions=mention_rows(args, rows),
            examples=args.examples,
            max_chars=args.max_chars,
        )
        path = found.write(args.alerts, args.format)
        fmt = args.format or ("jsonl" if path.suffix.lower() in (".jsonl", ".json") else "csv")
        examples = " with example posts" if found.with_examples else ""
        print(f"{len(found)} alerts ({fmt}){examples} -> {path}")
    return 0
