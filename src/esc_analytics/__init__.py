"""esc-analytics: fit and backtest social-media escalation plans against your own history.

Public names are re-exported here from the subpackages of each stage of the data flow
(``io``, ``features``, ``policy``, ``escalations``, ``backtesting``, ``calibration``,
``models``, ``retro``, ``sample``, ``plots``, ``report``). They are imported lazily on first
use, so ``esc-analytics aggregate`` starts without loading scikit-learn or plotly.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._util.errors import DataLoadError as DataLoadError
from ._util.errors import EscAnalyticsError as EscAnalyticsError
from ._util.errors import ModelError as ModelError
from ._util.errors import PolicyError as PolicyError
from ._util.errors import ProjectError as ProjectError

# public name -> private module that defines it
_EXPORTS: dict[str, str] = {
    # loading
    "LoadResult": ".io",
    "LoadSummary": ".io",
    "incidents_from_nab_windows": ".io",
    "load_incidents": ".io",
    "load_mentions": ".io",
    "load_planned_events": ".io",
    "load_series": ".io",
    "resolve_columns": ".io",
    "score_sentiment": ".io",
    "Project": ".io",
    "PROJECT_FILE": ".io",
    "draft_project": ".io",
    "find_project": ".io",
    "load_project": ".io",
    "project_toml": ".io",
    "save_project": ".io",
    # features
    "AggregateResult": ".features",
    "add_baselines": ".features",
    "add_detection_features": ".features",
    "add_detection_measures": ".features",
    "add_plan_measures": ".features",
    "volume_rank": ".features",
    "detection_feature_name": ".features",
    "aggregate_files": ".features",
    "choose_engine": ".features",
    "read_features": ".features",
    "write_features": ".features",
    "aggregate_mentions": ".features",
    "build_features": ".features",
    "features_from_series": ".features",
    "Inputs": ".features",
    "load_inputs": ".features",
    "rolling_negative_share": ".features",
    "top_topics": ".features",
    "topic_overview": ".features",
    # sample data
    "SampleData": ".sample",
    "generate_sample": ".sample",
    "write_sample": ".sample",
    # policies
    "Condition": ".policy",
    "ConditionGroup": ".policy",
    "Policy": ".policy",
    "Tier": ".policy",
    "load_policy": ".policy",
    "save_policy": ".policy",
    "policy_to_markdown": ".policy",
    "policy_to_mermaid": ".policy",
    "next_policy_path": ".policy",
    "save_policy_version": ".policy",
    "threshold_volume": ".policy",
    "Escalations": ".escalations",
    "evaluate": ".escalations",
    "AbsentFeatureWarning": ".escalations",
    "escalations_from_tiers": ".escalations",
    "Alerts": ".escalations",
    "alerts": ".escalations",
    "alert_payload": ".escalations",
    # backtest, NAB, calibration
    "BacktestResult": ".backtesting",
    "CostModel": ".backtesting",
    "MatchRules": ".backtesting",
    "backtest": ".backtesting",
    "NAB_PROFILES": ".backtesting",
    "NabScore": ".backtesting",
    "nab_from_escalations": ".backtesting",
    "nab_score": ".backtesting",
    "nab_score_file": ".backtesting",
    "CalibrationResult": ".calibration",
    "calibrate": ".calibration",
    "TemplateCalibrationResult": ".calibration",
    "calibrate_policy": ".calibration",
    "HistoryCheck": ".calibration",
    "check_history": ".calibration",
    "prepare_grid": ".escalations",
    "prepare_incidents": ".backtesting",
    "WalkForwardResult": ".calibration",
    "walk_forward": ".calibration",
    # models
    "EscalationClassifier": ".models",
    "EscalationDataset": ".models",
    "PolicyClassifier": ".models",
    "TieredEscalationModel": ".models",
    "build_dataset": ".models",
    "load_model": ".models",
    "save_model": ".models",
    "tree_to_policy": ".models",
    "fit_plan_tree": ".models",
    "ModelComparison": ".models",
    "compare_with_policy": ".models",
    # retrospectives and what-if
    "IncidentReview": ".retro",
    "pick_instructive_incident": ".retro",
    "review_incident": ".retro",
    "PolicyComparison": ".backtesting",
    "compare_policies": ".backtesting",
    "scale_thresholds": ".backtesting",
    "SpikeExplanation": ".retro",
    "explain_episode": ".retro",
    "episode_mentions": ".retro",
    "carry_over": ".retro",
    "draft_notes": ".retro",
    "notes_file_stem": ".retro",
    "load_notes": ".retro",
    "merge_participant_notes": ".retro",
    "save_notes": ".retro",
    # period reviews, polls and action items (issue 11)
    "PeriodReview": ".retro",
    "review_period": ".retro",
    "poll_form": ".retro",
    "read_form": ".retro",
    "merge_forms": ".retro",
    "find_previous_notes": ".retro",
    "make_action": ".retro",
    "open_actions": ".retro",
    "alert_cost_words": ".retro",
    "measures_lacking": ".retro",
    # showing text from the internet safely (escaped, never run)
    "SafeHTML": "._util.html",
    "escape_text": "._util.html",
    "markdown_text": "._util.html",
    "mentions_table_html": "._util.html",
    "plotly_safe": "._util.html",
    # figures and reports
    "plot_policy_tree": ".plots",
    "export_figures": ".plots",
    "execute_notebook": ".report",
    "export_figure": ".report",
    "render_html": ".report",
    "render_notebook": ".report",
}

__all__ = sorted(
    ["DataLoadError", "EscAnalyticsError", "ModelError", "PolicyError", "ProjectError", *_EXPORTS]
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
