"""The escalation plan as data: tiers, owners, conditions, persistence and cooldown.

Policies round-trip through YAML, are validated on load with errors that name the key, render
as Markdown or Mermaid, and expose their thresholds as flat parameters for calibration.
"""

from ._plan_text import policy_to_markdown, policy_to_mermaid
from ._policy import (
    MAX_CONDITION_DEPTH,
    Condition,
    ConditionGroup,
    Policy,
    Tier,
    load_policy,
    save_policy,
)
from ._thresholds import threshold_volume
from ._versions import next_policy_path, save_policy_version

__all__ = [
    "MAX_CONDITION_DEPTH",
    "Condition",
    "ConditionGroup",
    "Policy",
    "Tier",
    "load_policy",
    "next_policy_path",
    "policy_to_markdown",
    "policy_to_mermaid",
    "save_policy",
    "save_policy_version",
    "threshold_volume",
]
