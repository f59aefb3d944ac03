"""Walk-forward validation of calibration: fit on the past (or on other topics), score on data
the fit never saw, per fold and pooled.

* ``scheme="expanding"``: the time span is cut into ``n_folds + 1`` equal periods (the first
  at least ``min_train`` long); fold i calibrates on everything before its boundary — features
  *and* incidents, incident ends clipped to the boundary — and is backtested on the next period.
* ``scheme="topics"``: leave one topic out — calibrate on the other topics, backtest the
  held-out topic over its whole span.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._util.format import format_time
from .._util.stats import wilson_interval
from .._util.times import to_utc
from ..backtesting._backtest import backtest, prepare_incidents
from ..backtesting._matching import DEFAULT_MAX_EARLY
from ..escalations._evaluate import evaluate
from ._detector import rank_rule_text
from ._sweep import CalibrationError, CalibrationResult, calibrate, strict_op

SCHEMES = ("expanding", "topics")


@dataclass(frozen=True)
class WalkForwardResult:
    """Out-of-sample figures of a calibration.

    ``folds``: one row per fold (``fold, train_from, train_until, test_from, test_until,
    topic`` for topic folds, the chosen parameters as text, per-tier ``recall_k`` and
    ``false_per_week_k``, ``nab_score`` when scored); ``incidents``: the held-out per-incident
    outcomes of every fold (with a ``fold`` column); ``pooled``: per-tier figures pooled over
    the held-out periods; ``nab``: pooled normalised NAB score (or None);
    ``calibrations``: the fitted calibration of each fold.
    """

    folds: pd.DataFrame
    incidents: pd.DataFrame
    pooled: pd.DataFrame
    scheme: str
    nab: float | None
    calibrations: tuple[CalibrationResult, ...]

    def to_frame(self) -> pd.DataFrame:
        """The per-fold table (a copy)."""
        return self.folds.copy()

    def summary(self) -> str:
        """Pooled out-of-sample recall and false notifications per week per tier, NAB score."""
        lines = [f"walk-forward ({self.scheme}), {len(self.folds)} folds, out of sample:"]
        if "plan" in self.folds and self.folds["plan"].notna().any():
            lines.append(
                "  (a short history: folds cut between incidents, so that every fold trains "
                "on some; pass min_train= or n_folds= to choose)"
            )
        for row in self.pooled.itertuples(index=False):
            if not row.incidents:
                lines.append(
                    f"  tier {row.tier}: no held-out incident of this severity, "
                    f"{row.false_per_week:.2f} false/week"
                )
                continue
            low, high = wilson_interval(int(row.caught), int(row.incidents))
            lines.append(
                f"  tier {row.tier}: recall {row.caught}/{row.incidents} ({row.recall:.0%}, "
                f"95% interval {low:.0%}-{high:.0%}), {row.false_per_week:.2f} false/week"
            )
        if self.nab is not None:
            lines.append(f"  NAB ({self.folds.attrs.get('nab_profile', '')}): {self.nab:.1f}")
        return "\n".join(lines)

    def plot(self, **kwargs: Any):
        """Per-fold recall and false notifications per week."""
        from ..plots._frontier import walk_forward_figure

        return walk_forward_figure(self, **kwargs)


def _params_text(result: CalibrationResult) -> str:
    """The chosen conditions as written into the policy ("<" features are swept negated;
    the rank detector's as swept, with its refractory)."""
    if "refractory" in result.chosen:
        return "; ".join(
            f"t{r.tier}: {rank_rule_text(r)}" for r in result.chosen.itertuples(index=False)
        )
    return "; ".join(
        f"t{r.tier}: {r.feature} {strict_op(r.op)} "
        f"{r.threshold if r.op in ('>', '>=') else -r.threshold:.4g}"
        f" for {r.persistence} cd {r.cooldown}"
        for r in result.chosen.itertuples(index=False)
    )


def fold_backtest_settings(
    calibrate_kwargs: Mapping[str, Any], nab_profile: str | None
) -> dict[str, Any]:
    """Keyword arguments of the held-out backtests: the calibration's matching rules
    (``max_early``, ``max_delay``) and ``costs``, and the NAB profile when scored."""
    return {
        "max_early": calibrate_kwargs.get("max_early", DEFAULT_MAX_EARLY),
        "max_delay": calibrate_kwargs.get("max_delay"),
        "costs": calibrate_kwargs.get("costs"),
        "nab_profile": nab_profile,
    }


def fold_boundaries(
    times: pd.Series, n_folds: int, min_train: str | pd.Timedelta | None = None
) -> list[pd.Timestamp]:
    """``n_folds + 1`` cut points after the start: fold i trains before cut i, tests up to
    cut i+1 (the last cut is the end of the data)."""
    start, end = times.min(), times.max()
    span = end - start
    first = pd.Timedelta(min_train) if min_train is not None else span / (n_folds + 1)
    if first >= span:
        raise CalibrationError(f"min_train {first} leaves no data to test on (span {span})")
    step = (span - first) / n_folds
    cuts = [start + first + i * step for i in range(n_folds)]
    return [*cuts, end + pd.Timedelta(1, "ns")]


def _fold_context(spec: dict[str, Any], train_incidents: pd.DataFrame, scheme: str) -> str:
    """Which fold failed to calibrate, with its training incidents and how to get more."""
    n = len(train_incidents)
    if scheme == "expanding":
        until = format_time(spec["train_until"])
        hint = "; use fewer folds (n_folds=), a shorter min_train= or a longer history" if (
            n == 0
        ) else ""
        return (f"walk-forward fold {spec['fold']} calibrates on data before {until}, "
                f"which holds {n} incident(s){hint}")
    return (f"walk-forward fold {spec['fold']} (topic {spec['topic']!r} held out) calibrates "
            f"on the other topics, which hold {n} incident(s)")


def normalise_inputs(
    features: pd.DataFrame, incidents: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Copies of features and incidents with UTC times and string topics (fold splitting
    compares them)."""
    feats = features.copy()
    feats["window_start"] = to_utc(feats["window_start"]).to_numpy()
    feats["topic"] = feats["topic"].astype(str)
    inc = incidents.copy()
    inc["topic"] = inc["topic"].astype(str)
    inc["started_at"] = to_utc(inc["started_at"]).to_numpy()
    if "ended_at" in inc:
        inc["ended_at"] = to_utc(inc["ended_at"]).to_numpy()
    return feats, inc


def incident_boundaries(
    times: pd.Series, incidents: pd.DataFrame, n_folds: int
) -> list[pd.Timestamp]:
    """Cut points for a short history: at most one fold fewer than there are incidents, each
    cut between two incidents (after the earlier one stops matching), so that every training
    period holds incidents and every test period holds one or more."""
    inside = incidents[
        (incidents["started_at"] >= times.min()) & (incidents["started_at"] <= times.max())
    ].sort_values("started_at")
    if len(inside) < 2:
        raise CalibrationError(
            f"walk-forward needs at least 2 incidents inside the data ({len(inside)} found): "
            "one to fit on and one to test on; backtest the in-sample fit instead"
        )
    # incidents that start together go to the same side of every cut
    groups = inside.groupby("started_at", sort=True)["match_until"].max()
    if len(groups) < 2:
        raise CalibrationError(
            "walk-forward needs incidents at two different times at least: every incident "
            "inside the data starts at the same moment"
        )
    folds = min(int(n_folds), len(groups) - 1)
    starts = pd.Series(groups.index)
    until = groups.cummax().reset_index(drop=True)
    cuts = []
    for i in range(1, folds + 1):
        k = max(round(i * len(groups) / (folds + 1)), 1)  # start times before cut i
        earlier, later = until[k - 1], starts[k]
        cuts.append(earlier if earlier < later else later)
    cuts = sorted(set(cuts))
    return [*cuts, times.max() + pd.Timedelta(1, "ns")]


def _trains_on_incidents(feats: pd.DataFrame, inc: pd.DataFrame, cuts: list) -> bool:
    """Whether every expanding fold's training period (before its cut) holds an incident."""
    first = feats["window_start"].min()
    return all(
        bool(((inc["started_at"] >= first) & (inc["started_at"] < cut)).any()) for cut in cuts[:-1]
    )


def fold_plan(
    feats: pd.DataFrame,
    *,
    n_folds: int,
    scheme: str,
    min_train: str | pd.Timedelta | None = None,
    topics: Sequence[str] | None = None,
    incidents: pd.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """The folds: ``fold, train_until, test_from, test_until`` (expanding) or ``fold, topic``
    (leave one topic out). Expanding folds split the time span evenly; when that would leave a
    training period without an incident (a short history) and ``min_train`` is not given, the
    cuts go between incidents instead (:func:`incident_boundaries`)."""
    if scheme == "expanding":
        cuts = fold_boundaries(feats["window_start"], int(n_folds), min_train)
        if (
            min_train is None
            and incidents is not None
            and not _trains_on_incidents(feats, incidents, cuts)
        ):
            cuts = incident_boundaries(feats["window_start"], incidents, int(n_folds))
            return [
                {
                    "fold": i,
                    "train_until": cuts[i],
                    "test_from": cuts[i],
                    "test_until": cuts[i + 1],
                    "plan": "between incidents",
                }
                for i in range(len(cuts) - 1)
            ]
        return [
            {"fold": i, "train_until": cuts[i], "test_from": cuts[i], "test_until": cuts[i + 1]}
            for i in range(int(n_folds))
        ]
    names = list(topics) if topics is not None else sorted(feats["topic"].unique())
    if len(names) < 2:
        raise CalibrationError("leave-one-topic-out needs at least two topics")
    return [{"fold": i, "topic": t} for i, t in enumerate(names)]


@dataclass(frozen=True)
class FoldData:
    """What one fold may learn from (``train_*``) and what it is scored on (``test_*``,
    ``period``: the scored time span of an expanding fold, None for a topic fold)."""

    train_features: pd.DataFrame
    train_incidents: pd.DataFrame
    test_features: pd.DataFrame
    test_incidents: pd.DataFrame
    period: tuple[pd.Timestamp, pd.Timestamp] | None


def split_fold(
    spec: Mapping[str, Any], feats: pd.DataFrame, inc: pd.DataFrame, scheme: str
) -> FoldData:
    """Cut one fold. Expanding: the training part ends at the boundary — features and
    incidents, incident ends clipped to it — so nothing after it is ever read; the test part is
    the history up to the fold's end, scored on (test_from, test_until) only. Topics: train on
    the others, test on the held-out topic."""
    if scheme == "expanding":
        boundary = spec["train_until"]
        train_i = inc[inc["started_at"] < boundary].copy()
        if "ended_at" in train_i:
            train_i["ended_at"] = train_i["ended_at"].where(
                train_i["ended_at"].isna() | (train_i["ended_at"] < boundary), boundary
            )
        return FoldData(
            feats[feats["window_start"] < boundary],
            train_i,
            feats[feats["window_start"] < spec["test_until"]],
            inc,
            (spec["test_from"], spec["test_until"]),
        )
    topic = spec["topic"]
    return FoldData(
        feats[feats["topic"] != topic],
        inc[inc["topic"] != topic],
        feats[feats["topic"] == topic],
        inc[inc["topic"] == topic],
        None,
    )


def walk_forward(
    features: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    n_folds: int = 4,
    scheme: str = "expanding",
    min_train: str | pd.Timedelta | None = None,
    topics: Sequence[str] | None = None,
    **calibrate_kwargs: Any,
) -> WalkForwardResult:
    """Calibrate on the past (or other topics) and backtest on what the fit never saw; per
    fold and pooled. ``calibrate_kwargs`` go to :func:`calibrate` (objective, budgets...)."""
    if scheme not in SCHEMES:
        raise CalibrationError(f"scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    if int(n_folds) < 1:
        raise CalibrationError(f"n_folds must be >= 1, got {n_folds}")
    feats, inc = normalise_inputs(features, incidents)
    kwargs = dict(calibrate_kwargs)
    kwargs.setdefault("run_backtest", False)
    objective = kwargs.get("objective", "recall")
    nab_profile = kwargs.get("nab_profile", "standard") if objective == "nab" else None
    bt_kwargs = fold_backtest_settings(kwargs, nab_profile)
    rows, outcomes, fits, tier_tables = [], [], [], []
    nab_raw = nab_null = nab_perfect = 0.0
    plan = fold_plan(
        feats,
        n_folds=int(n_folds),
        scheme=scheme,
        min_train=min_train,
        topics=topics,
        incidents=prepare_incidents(inc),
    )
    for spec in plan:
        fold = split_fold(spec, feats, inc, scheme)
        train_f, train_i = fold.train_features, fold.train_incidents
        test_f, test_i, period = fold.test_features, fold.test_incidents, fold.period
        try:
            fit = calibrate(train_f, train_i, **kwargs)
        except CalibrationError as exc:  # say which fold, and what to change
            raise CalibrationError(f"{_fold_context(spec, train_i, scheme)}: {exc}") from exc
        esc = evaluate(fit.policy, test_f)
        bt = backtest(esc, test_i, period=period, **bt_kwargs)
        fits.append(fit)
        row: dict[str, Any] = {**spec, "params": _params_text(fit), "weeks": bt.weeks}
        for t in bt.tiers.itertuples(index=False):
            row[f"recall_{t.tier}"] = t.recall
            row[f"false_per_week_{t.tier}"] = t.false_per_week
        if bt.nab is not None:
            row["nab_score"] = bt.nab["score"]
            nab_raw += bt.nab["raw"]
            nab_null += bt.nab["raw_null"]
            nab_perfect += bt.nab["raw_perfect"]
        rows.append(row)
        ev = bt.incidents[bt.incidents["evaluated"]].assign(fold=spec["fold"])
        outcomes.append(ev)
        tier_tables.append(bt.tiers.assign(fold=spec["fold"], weeks=bt.weeks))
    folds = pd.DataFrame(rows)
    folds.attrs["nab_profile"] = nab_profile or ""
    all_inc = pd.concat(outcomes, ignore_index=True) if outcomes else pd.DataFrame()
    tiers = pd.concat(tier_tables, ignore_index=True)
    weeks = float(folds["weeks"].sum())
    pooled = (
        tiers.groupby("tier")
        .agg(
            incidents=("incidents", "sum"),
            caught=("caught", "sum"),
            false_notifications=("false_notifications", "sum"),
        )
        .reset_index()
    )
    pooled["recall"] = np.where(
        pooled["incidents"] > 0, pooled["caught"] / pooled["incidents"].clip(lower=1), np.nan
    )
    pooled["false_per_week"] = pooled["false_notifications"] / max(weeks, 1e-12)
    nab = None
    if nab_profile is not None and nab_perfect > nab_null:
        nab = 100.0 * (nab_raw - nab_null) / (nab_perfect - nab_null)
    return WalkForwardResult(folds, all_inc, pooled, scheme, nab, tuple(fits))
