"""``esc-analytics retro poll`` and ``retro merge``: poll participants before the meeting, and
fold their returned forms into the retrospective's notes at any time.

``poll`` drafts the incident's retrospective (as notebook 04 does; a period's with
``--period START END``, as notebook 06 does) from the data and writes one short form per
participant — the five sections, each prefilled with the facts — into
``<notes-dir>/<incident>/`` (an existing form, maybe already answered, is never overwritten).
``merge`` reads any number of returned forms (Markdown or YAML) and folds their points into
``<notes-dir>/<incident>.yaml``, attributed, never changing or dropping what the notes already
say (see ``esc_analytics.retro.merge_forms``); notebook 04 shows them, and merges forms left in
``<notes-dir>/<incident>/`` by itself.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .._util.atomic import atomic_write_text
from .._util.errors import EscAnalyticsError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``retro`` sub-command (``poll`` and ``merge``)."""
    parser = subparsers.add_parser(
        "retro",
        help="poll participants before a retrospective, merge their returned forms",
        description="Polls and notes of retrospective meetings (see notebook 04).",
    )
    actions = parser.add_subparsers(dest="retro_command", metavar="ACTION")
    poll = actions.add_parser(
        "poll",
        help="write one short form per participant, prefilled with the facts",
        description=(
            "Draft the incident's retrospective from the data and write one form per "
            "participant into <notes-dir>/<incident>/ (forms already there are kept)."
        ),
    )
    which = poll.add_mutually_exclusive_group(required=True)
    which.add_argument("--incident", help="the incident id to review")
    which.add_argument(
        "--period",
        nargs=2,
        metavar=("START", "END"),
        help="review a period instead (dates; END included), as notebook 06 does",
    )
    poll.add_argument("--name", default=None, help="the period's name, e.g. 'Q1 2026'")
    poll.add_argument(
        "--topics", default=None, help="comma-separated topics the period review covers"
    )
    poll.add_argument(
        "--participants",
        required=True,
        help="comma-separated names, e.g. alice,bob,carol (one form each)",
    )
    poll.add_argument("--data", type=Path, default=None, help="data folder (default: the sample)")
    poll.add_argument("--mentions", type=Path, default=None, help="mentions file")
    poll.add_argument("--incidents", type=Path, default=None, help="incident log")
    poll.add_argument("--policy", type=Path, default=None, help="escalation plan (YAML)")
    poll.add_argument(
        "--notes-dir", type=Path, default=Path("retro-notes"), help="notes folder (retro-notes)"
    )
    poll.add_argument("--format", choices=("md", "yaml"), default="md", help="form format (md)")
    poll.add_argument(
        "--out", type=Path, default=None, help="folder for the forms (<notes-dir>/<incident>/)"
    )
    poll.set_defaults(func=run_poll)
    merge = actions.add_parser(
        "merge",
        help="fold returned forms into the notes (attributed, nothing lost)",
        description=(
            "Fold the points of returned forms into <notes-dir>/<incident>.yaml, attributed; "
            "points already merged are not added twice and nothing written is changed."
        ),
    )
    merge.add_argument("forms", nargs="+", type=Path, help="returned forms (.md or .yaml)")
    merge.add_argument(
        "--notes-dir", type=Path, default=Path("retro-notes"), help="notes folder (retro-notes)"
    )
    merge.add_argument(
        "--incident", default=None, help="the incident, for forms that do not name theirs"
    )
    merge.set_defaults(func=run_merge)
    parser.set_defaults(func=lambda _args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _participants(text: str) -> list[str]:
    names = [" ".join(n.split()) for n in text.split(",")]
    names = list(dict.fromkeys(n for n in names if n))
    if not names:
        raise EscAnalyticsError("--participants: give at least one name, e.g. alice,bob")
    return names


def run_poll(args: argparse.Namespace) -> int:
    """Write the forms; prints one line per participant."""
    import warnings

    from ..backtesting import backtest
    from ..escalations import evaluate
    from ..features import load_inputs
    from ..retro import (
        draft_notes,
        find_previous_notes,
        load_notes,
        notes_file_stem,
        participant_file_stem,
        poll_form,
        review_incident,
        review_period,
    )

    names = _participants(args.participants)
    inputs = load_inputs(
        args.data, mentions=args.mentions, incidents=args.incidents, policy=args.policy
    )
    if inputs.policy is None:
        raise EscAnalyticsError("no escalation plan: give --policy (or a data folder with one)")
    if inputs.incidents is None:
        raise EscAnalyticsError("no incident log: give --incidents")
    incidents = inputs.incidents.data
    with warnings.catch_warnings():  # the form states the facts; warnings are for the notebook
        warnings.simplefilter("ignore")
        escalations = evaluate(inputs.policy, inputs.features)
        result = backtest(escalations, incidents)
        if args.period:
            topics = [t.strip() for t in (args.topics or "").split(",") if t.strip()] or None
            review = review_period(
                args.period[0],
                args.period[1],
                result,
                inputs.features,
                incidents,
                escalations,
                inputs.policy,
                planned_events=inputs.planned_events,
                topics=topics,
                name=args.name,
            )
        else:
            review = review_incident(
                args.incident,
                result,
                inputs.features,
                incidents,
                escalations,
                inputs.policy,
                inputs.mentions.data if inputs.mentions is not None else None,
            )
    meta = review.notes_meta()
    found = find_previous_notes(
        args.notes_dir,
        before=(meta.get("period") or {}).get("start") or meta.get("started_at"),
        topic=meta.get("topic"),
        kind=meta["kind"],
        exclude=review.incident_id,
    )
    previous = load_notes(found) if found is not None else None
    draft = draft_notes(review, previous, {})
    folder = args.out or args.notes_dir / notes_file_stem(review.incident_id)
    if args.period:
        title = f"Retrospective {review.name}"
    else:
        title = f"Retrospective {review.incident_id}"
        if review.incident.get("title"):
            title += f": {review.incident['title']}"
    for name in names:
        target = folder / f"{participant_file_stem(name)}.{args.format}"
        if target.exists():
            print(f"kept {target} (already there: maybe answered)")
            continue
        atomic_write_text(target, poll_form(draft, name, fmt=args.format, title=title))
        print(f"wrote {target}")
    return 0


def run_merge(args: argparse.Namespace) -> int:
    """Merge the forms into each incident's notes; prints what was added."""
    from ..retro import load_notes, merge_forms, notes_file_stem, read_form, save_notes

    by_subject: dict[str, list[dict]] = {}
    for path in args.forms:
        form = read_form(path)
        subject = form.get("incident_id") or args.incident
        if not subject:
            raise EscAnalyticsError(
                f"{path}: the form names no incident: give --incident (or use a form from "
                "'esc-analytics retro poll')"
            )
        if args.incident and str(subject) != str(args.incident):
            raise EscAnalyticsError(
                f"{path}: the form is for {subject!r}, not --incident {args.incident!r}"
            )
        by_subject.setdefault(str(subject), []).append(form)
    for subject, forms in sorted(by_subject.items()):
        target = args.notes_dir / f"{notes_file_stem(subject)}.yaml"
        if target.exists():
            notes = load_notes(target)
            if str(notes.get("incident_id")) != subject:
                raise EscAnalyticsError(f"{target} holds another retrospective's notes")
        else:
            notes = {"incident_id": subject, "drafted": False, "sections": {}}
        merged, added = merge_forms(notes, forms, incident_id=subject)
        save_notes(merged, target)
        people = ", ".join(sorted({f["participant"] for f in forms}, key=str.casefold))
        print(f"{target}: {added} new point(s) from {len(forms)} form(s) ({people})")
    return 0
