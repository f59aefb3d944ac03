"""Aggregation: mentions into per topic × window features, with baselines from the past only.

Two engines give identical numbers: pandas for DataFrames, DuckDB (out of core) for files.
"""

from ._baselines import PLANNED_EVENT_COLUMN, add_baselines
from ._build import (
    AggregateResult,
    aggregate_files,
    build_features,
    features_from_series,
    mark_absent_features,
    rolling_negative_share,
    topic_overview,
)
from ._detection import add_detection_features, detection_feature_name
from ._grid import window_length
from ._pandas import aggregate_mentions

__all__ = [
    "PLANNED_EVENT_COLUMN",
    "AggregateResult",
    "add_baselines",
    "add_detection_features",
    "aggregate_files",
    "aggregate_mentions",
    "build_features",
    "detection_feature_name",
    "features_from_series",
    "mark_absent_features",
    "rolling_negative_share",
    "topic_overview",
    "window_length",
]
