"""The rules that keep a calibrated plan one a team can ship: tiers that stay tiers, no plan
that is escalated all the time, thresholds a person would type.

* **Ordered, distinct tiers** (a fresh calibration): tier k+1 uses tier k's measure,
  persistence and cooldown with a *strictly higher* threshold, and on the history it escalates
  *strictly fewer* windows than tier k — some window reaches tier k without tier k+1, so tier
  k can page on its own (two thresholds with no data value between them would make tier k
  unreachable). Every window escalated at tier k+1 is then escalated at tier k: the tiers are
  nested.
* **Separable tiers**: tier k ≥ 2 is written only when the history holds at least
  ``min_incidents`` incidents of severity ≥ k, some rule harder than tier k−1 catches one of
  them, and such a rule is worth its alarms (within the false-alarm budget; for ``cost``,
  cheaper than never paging tier k; for ``nab``, better than never alerting). Otherwise the
  plan has fewer tiers and the result says why. A team's own plan keeps the tier instead, at
  the plan's thresholds (:func:`~esc_analytics.calibrate_policy`).
* **Not escalated all the time**: a candidate that keeps a tier in an open episode (from an
  episode's first escalated window to its last, the windows a cooldown bridges included)
  through more than ``MAX_ESCALATED_SHARE`` (a quarter) of the *quiet* windows — those outside
  every incident's match window, when nothing is going on — is no plan: with a long cooldown a
  low threshold makes one endless episode with one notification and "no false alarm". Such
  candidates are never chosen and stay off the frontier. (Quiet windows, not all windows: on
  a short history a real incident may rightly keep a tier escalated for a large part of it.)
* **Readable thresholds**: a threshold is written with 3 significant digits (nearest, else
  up, else down) when the rounded plan, re-scored, catches the same incidents per tier with
  the same false alarms (and no worse cost or NAB score) and keeps the tiers in order;
  otherwise it is rounded towards the side that leaves every window of the history on the
  same side of it (between the fitted value and the next data value), with more digits only
  when data values are closer than that. Never ``3.125000000000001``.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

MAX_ESCALATED_SHARE = 0.25
READABLE_DIGITS = 3


# ------------------------------------------------------------------------------------------
# Share of the time in an open episode
# ------------------------------------------------------------------------------------------
def open_thresholds(held: np.ndarray, segments: Sequence[slice], cooldown: int) -> np.ndarray:
    """Per window the largest threshold for which it lies inside an open episode of the rule
    ``held > t`` with cooldown ``cooldown`` (rows of one segment are consecutive windows): the
    window is escalated itself (``t < held``) or lies between two escalated windows at most
    ``cooldown`` quiet windows apart. The windows open at threshold ``t`` are those whose value
    here exceeds ``t``.

    With ``a = q − d`` escalated before ``q`` and the next one within ``c + 1`` of it, ``q`` is
    open while ``t < min(held[q − d], max(held[q+1 .. q+c+1−d]))`` for some ``d`` in 1..c: one
    pass over the shifts, the forward maximum grown one window at a time (O(c·n), vectorised)."""
    g = np.asarray(held, dtype=float)
    c, n = int(cooldown), len(g)
    if c <= 0 or n < 3:
        return g.copy()
    # segments laid end to end with c + 1 never-escalated windows between them: shifts by at
    # most c + 1 then never reach another segment
    bounds = [(seg.start, seg.stop) for seg in segments]
    gap = c + 1
    padded = np.full(n + gap * (len(bounds) + 1), -np.inf)
    where = np.concatenate(
        [np.arange(a, b) + gap * (i + 1) for i, (a, b) in enumerate(bounds)]
    ) if bounds else np.zeros(0, dtype=np.int64)
    order = np.concatenate([np.arange(a, b) for a, b in bounds]) if bounds else where
    padded[where] = g[order]
    m = len(padded)
    ahead = np.full(m, -np.inf)  # max(held[q+1 .. q+L])
    bridged = np.full(m, -np.inf)
    for length in range(1, c + 1):
        np.maximum(ahead[:-length], padded[length:], out=ahead[:-length])
        d = c - length + 1  # the escalated window d before q pairs with reach ``length``
        np.maximum(bridged[d:], np.minimum(padded[:-d], ahead[d:]), out=bridged[d:])
    out = g.copy()
    out[order] = np.maximum(padded, bridged)[where]
    return out


# ------------------------------------------------------------------------------------------
# Readable thresholds
# ------------------------------------------------------------------------------------------
def _rounded(value: float, digits: int, rounding: str) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    exact = decimal.Decimal(value)
    exponent = exact.adjusted() - digits + 1
    quantum = decimal.Decimal(1).scaleb(exponent)
    return float(exact.quantize(quantum, rounding=rounding))


def rounding_options(value: float) -> list[float]:
    """``value`` with 3 significant digits: the nearest, then rounded up, then down (each
    once; the value itself when it has no more digits)."""
    value = float(value)
    if not math.isfinite(value):
        return [value]
    out = []
    for rounding in (decimal.ROUND_HALF_EVEN, decimal.ROUND_CEILING, decimal.ROUND_FLOOR):
        candidate = _rounded(value, READABLE_DIGITS, rounding)
        if candidate not in out:
            out.append(candidate)
    return out


def readable_threshold(value: float, bound: float, direction: str) -> float:
    """``value`` with 3 significant digits (more only when needed), rounded ``"up"`` (the
    result stays ≥ value and < ``bound``) or ``"down"`` (≤ value and > ``bound``): the
    interval between the fitted value and the next data value, where every window of the
    history stays on the same side of the threshold."""
    value = float(value)
    if not math.isfinite(value):
        return value
    rounding = decimal.ROUND_CEILING if direction == "up" else decimal.ROUND_FLOOR
    for digits in range(READABLE_DIGITS, 18):
        candidate = _rounded(value, digits, rounding)
        inside = candidate < bound if direction == "up" else candidate > bound
        if inside and (candidate >= value if direction == "up" else candidate <= value):
            return candidate
    return value


def next_value(data: np.ndarray, value: float, direction: str) -> float:
    """The nearest finite value of ``data`` strictly beyond ``value`` (above for ``"up"``,
    below for ``"down"``), ±inf when there is none."""
    x = np.unique(data[np.isfinite(data)])
    if direction == "up":
        i = np.searchsorted(x, value, side="right")
        return float(x[i]) if i < len(x) else np.inf
    i = np.searchsorted(x, value, side="left")
    return float(x[i - 1]) if i > 0 else -np.inf


def readable_condition_value(data: np.ndarray, op: str, value: float) -> float:
    """The value to write for ``feature op value`` so that the condition holds on exactly the
    same windows of ``data`` (the feature's values): ``>`` and ``<=`` round up, ``>=`` and
    ``<`` round down."""
    direction = "up" if op in (">", "<=") else "down"
    return readable_threshold(value, next_value(data, value, direction), direction)


# ------------------------------------------------------------------------------------------
# Nested, separable tiers (fresh calibration)
# ------------------------------------------------------------------------------------------
def _pick_best(g: pd.DataFrame) -> object:
    """Best objective; ties: fewer false alerts, then the higher threshold."""
    score = np.nan_to_num(g["score"].to_numpy(dtype=float), nan=-np.inf)
    order = np.lexsort((-g["threshold"].to_numpy(), g["false_alerts"].to_numpy(), -score))
    return g.index[order[0]]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def choose_nested_tiers(
    group: pd.DataFrame,
    n_tiers: int,
    *,
    null_score: Callable[[int], float],
    objective: str,
    budget: Callable[[int], float],
    min_incidents: int = 1,
    max_share: float = MAX_ESCALATED_SHARE,
) -> tuple[list | None, dict[int, str]]:
    """Tier rows of one (feature, persistence, cooldown) combination: tier 1 the best
    candidate, each next tier the best among the candidates strictly harder than the tier
    below (module docstring). Returns the chosen row labels (None when tier 1 has no usable
    candidate) and, per tier left out, the reason (``{below}`` stands for the rule of the tier
    below, to be filled in with its written threshold)."""
    rows: list = []
    reasons: dict[int, str] = {}
    prev = None
    share_text = f"{max_share:.0%}"
    for k in range(1, n_tiers + 1):
        g = group[group["tier"] == k]
        if k > 1:
            n_k = int(g["incidents"].iloc[0]) if len(g) else 0
            if n_k < max(int(min_incidents), 1):
                have = "no incident" if n_k == 0 else f"only {_plural(n_k, 'incident')}"
                reasons[k] = (
                    f"the history has {have} of severity >= {k} (at least "
                    f"{_plural(max(int(min_incidents), 1), 'incident')} needed to fit a tier)"
                )
                break
            if int(prev["escalated"]) == 0:
                reasons[k] = (
                    f"tier {k - 1} ({{below}}) escalates no window of this history, so no "
                    "harder rule is left to fit"
                )
                break
            harder = (g["threshold"] > prev["threshold"]) & (g["escalated"] < prev["escalated"])
            catching = g[harder & (g["caught"] > 0)]
            if len(catching) == 0:
                reasons[k] = (
                    f"no rule harder than tier {k - 1} ({{below}}) catches "
                    f"{'the' if n_k == 1 else 'any of the'} {_plural(n_k, 'incident')} of "
                    f"severity >= {k} on this history"
                )
                break
            g = catching
        score = g["score"].to_numpy(dtype=float)
        usable = np.isfinite(score)
        open_ok = g["open_share"].to_numpy() <= max_share
        worth = score > null_score(k) if k > 1 else np.ones(len(g), dtype=bool)
        ok = usable & open_ok & worth
        if not ok.any():
            if k == 1:
                return None, {}
            if not (usable & open_ok).any():
                if not usable.any():
                    why = (
                        f"exceeds tier {k}'s false-alarm budget of {budget(k):g}/week"
                        if objective == "recall" else "has no usable score"
                    )
                else:
                    why = f"keeps the tier escalated more than {share_text} of the time"
                reasons[k] = (
                    f"every rule harder than tier {k - 1} ({{below}}) that catches a "
                    f"severity-{k} incident {why}"
                )
            else:
                against = {
                    "cost": "costs more in false alarms than paging tier "
                    f"{k} saves in missed severity-{k} incidents",
                    "nab": "scores below never alerting",
                }.get(objective, "is not worth its alarms")
                reasons[k] = (
                    f"every rule harder than tier {k - 1} ({{below}}) that catches a "
                    f"severity-{k} incident {against}"
                )
            break
        pick = _pick_best(g[ok])
        rows.append(pick)
        prev = group.loc[pick]
    return rows, reasons
