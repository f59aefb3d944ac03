"""The escalation plan as data: tiers, owners, conditions, persistence and cooldown.

Policies round-trip through YAML, are validated on load with errors that name the key, render
as Markdown or Mermaid, and expose their thresholds as flat parameters for calibration.
"""

from ._policy import (
    Condition,
    Policy,
    Tier,
    load_policy,
    policy_to_markdown,
    policy_to_mermaid,
    save_policy,
)

__all__ = [
    "Condition",
    "Policy",
    "Tier",
    "load_policy",
    "policy_to_markdown",
    "policy_to_mermaid",
    "save_policy",
]
