"""Policy what-if: what changes if we switch from policy A to policy B?

Pure computation: both policies are evaluated on the same features; per incident we compare
caught / tier / first alert / lead time, per tier the alerts (and false escalations) per week.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._util.errors import PolicyError
from .._util.format import format_hours
from ..escalations._escalations import Escalations
from ..escalations._evaluate import evaluate
from ._backtest import backtest
from ._matching import DEFAULT_MAX_EARLY

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

CHANGE_LABELS = ("newly caught", "newly missed", "both caught", "both missed")
# Flat policy parameters that are not thresholds (counts of windows, a volume floor).
_NOT_THRESHOLDS = ("__persistence", "__cooldown", "__refractory", "__min_volume")


@dataclass(frozen=True)
class PolicyComparison:
    """Policy A vs policy B on the same features and incidents.

    ``incidents``: per incident ``incident_id, topic, severity, tier_a, tier_b, first_alert_a,
    first_alert_b, lead_time_a_h, lead_time_b_h, lead_time_change_h, change`` (one of
    ``CHANGE_LABELS``); lead times are hours before the team noticed. ``tiers``: per tier
    ``tier, alerts_per_week_a, alerts_per_week_b,
    alerts_per_week_change, false_per_week_a, false_per_week_b, false_per_week_change``.
    """

    name_a: str
    name_b: str
    incidents: pd.DataFrame
    tiers: pd.DataFrame
    weeks: float
    escalations_a: Escalations
    escalations_b: Escalations
    features: pd.DataFrame
    incident_frame: pd.DataFrame
    backtest_a: Any = None
    backtest_b: Any = None

    @property
    def newly_caught(self) -> list[str]:
        """Ids of incidents B catches and A misses."""
        return self.incidents.loc[
            self.incidents["change"] == "newly caught", "incident_id"
        ].tolist()

    @property
    def newly_missed(self) -> list[str]:
        """Ids of incidents A catches and B misses."""
        return self.incidents.loc[
            self.incidents["change"] == "newly missed", "incident_id"
        ].tolist()

    def summary(self) -> str:
        """A short text: incidents gained and lost, lead-time change, alert load per tier."""
        inc = self.incidents
        caught_a = int((inc["tier_a"] > 0).sum())
        caught_b = int((inc["tier_b"] > 0).sum())
        lines = [
            f"{self.name_a} → {self.name_b}: caught {caught_a} → {caught_b} "
            f"of {len(inc)} incidents",
            f"  newly caught: {', '.join(self.newly_caught) or 'none'}",
            f"  newly missed: {', '.join(self.newly_missed) or 'none'}",
        ]
        both = inc["lead_time_change_h"].dropna()
        if len(both):
            med = float(both.median())
            direction = "earlier" if med > 0 else "later" if med < 0 else "no change"
            lines.append(
                f"  lead time on incidents both catch: median {format_hours(med)} {direction}"
                if med
                else "  lead time on incidents both catch: no change (median)"
            )
        for r in self.tiers.itertuples(index=False):
            lines.append(
                f"  tier {r.tier}: {r.alerts_per_week_a:.2f} → {r.alerts_per_week_b:.2f}"
                " alerts/week"
                f" ({r.alerts_per_week_change:+.2f}); false {r.false_per_week_a:.2f} → "
                f"{r.false_per_week_b:.2f}/week"
            )
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """The per-incident comparison."""
        return self.incidents.copy()

    def plot(self, topic: str | None = None, **kwargs: Any) -> go.Figure:
        """Side-by-side timelines of A and B (see ``plots._whatif.comparison_figure``)."""
        from ..plots._whatif import comparison_figure

        return comparison_figure(self, topic=topic, **kwargs)


def distinct_names(name_a: Any, name_b: Any) -> tuple[str, str]:
    """The two plans' names, told apart: equal names (after trimming, any case) get ``(A)`` and
    ``(B)``; an empty name is ``A`` or ``B``."""
    a, b = str(name_a or "").strip() or "A", str(name_b or "").strip() or "B"
    if a.casefold() == b.casefold():
        return f"{a} (A)", f"{b} (B)"
    return a, b


def compare_escalations(
    features: pd.DataFrame,
    incidents: pd.DataFrame,
    escalations_a: Escalations,
    escalations_b: Escalations,
    *,
    names: tuple[str, str] = ("A", "B"),
    tiers: list[int] | None = None,
    max_early: str | pd.Timedelta = DEFAULT_MAX_EARLY,
    max_delay: str | pd.Timedelta | None = None,
) -> PolicyComparison:
    """Compare two sets of escalations (from policies or models) on the same incidents, with
    the backtest's matching rules. Two equal names become ``name (A)`` and ``name (B)``: every
    table, title and legend tells the plans apart."""
    names = distinct_names(*names)
    kw = {"max_early": max_early, "max_delay": max_delay}
    bt_a = backtest(escalations_a, incidents, **kw)
    bt_b = backtest(escalations_b, incidents, **kw)
    a, b = bt_a.incidents, bt_b.incidents
    hour = pd.Timedelta("1h")
    inc = pd.DataFrame(
        {
            "incident_id": a["incident_id"].astype(str),
            "topic": a["topic"],
            "severity": a["severity"].astype(int),
            "evaluated": a["evaluated"].to_numpy() & b["evaluated"].to_numpy(),
            "tier_a": a["tier_reached"].astype(int),
            "tier_b": b["tier_reached"].astype(int).to_numpy(),
            "first_alert_a": a["first_alert_at"],
            "first_alert_b": b["first_alert_at"].array,
            "lead_time_a_h": (a["lead_time"] / hour).astype(float),
            "lead_time_b_h": (b["lead_time"] / hour).astype(float).to_numpy(),
        }
    )
    # Positive change = B alerts earlier than A (both must catch it).
    inc["lead_time_change_h"] = ((inc["first_alert_a"] - inc["first_alert_b"]) / hour).astype(float)
    ca, cb = inc["tier_a"] > 0, inc["tier_b"] > 0
    inc["change"] = pd.array(
        np.select([cb & ~ca, ca & ~cb, ca & cb], list(CHANGE_LABELS[:3]), CHANGE_LABELS[3]),
        dtype="str",
    )
    ta = bt_a.tiers.set_index("tier")
    tb = bt_b.tiers.set_index("tier")
    if tiers is None:
        tiers = sorted(set(ta.index) | set(tb.index))
    weeks = bt_a.weeks or 1e-9

    def col(table: pd.DataFrame, name: str, per_week: bool) -> np.ndarray:
        values = table[name].reindex(tiers).fillna(0).to_numpy(dtype=float)
        return values / weeks if per_week else values

    tier_frame = pd.DataFrame(
        {
            "tier": tiers,
            "alerts_per_week_a": col(ta, "notifications", True),
            "alerts_per_week_b": col(tb, "notifications", True),
            "false_per_week_a": col(ta, "false_per_week", False),
            "false_per_week_b": col(tb, "false_per_week", False),
        }
    )
    tier_frame["alerts_per_week_change"] = (
        tier_frame["alerts_per_week_b"] - tier_frame["alerts_per_week_a"]
    )
    tier_frame["false_per_week_change"] = (
        tier_frame["false_per_week_b"] - tier_frame["false_per_week_a"]
    )
    return PolicyComparison(
        name_a=names[0],
        name_b=names[1],
        incidents=inc,
        tiers=tier_frame,
        weeks=float(weeks),
        escalations_a=escalations_a,
        escalations_b=escalations_b,
        features=features,
        incident_frame=incidents,
        backtest_a=bt_a,
        backtest_b=bt_b,
    )


def scale_thresholds(policy: Any, factor: float) -> Any:
    """A what-if variant of ``policy``: every condition threshold multiplied by ``factor``
    (persistence, cooldown, refractory and min_volume unchanged), e.g. 0.8 for "plan A, 20 %
    lower"."""
    if not hasattr(policy, "get_params"):
        raise PolicyError(f"expected a Policy, got {type(policy).__name__}", key="policy")
    try:
        factor = float(factor)
    except (TypeError, ValueError):
        raise PolicyError(f"the scale factor must be a number, got {factor!r}") from None
    if not np.isfinite(factor) or factor <= 0:
        raise PolicyError(f"the scale factor must be a positive number, got {factor}")
    thresholds = {
        name: value * factor
        for name, value in policy.get_params().items()
        if value is not None and not name.endswith(_NOT_THRESHOLDS)
    }
    return policy.set_params(**thresholds)


def compare_policies(
    features: pd.DataFrame,
    incidents: pd.DataFrame,
    policy_a: Any,
    policy_b: Any,
    *,
    names: tuple[str, str] | None = None,
    max_early: str | pd.Timedelta = DEFAULT_MAX_EARLY,
    max_delay: str | pd.Timedelta | None = None,
) -> PolicyComparison:
    """Evaluate ``policy_a`` and ``policy_b`` on ``features`` and compare their outcomes."""
    for label, pol in (("policy_a", policy_a), ("policy_b", policy_b)):
        if not hasattr(pol, "tiers"):
            raise PolicyError(f"expected a Policy, got {type(pol).__name__}", key=label)
    if names is None:
        names = (policy_a.name or "A", policy_b.name or "B")
    tiers = sorted({int(t.level) for t in (*policy_a.tiers, *policy_b.tiers)})
    return compare_escalations(
        features,
        incidents,
        evaluate(policy_a, features),
        evaluate(policy_b, features),
        names=names,
        tiers=tiers,
        max_early=max_early,
        max_delay=max_delay,
    )
