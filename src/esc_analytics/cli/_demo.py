"""``esc-analytics demo``: the main job end to end on the bundled sample data.

Load → aggregate → calibrate a three-tier plan → backtest it (in and out of sample) → render
the retrospective notebook. Every output goes to one folder, printed at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` sub-command."""
    parser = subparsers.add_parser(
        "demo",
        help="run the main job on the bundled sample data",
        description=(
            "Load the bundled sample history, aggregate it, calibrate an escalation plan, "
            "backtest it and render the retrospective notebook."
        ),
    )
    parser.add_argument("--data", type=Path, default=None, help="sample data folder")
    parser.add_argument("--out", type=Path, default=Path("out/demo"), help="output folder")
    parser.add_argument(
        "--max-false-per-week",
        type=float,
        default=2.0,
        help="alert-fatigue budget per tier used by the calibration (default 2)",
    )
    parser.add_argument(
        "--no-render", action="store_true", help="skip rendering the retrospective notebook"
    )
    parser.set_defaults(func=run)


def _step(message: str) -> float:
    print(f"==> {message}", flush=True)
    return time.perf_counter()


def run(args: argparse.Namespace) -> int:
    """Run the demo; returns the exit status."""
    from .._util.atomic import atomic_write_text, write_table
    from .._util.paths import notebooks_dir, sample_dir
    from ..backtesting import backtest
    from ..calibration import (
        CalibrationError,
        calibrate,
        calibrate_policy,
        check_history,
        walk_forward,
    )
    from ..escalations import evaluate
    from ..features import load_inputs
    from ..policy import save_policy

    data = args.data or sample_dir()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    _step(f"loading the history from {data}")
    # mentions, incidents, planned events (kept out of the baselines) and the starter plan
    inputs = load_inputs(data, freq="1h")
    mentions, incidents = inputs.mentions, inputs.incidents
    print(f"    mentions:  {mentions.summary}")
    print(f"    incidents: {incidents.summary}")

    _step("aggregating mentions into hourly features (baselines from the past only)")
    features = inputs.features
    features_path = out / "features.parquet"
    write_table(features, features_path)
    print(
        f"    {len(features):,} windows × {features['topic'].nunique()} topics "
        f"→ {features_path}"
    )

    _step("checking the history before fitting anything")
    readiness = check_history(features, incidents.data, n_tiers=3)
    print(_indent(readiness.summary()))

    starter = inputs.policy
    if starter is not None:
        _step(f"backtesting the starter plan {Path(inputs.sources['policy']).name}")
        starter_result = backtest(evaluate(starter, features), incidents.data)
        print(_indent(starter_result.summary()))

        _step("calibrating the starter plan's own thresholds (tiers, conditions, owners kept)")
        fitted = calibrate_policy(
            starter,
            features,
            incidents.data,
            objective="recall",
            max_false_per_week=args.max_false_per_week,
        )
        save_policy(fitted.policy, out / "policy_starter_calibrated.yaml")
        print(_indent(fitted.summary()))

    _step(
        f"calibrating a new 3-tier plan on the best single detection feature (max "
        f"{args.max_false_per_week:g} false escalations per week per tier)"
    )
    calibration = calibrate(
        features,
        incidents.data,
        template=starter,  # tier names and owners (and candidate features) from the plan;
        replace_conditions=True,  # its conditions replaced by one fitted measure (noted)
        n_tiers=3,
        objective="recall",
        max_false_per_week=args.max_false_per_week,
    )
    policy_path = out / "policy.yaml"
    save_policy(calibration.policy, policy_path)
    print(_indent(calibration.summary()))
    print(f"    calibrated plan → {policy_path}")

    _step("out of sample: walk-forward (calibrate on the past, score the next period)")
    try:
        folds = walk_forward(
            features,
            incidents.data,
            n_folds=3,
            scheme="expanding",
            n_tiers=3,
            objective="recall",
            max_false_per_week=args.max_false_per_week,
        )
    except CalibrationError as exc:  # a short history: say why, and go on
        print(f"    skipped: {exc}")
    else:
        print(_indent(folds.summary()))
        write_table(folds.to_frame(), out / "walk_forward_folds.csv")

    _step("backtesting the calibrated plan against the whole incident log (in sample)")
    result = backtest(evaluate(calibration.policy, features), incidents.data)
    print(_indent(result.summary()))
    atomic_write_text(out / "backtest.json", json.dumps(result.to_dict(), indent=2, default=str))
    write_table(result.to_frame(), out / "incidents_outcomes.csv")

    rendered = None
    if not args.no_render:
        _step("rendering the retrospective for the meeting (one light, static HTML file)")
        from ..report import render_notebook

        rendered = out / "retrospective.html"
        render_notebook(
            notebooks_dir() / "04_retrospective.ipynb",
            rendered,
            parameters={
                "data_dir": str(data.resolve()),
                "policy_path": str(policy_path.resolve()),
                "notes_dir": str((out / "retro-notes").resolve()),
            },
            progress=lambda message: print(f"    {message}", file=sys.stderr, flush=True),
            meeting=True,  # for the room: narrative, tables and figures, static and light
        )

    print()
    print(f"Done. Outputs in {out.resolve()}:")
    for path in sorted(out.iterdir()):
        if path.is_file():
            print(f"  {path.name:32s} {path.stat().st_size / 1024:8.1f} KiB")
    if rendered is not None:
        print(f"Open {rendered.resolve().as_uri()} in a browser for the retrospective.")
    return 0


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in str(text).splitlines())
