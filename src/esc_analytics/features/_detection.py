"""Detection measures for bursty volume series: how unusual the current level is for the topic,
judged against the topic's own recent past only (scale-free, so a threshold transfers)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._util.errors import DataLoadError
from .._util.schema import infer_freq
from .._util.times import to_utc_ns


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
