"""scikit-learn classifiers on features, comparable with any rule plan on the same folds."""

from ._classifiers import (
    EscalationClassifier,
    EscalationDataset,
    PolicyClassifier,
    TieredEscalationModel,
    build_dataset,
    fit_plan_tree,
    load_model,
    save_model,
    tree_to_policy,
)
from ._compare import ModelComparison, compare_with_policy

__all__ = [
    "EscalationClassifier",
    "EscalationDataset",
    "ModelComparison",
    "PolicyClassifier",
    "TieredEscalationModel",
    "build_dataset",
    "compare_with_policy",
    "fit_plan_tree",
    "load_model",
    "save_model",
    "tree_to_policy",
]
