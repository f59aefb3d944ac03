"""``esc-analytics fit-model``: fit a tiered escalation classifier to an incident history and
save it with skops; ``esc-analytics detect --model`` applies it like a policy file.

Inputs are read exactly as ``calibrate`` reads them (same features, burst detection feature
included), so a model fitted here finds its columns in ``detect``. With ``--mentions`` the
mention texts also feed TF-IDF unless ``--no-text``. Imports are lazy.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._util.errors import EscAnalyticsError, ModelError
from ._inputs import (
    add_input_options,
    add_objective_options,
    load_features,
    load_incident_file,
    load_texts,
    objective_kwargs,
)


def register(subparsers: Any) -> None:
    """Add the ``fit-model`` parser."""
    parser = subparsers.add_parser(
        "fit-model",
        help="fit an escalation classifier to your incident history (skops file)",
        description="Fit one scikit-learn classifier per tier (decision thresholds tuned on a "
        "time-series split for the objective), print the thresholds, the in-sample backtest "
        "and a walk-forward comparison with the calibrated rule policy, and save the model "
        "with skops (a secure format, not pickle).",
    )
    add_input_options(parser, incidents=True)
    add_objective_options(parser)
    parser.add_argument(
        "--model",
        choices=("logistic", "hgb", "tree"),
        default="logistic",
        help="logistic regression (default, fast), hgb (gradient boosting) or a shallow tree",
    )
    parser.add_argument(
        "--horizon", default="3h", help="windows this long before an incident count as positive"
    )
    parser.add_argument("--persistence", type=int, default=1, metavar="K",
                        help="consecutive windows before a tier counts (1)")
    parser.add_argument("--cooldown", type=int, default=6, metavar="C",
                        help="windows after an episode during which no new alert is sent (6)")
    parser.add_argument("--no-text", action="store_true", help="ignore mention texts")
    parser.add_argument(
        "--burst-level",
        action="append",
        metavar="S,D,Q",
        help="add the burst feature level_q{Q}_{D}d_s{S} (mean log volume over S windows minus "
        "its Q quantile over the previous D days) with its lags; repeatable, e.g. 3,7,0.99",
    )
    parser.add_argument(
        "--scale-free",
        action="store_true",
        help="only inputs that do not depend on a topic's size (ratios, shares, burst levels), "
        "so one model transfers across topics of very different volumes",
    )
    parser.add_argument(
        "--tune-events",
        action="store_true",
        help="after fitting, tune each tier's score threshold, persistence and cooldown on the "
        "escalations they produce (the objective scored on events, not on windows)",
    )
    parser.add_argument(
        "--folds",
        type=int,
        default=3,
        metavar="N",
        help="walk-forward folds for the out-of-sample comparison (3; 0 = skip)",
    )
    parser.add_argument("--out", required=True, metavar="PATH", help="model file (.skops)")
    parser.set_defaults(func=run)


def parse_burst_levels(values: list[str] | None) -> tuple[tuple[int, float, float], ...]:
    """``["3,7,0.99", ...]`` → ``((3, 7.0, 0.99), ...)``, with an error naming the option."""
    levels = []
    for text in values or ():
        parts = [p.strip() for p in text.split(",")]
        try:
            if len(parts) != 3:
                raise ValueError
            smooth, days, quantile = int(parts[0]), float(parts[1]), float(parts[2])
        except ValueError:
            raise EscAnalyticsError(
                f"--burst-level expects SMOOTH,DAYS,QUANTILE like 3,7,0.99, got {text!r}"
            ) from None
        if smooth < 1 or days <= 0 or not 0.0 < quantile < 1.0:
            raise EscAnalyticsError(
                f"--burst-level {text!r}: smoothing must be >= 1 window, days > 0 and the "
                "quantile strictly between 0 and 1"
            )
        levels.append((smooth, days, quantile))
    return tuple(levels)


def run(args: argparse.Namespace) -> int:
    """Fit, print thresholds and figures, save the model."""
    from ..backtesting import backtest
    from ..models import TieredEscalationModel, save_model

    if args.tiers < 1:
        raise EscAnalyticsError(f"--tiers must be >= 1, got {args.tiers}")
    if args.folds < 0:
        raise EscAnalyticsError(f"--folds must be >= 0, got {args.folds}")
    if args.persistence < 1 or args.cooldown < 0:
        raise EscAnalyticsError("--persistence must be >= 1 and --cooldown >= 0")
    out = Path(args.out)
    if out.suffix.lower() != ".skops":
        raise EscAnalyticsError(f"--out must end in .skops, got {args.out}")
    try:
        import pandas as pd

        pd.Timedelta(args.horizon)
    except ValueError:
        raise EscAnalyticsError(
            f"--horizon must be a duration like 3h, got {args.horizon!r}"
        ) from None
    burst_levels = parse_burst_levels(args.burst_level)
    from ..backtesting._nab import get_profile

    get_profile(args.nab_profile)  # an unknown profile fails before the (long) fit
    features = load_features(args)
    incidents = load_incident_file(args.incidents, args.tz, args=args)
    mentions = None if args.no_text else load_texts(args)
    model = TieredEscalationModel(
        n_tiers=args.tiers,
        model=args.model,
        horizon=args.horizon,
        persistence=args.persistence,
        cooldown=args.cooldown,
        use_text=mentions is not None,
        burst_levels=burst_levels,
        scale_free=args.scale_free,
        tune_events=args.tune_events,
        **objective_kwargs(args),
    )
    try:
        model.fit(features, incidents, mentions=mentions)
    except ValueError as exc:  # scikit-learn's own messages (e.g. one class only)
        raise ModelError(str(exc)) from None
    print(f"model: {args.model}, objective {args.objective}"
          f"{f' ({args.nab_profile})' if args.objective == 'nab' else ''}, "
          f"{'with' if model.use_text_ else 'without'} mention texts, {len(model.columns_)} inputs")
    for tier, classifier in sorted(model.models_.items()):
        if args.tune_events:
            tuned = (f"tuned on escalations, for {model.persistence_[tier]} "
                     f"cd {model.cooldown_[tier]}")
        else:
            tuned = "tuned" if classifier.tuned_ else "default (history too short to tune)"
        print(f"  tier {tier}: score threshold {model.threshold(tier):.3f} ({tuned})")
    for tier, why in sorted(model.skipped_tiers_.items()):
        print(f"  tier {tier}: no classifier ({why})")
    in_sample = backtest(
        model.escalations(features, mentions=mentions), incidents,
        nab_profile=args.nab_profile if args.objective == "nab" else None,
    )
    print("in sample (optimistic):")
    print("\n".join("  " + line for line in in_sample.summary().splitlines()))
    if args.folds:
        import warnings

        from ..escalations import AbsentFeatureWarning
        from ..models import compare_with_policy

        try:
            with warnings.catch_warnings():  # the calibrated rule sweeps many candidate plans
                warnings.simplefilter("ignore", AbsentFeatureWarning)
                comparison = compare_with_policy(
                    features, incidents, mentions=mentions, model=model, n_folds=args.folds,
                    importance=False, n_tiers=args.tiers, **objective_kwargs(args),
                )
        except EscAnalyticsError as exc:
            print(f"walk-forward skipped: {exc}")
        else:
            print(comparison.summary())
    save_model(model, out)
    print(f"model written to {out}")
    return 0
