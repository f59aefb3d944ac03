"""Evaluate a policy on features: tier per (topic, window), episodes and notifications.

Vectorised with numpy over all topics at once. :func:`escalations_from_tiers` holds the shared
semantics (persistence, episodes, cooldown, notifications) so that rule policies and classifiers
produce comparable escalations:

- *raw tier* of a window: the highest tier whose conditions hold (and volume >= min_volume);
  NaN feature values make a condition false.
- *persistence* ``k`` of tier ``t``: the window counts at tier ``t`` only when the raw tier was
  ``>= t`` in this window and the ``k - 1`` windows before it (consecutive windows of the same
  topic; a missing window breaks the run). The window's tier is the highest tier that persisted.
- an *episode* is a run of consecutive escalated windows (tier > 0) of one topic; its tier is the
  highest reached.
- *cooldown* ``c`` (of the episode's tier): when at most ``c`` quiet windows separate an episode's
  last window from the next escalated window, and that window's tier is <= the episode's tier,
  the episode continues (no new notification). A higher tier starts a new episode.
- *refractory* ``r`` (of the episode's tier): an escalation that starts at most ``r`` windows
  after the episode's first window, at the same or a lower tier, continues the episode
  whatever the windows in between did — a hard silence after a page, as the strongest anomaly
  detectors use (one alert per burst, not one per wobble around the threshold).
- a *notification* goes out at the window where an episode starts and wherever it rises above
  the highest tier it had reached; ``alerted_at = window_start + freq`` (when the window closes).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._util.errors import DataLoadError, PolicyError
from .._util.schema import (
    EPISODE_COLUMNS,
    ESCALATION_WINDOW_COLUMNS,
    NOTIFICATION_COLUMNS,
)
from .._util.times import to_utc
from ..features._build import ABSENT_FEATURES_ATTR
from ..features._detection import detection_measure, is_detection_measure
from ..policy._policy import Condition, Policy
from ._escalations import Escalations

_COMPARE = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}


class AbsentFeatureWarning(UserWarning):
    """A policy condition reads a measure the input data could not provide (e.g. a volume
    series has no sentiment, so ``negative_share`` is a column of zeros): the condition is
    evaluated against that filler, not against data."""


def _filler(values: np.ndarray) -> str | None:
    """How a filler column evaluates (``evaluated as 0``), or None when it varies (then it
    holds data after all, e.g. a column added after the features were marked)."""
    known = values[~np.isnan(values)]
    if not len(known):
        return "missing everywhere, so its conditions never hold"
    if known.min() != known.max():
        return None
    return f"evaluated as {float(known[0]):g}"


def absent_feature_uses(policy: Policy, features: pd.DataFrame) -> list[str]:
    """One message per tier of ``policy`` reading measures marked absent in ``features``
    (see :func:`mark_absent_features`): ``tier 2 'Escalate' uses negative_share, which volume
    series do not carry: evaluated as 0``."""
    absent = features.attrs.get(ABSENT_FEATURES_ATTR) or {}
    if not absent:
        return []
    messages = []
    for tier in policy.tiers:
        used = dict.fromkeys(c.feature for c in tier.conditions)
        groups: dict[tuple[str, str], list[str]] = {}
        for feature in used:
            if feature not in absent or feature not in features.columns:
                continue
            column = features[feature]
            if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
                continue
            how = _filler(column.to_numpy(dtype=float, na_value=np.nan))
            if how is not None:
                groups.setdefault((absent[feature], how), []).append(feature)
        for (why, how), names in groups.items():
            label = f"tier {tier.level}" + (f" {tier.name!r}" if tier.name else "")
            messages.append(f"{label} uses {' and '.join(names)}, which {why}: {how}")
    return messages


@dataclass(frozen=True)
class WindowGrid:
    """Rows sorted by (topic, time) with the facts the run logic needs."""

    order: np.ndarray | None  # input positions in sorted order; None when already sorted
    topic_codes: np.ndarray  # sorted order
    positions: np.ndarray  # window index on the freq grid, sorted order
    breaks: np.ndarray  # True where a row does not continue the previous row's run
    times: np.ndarray  # window_start as int64 (ns), sorted order
    topics: pd.Index  # topic labels by code
    window_start: pd.Series  # UTC window_start, input order
    topic: pd.Series  # input order
    freq: pd.Timedelta


def _window_starts(values: pd.Series) -> pd.Series:
    """window_start as tz-aware UTC (naive times are taken as UTC), or a DataLoadError."""
    try:
        return to_utc(values)
    except (ValueError, TypeError) as error:
        raise DataLoadError(
            f"window_start must hold times: {error}", column="window_start"
        ) from None


def _grid(frame: pd.DataFrame, freq: str | pd.Timedelta | None, what: str) -> WindowGrid:
    missing = [c for c in ("topic", "window_start") if c not in frame.columns]
    if missing:
        raise DataLoadError(
            f"{what} needs columns topic and window_start; missing {missing}; "
            f"columns: {list(frame.columns)}"
        )
    window_start = _window_starts(frame["window_start"])
    if window_start.isna().any():
        raise DataLoadError(f"{what}: window_start has missing values", column="window_start")
    codes, topics = pd.factorize(frame["topic"], sort=False)
    if (codes < 0).any():
        raise DataLoadError(f"{what}: topic has missing values", column="topic")
    times = window_start.to_numpy(dtype="datetime64[ns]").view("int64")
    order = None
    n = len(codes)
    if n > 1:
        ordered = (codes[1:] > codes[:-1]) | ((codes[1:] == codes[:-1]) & (times[1:] >= times[:-1]))
        if not ordered.all():
            order = np.lexsort((times, codes))
            codes, times = codes[order], times[order]
    if freq is None:
        # same definition as _schema.infer_freq: the smallest positive step within a topic
        steps = np.diff(times)[codes[1:] == codes[:-1]] if n > 1 else np.zeros(0, np.int64)
        steps = steps[steps > 0]
        if not len(steps):
            raise DataLoadError(
                f"{what}: cannot infer the window length (every topic has a single window); "
                "pass freq= (e.g. '1h')"
            )
        freq = pd.Timedelta(int(steps.min()), unit="ns")
    freq = pd.Timedelta(freq)
    if freq <= pd.Timedelta(0):
        raise DataLoadError(f"freq must be a positive duration, got {freq}")
    positions = (times - (times.min() if n else 0)) // freq.value
    breaks = np.ones(n, dtype=bool)
    if n > 1:
        same = codes[1:] == codes[:-1]
        if (same & (positions[1:] == positions[:-1])).any():
            where = np.flatnonzero(same & (positions[1:] == positions[:-1]))[0] + 1
            idx = where if order is None else order[where]
            raise DataLoadError(
                f"{what}: duplicate window for topic {topics[codes[where]]!r} at "
                f"{window_start.iloc[idx]} with windows of {freq} (one row per topic and window "
                "expected; check freq=)"
            )
        breaks[1:] = ~(same & (positions[1:] == positions[:-1] + 1))
    return WindowGrid(
        order=order,
        topic_codes=codes,
        positions=positions,
        breaks=breaks,
        times=times,
        topics=pd.Index(topics),
        window_start=window_start,
        topic=frame["topic"],
        freq=freq,
    )


def _per_tier(value: int | Mapping[int, int], levels: range, name: str, minimum: int) -> dict:
    if isinstance(value, Mapping):
        unknown = [k for k in value if not isinstance(k, int | np.integer) or k < 1]
        if unknown:
            raise PolicyError(f"tier levels must be integers >= 1, got {unknown}", key=name)
        default = minimum
        table = {int(k): v for k, v in value.items()}
    else:
        default, table = value, {}
    out = {}
    for level in levels:
        v = table.get(level, default)
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < minimum:
            raise PolicyError(
                f"must be a whole number of windows >= {minimum}, got {v!r}",
                key=f"{name}[{level}]" if isinstance(value, Mapping) else name,
            )
        out[level] = int(v)
    return out


def _run_lengths(flag: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """Length of the run of True ending at each row (0 where False); runs stop at breaks."""
    n = len(flag)
    idx = np.arange(n)
    prev = np.zeros(n, dtype=bool)
    prev[1:] = flag[:-1]
    starts = flag & (~prev | breaks)
    last_start = np.maximum.accumulate(np.where(starts, idx, 0))
    return np.where(flag, idx - last_start + 1, 0)


def _persist(raw: np.ndarray, breaks: np.ndarray, persistence: dict[int, int]) -> np.ndarray:
    """Tier per row after persistence (sorted order)."""
    if all(k == 1 for k in persistence.values()):
        return raw
    tier = np.zeros_like(raw)
    for level, k in sorted(persistence.items()):
        flag = raw >= level
        if k > 1:
            flag &= _run_lengths(flag, breaks) >= k
        tier[flag] = level
    return tier


def _episodes_of_runs(
    run_topic: np.ndarray,
    gap: np.ndarray,
    first: np.ndarray,
    peak: np.ndarray,
    cooldown: dict[int, int],
    start: np.ndarray | None = None,
    refractory: dict[int, int] | None = None,
) -> np.ndarray:
    """Episode number of each run of escalated windows (runs in (topic, time) order).

    A run continues the current episode of its topic when its first tier is at most the
    episode's tier and it starts within the episode tier's cooldown after the previous run,
    or within its refractory period after the episode's notification (``start``: window
    positions of the runs' first windows)."""
    n_runs = len(run_topic)
    if n_runs == 0:
        return np.zeros(0, dtype=np.int64)
    same_topic = np.zeros(n_runs, dtype=bool)
    same_topic[1:] = run_topic[1:] == run_topic[:-1]
    refractory = refractory or {}
    if any(refractory.values()) and same_topic.any():
        assert start is not None
        out = np.empty(n_runs, dtype=np.int64)
        episode, episode_tier, episode_start = -1, 0, 0
        rows = zip(
            same_topic.tolist(), gap.tolist(), first.tolist(), peak.tolist(), start.tolist(),
            strict=True,
        )
        for r, (linked, g, f, p, s) in enumerate(rows):
            quiet = g <= cooldown.get(episode_tier, 0)
            silenced = s - episode_start <= refractory.get(episode_tier, 0)
            if linked and f <= episode_tier and (quiet or silenced):
                episode_tier = max(episode_tier, p)
            else:
                episode += 1
                episode_tier, episode_start = p, s
            out[r] = episode
        return out
    values = set(cooldown.values())
    if values == {0} or not same_topic.any():
        return np.arange(n_runs)
    if len(values) == 1:
        # One cooldown for every tier: runs close enough form chains; inside a chain a run
        # starts a new episode iff its first tier exceeds the highest tier of the chain so far
        # (that maximum is always the current episode's tier).
        (c,) = values
        link = same_topic & (gap <= c)
        chain = np.cumsum(~link)
        span = int(peak.max()) + 1
        running = np.maximum.accumulate(chain * span + peak) - chain * span
        before = np.zeros(n_runs, dtype=np.int64)
        before[1:] = running[:-1]
        continues = link & (first <= before)
        return np.cumsum(~continues) - 1
    out = np.empty(n_runs, dtype=np.int64)
    episode, episode_tier = -1, 0
    for r, (linked, g, f, p) in enumerate(
        zip(same_topic.tolist(), gap.tolist(), first.tolist(), peak.tolist(), strict=True)
    ):
        if linked and g <= cooldown.get(episode_tier, 0) and f <= episode_tier:
            episode_tier = max(episode_tier, p)
        else:
            episode += 1
            episode_tier = p
        out[r] = episode
    return out


def _escalate(
    grid: WindowGrid,
    raw: np.ndarray,
    persistence: int | Mapping[int, int],
    cooldown: int | Mapping[int, int],
    refractory: int | Mapping[int, int] = 0,
) -> Escalations:
    """Apply persistence, cooldown and refractory periods to raw tiers (input order) and
    build Escalations."""
    n = len(raw)
    top = int(raw.max()) if n else 0
    given = _keys(persistence) + _keys(cooldown) + _keys(refractory)
    levels = range(1, max([top, *given]) + 1)
    persist = _per_tier(persistence, levels, "persistence", 1)
    cool = _per_tier(cooldown, levels, "cooldown", 0)
    silence = _per_tier(refractory, levels, "refractory", 0)
    sorted_raw = raw if grid.order is None else raw[grid.order]
    tier = _persist(sorted_raw, grid.breaks, persist)

    escalated = tier > 0
    rows = np.flatnonzero(escalated)
    escalation = np.zeros(n, dtype=np.int64)
    episode_rows = pd.DataFrame(columns=list(EPISODE_COLUMNS))
    notes = pd.DataFrame(columns=list(NOTIFICATION_COLUMNS))
    if len(rows):
        # runs of consecutive escalated rows
        run_start = np.ones(len(rows), dtype=bool)
        run_start[1:] = (rows[1:] != rows[:-1] + 1) | grid.breaks[rows[1:]]
        run_id = np.cumsum(run_start) - 1
        starts = rows[run_start]
        ends = rows[np.r_[run_start[1:], True]]
        esc_tier = tier[rows]
        peak = np.maximum.reduceat(esc_tier, np.flatnonzero(run_start))
        run_topic = grid.topic_codes[starts]
        gap = np.zeros(len(starts), dtype=np.int64)
        gap[1:] = grid.positions[starts[1:]] - grid.positions[ends[:-1]] - 1
        run_episode = _episodes_of_runs(
            run_topic, gap, tier[starts], peak, cool, grid.positions[starts], silence
        )
        row_episode = run_episode[run_id]

        # notifications: where the episode's running maximum tier rises
        span = top + 1
        running = np.maximum.accumulate(row_episode * span + esc_tier) - row_episode * span
        before = np.zeros(len(rows), dtype=np.int64)
        new_episode = np.ones(len(rows), dtype=bool)
        new_episode[1:] = row_episode[1:] != row_episode[:-1]
        before[1:] = running[:-1]
        before[new_episode] = 0
        notify = esc_tier > before

        # episodes, numbered by (start time, topic)
        ep_first = np.flatnonzero(new_episode)
        ep_last = np.r_[ep_first[1:] - 1, len(rows) - 1]
        ep_tier = np.maximum.reduceat(esc_tier, ep_first)
        ep_start = grid.times[rows[ep_first]]
        ep_topic = grid.topic_codes[rows[ep_first]]
        chrono = np.lexsort((ep_topic, ep_start))
        number = np.empty(len(chrono), dtype=np.int64)
        number[chrono] = np.arange(len(chrono))
        width = max(4, len(str(len(chrono))))
        labels = np.array([f"E{i + 1:0{width}d}" for i in range(len(chrono))], dtype=object)
        freq_ns = grid.freq.value
        unit = grid.window_start.dt.unit
        episode_rows = pd.DataFrame(
            {
                "episode_id": pd.array(labels[number[chrono]], dtype="str"),
                "topic": grid.topics.take(ep_topic[chrono]),
                "tier": ep_tier[chrono].astype(np.int64),
                "started_at": _times(ep_start[chrono], unit),
                "ended_at": _times(grid.times[rows[ep_last]][chrono] + freq_ns, unit),
            }
        )

        note_rows = rows[notify]
        note_times = grid.times[note_rows]
        note_topic = grid.topic_codes[note_rows]
        note_order = np.lexsort((note_topic, note_times))
        notes = pd.DataFrame(
            {
                "topic": grid.topics.take(note_topic[note_order]),
                "window_start": _times(note_times[note_order], unit),
                "alerted_at": _times(note_times[note_order] + freq_ns, unit),
                "tier": esc_tier[notify][note_order].astype(np.int64),
                "episode_id": pd.array(
                    labels[number[row_episode[notify]]][note_order], dtype="str"
                ),
            }
        )
        flags = np.zeros(n, dtype=np.int64)
        flags[note_rows] = 1
        escalation = flags if grid.order is None else _unsort(flags, grid.order)
    tier_in = tier if grid.order is None else _unsort(tier, grid.order)
    windows = pd.DataFrame(
        {
            "topic": grid.topic.array,
            "window_start": grid.window_start.array,
            "tier": tier_in.astype(np.int64),
            "escalation": escalation,
        },
    )[list(ESCALATION_WINDOW_COLUMNS)]
    return Escalations(
        windows=windows,
        episodes=_typed_episodes(episode_rows),
        notifications=_typed_notifications(notes),
        freq=grid.freq,
    )


def _keys(value: int | Mapping[int, int]) -> list[int]:
    return [int(k) for k in value] if isinstance(value, Mapping) else []


def _times(ns: np.ndarray, unit: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(ns.astype("datetime64[ns]"), tz="UTC").as_unit(unit)


def _unsort(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    out[order] = values
    return out


def _typed_episodes(frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame):
        return frame.reset_index(drop=True)
    return pd.DataFrame(
        {
            "episode_id": pd.Series([], dtype="str"),
            "topic": pd.Series([], dtype="str"),
            "tier": pd.Series([], dtype=np.int64),
            "started_at": pd.Series([], dtype="datetime64[ns, UTC]"),
            "ended_at": pd.Series([], dtype="datetime64[ns, UTC]"),
        }
    )


def _typed_notifications(frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame):
        return frame.reset_index(drop=True)
    return pd.DataFrame(
        {
            "topic": pd.Series([], dtype="str"),
            "window_start": pd.Series([], dtype="datetime64[ns, UTC]"),
            "alerted_at": pd.Series([], dtype="datetime64[ns, UTC]"),
            "tier": pd.Series([], dtype=np.int64),
            "episode_id": pd.Series([], dtype="str"),
        }
    )


def escalations_from_tiers(
    windows: pd.DataFrame,
    *,
    freq: str | pd.Timedelta | None = None,
    persistence: int | Mapping[int, int] = 1,
    cooldown: int | Mapping[int, int] = 0,
    refractory: int | Mapping[int, int] = 0,
) -> Escalations:
    """Turn raw tiers per (topic, window) into Escalations (persistence, episodes, cooldown,
    refractory, notifications; see the module docstring). Shared by rule policies and
    classifiers.

    ``windows`` needs ``topic, window_start, tier`` (int >= 0); ``persistence``, ``cooldown``
    and ``refractory`` are one number for every tier or a mapping tier -> windows (missing
    tiers: 1, 0 and 0)."""
    if not isinstance(windows, pd.DataFrame):
        raise DataLoadError(f"windows must be a DataFrame, got {type(windows).__name__}")
    if "tier" not in windows.columns:
        raise DataLoadError(
            f"windows needs a 'tier' column (int, 0 = none); columns: {list(windows.columns)}"
        )
    grid = _grid(windows, freq, "windows")
    tiers = windows["tier"]
    if not pd.api.types.is_numeric_dtype(tiers) or pd.api.types.is_bool_dtype(tiers):
        raise DataLoadError(f"tier must be integers >= 0, got dtype {tiers.dtype}", column="tier")
    values = tiers.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
    if bad.any():
        raise DataLoadError(
            f"tier must be integers >= 0; first bad value {tiers.iloc[np.flatnonzero(bad)[0]]!r}",
            column="tier",
            lines=np.flatnonzero(bad)[:5] + 1,
        )
    return _escalate(grid, values.astype(np.int64), persistence, cooldown, refractory)


def _column(
    features: pd.DataFrame,
    name: str,
    cache: dict[str, np.ndarray],
    freq: pd.Timedelta | None = None,
) -> np.ndarray:
    if name not in cache and name not in features.columns and is_detection_measure(name):
        cache[name] = detection_measure(features, name, freq=freq)  # computed on demand
    if name not in cache:
        _check_column(features, name)
        cache[name] = features[name].to_numpy(dtype=float, na_value=np.nan)
    return cache[name]


def _check_column(features: pd.DataFrame, name: str) -> None:
    """A PolicyError naming the feature when ``features`` has no numeric column ``name``."""
    if name not in features.columns:
        available = [c for c in features.columns if c not in ("topic", "window_start")]
        raise PolicyError(
            f"the policy uses feature {name!r} but the features have no such column; "
            f"available: {', '.join(map(str, available))}",
            key=name,
        )
    column = features[name]
    if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
        raise PolicyError(
            f"feature {name!r} is not numeric (dtype {column.dtype}); conditions compare "
            "numbers",
            key=name,
        )


def _holds(condition: Condition, values: np.ndarray) -> np.ndarray:
    # comparisons with NaN are False: a missing value never satisfies a condition
    return _COMPARE[condition.op](values, condition.value)


def raw_tiers(
    policy: Policy, features: pd.DataFrame, *, freq: str | pd.Timedelta | None = None
) -> np.ndarray:
    """Highest tier whose conditions hold per row (input order), before persistence.
    Detection measures the features lack are computed from their volume (window ``freq``)."""
    if not isinstance(policy, Policy):
        raise PolicyError(f"evaluate needs a Policy, got {type(policy).__name__}")
    if not isinstance(features, pd.DataFrame):
        raise DataLoadError(f"features must be a DataFrame, got {type(features).__name__}")
    cache: dict[str, np.ndarray] = {}
    step = None if freq is None else pd.Timedelta(freq)
    for feature in policy.features_used:
        _column(features, feature, cache, step)
    raw = np.zeros(len(features), dtype=np.int64)
    for tier in policy.tiers:  # ascending: a higher tier overwrites a lower one
        mask = np.ones(len(features), dtype=bool)
        for condition in tier.all:
            mask &= _holds(condition, cache[condition.feature])
        if tier.any:
            alternatives = np.zeros(len(features), dtype=bool)
            for condition in tier.any:
                alternatives |= _holds(condition, cache[condition.feature])
            mask &= alternatives
        if tier.min_volume is not None:
            mask &= cache["volume"] >= tier.min_volume
        raw[mask] = tier.level
    return raw


def prepare_grid(features: pd.DataFrame, *, freq: str | pd.Timedelta | None = None) -> WindowGrid:
    """The (topic, window) grid of ``features``: sort order, runs and window length. It depends
    on the features only, so callers evaluating many policies on the same features (the
    threshold tuner) prepare it once and pass it to :func:`evaluate` as ``grid=``."""
    if not isinstance(features, pd.DataFrame):
        raise DataLoadError(f"features must be a DataFrame, got {type(features).__name__}")
    return _grid(features, freq, "features")


def evaluate(
    policy: Policy,
    features: pd.DataFrame,
    *,
    freq: str | pd.Timedelta | None = None,
    grid: WindowGrid | None = None,
) -> Escalations:
    """Apply ``policy`` to ``features`` (one row per topic and window): the tier of every window
    (in input order), the episodes and the notifications. ``freq`` is inferred when omitted;
    ``grid`` = :func:`prepare_grid` of these same features skips that preparation.

    Warns (:class:`AbsentFeatureWarning`) when a tier reads a measure that ``features`` mark as
    absent from the input (:func:`mark_absent_features`): its conditions then compare fillers."""
    if not isinstance(policy, Policy):
        raise PolicyError(f"evaluate needs a Policy, got {type(policy).__name__}")
    if not isinstance(features, pd.DataFrame):
        raise DataLoadError(f"features must be a DataFrame, got {type(features).__name__}")
    for feature in policy.features_used:
        if feature not in features.columns and is_detection_measure(feature):
            continue  # computed from volume below
        _check_column(features, feature)
    if grid is None:
        grid = _grid(features, freq, "features")
    elif not isinstance(grid, WindowGrid) or len(grid.topic_codes) != len(features):
        raise DataLoadError(
            f"grid= must be prepare_grid(features) of these same features ({len(features)} rows)"
        )
    raw = raw_tiers(policy, features, freq=grid.freq)
    for message in absent_feature_uses(policy, features):
        warnings.warn(message, AbsentFeatureWarning, stacklevel=2)
    return _escalate(
        grid,
        raw,
        persistence={t.level: t.persistence for t in policy.tiers},
        cooldown={t.level: t.cooldown for t in policy.tiers},
        refractory={t.level: t.refractory for t in policy.tiers},
    )
