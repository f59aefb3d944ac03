"""esc-analytics: fit and backtest social-media escalation plans against your own history.

Public names are re-exported here from private modules (``_io``, ``_features``, ...). They are
imported lazily on first use, so ``esc-analytics aggregate`` starts without loading
scikit-learn or plotly.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._errors import DataLoadError as DataLoadError
from ._errors import EscAnalyticsError as EscAnalyticsError
from ._errors import ModelError as ModelError
from ._errors import PolicyError as PolicyError

# public name -> private module that defines it
_EXPORTS: dict[str, str] = {
    # loading
    "LoadResult": "._io",
    "LoadSummary": "._io",
    "incidents_from_nab_windows": "._io",
    "load_incidents": "._io",
    "load_mentions": "._io",
    "load_series": "._io",
    "resolve_columns": "._io",
    "score_sentiment": "._io",
    # features
    "AggregateResult": "._features",
    "add_baselines": "._features",
    "aggregate_files": "._features",
    "aggregate_mentions": "._features",
    "build_features": "._features",
    "features_from_series": "._features",
    "rolling_negative_share": "._features",
    "topic_overview": "._features",
    # sample data
    "SampleData": "._sample",
    "generate_sample": "._sample",
    "write_sample": "._sample",
    # policies
    "Condition": "._policy",
    "Policy": "._policy",
    "Tier": "._policy",
    "load_policy": "._policy",
    "save_policy": "._policy",
    "policy_to_markdown": "._policy",
    "policy_to_mermaid": "._policy",
    "Escalations": "._escalations",
    "evaluate": "._evaluate",
    "AbsentFeatureWarning": "._evaluate",
    "escalations_from_tiers": "._evaluate",
    # backtest, NAB, calibration
    "BacktestResult": "._backtest",
    "CostModel": "._backtest",
    "backtest": "._backtest",
    "NAB_PROFILES": "._nab",
    "NabScore": "._nab",
    "nab_from_escalations": "._nab",
    "nab_score": "._nab",
    "nab_score_file": "._nab",
    "CalibrationResult": "._calibrate",
    "add_detection_features": "._calibrate",
    "calibrate": "._calibrate",
    "TemplateCalibrationResult": "._calibrate_template",
    "calibrate_policy": "._calibrate_template",
    "prepare_grid": "._evaluate",
    "prepare_incidents": "._backtest",
    "WalkForwardResult": "._walkforward",
    "walk_forward": "._walkforward",
    # models
    "EscalationClassifier": "._models",
    "EscalationDataset": "._models",
    "PolicyClassifier": "._models",
    "TieredEscalationModel": "._models",
    "build_dataset": "._models",
    "load_model": "._models",
    "save_model": "._models",
    "tree_to_policy": "._models",
    "fit_plan_tree": "._models",
    "ModelComparison": "._compare",
    "compare_with_policy": "._compare",
    # retrospectives and what-if
    "IncidentReview": "._retro",
    "pick_instructive_incident": "._retro",
    "review_incident": "._retro",
    "PolicyComparison": "._whatif",
    "compare_policies": "._whatif",
    "scale_thresholds": "._whatif",
    "SpikeExplanation": "._explain",
    "explain_episode": "._explain",
    "episode_mentions": "._explain",
    "carry_over": "._notes",
    "load_notes": "._notes",
    "merge_participant_notes": "._notes",
    "save_notes": "._notes",
    # figures and reports
    "plot_policy_tree": ".plots",
    "execute_notebook": ".report",
    "export_figure": ".report",
    "render_html": ".report",
    "render_notebook": ".report",
}

__all__ = sorted(
    ["DataLoadError", "EscAnalyticsError", "ModelError", "PolicyError", *_EXPORTS]
)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'esc_analytics' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
