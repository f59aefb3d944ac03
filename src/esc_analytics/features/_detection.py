"""Detection measures for bursty volume series: how unusual the current level is for the topic,
judged against the topic's own recent past only (scale-free, so a threshold transfers).

``volume_rank_28d`` is the default of calibration. It follows how the strongest detectors of the
Numenta Anomaly Benchmark earn their scores (ARTime, contextOSE, HTM): the current level is
judged against the series' own history — here its percentile rank among the last four weeks —
so the threshold that separates a burst from a busy day ("above 99.8 % of the last four weeks")
is nearly the same on every topic, large or small; an alert then needs a hard silence after it
(the tier's ``refractory``), and a day of history before the measure is defined.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._util.errors import DataLoadError
from .._util.schema import BURST_LEVEL_NAME, DETECTION_MEASURES, infer_freq
from .._util.times import to_utc_ns

RANK_SMOOTH_WINDOWS = 3  # the level is the mean of the last 3 windows (cuts counting noise)
RANK_LOOKBACK = pd.Timedelta(days=28)  # the reference: four weeks of the topic's own past...
RANK_GAP = pd.Timedelta(hours=1)  # ...ending an hour ago, so a building burst is not its own past
RANK_MIN_HISTORY = pd.Timedelta(days=1)  # no rank (NaN, never alerts) before a day of history
_RANK_CHUNK_CELLS = 8_000_000  # rows x lookback compared at once (bounds memory)


def _windows_in(span: pd.Timedelta, step: pd.Timedelta, minimum: int = 1) -> int:
    return max(round(span / step), minimum)


def trailing_mean(values: np.ndarray, size: int) -> np.ndarray:
    """Mean over the last ``size`` rows, current row included, ignoring NaN (NaN when all are)."""
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    total = np.concatenate([[0.0], np.cumsum(np.where(ok, v, 0.0))])
    count = np.concatenate([[0], np.cumsum(ok)])
    i = np.arange(1, len(v) + 1)
    low = np.maximum(i - size, 0)
    n = count[i] - count[low]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (total[i] - total[low]) / n
    return np.where(n > 0, mean, np.nan)


def past_rank(values: np.ndarray, *, lookback: int, gap: int, min_history: int) -> np.ndarray:
    """Mid-rank of each value among the ``lookback`` values ending ``gap`` rows before it:
    (#below + ½ #equal) / #valid, in [0, 1]. NaN values are left out of the reference; the rank
    is NaN when the value is NaN or fewer than ``min_history`` reference values exist. Ties
    (zero counts, flat stretches) give about ½, never a spurious 1."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    out = np.full(n, np.nan)
    if n == 0:
        return out
    padded = np.concatenate([np.full(lookback + gap, np.nan), x])
    # row t's reference: x[t - gap - lookback + 1 .. t - gap] = padded[t + 1 .. t + lookback]
    view = np.lib.stride_tricks.sliding_window_view(padded[1:], lookback)
    chunk = max(_RANK_CHUNK_CELLS // max(lookback, 1), 1)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        reference = view[start:stop]
        current = x[start:stop, None]
        valid = np.isfinite(reference).sum(axis=1)
        below = (reference < current).sum(axis=1)
        equal = (reference == current).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            rank = (below + 0.5 * equal) / valid
        rank[(valid < min_history) | ~np.isfinite(x[start:stop])] = np.nan
        out[start:stop] = rank
    return out


def _sorted_by_topic(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Row order by (topic, window_start) and the start of each topic's run in that order."""
    topics = frame["topic"].astype(str).to_numpy()
    order = np.lexsort((to_utc_ns(frame["window_start"]), topics))
    ordered = topics[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(order) else order
    return order, np.r_[starts, len(order)]


def volume_rank(
    features: pd.DataFrame,
    *,
    freq: str | pd.Timedelta | None = None,
    lookback: str | pd.Timedelta = RANK_LOOKBACK,
    smooth: int = RANK_SMOOTH_WINDOWS,
) -> np.ndarray:
    """``volume_rank_28d`` (with the defaults) per row of ``features``: the percentile rank of
    the mean volume of the last ``smooth`` windows among the topic's own windows of the past
    ``lookback``, ending an hour before; past only, NaN during the first day of a topic."""
    _require_volume(features)
    step = pd.Timedelta(freq) if freq is not None else infer_freq(features)
    size = _windows_in(pd.Timedelta(lookback), step, 2)
    gap = _windows_in(RANK_GAP, step)
    history = _windows_in(RANK_MIN_HISTORY, step)
    volume = pd.to_numeric(features["volume"], errors="coerce").to_numpy(dtype=float)
    order, bounds = _sorted_by_topic(features)
    out = np.empty(len(features))
    for a, b in itertools.pairwise(bounds):
        rows = order[a:b]
        level = trailing_mean(volume[rows], int(smooth))
        out[rows] = past_rank(level, lookback=size, gap=gap, min_history=history)
    return out


def _require_volume(features: pd.DataFrame) -> None:
    if not isinstance(features, pd.DataFrame):
        raise DataLoadError(f"features must be a DataFrame, got {type(features).__name__}")
    missing = [c for c in ("topic", "window_start", "volume") if c not in features.columns]
    if missing:
        raise DataLoadError(f"features lack the columns {missing} detection measures need")


def is_detection_measure(name: str) -> bool:
    """True for the names :func:`add_detection_measures` can compute."""
    return name in DETECTION_MEASURES or BURST_LEVEL_NAME.match(name) is not None


def detection_measure(
    features: pd.DataFrame, name: str, *, freq: str | pd.Timedelta | None = None
) -> np.ndarray:
    """One detection measure per row of ``features`` (see ``DETECTION_MEASURES``), computed
    from its volume, past only."""
    if name == "volume_rank_28d":
        return volume_rank(features, freq=freq)
    if name == "burst_level_7d":
        name = detection_feature_name(3, 7, 0.99)
    match = BURST_LEVEL_NAME.match(name)
    if match is None:
        known = ", ".join(DETECTION_MEASURES)
        raise DataLoadError(f"unknown detection measure {name!r}; known: {known}")
    quantile = int(match.group(1)) / 10 ** len(match.group(1))
    frame = add_detection_features(
        features.loc[:, ["topic", "window_start", "volume"]],
        smooth=(int(match.group(3)),),
        lookback_days=(float(match.group(2)),),
        quantiles=(quantile,),
        freq=freq,
    )
    return frame.iloc[:, -1].to_numpy(dtype=float)


def add_detection_measures(
    features: pd.DataFrame,
    names: Sequence[str] | None = None,
    *,
    freq: str | pd.Timedelta | None = None,
) -> pd.DataFrame:
    """A copy of ``features`` with detection measures added (default: every one of
    ``DETECTION_MEASURES``; columns already present are kept as they are)."""
    _require_volume(features)
    frame = features.copy()
    for name in names if names is not None else DETECTION_MEASURES:
        if name not in frame.columns:
            frame[name] = detection_measure(frame, name, freq=freq)
    return frame


def detection_feature_name(smooth: int, lookback_days: float, quantile: float) -> str:
    """Column name of :func:`add_detection_features`' feature, e.g. ``level_q99_7d_s3``."""
    q = f"{quantile * 100:g}".replace(".", "")
    return f"level_q{q}_{lookback_days:g}d_s{smooth}"


def add_detection_features(
    features: pd.DataFrame,
    *,
    smooth: Sequence[int] = (3,),
    lookback_days: Sequence[float] = (7,),
    quantiles: Sequence[float] = (0.99,),
    exclude: str | pd.Timedelta = "1h",
    freq: str | pd.Timedelta | None = None,
) -> pd.DataFrame:
    """Add ``level_q{Q}_{D}d_s{S}``: the mean of ``log1p(volume)`` over the last ``S`` windows
    minus the ``Q`` quantile of that same smoothed level over the previous ``D`` days (the last
    ``exclude`` left out), per topic, from earlier windows only. Positive = a level this topic
    reached less than ``1 − Q`` of the time lately: a scale-free burst measure whose threshold
    transfers across topics. (Half a day of history is needed; before that: NaN.)"""
    if "volume" not in features.columns:
        raise DataLoadError("features lack the column 'volume'", column="volume")
    frame = features.copy()
    step = pd.Timedelta(freq) if freq is not None else infer_freq(frame)
    per_day = max(round(pd.Timedelta(days=1) / step), 1)
    gap = max(round(pd.Timedelta(exclude) / step), 1)
    order = np.lexsort((to_utc_ns(frame["window_start"]), frame["topic"].astype(str).to_numpy()))
    level = np.log1p(pd.to_numeric(frame["volume"], errors="coerce").to_numpy(dtype=float))
    topics = frame["topic"].astype(str).to_numpy()[order]
    sorted_level = pd.Series(level[order])
    groups = sorted_level.groupby(topics, sort=False)
    for s in smooth:
        smoothed = groups.transform(lambda x, s=s: x.rolling(int(s), min_periods=1).mean())
        by_topic = smoothed.groupby(topics, sort=False)
        for days in lookback_days:
            window = max(round(days * per_day), 2)
            for q in quantiles:
                past = by_topic.transform(
                    lambda x, w=window, q=q: (
                        x.shift(gap).rolling(w, min_periods=max(per_day // 2, 2)).quantile(q)
                    )
                )
                values = np.empty(len(frame))
                values[order] = (smoothed - past).to_numpy()
                frame[detection_feature_name(int(s), days, q)] = values
    return frame
