"""The names of plan measures computed from mentions: keyword lists and segments.

A plan may read measures that are not in the Features contract, spelled in its conditions:

- ``terms.safety`` — mentions of the window matching the plan's term list ``safety``
  (``terms: {safety: [recall, injury, "data breach"]}``); ``terms.safety_share`` — their
  share of the window's mentions;
- ``volume[platform=tiktok]``, ``negative_share[platform=reddit]``, ``mentions[verified]``,
  ``reach[followers>=100000]`` — a measure over the mentions of one segment (filters joined
  by commas all hold: ``volume[platform=tiktok,verified]``).

This module only reads and checks the names (used by the policy and by both aggregation
engines); ``features._segments`` computes them. Term matching folds text the same way in both
engines: Unicode NFKD with combining marks removed, lower case, a term matches between
non-word characters (``[a-z0-9_]`` after folding) or the ends of the text; spaces in a term
match any run of white space.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Measures a segment may be taken of (``mentions`` = ``volume``).
SEGMENT_BASES = ("volume", "mentions", "negative_volume", "negative_share", "reach", "engagement")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SEGMENT = re.compile(r"(?P<base>[A-Za-z_][A-Za-z0-9_]*)\[(?P<filters>[^\[\]]*)\]")
_PLATFORM = re.compile(r"platform\s*=\s*(?P<value>[A-Za-z0-9_.\-]+)")
_FOLLOWERS = re.compile(r"followers\s*(?P<op>>=|>)\s*(?P<value>[0-9]+(?:\.[0-9]+)?(?:e[0-9]+)?)")
#: How a plan measure's name may be written in a condition (before the operator).
MEASURE_NAME_PATTERN = r"(?:terms\.[A-Za-z_][A-Za-z0-9_]*|[A-Za-z_][A-Za-z0-9_]*\[[^\[\]]*\])"


class MeasureNameError(ValueError):
    """A plan measure name that cannot be read (the message says how to write it)."""


@dataclass(frozen=True)
class SegmentFilter:
    """One filter of a segment: ``platform`` (value), ``verified`` or ``followers`` (op,
    value)."""

    kind: str
    op: str = ""
    value: str | float = ""

    @property
    def column(self) -> str:
        """The mention column the filter reads."""
        return {"platform": "platform", "verified": "is_verified"}.get(
            self.kind, "author_followers"
        )

    def text(self) -> str:
        if self.kind == "platform":
            return f"platform={self.value}"
        if self.kind == "verified":
            return "verified"
        value = float(self.value)
        shown = str(int(value)) if value.is_integer() else repr(value)
        return f"followers{self.op}{shown}"


@dataclass(frozen=True)
class PlanMeasure:
    """A parsed plan measure: ``kind`` ``terms`` (``term_list``, ``share``) or ``segment``
    (``base``, ``filters``); ``name`` is its canonical spelling (the features column)."""

    name: str
    kind: str
    term_list: str = ""
    share: bool = False
    base: str = ""
    filters: tuple[SegmentFilter, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """Mention columns the measure needs."""
        if self.kind == "terms":
            return ("text",)
        needed = [f.column for f in self.filters]
        if self.base in ("negative_volume", "negative_share"):
            needed.append("sentiment")
        elif self.base == "reach":
            needed.append("author_followers")
        elif self.base == "engagement":
            needed.append("engagement")
        return tuple(dict.fromkeys(needed))


def looks_like_plan_measure(name: str) -> bool:
    """Whether ``name`` is spelled as a plan measure (``terms.x`` or ``base[...]``)."""
    return isinstance(name, str) and re.fullmatch(MEASURE_NAME_PATTERN, name.strip()) is not None


def parse_plan_measure(name: str, term_lists: tuple[str, ...] = ()) -> PlanMeasure:
    """Read ``terms.safety``, ``terms.safety_share`` or ``volume[platform=tiktok]``;
    MeasureNameError says what is wrong (an undeclared term list, an unknown filter...)."""
    text = name.strip()
    if text.startswith("terms."):
        list_name = text[len("terms."):]
        if not _NAME.fullmatch(list_name):
            raise MeasureNameError(f"{name!r}: a term list is named like safety or legal_risk")
        if list_name in term_lists:
            return PlanMeasure(text, "terms", term_list=list_name)
        if list_name.endswith("_share") and list_name[: -len("_share")] in term_lists:
            return PlanMeasure(text, "terms", term_list=list_name[: -len("_share")], share=True)
        declared = ", ".join(term_lists) or "none"
        raise MeasureNameError(
            f"{name!r} reads a term list the plan does not declare (declared: {declared}); "
            "add it under terms:, e.g. terms: {safety: [recall, injury]}"
        )
    match = _SEGMENT.fullmatch(text)
    if not match:
        raise MeasureNameError(
            f"cannot read measure {name!r}; write e.g. volume[platform=tiktok], "
            "mentions[verified] or terms.safety"
        )
    base = match["base"].lower()
    if base not in SEGMENT_BASES:
        raise MeasureNameError(
            f"{name!r}: a segment is taken of {', '.join(SEGMENT_BASES)}, not {base!r}"
        )
    filters = []
    for part in match["filters"].split(","):
        part = part.strip().lower()
        platform, followers = _PLATFORM.fullmatch(part), _FOLLOWERS.fullmatch(part)
        if platform:
            filters.append(SegmentFilter("platform", "=", platform["value"]))
        elif part in ("verified", "is_verified"):
            filters.append(SegmentFilter("verified"))
        elif followers:
            filters.append(SegmentFilter("followers", followers["op"], float(followers["value"])))
        else:
            raise MeasureNameError(
                f"{name!r}: unknown segment {part!r}; use platform=NAME, verified or "
                "followers>=N (several joined by commas)"
            )
    base = "volume" if base == "mentions" else base
    canonical = f"{match['base'].lower()}[{','.join(f.text() for f in filters)}]"
    return PlanMeasure(canonical, "segment", base=base, filters=tuple(filters))


def fold_text(text: str) -> str:
    """Text as term matching sees it: NFKD, combining marks removed, lower case."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


_REGEX_SPECIAL = set("\\.^$|?*+()[]{}")


def term_pattern(terms: tuple[str, ...]) -> str:
    """One regular expression (RE2 and Python ``re`` read it the same) matching any of
    ``terms`` (folded) between non-word characters of folded text. Every character of a term
    is escaped; white space matches any run of white space."""
    alternatives = []
    for term in terms:
        words = fold_text(term).split()
        escaped = [
            "".join("\\" + ch if ch in _REGEX_SPECIAL else ch for ch in word) for word in words
        ]
        alternatives.append(r"\s+".join(escaped))
    return r"(?:^|[^a-z0-9_])(?:" + "|".join(alternatives) + r")(?:$|[^a-z0-9_])"
