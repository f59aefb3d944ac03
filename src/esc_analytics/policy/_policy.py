"""Escalation policies as data: tiers of conditions on features, read from and written to YAML.

A policy is validated when it is built, so that a typo in a policy file fails on load with a
message naming the key (``tiers[1].all[0]``) and what is allowed, never later in a backtest.
"""

from __future__ import annotations

import difflib
import math
import numbers
import os
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .._util.atomic import atomic_write_text
from .._util.errors import PolicyError
from .._util.measures import (
    MEASURE_NAME_PATTERN,
    MeasureNameError,
    PlanMeasure,
    looks_like_plan_measure,
    parse_plan_measure,
)
from .._util.paths import not_found
from .._util.schema import (
    BURST_LEVEL_NAME,
    DETECTION_MEASURES,
    FEATURE_BASELINES,
    FEATURE_MEASURES,
)
from ._roundtrip import PlanFileMismatch, edit_policy_yaml

# --- operators ----------------------------------------------------------------------------
OPERATORS = (">", ">=", "<", "<=")
OPERATOR_ALIASES = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
OPERATOR_NAMES = {symbol: name for name, symbol in OPERATOR_ALIASES.items()}
_OPERATOR_TEXT = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}

# Features a policy may name without being told about the frame: the Features contract, the
# detection measures (computed on demand from volume) and a few well-known derived columns;
# parametrised burst levels (level_q99_7d_s3, from earlier calibrations) are accepted too.
DERIVED_FEATURES = (
    "log_volume",
    "log_volume_ratio",
    "log_baseline_volume",
    "recent_volume_ratio",
)
DEFAULT_FEATURES = (
    FEATURE_MEASURES + FEATURE_BASELINES + tuple(DETECTION_MEASURES) + DERIVED_FEATURES
)

_POLICY_KEYS = ("name", "description", "terms", "tiers", "overrides")
_TIER_KEYS = (
    "level",
    "name",
    "owner",
    "all",
    "any",
    "for",
    "persistence",
    "cooldown",
    "refractory",
    "min_volume",
)
_CONDITION_KEYS = ("feature", "op", "value")
_CONDITION_RE = re.compile(
    rf"^\s*(?P<feature>{MEASURE_NAME_PATTERN}|[A-Za-z_][A-Za-z0-9_]*)\s*"
    r"(?:(?P<symbol>>=|<=|>|<)|\s(?P<word>gt|ge|lt|le)\s)\s*(?P<value>\S+)\s*$"
)


def _detail(error: PolicyError) -> str:
    """The message of ``error`` without its ``key: `` prefix."""
    message = str(error)
    if error.key and message.startswith(f"{error.key}: "):
        message = message[len(error.key) + 2 :]
    return message


def _with_prefix(error: PolicyError, prefix: str) -> PolicyError:
    """Return ``error`` re-keyed under ``prefix`` (``all[0]`` -> ``tiers[1].all[0]``)."""
    key = f"{prefix}.{error.key}" if error.key else prefix
    return PolicyError(_detail(error), key=key)


def _suggest(word: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(allowed), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


_SHOWN = 60  # characters of a value or key quoted in an error message


def _shown(value: Any) -> str:
    """``repr(value)``, cut to a readable length (a 10 MB key stays a one-line message)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    text = repr(value) if not isinstance(value, str) or len(value) <= _SHOWN else repr(
        value[:_SHOWN]
    )
    if isinstance(value, str) and len(value) > _SHOWN:
        return f"{text[:-1]}…{text[-1]} ({len(value)} characters)"
    return text if len(text) <= 2 * _SHOWN else text[: 2 * _SHOWN] + "…"


#: A threshold written as text: a plain decimal number only (``2.5``, ``-1``, ``1e6``) — never
#: Python's ``2_5`` (= 25), ``0x10``, ``inf`` or ``nan``.
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _number(value: Any, key: str) -> float:
    """Coerce a threshold to a finite float, or raise PolicyError naming ``key``."""
    number: float | None = None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer of hundreds of digits
            number = math.inf
    elif isinstance(value, str) and PLAIN_NUMBER.fullmatch(value.strip()):
        number = float(value.strip())
    if number is None:
        raise PolicyError(
            f"threshold must be a finite number in plain decimals (e.g. 2.5, 1e6), got "
            f"{_shown(value)}",
            key=key,
        )
    if not math.isfinite(number):
        raise PolicyError(f"threshold must be a finite number, got {_shown(value)}", key=key)
    return number


def _integer(value: Any, key: str, minimum: int, expected: str = "") -> int:
    """Coerce a count of windows to an int >= ``minimum``, or raise PolicyError saying what was
    ``expected`` (default: a whole number of windows >= ``minimum``)."""
    ok = not isinstance(value, bool)
    try:
        number = int(value) if ok else 0
        ok = ok and float(value) == number
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok or number < minimum:
        expected = expected or f"a whole number of windows >= {minimum}"
        raise PolicyError(f"must be {expected}, got {_shown(value)}", key=key)
    return number


def _text(value: Any, key: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise PolicyError(f"must be text, got {type(value).__name__}", key=key)
    return str(value)


def _format_number(value: float) -> str:
    """A short, readable rendering of a threshold (for plans and figures, not for YAML)."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _exact_number(value: float) -> str:
    """The shortest text that reads back as exactly ``value`` (YAML round trip)."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _check_terms(raw: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``{name: [term, ...]}`` -> ((name, (term, ...)), ...); keyed one-line errors."""
    if raw is None or raw == ():
        return ()
    if isinstance(raw, tuple) and all(isinstance(i, tuple) and len(i) == 2 for i in raw):
        raw = dict(raw)
    if not isinstance(raw, Mapping):
        raise PolicyError(
            "must map a list name to its terms, e.g. terms: {safety: [recall, injury]}",
            key="terms",
        )
    out = []
    for name, terms in raw.items():
        key = f"terms.{str(name)[:_SHOWN]}"
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise PolicyError(
                f"a term list is named like safety or legal_risk, got {_shown(name)}", key=key
            )
        if isinstance(terms, str):
            terms = [terms]
        if not isinstance(terms, list | tuple) or not terms:
            raise PolicyError("must be a list of words or phrases, e.g. [recall, injury]", key=key)
        cleaned = []
        for i, term in enumerate(terms):
            if not isinstance(term, str | int | float) or isinstance(term, bool):
                raise PolicyError(f"a term is text, got {type(term).__name__}", key=f"{key}[{i}]")
            text = " ".join(str(term).split())
            if not text or len(text) > 200:
                raise PolicyError("a term is 1 to 200 characters of text", key=f"{key}[{i}]")
            cleaned.append(text)
        out.append((name, tuple(cleaned)))
    return tuple(out)


# --- model ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Condition:
    """``feature op value``, e.g. ``volume_ratio >= 2.5``; ``op`` is one of > >= < <= (or the
    aliases gt ge lt le, stored as the symbol)."""

    feature: str
    op: str
    value: float

    def __post_init__(self) -> None:
        if isinstance(self.feature, str) and looks_like_plan_measure(self.feature):
            name = self.feature.strip()
            if not name.startswith("terms."):  # a segment: written canonically
                try:
                    name = parse_plan_measure(name).name
                except MeasureNameError as error:
                    raise PolicyError(str(error), key="feature") from None
            object.__setattr__(self, "feature", name)
        elif not isinstance(self.feature, str) or not re.fullmatch(
            r"[A-Za-z_][A-Za-z0-9_]*", self.feature
        ):
            raise PolicyError(
                f"feature must be a column name such as 'volume_ratio', got {_shown(self.feature)}",
                key="feature",
            )
        op = self.op.strip().lower() if isinstance(self.op, str) else self.op
        op = OPERATOR_ALIASES.get(op, op)
        if op not in OPERATORS:
            raise PolicyError(
                f"unknown operator {_shown(self.op)}; allowed: > >= < <= (or gt ge lt le)",
                key="op",
            )
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "value", _number(self.value, "value"))

    @classmethod
    def parse(cls, raw: str | Mapping[str, Any] | Condition) -> Condition:
        """Read ``"volume_ratio >= 2.5"`` or ``{feature: ..., op: ..., value: ...}``."""
        if isinstance(raw, Condition):
            return raw
        if isinstance(raw, Mapping):
            unknown = [k for k in raw if k not in _CONDITION_KEYS]
            if unknown:
                raise PolicyError(
                    f"unknown key {_shown(unknown[0])}{_suggest(str(unknown[0]), _CONDITION_KEYS)}"
                    f"; allowed: {', '.join(_CONDITION_KEYS)}",
                    key=str(unknown[0])[:_SHOWN],
                )
            missing = [k for k in _CONDITION_KEYS if k not in raw]
            if missing:
                raise PolicyError(
                    f"condition lacks {', '.join(missing)}; write it as 'volume_ratio >= 2.5' "
                    "or {feature: volume_ratio, op: '>=', value: 2.5}"
                )
            return cls(raw["feature"], raw["op"], raw["value"])
        if isinstance(raw, str):
            match = _CONDITION_RE.match(raw)
            if not match:
                raise PolicyError(
                    f"cannot read condition {_shown(raw)}; write 'feature op value' with op one of "
                    "> >= < <= (e.g. 'volume_ratio >= 2.5')"
                )
            op = match["symbol"] or match["word"]
            return cls(match["feature"], op, _number(match["value"], "value"))
        raise PolicyError(
            f"a condition is text like 'volume_ratio >= 2.5', got {type(raw).__name__}"
        )

    def to_text(self) -> str:
        """Exact, YAML-friendly text: ``volume_ratio >= 2.5``."""
        return f"{self.feature} {self.op} {_exact_number(self.value)}"

    def describe(self) -> str:
        """Readable text for plans and figures: ``volume_ratio ≥ 2.5``."""
        return f"{self.feature} {_OPERATOR_TEXT[self.op]} {_format_number(self.value)}"


#: Deepest nesting of ``all``/``any``/``not`` groups inside a tier's ``all``/``any`` lists.
MAX_CONDITION_DEPTH = 8
_GROUP_KINDS = ("all", "any", "not")


@dataclass(frozen=True)
class ConditionGroup:
    """A nested group of conditions: ``all`` (every item holds), ``any`` (at least one holds)
    or ``not`` (its one item does not hold). Items are :class:`Condition` or groups, e.g.
    ``ConditionGroup("any", (ConditionGroup("all", (a, b)), c))`` = ``(a and b) or c``.
    In YAML a group is a one-key mapping: ``{all: [...]}``, ``{any: [...]}``, ``{not: ...}``."""

    kind: str
    items: tuple[Any, ...]

    def __post_init__(self) -> None:
        if self.kind not in _GROUP_KINDS:
            raise PolicyError(
                f"a group is 'all', 'any' or 'not', got {_shown(self.kind)}", key="kind"
            )
        items = self.items
        if isinstance(items, Condition | ConditionGroup | str | Mapping):
            items = (items,)
        items = tuple(items)
        if self.kind == "not" and len(items) != 1:
            raise PolicyError(
                f"'not' takes one condition or one group (e.g. not: {{any: [...]}}), got "
                f"{len(items)}", key="not"
            )
        if not items:
            raise PolicyError(f"'{self.kind}' needs at least one condition", key=self.kind)
        for i, item in enumerate(items):
            if not isinstance(item, Condition | ConditionGroup):
                raise PolicyError(
                    f"items must be Condition or ConditionGroup, got {type(item).__name__}",
                    key=f"{self.kind}[{i}]",
                )
        object.__setattr__(self, "items", items)

    @property
    def depth(self) -> int:
        """Groups nested in this one, itself included (``{all: [a]}`` = 1)."""
        return 1 + max((i.depth for i in self.items if isinstance(i, ConditionGroup)), default=0)

    def to_data(self) -> dict[str, Any]:
        """The YAML form: ``{kind: [items]}`` (``{not: item}``)."""
        if self.kind == "not":
            return {"not": _node_data(self.items[0])}
        return {self.kind: [_node_data(i) for i in self.items]}

    def describe(self, *, exact: bool = False) -> str:
        """``(a ≥ 5 and b ≥ 0.6)``, ``not (a ≥ 1)`` (exact text with ``exact=True``)."""
        if self.kind == "not":
            return f"not ({_describe(self.items[0], exact)})"
        joined = f" {'and' if self.kind == 'all' else 'or'} ".join(
            _describe(i, exact, parent=self.kind) for i in self.items
        )
        return joined


def _node_data(node: Any) -> Any:
    return node.to_text() if isinstance(node, Condition) else node.to_data()


def _describe(node: Any, exact: bool = False, parent: str | None = None) -> str:
    """A node as text; a group inside another group is parenthesised unless it is a one-item
    group or a ``not``."""
    if isinstance(node, Condition):
        return node.to_text() if exact else node.describe()
    text = node.describe(exact=exact)
    if parent is not None and node.kind != "not" and len(node.items) > 1:
        return f"({text})"
    return text


def _node(raw: Any, key: str, depth: int) -> Condition | ConditionGroup:
    """One item of an ``all``/``any`` list: a condition (text or mapping) or a nested group."""
    if isinstance(raw, ConditionGroup):
        if depth + raw.depth > MAX_CONDITION_DEPTH:
            raise PolicyError(
                f"conditions nest deeper than {MAX_CONDITION_DEPTH} groups "
                "(all/any/not inside each other); write the plan flatter", key=key
            )
        return raw
    if isinstance(raw, Mapping) and len(raw) == 1 and next(iter(raw)) in _GROUP_KINDS:
        kind, value = next(iter(raw.items()))
        where = f"{key}.{kind}"
        if depth + 1 > MAX_CONDITION_DEPTH:
            raise PolicyError(
                f"conditions nest deeper than {MAX_CONDITION_DEPTH} groups "
                "(all/any/not inside each other); write the plan flatter", key=where
            )
        if kind == "not":
            if isinstance(value, list | tuple):
                raise PolicyError(
                    "'not' takes one condition or one group, not a list: write "
                    "not: {any: [...]} (none holds) or not: {all: [...]} (not all hold)",
                    key=where,
                )
            return ConditionGroup("not", (_node(value, where, depth + 1),))
        items = _conditions(value, where, depth + 1)
        if not items:
            raise PolicyError(f"'{kind}' needs at least one condition", key=where)
        return ConditionGroup(kind, items)
    if isinstance(raw, Mapping) and not any(k in raw for k in _CONDITION_KEYS):
        shown = ", ".join(_shown(k) for k in list(raw)[:3])
        raise PolicyError(
            f"a nested group is a mapping with one key, all, any or not (e.g. {{any: "
            f"['volume_ratio >= 5', 'influencer_mentions >= 3']}}); got keys {shown}",
            key=key,
        )
    try:
        return Condition.parse(raw)
    except PolicyError as error:
        raise _with_prefix(error, key) from None


def _conditions(raw: Any, key: str, depth: int = 0) -> tuple[Condition | ConditionGroup, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str | Mapping | Condition | ConditionGroup):
        raw = [raw]
    if not isinstance(raw, Iterable):
        raise PolicyError("must be a list of conditions like 'volume_ratio >= 2.5'", key=key)
    return tuple(_node(item, f"{key}[{i}]", depth) for i, item in enumerate(raw))


def _leaves(
    nodes: Iterable[Any], prefix: str, polarity: int = 1
) -> list[tuple[str, Condition, int]]:
    """(path, condition, polarity) of every condition under ``nodes`` (the items of group
    ``prefix``), depth first; paths read ``any[0].all[1]`` (``all[0].not`` for the item of a
    not); polarity -1 under an odd number of ``not``."""
    out: list[tuple[str, Condition, int]] = []
    for i, node in enumerate(nodes):
        out.extend(_walk(node, f"{prefix}[{i}]", polarity))
    return out


def _walk(node: Any, path: str, polarity: int) -> list[tuple[str, Condition, int]]:
    if isinstance(node, Condition):
        return [(path, node, polarity)]
    if node.kind == "not":
        return _walk(node.items[0], f"{path}.not", -polarity)
    return _leaves(node.items, f"{path}.{node.kind}", polarity)


def _replace_leaf(nodes: tuple[Any, ...], index: int, value: Any) -> tuple[tuple[Any, ...], int]:
    """``nodes`` with the ``index``-th condition (depth first) given threshold ``value``;
    returns (new nodes, conditions left to skip: -1 once replaced)."""
    out = []
    for node in nodes:
        if index < 0:
            out.append(node)
        elif isinstance(node, Condition):
            out.append(replace(node, value=value) if index == 0 else node)
            index -= 1
        else:
            items, index = _replace_leaf(node.items, index, value)
            out.append(ConditionGroup(node.kind, items))
    return tuple(out), index


@dataclass(frozen=True)
class Tier:
    """One escalation tier: who gets involved (``owner``) when ``all`` of its conditions and
    at least one of ``any`` hold for ``persistence`` consecutive windows (YAML key ``for``).
    Items of ``all``/``any`` are conditions or nested :class:`ConditionGroup` (``{any:
    [...]}``, ``{all: [...]}``, ``{not: ...}``), to :data:`MAX_CONDITION_DEPTH` levels."""

    level: int
    name: str
    owner: str
    all: tuple[Condition | ConditionGroup, ...] = ()
    any: tuple[Condition | ConditionGroup, ...] = ()
    persistence: int = 1
    cooldown: int = 0
    min_volume: float | None = None
    refractory: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", _integer(
            self.level, "level", 1, "a tier number: a whole number >= 1 (1, 2, 3..., higher = "
            "more severe)"
        ))
        object.__setattr__(self, "name", _text(self.name, "name"))
        object.__setattr__(self, "owner", _text(self.owner, "owner"))
        object.__setattr__(self, "all", _conditions(self.all, "all"))
        object.__setattr__(self, "any", _conditions(self.any, "any"))
        if not self.all and not self.any:
            raise PolicyError(
                "a tier needs at least one condition under 'all' (every one must hold) or "
                "'any' (at least one must hold), e.g. all: ['volume_ratio >= 2.5']",
                key="all",
            )
        object.__setattr__(self, "persistence", _integer(self.persistence, "for", 1))
        object.__setattr__(self, "cooldown", _integer(self.cooldown, "cooldown", 0))
        object.__setattr__(self, "refractory", _integer(self.refractory, "refractory", 0))
        if self.min_volume is not None:
            volume = _number(self.min_volume, "min_volume")
            if volume < 0:
                raise PolicyError(f"must be >= 0 (or absent), got {volume}", key="min_volume")
            object.__setattr__(self, "min_volume", volume)

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """Every condition of the tier, ``all`` first then ``any`` (nested groups depth first:
        the leaves, in the order of :meth:`condition_paths`)."""
        return tuple(c for _, c, _ in self.condition_paths())

    @property
    def nested(self) -> bool:
        """True when ``all`` or ``any`` holds a nested group."""
        return any(isinstance(n, ConditionGroup) for n in self.all + self.any)

    def condition_paths(self) -> list[tuple[str, Condition, int]]:
        """``(path, condition, polarity)`` of every condition, depth first: path ``all[0]``,
        ``any[0].all[1]``, ``all[1].not``; polarity -1 under an odd number of ``not`` (there,
        a stricter threshold makes the tier hold *more* often)."""
        return _leaves(self.all, "all") + _leaves(self.any, "any")

    @property
    def root(self) -> ConditionGroup:
        """The tier's whole condition as one group: ``all`` of its ``all`` items and (when
        given) of ``any: [its any items]`` — without ``min_volume``."""
        items = list(self.all)
        if self.any:
            items.append(self.any[0] if len(self.any) == 1 else ConditionGroup("any", self.any))
        return ConditionGroup("all", tuple(items))

    @property
    def title(self) -> str:
        """``Tier 2 · Escalate``."""
        return f"Tier {self.level}" + (f" · {self.name}" if self.name else "")

    def describe_conditions(self) -> str:
        """``volume_ratio ≥ 2.5 and (negative_share > 0.4 or reach ≥ 1e+06)``."""
        parts = [_describe(c, parent="all") for c in self.all]
        if self.any:
            alternatives = " or ".join(_describe(c, parent="any") for c in self.any)
            grouped = len(self.any) > 1 and (parts or self.min_volume is not None)
            parts.append(f"({alternatives})" if grouped else alternatives)
        if self.min_volume is not None:
            parts.append(f"volume ≥ {_format_number(self.min_volume)}")
        return " and ".join(parts)

    def outline(self) -> list[tuple[int, str]]:
        """The tier's conditions as an indented outline, ``(depth, text)`` per line: ``all
        of:`` / ``any of:`` / ``none of:`` headings over their items (a written plan's nested
        bullet list; figures draw it line by line)."""
        lines: list[tuple[int, str]] = []

        def add(node: Any, depth: int) -> None:
            if isinstance(node, Condition):
                lines.append((depth, node.describe()))
            elif node.kind == "not":
                inner = node.items[0]
                if isinstance(inner, Condition):
                    lines.append((depth, f"not {inner.describe()}"))
                else:
                    heading = "none of:" if inner.kind == "any" else "not all of:"
                    lines.append((depth, heading))
                    for item in inner.items:
                        add(item, depth + 1)
            else:
                lines.append((depth, "all of:" if node.kind == "all" else "any of:"))
                for item in node.items:
                    add(item, depth + 1)

        root = self.root
        items = list(root.items)
        if self.min_volume is not None:
            items.append(Condition("volume", ">=", self.min_volume))
        if len(items) == 1 and isinstance(items[0], ConditionGroup):
            add(items[0], 0)
        else:
            add(ConditionGroup("all", tuple(items)), 0)
        return lines

    @classmethod
    def from_dict(cls, raw: Any) -> Tier:
        """Build a tier from its YAML mapping (``for`` = persistence)."""
        if not isinstance(raw, Mapping):
            raise PolicyError(
                f"a tier is a mapping with keys {', '.join(_TIER_KEYS)}; got {type(raw).__name__}"
            )
        for key in raw:
            if key not in _TIER_KEYS:
                raise PolicyError(
                    f"unknown key {_shown(key)}{_suggest(str(key), _TIER_KEYS)}; allowed: "
                    f"{', '.join(k for k in _TIER_KEYS if k != 'persistence')}",
                    key=str(key)[:_SHOWN],
                )
        if "for" in raw and "persistence" in raw:
            raise PolicyError("give either 'for' or 'persistence', not both", key="persistence")
        if "level" not in raw:
            raise PolicyError(
                "every tier needs a level: 1, 2, 3... (higher = more severe)", key="level"
            )
        return cls(
            level=raw["level"],
            name=raw.get("name", ""),
            owner=raw.get("owner", ""),
            all=raw.get("all", ()),
            any=raw.get("any", ()),
            persistence=raw.get("for", raw.get("persistence", 1)),
            cooldown=raw.get("cooldown", 0),
            min_volume=raw.get("min_volume"),
            refractory=raw.get("refractory", 0),
        )

    def to_dict(self) -> dict[str, Any]:
        """The YAML mapping of this tier (defaults left out, conditions as text)."""
        out: dict[str, Any] = {"level": self.level, "name": self.name, "owner": self.owner}
        if self.all:
            out["all"] = [_node_data(c) for c in self.all]
        if self.any:
            out["any"] = [_node_data(c) for c in self.any]
        out["for"] = self.persistence
        out["cooldown"] = self.cooldown
        if self.refractory:
            out["refractory"] = self.refractory
        if self.min_volume is not None:
            out["min_volume"] = self.min_volume
        return out


@dataclass(frozen=True)
class Policy:
    """An escalation policy: tiers 1..N (higher = more severe); the highest tier whose
    conditions hold wins. Validated on construction; round-trips through YAML losslessly."""

    tiers: tuple[Tier, ...]
    name: str = ""
    description: str = ""
    overrides: Any = ()
    terms: Any = ()
    _params: dict[str, tuple[int, str, int | None]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _text(self.name, "name"))
        object.__setattr__(self, "description", _text(self.description, "description"))
        if isinstance(self.tiers, Tier | Mapping) or not isinstance(self.tiers, Iterable):
            raise PolicyError("must be a list of tiers", key="tiers")
        tiers = []
        for i, tier in enumerate(self.tiers):
            try:
                tiers.append(tier if isinstance(tier, Tier) else Tier.from_dict(tier))
            except PolicyError as error:
                raise _with_prefix(error, f"tiers[{i}]") from None
        if not tiers:
            raise PolicyError("a policy needs at least one tier", key="tiers")
        seen: dict[int, int] = {}
        for i, tier in enumerate(tiers):
            if tier.level in seen:
                raise PolicyError(
                    f"duplicate level {tier.level} (also tiers[{seen[tier.level]}]); "
                    "each tier needs its own level 1..N",
                    key=f"tiers[{i}].level",
                )
            seen[tier.level] = i
        levels = sorted(seen)
        if levels != list(range(1, len(levels) + 1)):
            missing = sorted(set(range(1, max(levels) + 1)) - set(levels))
            raise PolicyError(
                f"levels must be consecutive from 1 (1..{len(levels)}); got {levels}, "
                f"missing {missing}",
                key=f"tiers[{seen[levels[-1]]}].level",
            )
        object.__setattr__(self, "tiers", tuple(sorted(tiers, key=lambda t: t.level)))
        object.__setattr__(self, "_params", _param_index(self.tiers))
        object.__setattr__(self, "overrides", self._check_overrides(self.overrides))
        object.__setattr__(self, "terms", _check_terms(self.terms))
        lists = tuple(name for name, _ in self.terms)
        for tier in self.tiers:
            for path, condition, _ in tier.condition_paths():
                if condition.feature.startswith("terms."):
                    try:
                        parse_plan_measure(condition.feature, lists)
                    except MeasureNameError as error:
                        raise PolicyError(
                            str(error), key=f"tiers[{tier.level - 1}].{path}"
                        ) from None

    @property
    def term_lists(self) -> dict[str, tuple[str, ...]]:
        """``{list name: terms}`` declared under ``terms:``."""
        return dict(self.terms)

    @property
    def plan_measures(self) -> tuple[PlanMeasure, ...]:
        """The keyword and segment measures the conditions read (computed from mentions by
        ``build_features(..., measures=policy)`` or ``aggregate_files``), in order of use."""
        lists = tuple(name for name, _ in self.terms)
        return tuple(
            parse_plan_measure(name, lists)
            for name in self.features_used if looks_like_plan_measure(name)
        )

    def _check_overrides(self, raw: Any) -> tuple[tuple[str, tuple[tuple[str, float], ...]], ...]:
        """``{topic: {threshold: value}}`` -> a tuple of (topic, ((flat name, value), ...)),
        in the order given; thresholds by flat name, path or ``tier2.volume_ratio``."""
        if raw is None or raw == ():
            return ()
        if isinstance(raw, tuple) and all(
            isinstance(item, tuple) and len(item) == 2 for item in raw
        ):
            raw = {topic: dict(values) for topic, values in raw}
        if not isinstance(raw, Mapping):
            raise PolicyError(
                "must map a topic to its thresholds, e.g. overrides: {Brewhaus: "
                "{tier2.volume_ratio: 8}}", key="overrides"
            )
        out = []
        for topic, values in raw.items():
            where = f"overrides.{_shown(topic) if not isinstance(topic, str) else topic[:_SHOWN]}"
            if not isinstance(topic, str | int) or isinstance(topic, bool) or str(topic) == "":
                raise PolicyError("a topic must be a name", key=where)
            if not isinstance(values, Mapping) or not values:
                raise PolicyError(
                    "must map thresholds to values, e.g. {tier2.volume_ratio: 8}", key=where
                )
            items = []
            for key, value in values.items():
                name = self.param_name(str(key))
                spec = self._params.get(name)
                if spec is None or spec[1] not in ("condition", "min_volume"):
                    thresholds = [
                        n.replace("__", ".", 1) for n, (_, a, _) in self._params.items()
                        if a in ("condition", "min_volume")
                    ]
                    raise PolicyError(
                        f"unknown threshold {_shown(key)}"
                        f"{_suggest(str(key), thresholds)}; overrides set thresholds: "
                        f"{', '.join(thresholds)}",
                        key=f"{where}.{str(key)[:_SHOWN]}",
                    )
                number = _number(value, f"{where}.{key}")
                if spec[1] == "min_volume" and number < 0:
                    raise PolicyError(f"must be >= 0, got {number}", key=f"{where}.{key}")
                items.append((name, number))
            out.append((str(topic), tuple(items)))
        return tuple(out)

    @property
    def topic_overrides(self) -> dict[str, dict[str, float]]:
        """``{topic: {flat threshold name: value}}`` of the plan's ``overrides``."""
        return {topic: dict(values) for topic, values in self.overrides}

    def for_topic(self, topic: str) -> Policy:
        """The plan as it applies to ``topic``: its overrides written into the thresholds,
        no overrides left (the shared plan when the topic has none)."""
        values = self.topic_overrides.get(str(topic), {})
        return replace(self, overrides=()).set_params(**values)

    # --- dict / YAML ----------------------------------------------------------------------
    @classmethod
    def from_dict(cls, raw: Any, *, known_features: Collection[str] | None = None) -> Policy:
        """Build and validate a policy from a mapping (as read from YAML); feature names are
        checked against :data:`DEFAULT_FEATURES` plus ``known_features``."""
        if not isinstance(raw, Mapping):
            raise PolicyError(
                f"a policy is a mapping with keys {', '.join(_POLICY_KEYS)}; "
                f"got {type(raw).__name__}"
            )
        for key in raw:
            if key not in _POLICY_KEYS:
                raise PolicyError(
                    f"unknown key {_shown(key)}{_suggest(str(key), _POLICY_KEYS)}; allowed: "
                    f"{', '.join(_POLICY_KEYS)}",
                    key=str(key)[:_SHOWN],
                )
        if "tiers" not in raw:
            raise PolicyError("a policy needs a list of tiers", key="tiers")
        policy = cls(
            tiers=raw["tiers"], name=raw.get("name", ""), description=raw.get("description", ""),
            overrides=raw.get("overrides") or (),
            terms=raw.get("terms") or (),
        )
        policy.validate(known_features, positions=_positions(raw["tiers"]))
        return policy

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping (YAML-ready) that :meth:`from_dict` reads back into an equal policy."""
        out: dict[str, Any] = {"name": self.name, "description": self.description}
        if self.terms:
            out["terms"] = {name: list(terms) for name, terms in self.terms}
        out["tiers"] = [tier.to_dict() for tier in self.tiers]
        if self.overrides:
            out["overrides"] = {
                topic: {
                    name.replace("__", ".", 1): int(value) if value.is_integer() else value
                    for name, value in values
                }
                for topic, values in self.overrides
            }
        return out

    @classmethod
    def from_yaml(
        cls, source: str | os.PathLike[str], *, known_features: Collection[str] | None = None
    ) -> Policy:
        """Read a policy from YAML text or a path (safe loader; errors name the key/line).

        A one-line string naming an existing file is that file; one that looks like a file
        name (``policy.txt``, ``plans/p.yaml``) and does not exist is an error saying so, never
        parsed as YAML. Files must be UTF-8; YAML tags (``!!set``, ``!!python/...``) are
        refused, numbers are plain decimals (``2_5``, ``0x10``, ``1:30`` are text) and nesting is
        bounded."""
        where = "policy"
        if isinstance(source, os.PathLike):
            path: Path | None = Path(source)
        elif isinstance(source, str):
            path = _named_file(source)
        else:
            raise PolicyError(
                f"expected YAML text or a path, got {type(source).__name__}"
            )
        if path is not None:
            if not path.is_file():
                raise PolicyError(f"policy {not_found(path)}: {str(path)[:300]}")
            text = _read_policy_text(path)
            where = str(path)
        else:
            text = source
        try:
            raw = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
        except yaml.YAMLError as error:
            raise PolicyError(f"{where}: {_yaml_problem(error, text)}") from None
        if raw is None:
            raise PolicyError(f"{where}: empty policy; expected a mapping with a 'tiers' list")
        try:
            return cls.from_dict(raw, known_features=known_features)
        except PolicyError as error:
            if where == "policy":  # YAML text, not a file
                raise
            named = PolicyError(f"{where}: {error}")  # say which file; the key stays
            named.key = error.key
            raise named from None

    def to_yaml(self) -> str:
        """YAML text of the policy (``for`` = persistence), readable and lossless."""
        return yaml.dump(
            self.to_dict(),
            Dumper=_PolicyDumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
        )

    # --- validation -----------------------------------------------------------------------
    def validate(
        self,
        known_features: Collection[str] | None = None,
        *,
        positions: Mapping[int, int] | None = None,
    ) -> Policy:
        """Check that every feature is known (:data:`DEFAULT_FEATURES` plus ``known_features``,
        e.g. the numeric columns of your features frame); return self or raise PolicyError."""
        allowed = list(dict.fromkeys([*DEFAULT_FEATURES, *(known_features or ())]))
        for tier in self.tiers:
            index = (positions or {}).get(tier.level, tier.level - 1)
            for path, condition, _ in tier.condition_paths():
                known = condition.feature in allowed or looks_like_plan_measure(condition.feature)
                if not known and BURST_LEVEL_NAME.match(condition.feature) is None:
                    raise PolicyError(
                        f"unknown feature {condition.feature!r}"
                        f"{_suggest(condition.feature, allowed)}; allowed: "
                        f"{', '.join(allowed)} (pass known_features= for other columns)",
                        key=f"tiers[{index}].{path}",
                    )
        return self

    # --- queries ----------------------------------------------------------------------------
    @property
    def levels(self) -> tuple[int, ...]:
        return tuple(t.level for t in self.tiers)

    @property
    def features_used(self) -> tuple[str, ...]:
        """Feature columns the policy reads, in order of first use (``volume`` when a tier has
        a ``min_volume``)."""
        names: list[str] = []
        for tier in self.tiers:
            names.extend(c.feature for c in tier.conditions)
            if tier.min_volume is not None:
                names.append("volume")
        return tuple(dict.fromkeys(names))

    def tier(self, level: int) -> Tier:
        """The tier with this level."""
        for tier in self.tiers:
            if tier.level == level:
                return tier
        raise PolicyError(f"no tier {level}; levels are {list(self.levels)}", key="level")

    # --- flat parameters ------------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Thresholds, persistence, cooldown and min_volume as flat names:
        ``tier2__volume_ratio``, ``tier2__persistence``... (``tier2__volume_ratio__ge`` when a
        feature appears more than once in a tier). ``deep`` is accepted for scikit-learn."""
        out: dict[str, Any] = {}
        for name, (level, attr, index) in self._params.items():
            tier = self.tiers[level - 1]
            out[name] = tier.conditions[index].value if attr == "condition" else getattr(tier, attr)
        return out

    def param_paths(self) -> dict[str, str]:
        """Flat threshold name -> its stable path in the plan: ``tier2__volume_ratio`` ->
        ``tier2.all[0].volume_ratio``, ``tier2__any[0].all[1].volume_ratio`` ->
        ``tier2.any[0].all[1].volume_ratio``. Both spellings (and ``tier2.volume_ratio``)
        are accepted by :meth:`set_params` and in ``overrides``."""
        out = {}
        for name, (level, attr, index) in self._params.items():
            if attr == "condition":
                path, cond, _ = self.tiers[level - 1].condition_paths()[index]
                out[name] = f"tier{level}.{path}.{cond.feature}"
        return out

    def param_polarity(self, name: str) -> int:
        """+1 when a stricter value of threshold ``name`` can only make its tier hold less
        often, -1 when it sits under an odd number of ``not`` (then it can only make it hold
        more often)."""
        level, attr, index = self._params[self.param_name(name)]
        if attr != "condition":
            return 1
        return self.tiers[level - 1].condition_paths()[index][2]

    def param_name(self, name: str) -> str:
        """The flat name (``tier2__volume_ratio``) of a parameter given by flat name, by path
        (``tier2.any[0].all[1].volume_ratio``) or dotted (``tier2.volume_ratio``); unknown
        names are returned unchanged."""
        if not isinstance(name, str) or name in self._params:
            return name
        for flat, path in self.param_paths().items():
            if path == name:
                return flat
        match = re.fullmatch(r"(tier\d+)\.(.+)", name)
        if match and f"{match[1]}__{match[2]}" in self._params:
            return f"{match[1]}__{match[2]}"
        return name

    def __sklearn_clone__(self) -> Policy:
        """A policy is immutable: scikit-learn's ``clone`` may share it (an estimator holding a
        policy as a parameter is then clonable)."""
        return self

    def set_params(self, **params: Any) -> Policy:
        """Return a new policy with the named flat parameters changed (see :meth:`get_params`)."""
        tiers = list(self.tiers)
        for name, value in params.items():
            name = self.param_name(name)
            if name not in self._params:
                raise PolicyError(
                    f"unknown parameter{_suggest(name, self._params)}; allowed: "
                    f"{', '.join(self._params)}",
                    key=name,
                )
            level, attr, index = self._params[name]
            tier = tiers[level - 1]
            try:
                if attr == "condition":
                    assert index is not None
                    n_all = len(_leaves(tier.all, "all"))
                    group, j = ("all", index) if index < n_all else ("any", index - n_all)
                    nodes, _ = _replace_leaf(getattr(tier, group), j, value)
                    tier = replace(tier, **{group: nodes})
                else:
                    tier = replace(tier, **{attr: value})
            except PolicyError as error:
                raise PolicyError(_detail(error), key=name) from None
            tiers[level - 1] = tier
        return replace(self, tiers=tuple(tiers))


#: Deepest nesting of a policy document (a policy is 4 levels: tiers, tier, all, condition).
MAX_POLICY_DEPTH = 32
#: Longest integer a policy reads (digits); longer is an error, not a 400-digit threshold.
_MAX_DIGITS = 30


class _UniqueKeyLoader(yaml.SafeLoader):
    """The safe loader, refusing a key given twice in one mapping (plain YAML keeps the last
    silently: a tier with ``for: 2`` then ``for: 3`` would lose the first without a word),
    every explicit tag (``!!set`` would make the conditions a set, saved back in hash order;
    ``!!binary``, ``!!python/...``: a policy never needs one) and nesting deeper than
    MAX_POLICY_DEPTH (PyYAML's composer recurses); numbers are plain decimals only."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        depth = getattr(self, "_esc_depth", 0)
        event = self.peek_event()
        if depth > MAX_POLICY_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested deeper than {MAX_POLICY_DEPTH} levels", event.start_mark
            )
        tag = getattr(event, "tag", None)
        if tag not in (None, "!") and not isinstance(event, yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, "YAML tags are not allowed in a policy (found "
                f"{tag.replace('tag:yaml.org,2002:', '!!')[:40]!r}); "
                "write conditions as a list, e.g. all: ['volume_ratio >= 2.5']",
                event.start_mark,
            )
        self._esc_depth = depth + 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._esc_depth = depth


# plain decimal numbers only: YAML 1.1's 2_5 (= 25), 0x10, 0o7, 010 (octal) and 1:30 (= 90)
# stay text, so that the threshold check refuses them instead of reading another number
_UniqueKeyLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789")
)
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _plain_int(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    digits = len(text.lstrip("+-"))
    if digits > _MAX_DIGITS:
        raise yaml.constructor.ConstructorError(
            None, None, f"an integer of {digits} digits is not a policy value", node.start_mark
        )
    return int(text)


def _plain_float(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node)
    if text.lower().lstrip("+-") == ".inf":
        return -math.inf if text.startswith("-") else math.inf
    if text.lower() == ".nan":
        return math.nan
    return float(text)


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _plain_int)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:float", _plain_float)


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    first_line: dict[Any, int] = {}
    for key_node, _ in node.value:
        # A merge key (<<: *anchor) brings keys the mapping may override (YAML allows it);
        # only keys written twice in the mapping itself are refused.
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            seen = first_line.get(key)
        except TypeError:  # an unhashable key: the base constructor reports it
            break
        if seen is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first given at line {seen})",
                key_node.start_mark,
            )
        first_line[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


class _PolicyDumper(yaml.SafeDumper):
    """SafeDumper that double-quotes strings holding Unicode line breaks (NEL, LS, PS), which
    PyYAML would otherwise write raw and read back as line breaks."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = '"' if any(ch in text for ch in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_PolicyDumper.add_representer(str, _represent_text)
# quote exactly the strings the policy loader would read as numbers (its plain-decimal rules)
_PolicyDumper.yaml_implicit_resolvers = _UniqueKeyLoader.yaml_implicit_resolvers


def _looks_like_path(text: str) -> bool:
    """A one-line string that names a file rather than holding YAML: no ``key: value``, and a
    file extension (``policy.txt``) or a folder separator."""
    stripped = text.strip()
    if not stripped or "\n" in stripped or ": " in stripped or stripped.endswith(":"):
        return False
    if stripped.endswith((".yaml", ".yml")):
        return True
    if stripped[0] in "[{'\"" or any(ch in stripped for ch in "<>=#,"):
        return False
    return bool(re.search(r"\.[A-Za-z][A-Za-z0-9]{0,7}$", stripped)) or "/" in stripped or (
        os.sep in stripped
    )


def _named_file(text: str) -> Path | None:
    """The file a one-line ``text`` names (existing, or looking like a file name), else None."""
    stripped = text.strip()
    if not stripped or "\n" in stripped or len(stripped) > 4096 or "\x00" in stripped:
        return None
    try:
        if Path(stripped).is_file():
            return Path(stripped)
    except (OSError, ValueError):  # a name the file system cannot hold
        return None
    return Path(stripped) if _looks_like_path(stripped) else None


def _read_policy_text(path: Path) -> str:
    """A policy file's text: UTF-8 (a BOM is fine); anything else is a PolicyError saying so."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff") or data[:2] in (
        b"\xff\xfe", b"\xfe\xff"
    ):
        raise PolicyError(
            f"{path}: is UTF-16/UTF-32 text; a policy file must be UTF-8 (save it as UTF-8)"
        )
    if b"\x00" in data[:4096]:
        raise PolicyError(
            f"{path}: is not a text file (binary data, NUL bytes); expected a policy in YAML"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PolicyError(
            f"{path}: is not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line}); a policy "
            "file must be UTF-8 — re-save it as UTF-8 (it may be latin-1 / cp1252)"
        ) from None


def _yaml_problem(error: yaml.YAMLError, text: str) -> str:
    """One line saying what is wrong with the YAML and where."""
    mark = getattr(error, "problem_mark", None)
    problem = str(getattr(error, "problem", None) or error).splitlines()[0]
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    if mark is not None and problem in (
        "could not find expected ':'", "mapping values are not allowed here"
    ):
        # PyYAML reads a key of at most 1024 characters; a longer one is one of these errors
        start = text.rfind("\n", 0, max(mark.index, 0)) + 1
        key, colon, _ = text[start : start + 20_000_000].partition(":")
        key = key.strip().strip("'\"")
        if colon and len(key) > 1024:
            return (
                f"unknown key {_shown(key)} at line {mark.line + 1}; allowed: "
                f"{', '.join(_POLICY_KEYS)} (tiers: {', '.join(_TIER_KEYS)})"
            )
    return f"invalid YAML{where}: {problem[:200]}"


def _positions(raw_tiers: Any) -> dict[int, int]:
    """Level -> position in the YAML list, so that errors point at the user's own index."""
    out: dict[int, int] = {}
    for i, tier in enumerate(raw_tiers):
        level = tier.get("level") if isinstance(tier, Mapping) else getattr(tier, "level", None)
        if isinstance(level, int):
            out[level] = i
    return out


def _param_index(tiers: tuple[Tier, ...]) -> dict[str, tuple[int, str, int | None]]:
    """Flat parameter name -> (level, attribute or 'condition', condition index).

    Conditions directly in a tier's ``all``/``any`` lists are named by feature
    (``tier2__volume_ratio``; ``__ge``, ``__any`` and a count are added only to tell apart
    repeats), as flat plans always were; conditions inside nested groups by their path
    (``tier2__any[0].all[1].volume_ratio``), which is unique and stable."""
    out: dict[str, tuple[int, str, int | None]] = {}
    for tier in tiers:
        prefix = f"tier{tier.level}__"
        leaves = tier.condition_paths()
        top = [(i, p, c) for i, (p, c, _) in enumerate(leaves) if "." not in p]
        groups = [p.split("[", 1)[0] for _, p, _ in top]
        features = [c.feature for _, _, c in top]
        ops = [(c.feature, c.op) for _, _, c in top]
        sides = [(c.feature, c.op, g) for (_, _, c), g in zip(top, groups, strict=True)]
        names: dict[int, str] = {}
        for k, (i, _, condition) in enumerate(top):
            name = prefix + condition.feature
            if features.count(condition.feature) > 1:
                name += f"__{OPERATOR_NAMES[condition.op]}"
                if ops.count((condition.feature, condition.op)) > 1:
                    name += f"__{groups[k]}"
                    if sides.count(sides[k]) > 1:
                        name += str(sides[:k].count(sides[k]))
            names[i] = name
        for i, (path, condition, _) in enumerate(leaves):
            out[names.get(i, f"{prefix}{path}.{condition.feature}")] = (tier.level, "condition", i)
        for attr in ("persistence", "cooldown", "refractory", "min_volume"):
            out[prefix + attr] = (tier.level, attr, None)
    return out


# --- files ----------------------------------------------------------------------------------
def load_policy(
    path: str | os.PathLike[str], *, known_features: Collection[str] | None = None
) -> Policy:
    """Read and validate a policy YAML file."""
    path = Path(path)
    if not path.is_file():
        raise PolicyError(f"policy {not_found(path)}: {path}")
    return Policy.from_yaml(path, known_features=known_features)


def save_policy(
    policy: Policy,
    path: str | os.PathLike[str],
    *,
    like: str | os.PathLike[str] | None = None,
) -> Path:
    """Write ``policy`` as YAML atomically (temporary file in the same folder, then rename),
    so that a crash never leaves a half-written policy.

    ``like``: the plan file ``policy`` was calibrated from (same tiers and conditions, e.g. the
    result of :func:`~esc_analytics.calibrate_policy`). The file is written as an edit of that
    plan: its comments, key order, quoting and layout stay, only the values that changed are
    rewritten; a PolicyError when the plan's tiers or conditions are not the policy's."""
    if not isinstance(policy, Policy):
        raise PolicyError(f"save_policy needs a Policy, got {type(policy).__name__}")
    if like is None:
        return atomic_write_text(path, policy.to_yaml())
    source = Path(like)
    if not source.is_file():
        raise PolicyError(f"plan file not found: {source}")

    def same_condition(written: Any, text: str) -> bool:
        try:
            return Condition.parse(written) == Condition.parse(text)
        except PolicyError:
            return False

    try:
        text = edit_policy_yaml(
            source.read_text(encoding="utf-8"), policy.to_dict(), same_condition
        )
    except PlanFileMismatch as error:
        raise PolicyError(f"{source}: cannot write this policy as an edit of it: {error}") from None
    if Policy.from_yaml(text, known_features=policy.features_used) != policy:  # reads back as it
        raise PolicyError(f"{source}: cannot write this policy as an edit of it: they differ")
    return atomic_write_text(path, text)





