"""The starting notes of a retrospective meeting: facts first, then what carries over."""

from __future__ import annotations

from typing import Any

from ._notes import SECTION_TITLES, carry_over, combine_texts, merge_participant_notes
from ._review import IncidentReview


def draft_notes(
    review: IncidentReview, previous: dict | None, participants: dict[str, dict]
) -> dict[str, Any]:
    """The starting notes of a retrospective: the facts-based draft, then the items carried
    over from the previous retrospective, then the participants' merged notes."""
    carried = carry_over(previous)
    merged = merge_participant_notes(participants) if participants else {}
    sections = {
        key: combine_texts(review.sections.get(key, ""), carried.get(key, ""), merged.get(key, ""))
        for key in SECTION_TITLES
    }
    return {
        "incident_id": review.incident_id,
        "sections": sections,
        "participants": sorted(participants),
    }

