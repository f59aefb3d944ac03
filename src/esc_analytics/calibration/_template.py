"""Calibrate the thresholds of a team's own escalation plan, keeping its structure.

:func:`calibrate_policy` takes a template :class:`~esc_analytics.Policy` (tiers with ``all`` /
``any`` conditions, ``min_volume``, persistence, cooldown, names and owners) and fits the values
of its thresholds only, by coordinate-wise search: one flat threshold (``tier2__volume_ratio``)
at a time, the rest of the plan held fixed, every candidate value scored at once.

Exactness. Varying one threshold ``t`` of tier ``k`` changes only tier ``k``'s raw condition,
which at window ``j`` holds for the candidates ranked (strictest last) ``r < K[j]``: ``K`` is the
count of candidates the feature value passes where the tier's other conditions (``all``, the
``any`` group, ``min_volume``) hold, ``n`` where another ``any`` condition already holds, else 0.
With ``R[j]`` the highest *other* tier holding, level ``L`` holds for ``r < a_L[j]`` (``n`` if
``R >= L``, ``K`` if ``R < L <= k``, else 0); persistence is a rolling minimum of ``a_L`` within
runs of consecutive windows, and the tier of window ``j`` under candidate ``r`` is the highest
``L`` with ``r < A_L[j]``. Episodes, per-tier cooldowns and notifications (where an episode
starts or rises) follow :func:`~esc_analytics.evaluate` exactly, for all candidates at once on a
(candidates × windows that can escalate) matrix: an episode's running maximum tier is a
segmented cumulative maximum whose segments (links within the cooldown of the episode's tier)
are found as the fixed point of a few vectorised passes (unique, since any fixed point obeys the
sequential recursion; a sequential scan over windows — still vectorised over candidates — is
the fallback). Caught incidents, per-tier false notifications, expected cost, lead times and the
NAB score then follow backtest's rules. The chosen plan is re-scored by the real ``evaluate`` +
``backtest`` (``CalibrationResult.backtest``); tests check the sweep against that loop.

Refractory periods (a tier's ``refractory``: a run starting within it after the episode's
first window, at the same or a lower tier, continues the episode) are part of the same fixed
point: a window's link to the episode depends on the episode's tier and first window, both
known from the links before it.

Tiers stay tiers (``_tiers``): the plan's order between tiers sharing a threshold is kept
(strictly where the plan's is strict), a tier the history cannot fit keeps the plan's
thresholds with the reason in ``notes``, candidates keeping the plan escalated through more
than a quarter of the quiet windows are avoided first, and changed thresholds are written
with 3 significant digits, re-scored.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .._util.times import to_utc_ns
from ..backtesting._backtest import CostModel, mark_evaluated, prepare_incidents
from ..backtesting._matching import DEFAULT_MAX_EARLY, MatchRules
from ..backtesting._nab import NabFile, window_rows
from ..escalations._evaluate import prepare_grid
from ..features._detection import detection_measure, is_detection_measure
from ..policy._policy import Policy
from ._sweep import (
    OBJECTIVES,
    CalibrationError,
    CalibrationResult,
    backtest_policy,
    false_alarm_budget,
    note_lines,
    pareto_mask,
)
from ._tiers import MAX_ESCALATED_SHARE, next_value, readable_threshold, rounding_options

_FIXPOINT_PASSES = 32
_BLOCK_CELLS = 4_000_000  # candidates × active windows per block (bounds memory)


# ------------------------------------------------------------------------------------------
# Prepared data: features sorted by (topic, time), incidents on that grid
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Prepared:
    """Everything the sweep needs, computed once per calibration."""

    features: pd.DataFrame  # sorted by (topic, window_start), RangeIndex
    topic_codes: np.ndarray
    positions: np.ndarray  # window number on the freq grid (consecutive = +1)
    run_pos: np.ndarray  # index of the row inside its run of consecutive windows
    times: np.ndarray  # int64 ns, sorted
    freq_ns: int
    weeks: float
    columns: dict[str, np.ndarray]  # feature -> float values (sorted order, NaN kept)
    inc_lo: np.ndarray  # per evaluated incident: matching row range [lo, hi)
    inc_hi: np.ndarray
    severity: np.ndarray
    started_ns: np.ndarray
    noticed_ns: np.ndarray  # float, NaN when neither detected_at nor escalated_at is known
    in_window: np.ndarray  # bool per row: inside some evaluated incident's match rows
    n_incidents_all: int
    nab_files: list  # [(first row, NabFile)] per topic, when scoring NAB
    nab_profile: str | None
    costs: Any

    def column(self, name: str) -> np.ndarray:
        absent = name not in self.columns and name not in self.features.columns
        if absent and is_detection_measure(name):  # as evaluate does: computed from volume
            freq = pd.Timedelta(self.freq_ns, unit="ns")
            self.columns[name] = detection_measure(self.features, name, freq=freq)
        if name not in self.columns:
            if name not in self.features.columns:
                raise CalibrationError(
                    f"the template uses feature {name!r} but the features have no such column"
                )
            values = pd.to_numeric(self.features[name], errors="coerce")
            self.columns[name] = values.to_numpy(dtype=float, na_value=np.nan)
        return self.columns[name]


def _prepare(
    features: pd.DataFrame,
    incidents: pd.DataFrame,
    rules: MatchRules,
    costs: Any,
    nab_profile: str | None,
) -> _Prepared:
    grid = prepare_grid(features)
    order = np.arange(len(features)) if grid.order is None else grid.order
    frame = features.iloc[order].reset_index(drop=True)
    idx = np.arange(len(frame))
    run_start = np.maximum.accumulate(np.where(grid.breaks, idx, 0))
    run_pos = idx - run_start
    times = grid.times
    freq_ns = int(grid.freq.value)
    weeks = (int(times.max()) + freq_ns - int(times.min())) / pd.Timedelta(days=7).value
    topic_labels = grid.topics.astype(str)
    topic_codes = grid.topic_codes

    inc = prepare_incidents(incidents, rules=rules).reset_index(drop=True)
    topics_sorted = topic_labels.take(topic_codes)
    ws = pd.Series(pd.to_datetime(times, utc=True))
    coverage = (
        pd.DataFrame({"topic": np.asarray(topics_sorted), "ws": ws})
        .groupby("topic")["ws"]
        .agg(["min", "max"])
    )
    inc = mark_evaluated(inc, coverage, grid.freq)
    n_all = len(inc)
    inc = inc[inc["evaluated"]].reset_index(drop=True)
    lo = np.zeros(len(inc), dtype=np.int64)
    hi = np.zeros(len(inc), dtype=np.int64)
    bounds = np.r_[np.flatnonzero(np.r_[True, topic_codes[1:] != topic_codes[:-1]]), len(frame)]
    seg = {topic_labels[topic_codes[a]]: (a, b) for a, b in itertools.pairwise(bounds)}
    from_ns = to_utc_ns(inc["match_from"])
    until_ns = to_utc_ns(inc["match_until"])
    for i, topic in enumerate(inc["topic"].astype(str)):
        a, b = seg[topic]
        t = times[a:b]
        # a notification matches when window_start <= until and alerted_at > match_from
        lo[i] = a + np.searchsorted(t, from_ns[i] - freq_ns, side="right")
        hi[i] = a + np.searchsorted(t, until_ns[i], side="right")
    in_window = np.zeros(len(frame), dtype=bool)
    for a, b in zip(lo, hi, strict=True):
        in_window[a:b] = True
    noticed = inc["detected_at"].fillna(inc["escalated_at"])
    noticed_ns = np.where(
        noticed.notna().to_numpy(), to_utc_ns(noticed.fillna(inc["started_at"])), np.nan
    )
    nab_files = []
    if nab_profile is not None:
        for topic, (a, b) in sorted(seg.items()):
            mine = inc[inc["topic"].astype(str) == topic]
            ts = pd.DatetimeIndex(pd.to_datetime(times[a:b], utc=True))
            rows = window_rows(ts, list(zip(mine["started_at"], mine["match_until"], strict=True)))
            nab_files.append((a, NabFile.from_rows(b - a, rows)))
    return _Prepared(
        features=frame,
        topic_codes=topic_codes,
        positions=grid.positions,
        run_pos=run_pos,
        times=times,
        freq_ns=freq_ns,
        weeks=float(weeks),
        columns={},
        inc_lo=lo,
        inc_hi=hi,
        severity=inc["severity"].to_numpy(dtype=np.int64),
        started_ns=to_utc_ns(inc["started_at"]).astype(float),
        noticed_ns=noticed_ns.astype(float),
        in_window=in_window,
        n_incidents_all=n_all,
        nab_files=nab_files,
        nab_profile=nab_profile,
        costs=costs,
    )


# ------------------------------------------------------------------------------------------
# Conditions
# ------------------------------------------------------------------------------------------
_COMPARE = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}


@dataclass(frozen=True)
class _Param:
    """A flat threshold parameter: which tier, which feature/op, in which group."""

    name: str
    level: int
    index: int | None  # condition index in tier.conditions; None for min_volume
    feature: str
    op: str
    group: str  # "all", "any" or "min_volume"


def _threshold_params(policy: Policy) -> dict[str, _Param]:
    out: dict[str, _Param] = {}
    for name, (level, attr, index) in policy._params.items():
        tier = policy.tiers[level - 1]
        if attr == "condition":
            cond = tier.conditions[index]
            group = "all" if index < len(tier.all) else "any"
            out[name] = _Param(name, level, index, cond.feature, cond.op, group)
        elif attr == "min_volume":
            out[name] = _Param(name, level, None, "volume", ">=", "min_volume")
    return out


def _tier_mask(prep: _Prepared, tier: Any, *, skip: int | None = None, skip_mv: bool = False):
    """(all-part incl. min_volume, any-part) masks of a tier, leaving out condition ``skip``."""
    n = len(prep.times)
    all_ok = np.ones(n, dtype=bool)
    for i, cond in enumerate(tier.all):
        if i != skip:
            all_ok &= _COMPARE[cond.op](prep.column(cond.feature), cond.value)
    if tier.min_volume is not None and not skip_mv:
        all_ok &= prep.column("volume") >= tier.min_volume
    any_ok = None
    if tier.any:
        any_ok = np.zeros(n, dtype=bool)
        for i, cond in enumerate(tier.any):
            if i + len(tier.all) != skip:
                any_ok |= _COMPARE[cond.op](prep.column(cond.feature), cond.value)
    return all_ok, any_ok


def _pass_counts(values: np.ndarray, op: str, ranked: np.ndarray) -> np.ndarray:
    """Per window, how many candidates (ranked loosest first) ``value op t`` holds for: a
    prefix of the ranking (``>``/``>=``: ranked ascending; ``<``/``<=``: descending)."""
    n = len(ranked)
    x = np.where(np.isnan(values), 0.0, values)
    if op == ">=":  # t <= x
        k = np.searchsorted(ranked, x, side="right")
    elif op == ">":  # t < x
        k = np.searchsorted(ranked, x, side="left")
    else:
        asc = ranked[::-1]
        if op == "<=":  # t >= x
            k = n - np.searchsorted(asc, x, side="left")
        else:  # "<": t > x
            k = n - np.searchsorted(asc, x, side="right")
    return np.where(np.isnan(values), 0, k).astype(np.int64)


def _raw_without(prep: _Prepared, policy: Policy, level: int) -> np.ndarray:
    raw = np.zeros(len(prep.times), dtype=np.int64)
    for tier in policy.tiers:
        if tier.level == level:
            continue
        all_ok, any_ok = _tier_mask(prep, tier)
        mask = all_ok if any_ok is None else all_ok & any_ok
        raw[mask] = tier.level
    return raw


def _persist_min(a: np.ndarray, run_pos: np.ndarray, k: int) -> np.ndarray:
    """Minimum of ``a`` over the last ``k`` consecutive windows (0 before ``k`` windows)."""
    out = a.copy()
    for s in range(1, k):
        out[s:] = np.minimum(out[s:], a[:-s])
    out[run_pos < k - 1] = 0
    return out


# ------------------------------------------------------------------------------------------
# The sweep of one threshold
# ------------------------------------------------------------------------------------------
def sweep_threshold(
    prep: _Prepared, policy: Policy, param: _Param, values: Sequence[float]
) -> pd.DataFrame:
    """Backtest figures of ``policy`` with ``param`` set to each of ``values`` (one row per
    value, in the given order), all values at once."""
    values = np.asarray(values, dtype=float)
    descending = param.op in ("<", "<=")
    order = np.argsort(-values if descending else values, kind="stable")
    ranked = values[order]
    n = len(ranked)
    levels = [t.level for t in policy.tiers]
    top = max(levels)
    tier = policy.tiers[param.level - 1]

    k_f = _pass_counts(prep.column(param.feature), param.op, ranked)
    if param.group == "min_volume":
        all_ok, any_ok = _tier_mask(prep, tier, skip_mv=True)
        holds = all_ok if any_ok is None else all_ok & any_ok
        count = np.where(holds, k_f, 0)
    elif param.group == "all":
        all_ok, any_ok = _tier_mask(prep, tier, skip=param.index)
        holds = all_ok if any_ok is None else all_ok & any_ok
        count = np.where(holds, k_f, 0)
    else:
        all_ok, other_any = _tier_mask(prep, tier, skip=param.index)
        count = np.where(all_ok, np.where(other_any, n, k_f), 0)

    raw_other = _raw_without(prep, policy, param.level)
    persistence = {t.level: t.persistence for t in policy.tiers}
    cooldown = np.array([0] + [policy.tiers[lv - 1].cooldown for lv in range(1, top + 1)])
    refractory = np.array([0] + [policy.tiers[lv - 1].refractory for lv in range(1, top + 1)])
    held = []
    for lv in range(1, top + 1):
        a = np.where(raw_other >= lv, n, np.where(lv <= param.level, count, 0))
        held.append(_persist_min(a, prep.run_pos, persistence[lv]))
    held_arr = np.stack(held)  # levels × rows
    active = np.flatnonzero(held_arr.max(axis=0) > 0)

    metrics = _Metrics(prep, top, n)
    n_act = len(active)
    block = max(1, _BLOCK_CELLS // max(n_act, 1))
    for b0 in range(0, n, block):
        ranks = np.arange(b0, min(n, b0 + block))
        tiers = np.zeros((len(ranks), n_act), dtype=np.int8)
        for lv in range(1, top + 1):
            tiers[ranks[:, None] < held_arr[lv - 1, active][None, :]] = lv
        notes, links = _episode_links(
            tiers, prep.positions[active], prep.topic_codes[active], cooldown, refractory
        )
        metrics.add(ranks, notes, active, tiers > 0, links)
    table = metrics.table()
    out = table.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    out.insert(0, "value", values)
    return out


def _notifications(
    tiers: np.ndarray,
    positions: np.ndarray,
    topics: np.ndarray,
    cooldown: np.ndarray,
    refractory: np.ndarray | None = None,
) -> np.ndarray:
    """Tier of the notification sent at each (candidate, window) cell, 0 = none: evaluate's
    episode/cooldown/refractory rules on windows given in (topic, time) order (quiet windows
    omitted)."""
    return _episode_links(tiers, positions, topics, cooldown, refractory)[0]


def _episode_links(
    tiers: np.ndarray,
    positions: np.ndarray,
    topics: np.ndarray,
    cooldown: np.ndarray,
    refractory: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(notifications, links): ``links`` is True where an escalated window continues the
    episode of the candidate's previous escalated window.

    An escalated window continues it when it is the next window of the same run, or when it
    starts a run at most at the episode's tier, within the cooldown of the episode's tier
    after the previous escalated window or within its refractory period after the episode's
    first window (evaluate's rules; a run starting above the episode's tier starts a new
    episode, which notifies the same as a rise would). The links are the fixed point of a few
    vectorised passes: a window's link depends only on the links before it, so the fixed point
    is the sequential recursion's unique solution; the sequential scan is the fallback."""
    m = tiers.shape[1]
    if m == 0:
        return tiers.copy(), np.zeros(tiers.shape, dtype=bool)
    if refractory is None:
        refractory = np.zeros_like(cooldown)
    esc = tiers > 0
    col = np.arange(m)
    last = np.maximum.accumulate(np.where(esc, col[None, :], -1), axis=1)
    prev = np.full_like(last, -1)
    prev[:, 1:] = last[:, :-1]
    has_prev = prev >= 0
    p = np.maximum(prev, 0)
    gap = positions[None, :] - positions[p] - 1
    base = esc & has_prev & (topics[p] == topics[None, :])
    same_run = base & (gap == 0)
    span = int(tiers.max()) + 1
    t_esc = np.where(esc, tiers, 0).astype(np.int64)
    pos = positions[None, :]
    reach = int(max(cooldown.max(), 0))
    link = same_run | (base & (gap <= reach))
    for _ in range(_FIXPOINT_PASSES):
        starts = esc & ~link
        chain = np.cumsum(starts, axis=1)
        running = np.maximum.accumulate(chain * span + t_esc, axis=1) - chain * span
        before = np.zeros_like(running)
        before[:, 1:] = running[:, :-1]
        first = np.maximum.accumulate(np.where(starts, col[None, :], 0), axis=1)
        opened = np.zeros_like(first)
        opened[:, 1:] = positions[first[:, :-1]]  # the current episode's first window
        quiet = gap <= cooldown[before]
        silenced = (pos - opened) <= refractory[before]
        new_link = same_run | (base & (tiers <= before) & (quiet | silenced))
        if np.array_equal(new_link, link):
            notify = esc & (tiers > np.where(link, before, 0))
            return np.where(notify, tiers, 0).astype(np.int8), link
        link = new_link
    return _scan_links(tiers, positions, topics, cooldown, refractory)


def _notifications_scan(
    tiers: np.ndarray,
    positions: np.ndarray,
    topics: np.ndarray,
    cooldown: np.ndarray,
    refractory: np.ndarray | None = None,
) -> np.ndarray:
    """Sequential reference of :func:`_notifications` (vectorised over candidates only)."""
    return _scan_links(tiers, positions, topics, cooldown, refractory)[0]


def _scan_links(
    tiers: np.ndarray,
    positions: np.ndarray,
    topics: np.ndarray,
    cooldown: np.ndarray,
    refractory: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sequential reference of :func:`_episode_links`: window by window, as evaluate walks
    runs and episodes."""
    if refractory is None:
        refractory = np.zeros_like(cooldown)
    c, m = tiers.shape
    out = np.zeros_like(tiers)
    links = np.zeros(tiers.shape, dtype=bool)
    never = -(10**15)
    episode = np.zeros(c, dtype=np.int64)  # the episode's tier so far
    opened = np.full(c, never, dtype=np.int64)  # position of the episode's first window
    last = np.full(c, never, dtype=np.int64)
    for j in range(m):
        if j and topics[j] != topics[j - 1]:
            episode[:] = 0
            opened[:] = never
            last[:] = never
        t = tiers[:, j].astype(np.int64)
        esc = t > 0
        gap = positions[j] - last - 1
        same_run = gap == 0
        quiet = gap <= cooldown[episode]
        silenced = positions[j] - opened <= refractory[episode]
        linked = esc & (last > never) & (same_run | ((t <= episode) & (quiet | silenced)))
        before = np.where(linked, episode, 0)
        out[:, j] = np.where(esc & (t > before), t, 0)
        links[:, j] = linked
        episode = np.where(esc, np.maximum(before, t), episode)
        opened = np.where(esc & ~linked, positions[j], opened)
        last = np.where(esc, positions[j], last)
    return out, links


class _Metrics:
    """Accumulates per-candidate backtest figures, block by block."""

    def __init__(self, prep: _Prepared, top: int, n: int) -> None:
        self.prep, self.top, self.n = prep, top, n
        self.n_tiers = max(top, int(prep.severity.max()) if len(prep.severity) else 1)
        z = self.n_tiers + 1
        self.notes = np.zeros((n, z), dtype=np.int64)
        self.false = np.zeros((n, z), dtype=np.int64)
        n_inc = len(prep.severity)
        self.reached = np.zeros((n, n_inc), dtype=np.int64)
        self.first = np.full((n, n_inc), np.nan)  # first alert (ns), any tier
        self.first_sev = np.full((n, n_inc), np.nan)  # first alert at severity
        self.nab = np.full(n, np.nan)
        self.open_quiet = np.zeros(n, dtype=np.int64)  # quiet windows inside an episode
        quiet = ~prep.in_window
        self.quiet_rows = max(int(quiet.sum()), 1)
        self.quiet_before = np.r_[0, np.cumsum(quiet)]  # quiet rows before each row

    def add(
        self,
        ranks: np.ndarray,
        notes: np.ndarray,
        active: np.ndarray,
        escalated: np.ndarray | None = None,
        links: np.ndarray | None = None,
    ) -> None:
        prep = self.prep
        outside = ~prep.in_window[active]
        if escalated is not None and links is not None:
            # an episode spans its escalated windows and the windows its links bridge
            col = np.arange(len(active))
            last = np.maximum.accumulate(np.where(escalated, col[None, :], -1), axis=1)
            prev = np.zeros_like(last)
            prev[:, 1:] = np.maximum(last[:, :-1], 0)
            inner = self.quiet_before[active][None, :] - self.quiet_before[active[prev] + 1]
            bridged = np.where(links, np.maximum(inner, 0), 0).sum(axis=1)
            self.open_quiet[ranks] = (escalated & outside[None, :]).sum(axis=1) + bridged
        for lv in range(1, self.top + 1):
            at = notes == lv
            self.notes[ranks, lv] = at.sum(axis=1)
            self.false[ranks, lv] = (at & outside[None, :]).sum(axis=1)
        alert_ns = prep.times[active] + prep.freq_ns
        a0 = np.searchsorted(active, prep.inc_lo, side="left")
        a1 = np.searchsorted(active, prep.inc_hi, side="left")
        for i, (lo, hi) in enumerate(zip(a0, a1, strict=True)):
            if hi <= lo:
                continue
            sub = notes[:, lo:hi]
            self.reached[ranks, i] = sub.max(axis=1)
            for target, mask in (
                (self.first, sub > 0),
                (self.first_sev, sub >= prep.severity[i]),
            ):
                hit = mask.any(axis=1)
                where = mask.argmax(axis=1)
                target[ranks, i] = np.where(hit, alert_ns[lo + where], np.nan)
        if prep.nab_files:
            self.nab[ranks] = self._nab(notes, active)

    def _nab(self, notes: np.ndarray, active: np.ndarray) -> np.ndarray:
        prep = self.prep
        out = np.empty(len(notes))
        for r in range(len(notes)):
            rows = active[notes[r] > 0]
            raw = null = perfect = 0.0
            for first_row, nab_file in prep.nab_files:
                local = rows[(rows >= first_row) & (rows < first_row + nab_file.n_rows)]
                s = nab_file.score_rows(local - first_row, prep.nab_profile)
                raw, null, perfect = raw + s.raw, null + s.raw_null, perfect + s.raw_perfect
            out[r] = 100.0 * (raw - null) / (perfect - null) if perfect > null else np.nan
        return out

    def table(self) -> pd.DataFrame:
        prep, costs = self.prep, self.prep.costs
        sev = prep.severity
        cols: dict[str, Any] = {}
        total_false = self.false.sum(axis=1)
        recalls = []
        for k in range(1, self.n_tiers + 1):
            eligible = sev >= k
            caught = (self.reached[:, eligible] >= k).sum(axis=1)
            n_k = int(eligible.sum())
            cols[f"notifications_{k}"] = self.notes[:, k]
            cols[f"false_{k}"] = self.false[:, k]
            cols[f"false_per_week_{k}"] = self.false[:, k] / prep.weeks
            cols[f"caught_{k}"] = caught
            cols[f"incidents_{k}"] = n_k
            cols[f"recall_{k}"] = caught / n_k if n_k else np.nan
            if n_k:
                recalls.append(caught / n_k)
        caught_any = (self.reached >= 1).sum(axis=1)
        # expected cost, as backtest's _apply_costs
        miss = costs.miss_cost(sev)[None, :] if len(sev) else np.zeros((1, 0))
        reached = self.reached
        missed = np.where(reached == 0, miss, 0.0).sum(axis=1)
        miss_reached = (
            costs.miss_cost(reached.ravel()).reshape(reached.shape) if reached.size else 0
        )
        under = np.where(
            (reached > 0) & (reached < sev[None, :]), np.clip(miss - miss_reached, 0, None), 0.0
        ).sum(axis=1)
        hours = (self.first_sev - prep.started_ns[None, :]) / 3.6e12
        late = np.where(np.isnan(hours), 0.0, costs.late_per_hour * np.clip(hours, 0, None)).sum(
            axis=1
        )
        fa = costs.false_alarm_cost(np.arange(1, self.n_tiers + 1))
        false_cost = (self.false[:, 1:] * fa[None, :]).sum(axis=1)
        with np.errstate(all="ignore"):
            lead = prep.noticed_ns[None, :] - self.first
            delay = self.first - prep.started_ns[None, :]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                med_lead = np.nanmedian(lead, axis=1) if lead.shape[1] else np.full(self.n, np.nan)
                med_delay = (
                    np.nanmedian(delay, axis=1) if delay.shape[1] else np.full(self.n, np.nan)
                )
        cols["open_share"] = self.open_quiet / self.quiet_rows
        cols["notifications"] = self.notes.sum(axis=1)
        cols["false_alerts"] = total_false
        cols["false_per_week"] = total_false / prep.weeks
        cols["incidents"] = len(sev)
        cols["caught"] = caught_any
        cols["recall"] = caught_any / len(sev) if len(sev) else np.nan
        cols["mean_tier_recall"] = np.mean(recalls, axis=0) if recalls else np.nan
        cols["cost"] = missed + under + late + false_cost
        cols["median_lead_time"] = pd.to_timedelta(med_lead, unit="ns")
        cols["median_detection_delay"] = pd.to_timedelta(med_delay, unit="ns")
        if prep.nab_files:
            cols["nab_score"] = self.nab
        return pd.DataFrame(cols)


# ------------------------------------------------------------------------------------------
# The coordinate search
# ------------------------------------------------------------------------------------------
def _candidate_values(
    prep: _Prepared, policy: Policy, param: _Param, n_thresholds: int, current: float
) -> np.ndarray:
    """Quantiles (actual data values) of the feature where the tier's other conditions hold,
    plus the current value: between two such values nothing changes."""
    tier = policy.tiers[param.level - 1]
    if param.group == "min_volume":
        all_ok, any_ok = _tier_mask(prep, tier, skip_mv=True)
    else:
        all_ok, any_ok = _tier_mask(prep, tier, skip=param.index)
        if param.group == "any":
            any_ok = None
    mask = all_ok if any_ok is None else all_ok & any_ok
    x = prep.column(param.feature)[mask]
    x = np.unique(x[np.isfinite(x)])
    if len(x) > n_thresholds:
        x = np.unique(np.quantile(x, np.linspace(0, 1, n_thresholds), method="inverted_cdf"))
    return np.unique(np.r_[x, current])


def _bounds(
    policy: Policy, param: _Param, params: Mapping[str, _Param], template: Policy | None = None
) -> tuple[float, bool, float, bool]:
    """Keep tiers ordered: a higher tier's threshold on the same feature and direction is at
    least as strict as a lower tier's (for ``min_volume``: at least as large) — strictly when
    the plan itself orders the two strictly, so that calibration never makes two tiers the
    same where the plan kept them apart. Returns ``(low, low_strict, high, high_strict)``."""
    current = policy.get_params()
    plan = (template or policy).get_params()
    low, high = -np.inf, np.inf
    low_strict = high_strict = False
    increasing = param.op in (">", ">=")
    for other in params.values():
        if other.level == param.level or other.feature != param.feature:
            continue
        if (other.op in (">", ">=")) != increasing or (other.group == "min_volume") != (
            param.group == "min_volume"
        ):
            continue
        value = float(current[other.name])
        mine, theirs = float(plan[param.name]), float(plan[other.name])
        below = other.level < param.level
        if below == increasing:
            strict = mine > theirs
            if value > low or (value == low and strict):
                low, low_strict = value, strict
        else:
            strict = mine < theirs
            if value < high or (value == high and strict):
                high, high_strict = value, strict
    return low, low_strict, high, high_strict


def _score(
    table: pd.DataFrame, objective: str, budget: Any, n_tiers: int, max_share: float = 1.0
) -> np.ndarray:
    """Objective per row as (share within the cap, budget violation, value): larger is better
    for every column, the first column first. A plan escalated through more than
    ``max_share`` of the quiet windows is no plan (``_tiers``): its excess comes first."""
    excess = np.clip(table["open_share"].to_numpy(dtype=float) - max_share, 0, None)
    if objective == "recall":
        violation = np.zeros(len(table))
        for k in range(1, n_tiers + 1):
            if f"false_per_week_{k}" in table:
                over = table[f"false_per_week_{k}"].to_numpy() - false_alarm_budget(budget, k)
                violation += np.clip(over, 0, None)
        value = table["mean_tier_recall"].fillna(0.0).to_numpy()
    elif objective == "cost":
        violation = np.zeros(len(table))
        value = -table["cost"].to_numpy()
    else:
        violation = np.zeros(len(table))
        value = table["nab_score"].fillna(-np.inf).to_numpy()
    return np.column_stack([-np.round(excess, 12), -np.round(violation, 12), value])


def _pick(table: pd.DataFrame, score: np.ndarray, current: float, op: str) -> int:
    """Best row: objective, then fewer false notifications, then the current value, then the
    candidate nearest to it (then the stricter one) — deterministic, minimal change."""
    values = table["value"].to_numpy(dtype=float)
    strict = values if op in (">", ">=") else -values
    keys = (
        -strict,
        np.abs(values - current),
        values != current,
        table["false_alerts"].to_numpy(),
        *(-score[:, i] for i in range(score.shape[1] - 1, -1, -1)),
    )
    return int(np.lexsort(keys)[0])


@dataclass(frozen=True)
class TemplateCalibrationResult(CalibrationResult):
    """A :class:`CalibrationResult` for a template calibrated in place: ``policy`` keeps the
    template's structure; ``start`` holds the template's own figures; ``candidates`` every
    (round, parameter, value) scored; ``frontier`` the per-tier trade-off points seen;
    ``notes`` the tiers kept at the plan's thresholds, and why."""

    start: pd.DataFrame = field(default_factory=pd.DataFrame)
    template: Policy | None = None

    def summary(self) -> str:
        """Thresholds before → after, the objective before → after, the tiers kept at the
        plan's thresholds and why, then the exact backtest."""
        key = {"recall": "mean_tier_recall", "cost": "cost", "nab": "nab_score"}[self.objective]
        before = float(self.start[key].iloc[0])
        after = float(self.chosen_point[key])
        lines = [
            f"template calibration ({self.objective}): {len(self.candidates)} candidates over "
            f"{self.settings.get('rounds_run', 0)} round(s); {key} {before:.4g} -> {after:.4g}",
        ]
        old = self.template.get_params() if self.template is not None else {}
        new = self.policy.get_params()
        kept = set(self.settings.get("kept_tiers", ()))
        for name in self.settings.get("all_params", self.settings.get("params", ())):
            level = int(name.split("__", 1)[0].removeprefix("tier"))
            if level in kept:
                mark = "  (plan's value kept)"
            else:
                mark = "" if old.get(name) == new[name] else "  (changed)"
            lines.append(f"  {name}: {old.get(name, float('nan')):.4g} -> {new[name]:.4g}{mark}")
        for row in self.chosen.itertuples(index=False):
            lines.append(
                f"  tier {row.tier}: caught {row.caught}/{row.incidents}, "
                f"{row.false_per_week:.2f} false/week"
            )
        lines.extend(note_lines(self.notes))
        if self.backtest is not None and hasattr(self.backtest, "summary"):
            lines.append("backtest of the chosen policy:")
            lines.extend("  " + s for s in str(self.backtest.summary()).splitlines())
        return "\n".join(lines)

    @property
    def chosen_point(self) -> pd.Series:
        """The overall figures of the chosen policy (a row of ``candidates``)."""
        return self.candidates[self.candidates["chosen"]].iloc[-1]


def calibrate_policy(
    template: Policy,
    features: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    objective: str = "recall",
    max_false_per_week: float | Mapping[int, float] = 1.0,
    costs: Any = None,
    nab_profile: str = "standard",
    max_early: str | pd.Timedelta = DEFAULT_MAX_EARLY,
    max_delay: str | pd.Timedelta | None = None,
    params: Sequence[str] | None = None,
    rounds: int = 3,
    n_thresholds: int = 200,
    run_backtest: bool = True,
    min_incidents: int = 1,
    max_escalated_share: float = MAX_ESCALATED_SHARE,
) -> TemplateCalibrationResult:
    """Fit the thresholds of ``template`` (a team's own plan) keeping its structure: tiers,
    ``all``/``any`` conditions, names, owners, persistence, cooldown and refractory periods
    stay; only the values of ``params`` (flat names, default every condition threshold)
    change. Coordinate-wise search, each coordinate's candidate values scored at once (module
    docstring); objectives as in :func:`~esc_analytics.calibrate`: ``recall`` (mean per-tier
    recall with false notifications per week ≤ ``max_false_per_week`` per tier, the excess
    minimised first), ``cost`` or ``nab``. Incidents are matched as
    :func:`~esc_analytics.backtest` matches them.

    Tiers stay tiers (``_tiers``): thresholds shared by two tiers keep the plan's order
    (strictly where the plan's is strict); a tier with fewer than ``min_incidents`` incidents
    of its severity or above, or whose fitted thresholds would catch none of them, keeps the
    plan's thresholds, and ``notes`` say why; candidates keeping the plan escalated through
    more than ``max_escalated_share`` of the quiet windows are avoided first. Changed
    thresholds are written with 3 significant digits, rounded so that no window of the
    history changes side."""
    if not isinstance(template, Policy):
        raise CalibrationError(f"template must be a Policy, got {type(template).__name__}")
    if objective not in OBJECTIVES:
        raise CalibrationError(
            f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}"
        )
    if not isinstance(features, pd.DataFrame) or not isinstance(incidents, pd.DataFrame):
        raise CalibrationError("features and incidents must be DataFrames")
    if features.empty:
        raise CalibrationError("features are empty: nothing to calibrate on")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise CalibrationError(f"rounds must be a whole number >= 1, got {rounds!r}")
    if isinstance(n_thresholds, bool) or not isinstance(n_thresholds, int) or n_thresholds < 2:
        raise CalibrationError(f"n_thresholds must be a whole number >= 2, got {n_thresholds!r}")
    costs = CostModel() if costs is None else costs
    if not isinstance(costs, CostModel):
        raise CalibrationError("costs must be a CostModel(miss=..., false_alarm=...)")
    rules = MatchRules.of(max_early, max_delay)
    all_params = _threshold_params(template)
    if params is None:
        names = [p for p, spec in all_params.items() if spec.group != "min_volume"]
    else:
        names = list(dict.fromkeys(params))
        unknown = [p for p in names if p not in all_params]
        if unknown:
            raise CalibrationError(
                f"cannot fit {unknown}: fittable thresholds of this template are "
                f"{', '.join(all_params)} (persistence and cooldown stay as in the template)"
            )
    if not names:
        raise CalibrationError("no threshold to fit")
    prep = _prepare(features, incidents, rules, costs, nab_profile if objective == "nab" else None)
    if len(prep.severity) == 0:
        raise CalibrationError("no incident falls on a topic and period of the features")
    n_tiers = max(len(template.tiers), int(prep.severity.max()))
    search = {
        "objective": objective,
        "budget": max_false_per_week,
        "n_tiers": n_tiers,
        "rounds": rounds,
        "n_thresholds": n_thresholds,
        "max_share": float(max_escalated_share),
    }

    start = sweep_threshold(prep, template, all_params[names[0]], [template.get_params()[names[0]]])
    n_by_tier = {t.level: int((prep.severity >= t.level).sum()) for t in template.tiers}
    kept: dict[int, str] = {}
    need = max(int(min_incidents), 1)
    for tier in template.tiers:
        if n_by_tier[tier.level] < need:
            have = "no incident" if n_by_tier[tier.level] == 0 else (
                f"only {n_by_tier[tier.level]} incident(s)"
            )
            kept[tier.level] = (
                f"the history has {have} of severity >= {tier.level} (at least {need} needed "
                "to fit a tier)"
            )
    while True:
        fit = [n for n in names if all_params[n].level not in kept]
        policy, tables, rounds_run = _search(prep, template, fit, all_params, **search)
        if not tables:  # nothing left to fit: the plan as it is
            tables = [start.assign(step=0, round=0, param="", objective=np.nan,
                                   violation=np.nan, chosen=True)]
        final = tables[-1][tables[-1]["chosen"]].iloc[0]
        catches_none = {
            level: n for level, n in n_by_tier.items()
            if level not in kept and n > 0 and int(final[f"caught_{level}"]) == 0
            and any(all_params[p].level == level for p in fit)
        }
        if not catches_none:
            break
        for level, n in catches_none.items():
            kept[level] = (
                f"no value of its thresholds (within the plan's conditions, tiers kept in "
                f"order{', and the false-alarm budget' if objective == 'recall' else ''}) "
                f"catches any of its {n} incident(s) of severity >= {level}"
            )
    fitted = policy
    policy = _readable(policy, template, prep, fit, all_params, n_tiers, max_escalated_share)
    if policy != fitted:  # the written plan, re-scored: its figures are the chosen ones
        first = all_params[names[0]]
        table = sweep_threshold(prep, policy, first, [policy.get_params()[names[0]]])
        score = _score(table, objective, max_false_per_week, n_tiers, max_escalated_share)
        table.insert(0, "param", "(rounded)")
        table.insert(0, "round", rounds_run)
        table.insert(0, "step", int(tables[-1]["step"].max()) + 1)
        table["objective"] = score[:, 2]
        table["violation"] = -score[:, 1]
        table["chosen"] = True
        tables.append(table)
    candidates = pd.concat(tables, ignore_index=True)
    # only the last step's pick describes the final policy
    last_step = candidates["step"] == candidates["step"].max()
    candidates["chosen"] = candidates["chosen"] & last_step
    frontier, chosen = _frontier(candidates, n_tiers, max_escalated_share)
    policy = _retitle(policy, template, objective, len(prep.severity))
    notes = []
    for tier in template.tiers:
        if tier.level in kept:
            label = f"tier {tier.level}" + (f" {tier.name!r}" if tier.name else "")
            row = candidates[candidates["chosen"]].iloc[-1]
            n = int(row[f"incidents_{tier.level}"])
            figures = f"; at them it catches {int(row[f'caught_{tier.level}'])}/{n}" if n else ""
            notes.append(f"{label} keeps the plan's thresholds: {kept[tier.level]}{figures}")
    share = float(candidates[candidates["chosen"]].iloc[-1]["open_share"])
    if share > max_escalated_share:
        notes.append(
            f"the plan keeps an episode open through {share:.0%} of the quiet windows (more "
            f"than {max_escalated_share:.0%}) and no threshold of it changes that: its "
            "persistence, cooldown or conditions need a look"
        )
    bt = None
    if run_backtest:
        nab = nab_profile if objective == "nab" else None
        bt = backtest_policy(policy, features, incidents, rules, costs, nab)
    settings = {
        "params": tuple(fit),
        "all_params": tuple(names),
        "kept_tiers": tuple(sorted(kept)),
        "rounds": rounds,
        "rounds_run": rounds_run,
        "n_thresholds": n_thresholds,
        "max_false_per_week": max_false_per_week,
        "nab_profile": nab_profile,
        "max_early": rules.max_early,
        "max_delay": rules.max_delay,
        "weeks": prep.weeks,
        "min_incidents": min_incidents,
        "max_escalated_share": max_escalated_share,
    }
    return TemplateCalibrationResult(
        policy,
        frontier,
        candidates,
        objective,
        chosen,
        bt,
        settings,
        notes=tuple(notes),
        start=start,
        template=template,
    )


def _search(
    prep: _Prepared,
    template: Policy,
    names: Sequence[str],
    all_params: Mapping[str, _Param],
    *,
    objective: str,
    budget: Any,
    n_tiers: int,
    rounds: int,
    n_thresholds: int,
    max_share: float,
) -> tuple[Policy, list[pd.DataFrame], int]:
    """The coordinate search over ``names``: (policy, one table per step, rounds run)."""
    policy = template
    tables: list[pd.DataFrame] = []
    rounds_run, step = 0, 0
    if not names:
        return policy, tables, rounds_run
    for rnd in range(1, rounds + 1):
        rounds_run = rnd
        changed = False
        for name in names:
            param = all_params[name]
            current = float(policy.get_params()[name])
            cand = _candidate_values(prep, policy, param, n_thresholds, current)
            low, low_strict, high, high_strict = _bounds(policy, param, all_params, template)
            above = cand > low if low_strict else cand >= low
            under = cand < high if high_strict else cand <= high
            cand = np.unique(np.r_[cand[above & under], current])
            table = sweep_threshold(prep, policy, param, cand)
            score = _score(table, objective, budget, n_tiers, max_share)
            best = _pick(table, score, current, param.op)
            table.insert(0, "param", name)
            table.insert(0, "round", rnd)
            table.insert(0, "step", step)
            table["objective"] = score[:, 2]
            table["violation"] = -score[:, 1]
            table["chosen"] = False
            table.loc[best, "chosen"] = True
            tables.append(table)
            step += 1
            value = float(table.at[best, "value"])
            if value != current:
                policy = policy.set_params(**{name: value})
                changed = True
        if not changed:
            break
    return policy, tables, rounds_run


def _readable(
    policy: Policy,
    template: Policy,
    prep: _Prepared,
    names: Sequence[str],
    all_params: Mapping[str, _Param],
    n_tiers: int,
    max_share: float,
) -> Policy:
    """Changed thresholds as a person would type them (``_tiers``), each re-scored exactly: 3
    significant digits when every tier then catches as many incidents with as many false
    notifications (cost and NAB no worse) and the tiers stay in order; else the rounding
    towards the side where no value of the feature lies (every window keeps its side)."""
    plan = template.get_params()
    for name in names:
        value = float(policy.get_params()[name])
        if value == float(plan[name]):
            continue  # the plan's own number, as its authors typed it
        param = all_params[name]
        direction = "up" if param.op in (">", "<=") else "down"
        low, low_strict, high, high_strict = _bounds(policy, param, all_params, template)
        bound = next_value(prep.column(param.feature), value, direction)
        bound = min(bound, high) if direction == "up" else max(bound, low)
        options = [*rounding_options(value), readable_threshold(value, bound, direction)]
        table = sweep_threshold(prep, policy, param, [value, *options])
        ref = table.iloc[0]
        for j, option in enumerate(options, start=1):
            row = table.iloc[j]
            in_order = (option > low if low_strict else option >= low) and (
                option < high if high_strict else option <= high
            )
            open_ok = row["open_share"] <= max(max_share, ref["open_share"])
            if j == len(options) or (in_order and open_ok and _same_figures(row, ref, n_tiers)):
                policy = policy.set_params(**{name: option})
                break
    return policy


def _same_figures(row: pd.Series, ref: pd.Series, n_tiers: int) -> bool:
    """Every tier catches as many incidents with as many false notifications; cost and NAB
    score no worse."""
    for k in range(1, n_tiers + 1):
        for column in (f"caught_{k}", f"false_{k}"):
            if column in row and row[column] != ref[column]:
                return False
    if row["cost"] > ref["cost"] + 1e-9:
        return False
    if "nab_score" in row and not row["nab_score"] >= ref["nab_score"] - 1e-9:
        return bool(np.isnan(row["nab_score"]) and np.isnan(ref["nab_score"]))
    return True


def _retitle(policy: Policy, template: Policy, objective: str, n_incidents: int) -> Policy:
    note = f"thresholds calibrated on {n_incidents} incidents, objective {objective}"
    description = f"{template.description.strip()} ({note})" if template.description else note
    return replace(policy, description=description)


def _frontier(
    candidates: pd.DataFrame, n_tiers: int, max_share: float = 1.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per tier: the trade-off points seen (false tier-k notifications vs incidents caught at
    tier ≥ k), not dominated, among the candidates escalated through at most ``max_share`` of
    the quiet windows; plus the chosen policy's row per tier."""
    rows = []
    keep = [
        "step",
        "round",
        "param",
        "value",
        "objective",
        "violation",
        "chosen",
        "median_lead_time",
        "median_detection_delay",
        "open_share",
    ]
    for k in range(1, n_tiers + 1):
        if f"caught_{k}" not in candidates:
            continue
        part = candidates[keep].copy()
        part.insert(0, "tier", k)
        part["false_alerts"] = candidates[f"false_{k}"].to_numpy()
        part["false_per_week"] = candidates[f"false_per_week_{k}"].to_numpy()
        part["caught"] = candidates[f"caught_{k}"].to_numpy()
        part["incidents"] = candidates[f"incidents_{k}"].to_numpy()
        part["recall"] = candidates[f"recall_{k}"].to_numpy()
        part["notifications"] = candidates[f"notifications_{k}"].to_numpy()
        if "nab_score" in candidates:
            part["nab_score"] = candidates["nab_score"].to_numpy()
        rows.append(part)
    long = pd.concat(rows, ignore_index=True)
    mask = np.zeros(len(long), dtype=bool)
    plan_like = long["open_share"].to_numpy() <= max_share
    for _, idx in long.groupby("tier").indices.items():
        idx = idx[plan_like[idx]]
        mask[idx[pareto_mask(long.iloc[idx])]] = True
    mask |= long["chosen"].to_numpy()
    frontier = long[mask].drop_duplicates(["tier", "false_alerts", "caught", "chosen"])
    frontier = frontier.sort_values(["tier", "false_alerts", "caught"], kind="stable")
    frontier = frontier.reset_index(drop=True)
    chosen = frontier[frontier["chosen"]].sort_values("tier").reset_index(drop=True)
    return frontier, chosen
