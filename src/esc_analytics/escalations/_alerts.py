"""Alerts people can act on: each notification of an evaluation with who to page and why.

An evaluation (:func:`~esc_analytics.evaluate`) says *where* a notification goes out. This
module reads its output only — the notifications, episodes and windows — and adds what the
person paged needs: the tier's number, name and owner, the value of every condition of the
tier at the alerting window against its threshold (``volume_ratio 6.2 >= 5``), whether the
alert opens an episode or raises it a tier, and, when mentions are given, the top example
posts of the windows that triggered it (highest reach first, then earliest, then by id: the
same posts on every run).

Outputs: CSV and JSON lines (byte-identical for identical inputs), a text or Markdown preview
grouped by episode, and one JSON payload per alert shaped for a Slack incoming webhook,
a Microsoft Teams incoming webhook (an Adaptive Card) or PagerDuty's Events API v2. Nothing
here sends anything: posting a payload is the caller's job.

Text from the internet (posts, authors, topics, tier names and owners) is data: it is
reduced to one line without control or bidi-override characters and truncated in the
records, then escaped for each place it lands — Slack mrkdwn (``& < >``), Markdown and
Teams cards (links, HTML and emphasis neutralised), CSV (cells that a spreadsheet would read
as a formula are prefixed with ``'``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._util.atomic import atomic_write_text
from .._util.errors import DataLoadError, EscAnalyticsError
from .._util.html import markdown_text
from .._util.times import to_utc
from ..features._detection import detection_measure, is_detection_measure
from ..policy._policy import Policy, Tier
from ._escalations import Escalations
from ._evaluate import evaluate

__all__ = [
    "ALERT_FORMATS",
    "PAYLOAD_KINDS",
    "Alerts",
    "alert_payload",
    "alerts",
]

ALERT_FORMATS = ("csv", "jsonl")
PAYLOAD_KINDS = ("slack", "teams", "pagerduty")
#: Flat columns of the CSV output (the JSON lines carry the same plus structured lists).
CSV_COLUMNS = (
    "alert_id",
    "topic",
    "window_start",
    "alerted_at",
    "tier",
    "tier_name",
    "owner",
    "episode_id",
    "episode",
    "previous_tier",
    "triggered",
    "examples",
    "example_ids",
)
DEFAULT_EXAMPLES = 3
DEFAULT_MAX_CHARS = 200
_OPS_TEXT = {">": ">", ">=": ">=", "<": "<", "<=": "<="}
_COMPARE = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}
# PagerDuty's four severities; tier 1 warns, tier 2 is an error, tier 3 and above critical.
_PAGERDUTY_SEVERITY = {1: "warning", 2: "error"}
_PAGERDUTY_SUMMARY_MAX = 1024  # Events API v2: payload.summary is at most 1024 characters
_SLACK_HEADER_MAX = 150  # Block Kit: a header's plain_text is at most 150 characters
_SLACK_SECTION_MAX = 3000  # Block Kit: a section's text is at most 3000 characters

# Control characters, zero-width and bidi overrides (text that would reorder or hide what
# is shown) are dropped; runs of whitespace, line breaks included, become one space.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069"
    "\ufeff]"
)
_SPACES = re.compile(r"\s+")


def one_line(value: Any, max_chars: int | None = None) -> str:
    """People's text as one clean line: control, zero-width and bidi-override characters
    dropped, whitespace runs (line breaks too) as one space, cut to ``max_chars`` with "…".
    Missing values give ""."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    text = _SPACES.sub(" ", _INVISIBLE.sub("", str(value))).strip()
    if max_chars is not None and len(text) > max_chars:
        text = text[: max(max_chars - 1, 0)].rstrip() + "…"
    return text


def _number(value: float) -> str:
    """A measure as people read it: whole numbers as such, else 3 significant digits."""
    if value is None or not math.isfinite(value):
        return "missing"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    if abs(value) >= 1000:
        return f"{value:.0f}"
    return f"{value:.3g}"


def _iso(value: Any) -> str:
    """A UTC time as ``2026-03-04T14:00:00Z`` ("" when missing)."""
    if value is None or pd.isna(value):
        return ""
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _readable_time(value: Any) -> str:
    if value is None or value == "" or pd.isna(value):
        return "-"
    return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")


def _leaves(conditions: Sequence[Any]) -> Iterator[Any]:
    """The simple ``feature op value`` conditions in ``conditions``, groups flattened (so
    that plans with nested groups are explained by their leaves)."""
    for condition in conditions:
        if hasattr(condition, "feature") and hasattr(condition, "op"):
            yield condition
        else:
            inner = getattr(condition, "conditions", None)
            if inner is None:
                inner = [*getattr(condition, "all", ()), *getattr(condition, "any", ())]
            yield from _leaves(inner)


def _tier_conditions(tier: Tier) -> list[tuple[str, Any]]:
    """(group, condition) of a tier: ``all`` then ``any`` (nested groups by their leaves)."""
    rows = [("all", c) for c in _leaves(tier.all)]
    rows += [("any", c) for c in _leaves(tier.any)]
    return rows


@dataclass(frozen=True)
class Alerts:
    """One record per notification, in the order they went out (alert time, topic, tier).

    Each record is a plain dict (JSON-able): ``alert_id, topic, window_start, alerted_at,
    tier, tier_name, owner, episode_id, episode`` (``opened`` or ``raised``),
    ``previous_tier``, ``episode_started_at``, ``triggered`` (``volume_ratio 6.2 >= 5 and
    ...``), ``conditions`` (one dict per condition: ``group`` all/any/min_volume, ``feature,
    op, threshold, value, holds``) and ``examples`` (``mention_id, created_at, author,
    author_followers, sentiment, text``; empty without mentions). Iterating yields the records;
    :meth:`to_frame` gives the CSV table; :func:`alert_payload` shapes one record for a
    webhook.

    ``start`` and ``end`` bound the period covered (``end`` = close of the data's last
    window); ``policy_name`` names the plan; after :meth:`last`, ``earlier`` is the last alert
    sent before that period (None when there was none)."""

    records: tuple[dict[str, Any], ...]
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    policy_name: str = ""
    with_examples: bool = False
    earlier: dict[str, Any] | None = None

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.records[index]

    def last(self, duration: str | pd.Timedelta) -> Alerts:
        """The alerts sent in the last ``duration`` of the data (``"7d"``, ``"36h"``): alert
        times after ``end - duration``, ``end`` being the close of the last window."""
        try:
            if isinstance(duration, str):  # "7d" as people write it (pandas wants "7D")
                duration = re.sub(r"(?<=\d)\s*(d|days?)\s*$", "D", duration.strip())
            span = pd.Timedelta(duration)
        except (ValueError, TypeError):
            raise EscAnalyticsError(
                f"a duration like 7d, 36h or 90min is expected, got {duration!r}"
            ) from None
        if span <= pd.Timedelta(0):
            raise EscAnalyticsError(f"the duration must be positive, got {duration!r}")
        if self.end is None:
            return self
        since = self.end - span
        kept = tuple(r for r in self.records if pd.Timestamp(r["alerted_at"]) > since)
        before = [r for r in self.records if pd.Timestamp(r["alerted_at"]) <= since]
        start = max(since, self.start) if self.start is not None else since
        return Alerts(kept, start, self.end, self.policy_name, self.with_examples,
                      before[-1] if before else self.earlier)

    def episodes(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """The records grouped by episode, episodes in the order of their first alert."""
        groups: dict[str, list[dict[str, Any]]] = {}
        for record in self.records:
            groups.setdefault(record["episode_id"], []).append(record)
        return list(groups.items())

    # --- tables -------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """The flat table written as CSV (:data:`CSV_COLUMNS`): conditions as one text,
        examples as ``author (N followers): text`` joined by `` | ``."""
        rows = [_flat(r) for r in self.records]
        return pd.DataFrame(rows, columns=list(CSV_COLUMNS)).astype(
            {"tier": "int64", "previous_tier": "int64"}
        )

    def to_csv(self) -> str:
        """CSV text (header included; cells a spreadsheet would run as formulas defused)."""
        frame = self.to_frame()
        for column in frame.columns:
            if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
                frame[column] = frame[column].map(_csv_cell)
        return frame.to_csv(index=False, lineterminator="\n")

    def to_jsonl(self) -> str:
        """One JSON object per line, keys in a fixed order (byte-identical across runs)."""
        return "".join(
            json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n" for r in self.records
        )

    def write(self, path: str | Path, format: str | None = None) -> Path:
        """Write the alerts as ``csv`` or ``jsonl`` (``format``; default from the file's
        suffix: ``.jsonl``/``.json`` → jsonl, else csv), atomically."""
        path = Path(path)
        fmt = format or ("jsonl" if path.suffix.lower() in (".jsonl", ".json") else "csv")
        if fmt not in ALERT_FORMATS:
            raise EscAnalyticsError(
                f"alert format must be one of {', '.join(ALERT_FORMATS)}, got {fmt!r}"
            )
        text = self.to_csv() if fmt == "csv" else self.to_jsonl()
        atomic_write_text(path, text)
        return path

    # --- previews -----------------------------------------------------------------------
    def _heading(self) -> str:
        span = (
            f"{_readable_time(self.start)} to {_readable_time(self.end)}"
            if self.start is not None
            else "no data"
        )
        n_episodes = len(self.episodes())
        return (
            f"{len(self.records)} alert(s) in {n_episodes} episode(s), {span}"
            + (f", plan {one_line(self.policy_name, 80)!r}" if self.policy_name else "")
        )

    def _earlier_text(self) -> str:
        if self.earlier is None:
            return ""
        e = self.earlier
        return (
            f"; the last one before went out {_readable_time(e['alerted_at'])} "
            f"({one_line(e['topic'], 60)}, tier {e['tier']}, episode {e['episode_id']})"
        )

    def summary(self) -> str:
        """A text preview grouped by episode: per alert its time, tier, owner, opened or
        raised, and why; the example posts under it (one line each)."""
        lines = [self._heading()]
        if not self.records:
            lines.append(f"  no alert would have been sent{self._earlier_text()}")
        for episode_id, group in self.episodes():
            first = group[0]
            lines.append(
                f"episode {episode_id} · {one_line(first['topic'], 60)} · started "
                f"{_readable_time(first['episode_started_at'])}{_opened_before(first)}"
            )
            for r in group:
                lines.append(
                    f"  {_readable_time(r['alerted_at'])}  {r['episode']:<6}  tier {r['tier']}"
                    f" {one_line(r['tier_name'], 40)} -> {one_line(r['owner'], 60)}"
                )
                lines.append(f"      because {r['triggered']}")
                for ex in r["examples"]:
                    lines.append(f"      - {_example_text(ex)}")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The preview as Markdown: one section per episode with a table of its alerts
        (every value from the data escaped: no link, image, HTML or heading can come from a
        post, a topic or a tier name)."""
        lines = [f"**{markdown_text(self._heading())}**", ""]
        if not self.records:
            lines.append(f"No alert would have been sent{markdown_text(self._earlier_text())}.")
        for episode_id, group in self.episodes():
            first = group[0]
            lines.append(
                f"### Episode {markdown_text(episode_id)} · {markdown_text(first['topic'])}"
            )
            lines.append("")
            lines.append(
                f"Started {_readable_time(first['episode_started_at'])}{_opened_before(first)}."
            )
            lines.append("")
            lines.append("| alerted at | tier | owner | episode | because | example posts |")
            lines.append("| --- | --- | --- | --- | --- | --- |")
            for r in group:
                examples = "<br>".join(markdown_text(_example_text(e)) for e in r["examples"])
                cells = [
                    _readable_time(r["alerted_at"]),
                    f"{r['tier']} · {markdown_text(r['tier_name'])}",
                    markdown_text(r["owner"]),
                    r["episode"],
                    markdown_text(r["triggered"]),
                    examples or "-",
                ]
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"


def _opened_before(first: Mapping[str, Any]) -> str:
    """`` (opened before this period at tier 1)`` when an episode's first alert shown raises
    it (its opening alert went out before the period shown)."""
    if first["episode"] != "raised":
        return ""
    return f" (opened before this period, at tier {first['previous_tier']})"


def _example_text(example: Mapping[str, Any]) -> str:
    who = example.get("author") or "unknown author"
    reach = example.get("author_followers")
    followers = f" ({_number(float(reach))} followers)" if reach is not None else ""
    return f"{who}{followers}: {example.get('text', '')}"


def _flat(record: Mapping[str, Any]) -> dict[str, Any]:
    row = {c: record.get(c, "") for c in CSV_COLUMNS if c not in ("examples", "example_ids")}
    row["examples"] = " | ".join(_example_text(e) for e in record["examples"])
    row["example_ids"] = "; ".join(str(e["mention_id"]) for e in record["examples"])
    return row


def _csv_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would evaluate (``=``, ``+``, ``-``, ``@``, tab, CR at
    its start) prefixed with ``'`` (OWASP's advice on CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# --- building the records ------------------------------------------------------------------


def _mention_frame(mentions: Any) -> pd.DataFrame | None:
    if mentions is None:
        return None
    data = getattr(mentions, "data", mentions)
    if not isinstance(data, pd.DataFrame):
        raise DataLoadError(
            f"mentions must be a DataFrame or loaded Mentions, got {type(mentions).__name__}"
        )
    missing = [c for c in ("mention_id", "created_at", "topic") if c not in data.columns]
    if missing:
        raise DataLoadError(
            f"mentions need columns mention_id, created_at and topic; missing {missing}"
        )
    frame = pd.DataFrame(
        {
            "mention_id": data["mention_id"].astype(str).to_numpy(),
            "created_at": to_utc(data["created_at"]).to_numpy(),
            "topic": data["topic"].astype(str).to_numpy(),
        }
    )
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    for column in ("author", "text"):
        frame[column] = data[column].to_numpy() if column in data.columns else None
    for column in ("author_followers", "sentiment"):
        values = (
            pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float)
            if column in data.columns
            else np.full(len(data), np.nan)
        )
        frame[column] = values
    # per topic: highest reach first (unknown reach last), then earliest, then smallest id
    frame["_reach"] = -np.nan_to_num(frame["author_followers"].to_numpy(dtype=float), nan=-1.0)
    frame = frame.sort_values(
        ["topic", "_reach", "created_at", "mention_id"], kind="stable", ignore_index=True
    )
    return frame.drop(columns="_reach")


def _examples(
    mentions: pd.DataFrame | None,
    topic: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    n: int,
    max_chars: int,
) -> list[dict[str, Any]]:
    """The top ``n`` posts of ``topic`` in [start, end): highest reach, then earliest, then
    smallest id (``mentions`` is sorted that way per topic)."""
    if mentions is None or n == 0:
        return []
    rows = mentions[
        (mentions["topic"] == topic)
        & (mentions["created_at"] >= start)
        & (mentions["created_at"] < end)
    ].head(n)
    out = []
    for row in rows.itertuples(index=False):
        followers = row.author_followers
        sentiment = row.sentiment
        out.append(
            {
                "mention_id": one_line(row.mention_id, 200),
                "created_at": _iso(row.created_at),
                "author": one_line(row.author, 80),
                "author_followers": None if math.isnan(followers) else float(followers),
                "sentiment": None if math.isnan(sentiment) else round(float(sentiment), 4),
                "text": one_line(row.text, max_chars),
            }
        )
    return out


def alerts(
    policy: Policy,
    features: pd.DataFrame,
    *,
    escalations: Escalations | None = None,
    mentions: Any = None,
    examples: int = DEFAULT_EXAMPLES,
    max_chars: int = DEFAULT_MAX_CHARS,
    freq: str | pd.Timedelta | None = None,
) -> Alerts:
    """What ``policy`` would have sent on ``features``, one record per notification, with
    what the person paged needs: tier number, name and owner; each condition's value at the
    alerting window against its threshold; the episode it opens or raises; and, with
    ``mentions`` (a DataFrame or loaded Mentions), the ``examples`` posts of highest reach
    (ties: earliest, then smallest id) from the windows the tier's persistence looked at,
    texts on one line cut to ``max_chars``.

    ``escalations`` = ``evaluate(policy, features)`` when already computed (the alerts read
    its notifications and episodes, never re-decide them)."""
    if not isinstance(policy, Policy):
        raise EscAnalyticsError(f"alerts needs a Policy, got {type(policy).__name__}")
    if not isinstance(features, pd.DataFrame):
        raise DataLoadError(f"features must be a DataFrame, got {type(features).__name__}")
    if isinstance(examples, bool) or not isinstance(examples, int) or examples < 0:
        raise EscAnalyticsError(f"examples must be a whole number >= 0, got {examples!r}")
    if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 10:
        raise EscAnalyticsError(f"max_chars must be a whole number >= 10, got {max_chars!r}")
    if escalations is None:
        escalations = evaluate(policy, features, freq=freq)
    elif not isinstance(escalations, Escalations):
        raise EscAnalyticsError(
            f"escalations must come from evaluate(), got {type(escalations).__name__}"
        )
    step = escalations.freq
    window_start = to_utc(features["window_start"])
    start = window_start.min() if len(features) else None
    end = window_start.max() + step if len(features) else None
    posts = _mention_frame(mentions)
    notes = escalations.notifications
    if not len(notes):
        return Alerts((), start, end, policy.name, posts is not None)

    # row of each notification in the features: (topic, window_start) is unique there
    keys = pd.MultiIndex.from_arrays(
        [features["topic"].astype(str).to_numpy(), window_start.to_numpy()]
    )
    wanted = pd.MultiIndex.from_arrays(
        [notes["topic"].astype(str).to_numpy(), to_utc(notes["window_start"]).to_numpy()]
    )
    rows = keys.get_indexer(wanted)
    if (rows < 0).any():
        raise EscAnalyticsError(
            "escalations do not belong to these features (a notification's window is not in "
            "them): pass the features they were evaluated on"
        )
    cache: dict[str, np.ndarray] = {}

    def column(name: str) -> np.ndarray:
        if name not in cache:
            if name not in features.columns and is_detection_measure(name):
                cache[name] = np.asarray(detection_measure(features, name, freq=step), float)
            else:
                cache[name] = features[name].to_numpy(dtype=float, na_value=np.nan)
        return cache[name]

    episodes = escalations.episodes.set_index("episode_id")
    tiers = {t.level: t for t in policy.tiers}
    seen_tier: dict[str, int] = {}
    records = []
    for i, note in enumerate(notes.itertuples(index=False)):
        row = int(rows[i])
        level = int(note.tier)
        tier = tiers.get(level)
        episode_id = str(note.episode_id)
        previous = seen_tier.get(episode_id, 0)
        seen_tier[episode_id] = level
        conditions = []
        if tier is not None:
            for group, cond in _tier_conditions(tier):
                value = float(column(cond.feature)[row])
                holds = math.isfinite(value) and bool(_COMPARE[cond.op](value, cond.value))
                conditions.append(
                    {"group": group, "feature": cond.feature, "op": cond.op,
                     "threshold": float(cond.value),
                     "value": value if math.isfinite(value) else None, "holds": holds}
                )
            if tier.min_volume is not None:
                value = float(column("volume")[row])
                conditions.append(
                    {"group": "min_volume", "feature": "volume", "op": ">=",
                     "threshold": float(tier.min_volume),
                     "value": value if math.isfinite(value) else None,
                     "holds": bool(math.isfinite(value) and value >= tier.min_volume)}
                )
        alerted_at = pd.Timestamp(note.alerted_at)
        looked_back = step * (tier.persistence if tier is not None else 1)
        started = episodes["started_at"].get(episode_id) if episode_id in episodes.index else None
        records.append(
            {
                "alert_id": f"{episode_id}-t{level}",
                "topic": str(note.topic),
                "window_start": _iso(note.window_start),
                "alerted_at": _iso(alerted_at),
                "tier": level,
                "tier_name": one_line(tier.name if tier else "", 200),
                "owner": one_line(tier.owner if tier else "", 200),
                "episode_id": episode_id,
                "episode": "opened" if previous == 0 else "raised",
                "previous_tier": previous,
                "episode_started_at": _iso(started),
                "triggered": _triggered_text(conditions),
                "conditions": conditions,
                "examples": _examples(
                    posts, str(note.topic), alerted_at - looked_back, alerted_at, examples,
                    max_chars,
                ),
            }
        )
    return Alerts(tuple(records), start, end, policy.name, posts is not None)


def _triggered_text(conditions: Sequence[Mapping[str, Any]]) -> str:
    """``volume_ratio 6.2 >= 5 and negative_share 0.61 >= 0.5 and (influencer_mentions 7 >= 5
    or volume_z 3.1 >= 12 [no]) and volume 412 >= 40``: every value against its threshold;
    among ``any`` alternatives the ones that did not hold are marked ``[no]``."""

    def text(c: Mapping[str, Any]) -> str:
        value = "missing" if c["value"] is None else _number(c["value"])
        mark = "" if c["holds"] else " [no]"
        return f"{c['feature']} {value} {_OPS_TEXT[c['op']]} {_number(c['threshold'])}{mark}"

    parts = [text(c) for c in conditions if c["group"] == "all"]
    alternatives = [text(c) for c in conditions if c["group"] == "any"]
    if alternatives:
        joined = " or ".join(alternatives)
        parts.append(f"({joined})" if len(alternatives) > 1 and parts else joined)
    parts += [text(c) for c in conditions if c["group"] == "min_volume"]
    return " and ".join(parts)


# --- webhook payloads ----------------------------------------------------------------------


def slack_escape(text: Any) -> str:
    """Text for Slack mrkdwn: ``&``, ``<`` and ``>`` as Slack's entities, so that
    ``<!channel>``, ``<@U123>`` or ``<https://x|click>`` in a post show as typed instead of
    pinging or linking."""
    return one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# like _util.html.markdown_text, without entities (a card renders no HTML): "_" only where it
# could open or close emphasis, so volume_ratio stays readable
_TEAMS_INLINE = re.compile(r"[\\`*~\[\]]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_TEAMS_LINE_START = re.compile(r"^(\s*)([#>+\-]|\d+(?=[.)]))")


def teams_escape(text: Any) -> str:
    """Text for a Teams Adaptive Card TextBlock (a Markdown subset, no HTML): the characters
    that open a link, emphasis or code backslash-escaped, and a list, quote or heading marker
    at the start, so that a post's ``[link](url)`` or ``**shout**`` shows as typed."""
    text = _TEAMS_INLINE.sub(lambda m: "\\" + m.group(0), one_line(text))
    return _TEAMS_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def _title(alert: Mapping[str, Any]) -> str:
    name = f" · {alert['tier_name']}" if alert.get("tier_name") else ""
    return f"Tier {alert['tier']}{name}: {alert['topic']}"


def _episode_text(alert: Mapping[str, Any]) -> str:
    if alert["episode"] == "raised":
        return f"{alert['episode_id']} raised from tier {alert['previous_tier']}"
    return f"{alert['episode_id']} opened"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def alert_payload(
    alert: Mapping[str, Any],
    kind: str = "slack",
    *,
    routing_key: str | None = None,
    source: str = "esc-analytics",
) -> dict[str, Any]:
    """One alert record (an item of :func:`alerts`) as the JSON body of a webhook:

    * ``slack``: an incoming-webhook message, ``text`` (the notification fallback) and
      Block Kit ``blocks`` (header, the facts, the example posts); every value from the data
      mrkdwn-escaped (``& < >``);
    * ``teams``: a ``message`` with one Adaptive Card attachment (title, facts, example
      posts), as Teams incoming webhooks and Workflows take it; values Markdown-escaped;
    * ``pagerduty``: an Events API v2 ``trigger`` event: ``routing_key`` (your service's
      integration key, required), ``event_action``, a ``dedup_key`` per topic and episode
      start (raising the tier updates the same PagerDuty alert), and ``payload`` with
      ``summary`` (≤ 1024 characters), ``source``, ``severity`` (tier 1 warning, 2 error, 3+
      critical), ``timestamp``, ``component`` (topic), ``group`` (owner), ``class`` (tier
      name) and ``custom_details`` (conditions, examples).

    Only builds the dict: nothing is sent (post it with your HTTP client of choice)."""
    if kind not in PAYLOAD_KINDS:
        raise EscAnalyticsError(
            f"payload kind must be one of {', '.join(PAYLOAD_KINDS)}, got {kind!r}"
        )
    missing = [k for k in ("tier", "topic", "episode_id", "triggered") if k not in alert]
    if missing:
        raise EscAnalyticsError(f"not an alert record (missing {missing}): use esc.alerts(...)")
    if kind == "slack":
        return _slack(alert)
    if kind == "teams":
        return _teams(alert)
    if not routing_key or not isinstance(routing_key, str):
        raise EscAnalyticsError(
            "a PagerDuty payload needs routing_key= (the integration key of your service's "
            "Events API v2 integration)"
        )
    return _pagerduty(alert, routing_key, source)


def _slack(alert: Mapping[str, Any]) -> dict[str, Any]:
    owner = slack_escape(alert.get("owner")) or "-"
    facts = (
        f"*Owner:* {owner}\n*Episode:* {slack_escape(_episode_text(alert))}\n"
        f"*Alerted at:* {slack_escape(alert.get('alerted_at'))}\n"
        f"*Because:* {slack_escape(alert['triggered'])}"
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header",
         "text": {"type": "plain_text", "text": _cut(one_line(_title(alert)), _SLACK_HEADER_MAX)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _cut(facts, _SLACK_SECTION_MAX)}},
    ]
    examples = alert.get("examples") or []
    if examples:
        lines = "\n".join(f"• {slack_escape(_example_text(e))}" for e in examples)
        blocks.append(
            {"type": "section",
             "text": {"type": "mrkdwn", "text": _cut(f"*Example posts*\n{lines}",
                                                     _SLACK_SECTION_MAX)}}
        )
    text = slack_escape(f"{_title(alert)} ({_episode_text(alert)}): {alert['triggered']}")
    return {"text": text, "blocks": blocks}


def _teams(alert: Mapping[str, Any]) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": True,
         "text": teams_escape(_title(alert))},
        {"type": "FactSet", "facts": [
            {"title": "Owner", "value": teams_escape(alert.get("owner")) or "-"},
            {"title": "Episode", "value": teams_escape(_episode_text(alert))},
            {"title": "Alerted at", "value": teams_escape(alert.get("alerted_at"))},
            {"title": "Because", "value": teams_escape(alert["triggered"])},
        ]},
    ]
    examples = alert.get("examples") or []
    if examples:
        body.append({"type": "TextBlock", "weight": "Bolder", "text": "Example posts"})
        body.extend(
            {"type": "TextBlock", "wrap": True, "text": teams_escape(_example_text(e))}
            for e in examples
        )
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
             "content": card}
        ],
    }


def _pagerduty(alert: Mapping[str, Any], routing_key: str, source: str) -> dict[str, Any]:
    tier = int(alert["tier"])
    summary = one_line(f"{_title(alert)} ({_episode_text(alert)}): {alert['triggered']}")
    payload: dict[str, Any] = {
        "summary": _cut(summary, _PAGERDUTY_SUMMARY_MAX),
        "source": one_line(f"{source}: {alert['topic']}", 255),
        "severity": _PAGERDUTY_SEVERITY.get(tier, "critical"),
        "component": one_line(alert["topic"], 255),
        "group": one_line(alert.get("owner"), 255) or "unassigned",
        "class": one_line(alert.get("tier_name"), 255) or f"tier {tier}",
        "custom_details": {
            "tier": tier,
            "owner": alert.get("owner", ""),
            "episode_id": alert["episode_id"],
            "episode": alert.get("episode", ""),
            "triggered": alert["triggered"],
            "conditions": list(alert.get("conditions", [])),
            "examples": list(alert.get("examples", [])),
        },
    }
    if alert.get("alerted_at"):
        payload["timestamp"] = alert["alerted_at"]
    started = alert.get("episode_started_at") or alert["episode_id"]
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": _cut(f"{source}/{one_line(alert['topic'])}/{started}", 255),
        "payload": payload,
    }
