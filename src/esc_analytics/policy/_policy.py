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

_POLICY_KEYS = ("name", "description", "tiers")
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
    r"^\s*(?P<feature>[A-Za-z_][A-Za-z0-9_]*)\s*"
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


# --- model ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Condition:
    """``feature op value``, e.g. ``volume_ratio >= 2.5``; ``op`` is one of > >= < <= (or the
    aliases gt ge lt le, stored as the symbol)."""

    feature: str
    op: str
    value: float

    def __post_init__(self) -> None:
        if not isinstance(self.feature, str) or not re.fullmatch(
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


def _conditions(raw: Any, key: str) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str | Mapping | Condition):
        raw = [raw]
    if not isinstance(raw, Iterable):
        raise PolicyError("must be a list of conditions like 'volume_ratio >= 2.5'", key=key)
    out = []
    for i, item in enumerate(raw):
        try:
            out.append(Condition.parse(item))
        except PolicyError as error:
            raise _with_prefix(error, f"{key}[{i}]") from None
    return tuple(out)


@dataclass(frozen=True)
class Tier:
    """One escalation tier: who gets involved (``owner``) when ``all`` of its conditions and
    at least one of ``any`` hold for ``persistence`` consecutive windows (YAML key ``for``)."""

    level: int
    name: str
    owner: str
    all: tuple[Condition, ...] = ()
    any: tuple[Condition, ...] = ()
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
        """Every condition of the tier, ``all`` first then ``any``."""
        return self.all + self.any

    @property
    def title(self) -> str:
        """``Tier 2 · Escalate``."""
        return f"Tier {self.level}" + (f" · {self.name}" if self.name else "")

    def describe_conditions(self) -> str:
        """``volume_ratio ≥ 2.5 and (negative_share > 0.4 or reach ≥ 1e+06)``."""
        parts = [c.describe() for c in self.all]
        if self.any:
            alternatives = " or ".join(c.describe() for c in self.any)
            grouped = len(self.any) > 1 and (parts or self.min_volume is not None)
            parts.append(f"({alternatives})" if grouped else alternatives)
        if self.min_volume is not None:
            parts.append(f"volume ≥ {_format_number(self.min_volume)}")
        return " and ".join(parts)

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
            out["all"] = [c.to_text() for c in self.all]
        if self.any:
            out["any"] = [c.to_text() for c in self.any]
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
            tiers=raw["tiers"], name=raw.get("name", ""), description=raw.get("description", "")
        )
        policy.validate(known_features, positions=_positions(raw["tiers"]))
        return policy

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping (YAML-ready) that :meth:`from_dict` reads back into an equal policy."""
        return {
            "name": self.name,
            "description": self.description,
            "tiers": [tier.to_dict() for tier in self.tiers],
        }

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
                raise PolicyError(f"policy file not found: {str(path)[:300]}")
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
            for group in ("all", "any"):
                for j, condition in enumerate(getattr(tier, group)):
                    known = condition.feature in allowed
                    if not known and BURST_LEVEL_NAME.match(condition.feature) is None:
                        raise PolicyError(
                            f"unknown feature {condition.feature!r}"
                            f"{_suggest(condition.feature, allowed)}; allowed: "
                            f"{', '.join(allowed)} (pass known_features= for other columns)",
                            key=f"tiers[{index}].{group}[{j}]",
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

    def __sklearn_clone__(self) -> Policy:
        """A policy is immutable: scikit-learn's ``clone`` may share it (an estimator holding a
        policy as a parameter is then clonable)."""
        return self

    def set_params(self, **params: Any) -> Policy:
        """Return a new policy with the named flat parameters changed (see :meth:`get_params`)."""
        tiers = list(self.tiers)
        for name, value in params.items():
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
                    n_all = len(tier.all)
                    group, j = ("all", index) if index < n_all else ("any", index - n_all)
                    conditions = list(getattr(tier, group))
                    conditions[j] = replace(conditions[j], value=value)
                    tier = replace(tier, **{group: tuple(conditions)})
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
    """Flat parameter name -> (level, attribute or 'condition', condition index)."""
    out: dict[str, tuple[int, str, int | None]] = {}
    for tier in tiers:
        prefix = f"tier{tier.level}__"
        groups = ["all"] * len(tier.all) + ["any"] * len(tier.any)
        features = [c.feature for c in tier.conditions]
        ops = [(c.feature, c.op) for c in tier.conditions]
        sides = [(c.feature, c.op, g) for c, g in zip(tier.conditions, groups, strict=True)]
        for i, condition in enumerate(tier.conditions):
            name = prefix + condition.feature
            if features.count(condition.feature) > 1:
                name += f"__{OPERATOR_NAMES[condition.op]}"
                if ops.count((condition.feature, condition.op)) > 1:
                    name += f"__{groups[i]}"
                    if sides.count(sides[i]) > 1:
                        name += str(sides[:i].count(sides[i]))
            out[name] = (tier.level, "condition", i)
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
        raise PolicyError(f"policy file not found: {path}")
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
    if Policy.from_yaml(text) != policy:  # the edit must read back as exactly the policy
        raise PolicyError(f"{source}: cannot write this policy as an edit of it: they differ")
    return atomic_write_text(path, text)





