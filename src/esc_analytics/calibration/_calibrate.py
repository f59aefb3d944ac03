"""``calibrate``: one entry point for a fresh plan and for the team's own plan.

Without a template, the sweep (``_sweep``) fits a fresh tiered plan on one detection measure:
tiers nested and distinct, fewer tiers when the incident log cannot separate them
(``_tiers``). Given the team's plan (``template=``), the plan's own thresholds are fitted by
:func:`~esc_analytics.calibrate_policy`, which keeps its tiers, conditions, names, owners,
persistence, cooldown and refractory periods. ``replace_conditions=True`` asks for the fresh
sweep anyway, with the plan's tier names and owners; the result then notes, tier by tier,
the plan's conditions it replaced.
"""

from __future__ import annotations

import inspect
from typing import Any

import pandas as pd

from ..policy._policy import Policy
from ._sweep import CalibrationError, CalibrationResult
from ._sweep import calibrate as calibrate_fresh
from ._template import calibrate_policy


def calibrate(
    features: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    template: Policy | None = None,
    replace_conditions: bool = False,
    **options: Any,
) -> CalibrationResult:
    """Fit an escalation plan to an incident history.

    Without ``template``: a fresh tiered plan — for every candidate detection measure and
    persistence × cooldown of the grids, thresholds are swept at once and each tier ``k`` gets
    the best threshold for the incidents of severity ≥ k, strictly harder to reach than tier
    k−1 (same measure, persistence and cooldown, a higher threshold, fewer windows escalated
    on the history). A tier the history cannot separate from the one below (no incident of its
    severity, or none that a harder rule catches within the budget) is left out, and
    ``result.notes`` (and ``summary()``) say why. Options: ``n_tiers`` (3), ``objective``
    (``recall``, ``cost`` or ``nab``), ``max_false_per_week``, ``costs``, ``nab_profile``,
    ``persistence_grid``, ``cooldown_grid``, ``feature_candidates``, ``n_thresholds``,
    ``thresholds``, ``max_early``, ``max_delay``, ``freq``, ``smoothing``, ``run_backtest``,
    ``min_incidents`` (incidents a tier needs to be fitted, 1) and ``max_escalated_share``
    (0.25: a candidate keeping a tier escalated through more of the quiet windows is no plan).

    With ``template`` (the team's plan): :func:`~esc_analytics.calibrate_policy` fits the
    plan's own thresholds and keeps everything else; it takes the objective options above
    plus ``params`` and ``rounds``. Options that shape a fresh plan (grids, candidate
    measures, ``n_tiers`` other than the plan's) are refused unless ``replace_conditions=True``,
    which runs the fresh sweep with the plan's tier names and owners and notes each condition
    replaced. Thresholds are written with 3 significant digits, rounded so that the history's
    figures do not change."""
    if template is None or replace_conditions:
        return calibrate_fresh(features, incidents, template=template, **options)
    if not isinstance(template, Policy):
        raise CalibrationError(f"template must be a Policy, got {type(template).__name__}")
    options = dict(options)
    n_tiers = options.pop("n_tiers", None)
    if n_tiers is not None and int(n_tiers) != len(template.tiers):
        raise CalibrationError(
            f"n_tiers={n_tiers} but the plan has {len(template.tiers)} tiers: its own tiers are "
            "kept (pass replace_conditions=True for a fresh plan with its names and owners)"
        )
    accepted = set(inspect.signature(calibrate_policy).parameters) - {
        "template", "features", "incidents",
    }
    fresh_only = sorted(k for k in options if k not in accepted)
    if fresh_only:
        raise CalibrationError(
            f"{', '.join(fresh_only)} shape a fresh plan; with template= the plan's own tiers, "
            "conditions, persistence and cooldown are kept and only its thresholds are fitted "
            "(calibrate_policy): drop them, or pass replace_conditions=True to replace the "
            "plan's conditions by one fitted measure per tier"
        )
    return calibrate_policy(template, features, incidents, **options)
