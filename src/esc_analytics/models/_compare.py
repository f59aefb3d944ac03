"""Classifier vs calibrated rule policy, on the same walk-forward folds and the same metrics.

For every fold of :func:`~esc_analytics.walk_forward` (the same cut points, the same
train/test split: incidents cut at the boundary, held-out period backtested with the full past as
context) the rule policy is calibrated and the classifier fitted on the training part only; both
are backtested on the held-out part with identical settings (``max_early``, costs, NAB profile).
Per fold and pooled: recall per tier, false notifications per week, median lead time, expected
cost and NAB score. Permutation importance of the classifier's inputs on the held-out folds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._util.errors import EscAnalyticsError, ModelError
from .._util.times import to_utc, utc_timestamp
from ..backtesting._backtest import backtest
from ..calibration._sweep import CalibrationError, calibrate
from ..calibration._walk_forward import (
    SCHEMES,
    fold_backtest_settings,
    fold_plan,
    normalise_inputs,
    split_fold,
)
from ..escalations._evaluate import escalations_from_tiers, evaluate
from ._classifiers import TieredEscalationModel, clone_model, permutation_importance_frame

METHODS = ("policy", "model")
METHOD_LABELS = {"policy": "rule policy (calibrated)", "model": "classifier"}


@dataclass(frozen=True)
class ModelComparison:
    """Out-of-sample figures of a classifier and a calibrated rule policy on the same folds.

    ``folds``: one row per (fold, method) with the fold's span (or held-out ``topic``),
    ``recall_k`` and ``false_per_week_k`` per tier, ``false_per_week`` (all tiers),
    ``median_lead_time_h``, ``cost``, ``nab_score`` and ``note`` (why a method could not be
    fitted on a fold: it then sends nothing there). ``pooled``: one row per method, figures
    pooled over the held-out periods (recall = caught / incidents summed over folds, NAB from
    summed raw scores). ``importance``: permutation importance of the classifier's inputs
    (tier 1, drop in balanced accuracy) averaged over the held-out folds. ``incidents``:
    per-incident held-out outcomes of both methods (``fold``, ``method`` columns).
    """

    folds: pd.DataFrame
    pooled: pd.DataFrame
    importance: pd.DataFrame
    incidents: pd.DataFrame
    scheme: str
    nab_profile: str
    settings: dict = field(default_factory=dict)

    @property
    def tiers(self) -> list[int]:
        """The tiers reported (from the ``recall_k`` columns)."""
        return sorted(int(c.rsplit("_", 1)[1]) for c in self.pooled if c.startswith("recall_"))

    def to_frame(self) -> pd.DataFrame:
        """The per-fold table (a copy)."""
        return self.folds.copy()

    def summary(self) -> str:
        """Pooled out-of-sample figures, one line per method, plus the top inputs."""
        n_folds = self.folds["fold"].nunique()
        lines = [
            f"classifier vs rule policy, walk-forward ({self.scheme}), {n_folds} folds, "
            "out of sample:"
        ]
        for row in self.pooled.itertuples(index=False):
            recalls = ", ".join(
                f"t{k} {getattr(row, f'caught_{k}')}/{getattr(row, f'incidents_{k}')}"
                for k in self.tiers
            )
            lead = row.median_lead_time_h
            lead_text = "-" if pd.isna(lead) else f"{lead:+.1f} h"
            lines.append(
                f"  {METHOD_LABELS.get(row.method, row.method):26s} recall {recalls} | "
                f"{row.false_per_week:.2f} false/week | lead {lead_text} | "
                f"cost {row.cost:.2f} | NAB {self.nab_profile} {row.nab_score:.1f}"
            )
        notes = self.folds.loc[self.folds["note"] != "", ["fold", "method", "note"]]
        for row in notes.itertuples(index=False):
            lines.append(f"  fold {row.fold} {row.method}: {row.note}")
        if len(self.importance):
            top = self.importance.head(5)
            lines.append(
                "  top inputs (permutation importance, held out): "
                + ", ".join(f"{f} {v:.3f}" for f, v in zip(top["feature"], top["importance"],
                                                          strict=True))
            )
        return "\n".join(lines)

    def plot(self, kind: str = "metrics", **kwargs: Any):
        """``metrics``: pooled figures side by side with per-fold points; ``importance``:
        permutation importance bars. A plotly Figure."""
        from ..plots._compare import comparison_metrics_figure, importance_figure

        if kind == "metrics":
            return comparison_metrics_figure(self, **kwargs)
        if kind == "importance":
            return importance_figure(self.importance, **kwargs)
        raise EscAnalyticsError(f"kind must be 'metrics' or 'importance', got {kind!r}")


def _as_model(model: TieredEscalationModel | Mapping[str, Any] | None, kwargs: Mapping) -> Any:
    """An unfitted model: a copy of the given one, or one built from settings that default to
    the calibration's (tiers, objective, false-alarm budget)."""
    if isinstance(model, TieredEscalationModel):
        return clone_model(model)
    settings = {
        "n_tiers": int(kwargs.get("n_tiers", 3)),
        "objective": kwargs.get("objective", "recall"),
        "model": "logistic",
    }
    budget = kwargs.get("max_false_per_week", 1.0)
    if isinstance(budget, int | float):
        settings["max_false_per_week"] = float(budget)
    if model is not None:
        if not isinstance(model, Mapping):
            raise ModelError(
                f"model must be a TieredEscalationModel or a dict of its settings, got "
                f"{type(model).__name__}"
            )
        settings.update(model)
    try:
        return TieredEscalationModel(**settings)
    except TypeError as exc:
        raise ModelError(f"bad model settings: {exc}") from None


def _silent(features: pd.DataFrame, freq: pd.Timedelta | None) -> Any:
    """Escalations that never fire (a method that could not be fitted sends nothing)."""
    windows = features[["topic", "window_start"]].assign(tier=0)
    return escalations_from_tiers(windows, freq=freq)


def _metrics(bt: Any, tiers: Sequence[int]) -> dict[str, Any]:
    row: dict[str, Any] = {"weeks": bt.weeks}
    table = bt.tiers.set_index("tier")
    for k in tiers:
        has = k in table.index
        row[f"incidents_{k}"] = int(table.at[k, "incidents"]) if has else 0
        row[f"caught_{k}"] = int(table.at[k, "caught"]) if has else 0
        row[f"recall_{k}"] = float(table.at[k, "recall"]) if has else np.nan
        row[f"false_{k}"] = int(table.at[k, "false_notifications"]) if has else 0
        row[f"false_per_week_{k}"] = float(table.at[k, "false_per_week"]) if has else 0.0
    row["false_notifications"] = len(bt.false_alerts)
    row["false_per_week"] = bt.false_per_week
    lead = bt.median_lead_time
    row["median_lead_time_h"] = np.nan if pd.isna(lead) else lead / pd.Timedelta(hours=1)
    row["cost"] = bt.cost
    row["nab_score"] = bt.nab["score"] if bt.nab else np.nan
    for key in ("raw", "raw_null", "raw_perfect"):
        row[f"nab_{key}"] = bt.nab[key] if bt.nab else 0.0
    return row


def _mentions_before(mentions: pd.DataFrame | None, until: pd.Timestamp) -> Any:
    if mentions is None:
        return None
    # Compare tz-aware with tz-aware (numpy would compare naive with aware and fail).
    keep = to_utc(mentions["created_at"]) < utc_timestamp(until)
    return mentions[keep.to_numpy()]


def compare_with_policy(
    features: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    mentions: pd.DataFrame | None = None,
    model: TieredEscalationModel | Mapping[str, Any] | None = None,
    n_folds: int = 4,
    scheme: str = "expanding",
    min_train: str | pd.Timedelta | None = None,
    topics: Sequence[str] | None = None,
    nab_profile: str = "standard",
    importance: bool = True,
    n_repeats: int = 3,
    random_state: int = 0,
    **calibrate_kwargs: Any,
) -> ModelComparison:
    """Fit a classifier and calibrate the rule policy on each walk-forward fold's past, then
    backtest both on the held-out part with the same rules; per fold and pooled.

    ``model`` is a :class:`TieredEscalationModel` (copied, never refitted in place) or a dict of
    its settings (default: logistic, with the calibration's tiers, objective and false-alarm
    budget). ``calibrate_kwargs`` go to :func:`calibrate` as in :func:`walk_forward`
    (``objective``, ``max_false_per_week``, ``costs``, ``max_early``...); the backtests of both
    methods use its ``max_early``/``max_delay``/``costs`` and ``nab_profile``."""
    if scheme not in SCHEMES:
        raise ModelError(f"scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    if int(n_folds) < 1:
        raise ModelError(f"n_folds must be >= 1, got {n_folds}")
    if not isinstance(features, pd.DataFrame) or not isinstance(incidents, pd.DataFrame):
        raise ModelError("features and incidents must be DataFrames")
    kwargs = dict(calibrate_kwargs)
    kwargs.setdefault("run_backtest", False)
    kwargs.setdefault("nab_profile", nab_profile)
    estimator = _as_model(model, kwargs)
    n_tiers = int(kwargs.get("n_tiers", estimator.n_tiers))
    tiers = list(range(1, max(n_tiers, int(estimator.n_tiers)) + 1))
    bt_kwargs = fold_backtest_settings(kwargs, nab_profile)
    # The same normalisation and split as walk_forward, so the folds are identical.
    feats, inc = normalise_inputs(features, incidents)
    texts = None
    if mentions is not None:
        texts = mentions.copy()
        texts["topic"] = texts["topic"].astype(str)
    try:
        plan = fold_plan(
            feats, n_folds=int(n_folds), scheme=scheme, min_train=min_train, topics=topics
        )
    except CalibrationError as exc:
        raise ModelError(str(exc)) from None

    rows: list[dict[str, Any]] = []
    outcomes: list[pd.DataFrame] = []
    importances: list[pd.DataFrame] = []
    for spec in plan:
        fold = split_fold(spec, feats, inc, scheme)
        train_f, train_i = fold.train_features, fold.train_incidents
        test_f, test_i, period = fold.test_features, fold.test_incidents, fold.period
        if scheme == "expanding":
            train_m = _mentions_before(texts, spec["train_until"])
            test_m = _mentions_before(texts, spec["test_until"])
        else:
            topic = spec["topic"]
            train_m = None if texts is None else texts[texts["topic"] != topic]
            test_m = None if texts is None else texts[texts["topic"] == topic]
        # Rule policy, calibrated on the training part only.
        note = ""
        try:
            fit = calibrate(train_f, train_i, **kwargs)
            policy_esc = evaluate(fit.policy, test_f)
        except EscAnalyticsError as exc:
            note, policy_esc = f"not calibrated ({exc})", _silent(test_f, None)
        # Classifier, fitted on the same training part only.
        fold_model = clone_model(estimator)
        model_note = ""
        try:
            fold_model.fit(train_f, train_i, mentions=train_m)
            model_esc = fold_model.escalations(test_f, mentions=test_m)
        except (EscAnalyticsError, ValueError) as exc:
            model_note, model_esc, fold_model = f"not fitted ({exc})", _silent(test_f, None), None
        for method, esc, why in (("policy", policy_esc, note), ("model", model_esc, model_note)):
            bt = backtest(esc, test_i, period=period, **bt_kwargs)
            rows.append({**spec, "method": method, **_metrics(bt, tiers), "note": why})
            ev = bt.incidents[bt.incidents["evaluated"]]
            outcomes.append(ev.assign(fold=spec["fold"], method=method))
        if importance and fold_model is not None and 1 in fold_model.models_:
            try:
                frame = permutation_importance_frame(
                    fold_model, test_f, test_i, mentions=test_m, n_repeats=n_repeats,
                    random_state=random_state, period=period,
                )
            except ModelError:  # one class only in this held-out part
                continue
            importances.append(frame.assign(fold=spec["fold"]))

    folds = pd.DataFrame(rows)
    all_incidents = pd.concat(outcomes, ignore_index=True) if outcomes else pd.DataFrame()
    pooled = _pool(folds, tiers)
    _pooled_lead_times(all_incidents, pooled)
    if importances:
        imp = (
            pd.concat(importances, ignore_index=True)
            .groupby("feature", sort=True)
            .agg(importance=("importance", "mean"), std=("importance", "std"),
                 folds=("fold", "nunique"))
            .reset_index()
            .sort_values(["importance", "feature"], ascending=[False, True])
            .reset_index(drop=True)
        )
    else:
        imp = pd.DataFrame(columns=["feature", "importance", "std", "folds"])
    return ModelComparison(
        folds=folds,
        pooled=pooled,
        importance=imp,
        incidents=all_incidents,
        scheme=scheme,
        nab_profile=nab_profile,
        settings={"model": estimator.get_params(), "calibrate": kwargs, "n_folds": len(plan)},
    )


def _pool(folds: pd.DataFrame, tiers: Sequence[int]) -> pd.DataFrame:
    """Per method: counts summed over folds, rates from the sums, NAB from summed raw scores."""
    out = []
    for method in METHODS:
        part = folds[folds["method"] == method]
        weeks = float(part["weeks"].sum())
        row: dict[str, Any] = {"method": method, "weeks": weeks}
        for k in tiers:
            n, caught = int(part[f"incidents_{k}"].sum()), int(part[f"caught_{k}"].sum())
            row[f"incidents_{k}"], row[f"caught_{k}"] = n, caught
            row[f"recall_{k}"] = caught / n if n else np.nan
            row[f"false_per_week_{k}"] = part[f"false_{k}"].sum() / weeks if weeks else np.nan
        row["false_per_week"] = part["false_notifications"].sum() / weeks if weeks else np.nan
        row["median_lead_time_h"] = np.nan  # filled from the incidents below
        row["cost"] = float(part["cost"].sum())
        span = float(part["nab_raw_perfect"].sum() - part["nab_raw_null"].sum())
        row["nab_score"] = (
            100.0 * float(part["nab_raw"].sum() - part["nab_raw_null"].sum()) / span
            if span > 0
            else np.nan
        )
        out.append(row)
    return pd.DataFrame(out)


def _pooled_lead_times(comparison_incidents: pd.DataFrame, pooled: pd.DataFrame) -> None:
    """Median lead time (hours) over all held-out caught incidents of each method."""
    for i, method in enumerate(pooled["method"]):
        part = comparison_incidents[comparison_incidents["method"] == method]
        lead = part["lead_time"].dropna() if "lead_time" in part else pd.Series([], dtype=float)
        pooled.loc[i, "median_lead_time_h"] = (
            pd.Timedelta(lead.median()) / pd.Timedelta(hours=1) if len(lead) else np.nan
        )


__all__ = ["ModelComparison", "compare_with_policy"]
