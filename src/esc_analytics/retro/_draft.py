"""The starting notes of a retrospective meeting: facts first, then what carries over, then
what participants wrote before the meeting, and the action items drafted from the facts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._actions import carry_over_notes, draft_actions
from ._notes import SECTION_TITLES, combine_texts
from ._poll import merge_forms


def draft_notes(
    review: Any, previous: Mapping[str, Any] | None, participants: Mapping[str, Mapping]
) -> dict[str, Any]:
    """The starting notes of a retrospective (an incident's or a period's ``review``): the
    facts-based draft, then the open questions (and open action items) carried over from the
    ``previous`` retrospective, then the ``participants``' points (name → their notes or
    returned form), merged attributed.
    Its ``action_texts()`` become action items, owned as ``review.action_owner()``
    says and due ``review.action_due()``."""
    carried = carry_over_notes(previous)
    sections = {
        key: combine_texts(review.sections.get(key, ""), carried["sections"].get(key, ""))
        for key in SECTION_TITLES
    }
    actions = list(carried["actions"])
    actions += draft_actions(
        review.action_texts(), owner=review.action_owner(), due=review.action_due()
    )
    doc: dict[str, Any] = {
        "incident_id": review.incident_id,
        **review.notes_meta(),
        "sections": sections,
        "actions": actions,
    }
    if previous:
        doc["previous"] = str(previous.get("incident_id", ""))
    forms = [
        {"participant": name, "sections": (notes or {}).get("sections", notes or {})}
        for name, notes in participants.items()
    ]
    doc, _ = merge_forms(doc, forms)
    doc["participants"] = sorted(participants)
    return doc
