"""The rank detector: what :func:`~esc_analytics.calibrate` fits for ``objective="nab"`` with the
default measures when the incident log has one severity (NAB's labelled windows, a log of
"incidents" without tiers).

The rule, one tier::

    volume_rank_28d >= θ   for p windows,   then refractory R windows,   cooldown 0

It pages when the topic's volume of the last three windows ranks at or above ``θ`` among its
own past four weeks on each of the last ``p`` windows, then stays silent for ``R`` windows
whatever the volume does (a hard refractory: one page per burst, not one per wobble around the
threshold), as the strongest detectors of the Numenta Anomaly Benchmark do. A percentile of
the topic's own past is scale-free, so a threshold fitted on some topics holds on others.

The fit. ``θ`` runs over a fixed grid, ``1 − u`` with ``u`` geometric from 0.05 to 0.0001
(48 values, ``u`` rounded to two significant digits so that every threshold is one a person
would type: 0.95 … 0.9982 … 0.9999) plus exactly 1 (a new four-week maximum); ``p`` over the
persistence grid (1, 2, 3); ``R`` over 12 hours, 1 day and 2 days, in windows (shorter than a
NAB window, which spans 10 % of a file shared among its anomalies). Every candidate's alerts
are exactly those :func:`~esc_analytics.evaluate` sends for the written policy (an alert at the
start of a run of windows where the held condition is true; a run starting within ``R``
windows of the last alert continues its episode), scored by the package's NAB scorer
(:class:`~esc_analytics.backtesting._nab.NabFile`) against the NAB windows ``backtest(...).nab``
uses (``started_at`` to ``match_until`` of the matching rule, incidents the backtest
evaluates). For each (p, R) the score is averaged over the ±3 neighbouring thresholds and the
best averaged value wins: the flat part of the objective, not its sharpest peak, is what holds
on files the fit never saw. Ties: fewer windows of persistence, a shorter refractory, then the
lower threshold. ``max_early`` changes none of this (NAB counts an alert before a window as a
false positive); it only changes the caught / false-alert columns of the frontier.

Alerts per candidate come from a loop over the alerts themselves (a few per topic and
day at most), everything else is numpy over all topics at once: 441 candidates on five
files of 16,000 windows take well under a second once the measure is computed.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._util.times import to_utc_ns
from ..backtesting._backtest import mark_evaluated, prepare_incidents
from ..backtesting._matching import MatchRules
from ..backtesting._nab import NabFile, get_profile, window_rows
from ..escalations._evaluate import WindowGrid, prepare_grid
from ..features._detection import detection_measure
from ..policy._policy import Condition, Policy, Tier

RANK_MEASURE = "volume_rank_28d"
RANK_OP = ">="
RANK_PERSISTENCE_GRID = (1, 2, 3)
RANK_REFRACTORY_SPANS = (pd.Timedelta(hours=12), pd.Timedelta(days=1), pd.Timedelta(days=2))
RANK_SMOOTHING = 3  # thresholds averaged on each side
RANK_TIER_NAME, RANK_TIER_OWNER = "watch", "on-call"


def rank_thresholds(n: int = 48, widest: float = 0.05, narrowest: float = 1e-4) -> np.ndarray:
    """The threshold grid, ascending: ``1 − u`` for ``n`` values of ``u`` geometric from
    ``widest`` to ``narrowest``, ``u`` rounded to two significant digits (0.9982, never
    0.99817…), plus exactly 1."""
    u = np.array([float(f"{x:.2g}") for x in np.geomspace(widest, narrowest, n)])
    return np.unique(np.round(np.concatenate([1.0 - u, [1.0]]), 10))


def refractory_windows(freq: pd.Timedelta) -> tuple[int, ...]:
    """The refractory grid (12 h, 1 day, 2 days) in windows of ``freq`` (at least 1)."""
    return tuple(sorted({max(round(span / freq), 1) for span in RANK_REFRACTORY_SPANS}))


@dataclass(frozen=True)
class RankFit:
    """The fitted rank detector: the policy, every candidate scored (``candidates``), the
    non-dominated ones in false alerts vs incidents caught plus the chosen one (``frontier``),
    the chosen row (``chosen``) and the fit's settings. :func:`calibrate` returns them as a
    :class:`CalibrationResult`."""

    policy: Policy
    frontier: pd.DataFrame
    candidates: pd.DataFrame
    chosen: pd.DataFrame
    settings: dict[str, Any]


@dataclass(frozen=True)
class _Rows:
    """The features in evaluate's order (topic, then time) with what the alerts and the NAB
    scoring of one candidate need."""

    grid: WindowGrid
    rank: np.ndarray  # volume_rank_28d per sorted row, −inf where undefined
    keys: np.ndarray  # topic * spacing + window position: increasing, gaps > any refractory
    starts: np.ndarray  # first sorted row of each topic, then the number of rows
    files: tuple[NabFile, ...]  # per topic, as backtest's NAB scoring builds them
    first_row: np.ndarray  # per evaluated incident: first sorted row that would match it
    end_row: np.ndarray  # ... and one past the last
    matches: np.ndarray  # per sorted row: an alert there matches some incident
    incidents: pd.DataFrame  # evaluated incidents (prepared), in first_row order
    weeks: float


def rank_rule_text(row: Any) -> str:
    """A candidate of the rank detector as its policy reads:
    ``volume_rank_28d >= 0.9979 (for 2, refractory 288, cooldown 0)``."""
    return (
        f"{row.feature} {row.op} {row.threshold:g} (for {row.persistence}, "
        f"refractory {row.refractory}, cooldown {row.cooldown})"
    )


def _sorted(grid: WindowGrid, values: np.ndarray) -> np.ndarray:
    return values if grid.order is None else values[grid.order]


def _rank_values(features: pd.DataFrame, grid: WindowGrid) -> np.ndarray:
    """The measure as evaluate reads it: the column when the features carry it, else computed
    from their volume on the grid's window length."""
    if RANK_MEASURE in features.columns:
        values = features[RANK_MEASURE].to_numpy(dtype=float, na_value=np.nan)
    else:
        values = detection_measure(features, RANK_MEASURE, freq=grid.freq)
    return _sorted(grid, np.asarray(values, dtype=float))


def _evaluated_incidents(
    features: pd.DataFrame, incidents: pd.DataFrame, rules: MatchRules, grid: WindowGrid
) -> pd.DataFrame:
    """The incidents backtest evaluates on these features: prepared by the matching rule,
    on a topic of the features and overlapping its span."""
    inc = prepare_incidents(incidents, rules=rules)
    coverage = (
        pd.DataFrame(
            {"topic": features["topic"].astype(str).to_numpy(), "ws": grid.window_start.to_numpy()}
        )
        .groupby("topic")["ws"]
        .agg(["min", "max"])
    )
    inc = mark_evaluated(inc, coverage, grid.freq)
    return inc[inc["evaluated"]].reset_index(drop=True)


def _prepare(
    features: pd.DataFrame,
    inc: pd.DataFrame,
    grid: WindowGrid,
    rank: np.ndarray,
    longest_refractory: int,
) -> _Rows:
    codes = grid.topic_codes
    n = len(codes)
    starts = np.r_[np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]), n]
    spacing = int(grid.positions.max()) + longest_refractory + 2
    rank_code = np.empty(len(starts) - 1, dtype=np.int64)  # topic code -> its rank in the order
    rank_code[codes[starts[:-1]]] = np.arange(len(starts) - 1)
    keys = rank_code[codes] * spacing + grid.positions
    step = grid.freq.value
    files, first_row, end_row, order = [], [], [], []
    topic_of = inc["topic"].to_numpy()
    for a, b in itertools.pairwise(starts):
        topic = str(grid.topics[codes[a]])
        times = grid.times[a:b]
        mine = np.flatnonzero(topic_of == topic)
        started, until = inc["started_at"].iloc[mine], inc["match_until"].iloc[mine]
        # backtest's NAB windows: started_at .. match_until of the evaluated incidents
        ts = pd.DatetimeIndex(pd.to_datetime(times, utc=True))
        rows = window_rows(ts, list(zip(started, until, strict=True)))
        files.append(NabFile.from_rows(b - a, rows))
        # a notification matches when window_start <= match_until and alerted_at (window
        # start + freq) > match_from
        frm = to_utc_ns(inc["match_from"].iloc[mine]) - step
        first_row.append(a + np.searchsorted(times, frm, side="right"))
        end_row.append(a + np.searchsorted(times, to_utc_ns(until), side="right"))
        order.append(mine)
    first = np.concatenate(first_row) if first_row else np.zeros(0, np.int64)
    end = np.concatenate(end_row) if end_row else np.zeros(0, np.int64)
    cover = np.zeros(n + 1, dtype=np.int64)
    ok = end > first
    np.add.at(cover, first[ok], 1)
    np.add.at(cover, end[ok], -1)
    span = (grid.times.max() + step - grid.times.min()) if n else 0
    return _Rows(
        grid=grid,
        rank=np.where(np.isfinite(rank), rank, -np.inf),
        keys=keys,
        starts=starts,
        files=tuple(files),
        first_row=first,
        end_row=end,
        matches=np.cumsum(cover)[:n] > 0,
        incidents=inc.iloc[np.concatenate(order) if order else []].reset_index(drop=True),
        weeks=max(span / pd.Timedelta(days=7).value, 1e-9),
    )


def held_rank(rank: np.ndarray, breaks: np.ndarray, persistence: int) -> np.ndarray:
    """The smallest rank over the last ``persistence`` windows (−inf unless they are
    consecutive windows of one topic): ``held >= θ`` iff ``rank >= θ`` held that long, as
    evaluate's persistence reads it."""
    run = np.cumsum(breaks)
    held = rank.copy()
    for k in range(1, int(persistence)):
        before = np.full_like(rank, -np.inf)
        before[k:] = np.where(run[k:] == run[:-k], rank[:-k], -np.inf)
        np.minimum(held, before, out=held)
    return held


def rank_alerts(
    held: np.ndarray, breaks: np.ndarray, keys: np.ndarray, threshold: float, refractory: int
) -> np.ndarray:
    """Sorted rows where evaluate notifies for ``held >= threshold`` with a hard refractory:
    the start of every run of such windows, except runs that start within ``refractory``
    windows after the previous notification of their topic."""
    above = held >= threshold
    start = above.copy()
    start[1:] &= ~above[:-1] | breaks[1:]
    runs = np.flatnonzero(start)
    if len(runs) < 2:
        return runs
    run_keys = keys[runs].tolist()
    picked, i = [], 0
    while i < len(run_keys):
        picked.append(i)
        i = bisect.bisect_left(run_keys, run_keys[i] + refractory + 1, i + 1)
    return runs[picked]


def _score(rows: _Rows, alerts: np.ndarray, profile: Any, empty: list) -> dict[str, float]:
    """NAB figures and match counts of one candidate's alerts (sorted rows)."""
    cut = np.searchsorted(alerts, rows.starts)
    raw = detected = false_rows = 0.0
    for t, nab_file in enumerate(rows.files):
        a, b = cut[t], cut[t + 1]
        s = nab_file.score_rows(alerts[a:b] - rows.starts[t], profile) if b > a else empty[t]
        raw += s.raw
        detected += s.tp
        false_rows += s.fp
    hits = np.searchsorted(alerts, rows.end_row) - np.searchsorted(alerts, rows.first_row)
    return {
        "notifications": len(alerts),
        "false_alerts": int((~rows.matches[alerts]).sum()),
        "caught": int((hits > 0).sum()),
        "nab_raw": raw,
        "nab_detected": int(detected),
        "nab_false_rows": int(false_rows),
    }


def _non_dominated(table: pd.DataFrame) -> np.ndarray:
    """Candidates no other one beats on both counts: for each number of incidents caught the
    fewest false alerts, kept when that is fewer than any candidate catching more needs (one
    row per such point)."""
    cheapest = table.groupby("caught")["false_alerts"].min().astype(float)  # by number caught
    catching_more = cheapest[::-1].cummin()[::-1].shift(-1, fill_value=np.inf)
    front = cheapest[cheapest < catching_more]
    on_front = table["false_alerts"].to_numpy() == table["caught"].map(front).to_numpy()
    return on_front & ~table.duplicated(["caught", "false_alerts"]).to_numpy()


def _delays(rows: _Rows, alerts: np.ndarray) -> tuple[float, float]:
    """Median detection delay and lead time (seconds) of the incidents these alerts catch:
    first matching alert's ``alerted_at`` − ``started_at``, and ``detected_at`` (else
    ``escalated_at``) − that alert, as backtest reports them."""
    if len(alerts) == 0:
        return np.nan, np.nan
    at = np.searchsorted(alerts, rows.first_row)
    first = alerts[np.minimum(at, len(alerts) - 1)]
    caught = (at < len(alerts)) & (first < rows.end_row)
    if not caught.any():
        return np.nan, np.nan
    alerted = rows.grid.times[first[caught]] + rows.grid.freq.value
    inc = rows.incidents[caught]
    delay = float(np.median((alerted - to_utc_ns(inc["started_at"])) / 1e9))
    noticed = inc["detected_at"].fillna(inc["escalated_at"])
    known = noticed.notna().to_numpy()
    if not known.any():
        return delay, np.nan
    lead = (to_utc_ns(noticed[known]) - alerted[known]) / 1e9
    return delay, float(np.median(lead))


def fit_rank_detector(
    features: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    rules: MatchRules,
    nab_profile: str = "standard",
    n_tiers: int = 1,
    persistence_grid: Sequence[int] = RANK_PERSISTENCE_GRID,
    freq: str | pd.Timedelta | None = None,
) -> RankFit | None:
    """Fit the rank detector (see the module docstring), or None when it does not apply and
    :func:`calibrate` sweeps as before: features without ``volume`` (or the measure), no
    incident the backtest would evaluate, several severities with ``n_tiers`` > 1 (a tiered
    plan), or a history too short for the measure anywhere (it needs a day)."""
    needed = {"topic", "window_start"}
    if (
        not needed <= set(features.columns)
        or not ({"volume", RANK_MEASURE} & set(features.columns))
        or features.empty
        or int(n_tiers) < 1
    ):
        return None
    profile = get_profile(nab_profile)
    grid = prepare_grid(features, freq=None if freq is None else pd.Timedelta(freq))
    inc = _evaluated_incidents(features, incidents, rules, grid)
    severities = sorted(inc["severity"].unique())
    if inc.empty or (int(n_tiers) > 1 and len(severities) > 1):
        return None
    rank = _rank_values(features, grid)
    if not np.isfinite(rank).any():
        return None
    r_grid = refractory_windows(grid.freq)
    p_grid = tuple(sorted({int(p) for p in persistence_grid}))
    rows = _prepare(features, inc, grid, rank, max(r_grid))
    null = sum(f.score_rows(np.zeros(0, np.int64), profile).raw_null for f in rows.files)
    perfect = sum(f.score_rows(np.zeros(0, np.int64), profile).raw_perfect for f in rows.files)
    if perfect <= null:  # every window inside NAB's probation: nothing to score
        return None
    empty = [f.score_rows(np.zeros(0, np.int64), profile) for f in rows.files]
    thresholds = rank_thresholds()
    breaks = rows.grid.breaks
    records, alerts_of = [], {}
    for p in p_grid:
        held = held_rank(rows.rank, breaks, p)
        for r in r_grid:
            for t in thresholds:
                alerts = rank_alerts(held, breaks, rows.keys, float(t), r)
                alerts_of[(p, r, float(t))] = alerts
                records.append(
                    {
                        "persistence": p,
                        "refractory": r,
                        "threshold": float(t),
                        **_score(rows, alerts, profile, empty),
                    }
                )
    table = pd.DataFrame(records)
    table["nab_score"] = 100.0 * (table["nab_raw"] - null) / (perfect - null)
    table["objective"] = table["nab_score"]
    table["score"] = table.groupby(["persistence", "refractory"], sort=False)[
        "objective"
    ].transform(lambda s: s.rolling(2 * RANK_SMOOTHING + 1, center=True, min_periods=1).mean())
    pick, best = None, -np.inf
    for _, block in table.groupby(["persistence", "refractory"], sort=True):
        j = block.index[int(np.argmax(block["score"].to_numpy()))]
        if table.at[j, "score"] > best + 1e-9:
            pick, best = j, float(table.at[j, "score"])
    table = _columns(table, rows, len(inc))
    table["chosen"] = False
    table.loc[pick, "chosen"] = True
    frontier = table[_non_dominated(table) | table["chosen"].to_numpy()].copy()
    delays = [
        _delays(rows, alerts_of[(r.persistence, r.refractory, r.threshold)])
        for r in frontier.itertuples(index=False)
    ]
    frontier["median_detection_delay"] = pd.to_timedelta([d for d, _ in delays], unit="s")
    frontier["median_lead_time"] = pd.to_timedelta([lt for _, lt in delays], unit="s")
    frontier = frontier.sort_values(["tier", "false_alerts", "caught"], kind="stable")
    frontier = frontier.reset_index(drop=True)
    chosen = frontier[frontier["chosen"]].reset_index(drop=True)
    row = chosen.iloc[0]
    one_tier = (
        f"one tier: every incident has severity {severities[0]}"
        if len(severities) == 1
        else "one tier, as asked"
    )
    tier = Tier(
        level=1,
        name=RANK_TIER_NAME,
        owner=RANK_TIER_OWNER,
        all=(Condition(RANK_MEASURE, RANK_OP, float(row["threshold"])),),
        persistence=int(row["persistence"]),
        cooldown=0,
        refractory=int(row["refractory"]),
    )
    policy = Policy(
        tiers=(tier,),
        name="calibrated",
        description=(
            f"calibrated on {len(inc)} incidents, objective nab ({profile.name}): rank "
            f"detector ({RANK_MEASURE} {RANK_OP} threshold for p windows, then silent for "
            f"the refractory); {one_tier}"
        ),
    )
    settings = {
        "n_tiers": 1,
        "detector": "rank",
        "tiers_note": one_tier,
        "nab_profile": profile.name,
        "max_early": rules.max_early,
        "max_delay": rules.max_delay,
        "feature_candidates": (RANK_MEASURE,),
        "persistence_grid": p_grid,
        "cooldown_grid": (0,),
        "refractory_grid": r_grid,
        "thresholds": tuple(float(t) for t in thresholds),
        "smoothing": RANK_SMOOTHING,
    }
    return RankFit(policy, frontier, table, chosen, settings)


def _columns(table: pd.DataFrame, rows: _Rows, n_incidents: int) -> pd.DataFrame:
    """The candidate table in the columns of calibrate's frontier (plus ``refractory``)."""
    out = table.copy()
    out.insert(0, "cooldown", 0)
    out.insert(0, "op", RANK_OP)
    out.insert(0, "feature", RANK_MEASURE)
    out.insert(0, "tier", 1)
    out["false_per_week"] = out["false_alerts"] / rows.weeks
    out["incidents"] = n_incidents
    out["recall"] = out["caught"] / max(n_incidents, 1)
    first = [
        "tier",
        "feature",
        "op",
        "persistence",
        "cooldown",
        "refractory",
        "threshold",
        "notifications",
        "false_alerts",
        "false_per_week",
        "incidents",
        "caught",
        "recall",
    ]
    return out[first + [c for c in out.columns if c not in first]]
