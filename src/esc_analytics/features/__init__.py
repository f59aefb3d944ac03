"""Aggregation: mentions into per topic × window features, with baselines from the past only.

Two engines give identical numbers: pandas for DataFrames, DuckDB (out of core) for files.
"""

from ._build import (
    AggregateResult,
    add_baselines,
    aggregate_files,
    aggregate_mentions,
    build_features,
    features_from_series,
    mark_absent_features,
    rolling_negative_share,
    topic_overview,
    window_length,
)
from ._detection import add_detection_features, detection_feature_name

__all__ = [
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
