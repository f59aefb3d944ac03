"""Retrospectives: each incident — or a whole period, a quarter or a campaign — reviewed in the
shape of the team's template; polls before the meeting folded into the notes; improvements as
action items that carry over to the next meeting; and what drove a spike.
"""

from ._actions import (
    ACTION_STATUSES,
    actions_from_text,
    actions_to_text,
    carry_over_notes,
    draft_actions,
    find_previous_notes,
    make_action,
    open_actions,
)
from ._draft import draft_notes
from ._explain import SpikeExplanation, episode_mentions, explain_episode
from ._notes import (
    carry_over,
    load_notes,
    merge_participant_notes,
    notes_file_stem,
    save_notes,
)
from ._period import PeriodReview, period_id, review_period
from ._poll import merge_forms, participant_file_stem, poll_form, read_form
from ._review import (
    DEFAULT_MAX_EXTRA_PER_MONTH,
    IncidentReview,
    alert_cost_words,
    measures_lacking,
    pick_instructive_incident,
    review_incident,
)

__all__ = [
    "ACTION_STATUSES",
    "DEFAULT_MAX_EXTRA_PER_MONTH",
    "IncidentReview",
    "PeriodReview",
    "SpikeExplanation",
    "actions_from_text",
    "actions_to_text",
    "alert_cost_words",
    "carry_over",
    "carry_over_notes",
    "draft_actions",
    "draft_notes",
    "episode_mentions",
    "explain_episode",
    "find_previous_notes",
    "load_notes",
    "make_action",
    "measures_lacking",
    "merge_forms",
    "merge_participant_notes",
    "notes_file_stem",
    "open_actions",
    "participant_file_stem",
    "period_id",
    "pick_instructive_incident",
    "poll_form",
    "read_form",
    "review_incident",
    "review_period",
    "save_notes",
]
