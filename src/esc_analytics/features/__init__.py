"""Aggregation: mentions into per topic × window features, with baselines from the past only.

Three engines give identical numbers: pandas for DataFrames, DuckDB (out of core) for files,
Spark (a cluster or local mode) for data lakes; the features file is the hand-off between them
and the analysis (:func:`write_features`, :func:`read_features`).
"""

from ._baselines import PLANNED_EVENT_COLUMN, add_baselines
from ._build import (
    ENGINES,
    AggregateResult,
    aggregate_files,
    build_features,
    choose_engine,
    features_from_series,
    mark_absent_features,
    rolling_negative_share,
    top_topics,
    topic_overview,
)
from ._detection import (
    add_detection_features,
    add_detection_measures,
    detection_feature_name,
    is_detection_measure,
    volume_rank,
)
from ._files import read_features, sidecar_path, write_features
from ._grid import window_length
from ._inputs import Inputs, load_inputs
from ._pandas import aggregate_mentions
from ._segments import add_plan_measures, plan_measures_frame

__all__ = [
    "ENGINES",
    "PLANNED_EVENT_COLUMN",
    "AggregateResult",
    "Inputs",
    "add_baselines",
    "add_detection_features",
    "add_detection_measures",
    "add_plan_measures",
    "aggregate_files",
    "aggregate_mentions",
    "build_features",
    "choose_engine",
    "detection_feature_name",
    "features_from_series",
    "is_detection_measure",
    "load_inputs",
    "mark_absent_features",
    "plan_measures_frame",
    "read_features",
    "rolling_negative_share",
    "sidecar_path",
    "top_topics",
    "topic_overview",
    "volume_rank",
    "window_length",
    "write_features",
]
