"""Retrospectives: each incident reviewed in the shape of the team's template, notes that
carry over to the next meeting, and what drove a spike.
"""

from ._draft import draft_notes
from ._explain import SpikeExplanation, episode_mentions, explain_episode
from ._notes import (
    carry_over,
    load_notes,
    merge_participant_notes,
    notes_file_stem,
    save_notes,
)
from ._review import IncidentReview, pick_instructive_incident, review_incident

__all__ = [
    "IncidentReview",
    "SpikeExplanation",
    "carry_over",
    "draft_notes",
    "episode_mentions",
    "explain_episode",
    "load_notes",
    "merge_participant_notes",
    "notes_file_stem",
    "pick_instructive_incident",
    "review_incident",
    "save_notes",
]
