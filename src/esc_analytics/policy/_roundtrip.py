"""A plan file edited in place: the team's comments, key order, quoting and layout kept, only
the values that changed rewritten (ruamel.yaml's round trip).

``save_policy(policy, path, like=plan_file)`` uses it when a calibrated plan is written over
(a copy of) the file it came from. The edit works on the YAML tree and the new policy's
:meth:`~esc_analytics.Policy.to_dict`; ``same_condition`` tells whether a condition as written
in the file (text or mapping) already says what the new one says, so that untouched
conditions keep their exact spelling.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import FoldedScalarString, ScalarString
from ruamel.yaml.util import load_yaml_guess_indent

_TIER_SCALARS = ("name", "owner", "cooldown", "refractory", "min_volume")
_DEFAULTS = {
    "name": "", "owner": "", "description": "", "refractory": 0, "min_volume": None,
    "for": 1, "cooldown": 0,
}


class PlanFileMismatch(ValueError):
    """The file does not hold the same tiers and conditions as the policy to write."""


def _styled(old: Any, new: Any) -> Any:
    """``new`` in the scalar style of ``old`` (quoted, literal or folded text stays so)."""
    if isinstance(old, FoldedScalarString) and isinstance(new, str):
        out = FoldedScalarString(new)
        width = max((len(line) for line in str(old).split("\n")), default=0)
        width = max(min(width, 88), 60) if width else 88
        folds, offset = [], 0
        try:
            for line in textwrap.wrap(new, width=width, break_long_words=False):
                offset = new.index(line, offset) + len(line)
                if offset < len(new) and new[offset] == " ":
                    folds.append(offset)  # this space becomes a line break in the file
        except ValueError:  # text textwrap reshaped: leave it on one line
            folds = []
        out.fold_pos = folds
        return out
    if isinstance(old, ScalarString) and isinstance(new, str):
        return type(old)(new)
    return new


def _same_value(old: Any, new: Any) -> bool:
    if old is None or new is None:
        return old is new
    if isinstance(new, bool) or isinstance(old, bool):
        return old == new
    if isinstance(new, int | float) and isinstance(old, int | float):
        return float(old) == float(new)
    return str(old) == str(new)


def _set(node: CommentedMap, key: str, value: Any, *, after: str | None = None) -> None:
    """Set ``node[key]`` when it differs; a key the file lacks is added (after ``after``)."""
    if key in node:
        if not _same_value(node[key], value):
            node[key] = _styled(node[key], value)
        return
    if value is None or _same_value(_DEFAULTS.get(key), value):
        return
    keys = list(node)
    position = keys.index(after) + 1 if after in keys else len(keys)
    node.insert(position, key, value)


def _edit_conditions(
    node: CommentedMap,
    group: str,
    new: list[str],
    same_condition: Callable[[Any, str], bool],
    where: str,
) -> None:
    old = node.get(group)
    if old is None:
        if new:
            raise PlanFileMismatch(f"{where} has no '{group}' conditions")
        return
    if isinstance(old, str | Mapping):  # one condition written without a list
        if len(new) != 1:
            raise PlanFileMismatch(f"{where}.{group} holds 1 condition, the policy {len(new)}")
        if not same_condition(old, new[0]):
            node[group] = _condition_like(old, new[0])
        return
    if not isinstance(old, CommentedSeq) or len(old) != len(new):
        raise PlanFileMismatch(f"{where}.{group} holds other conditions than the policy")
    for i, text in enumerate(new):
        if not same_condition(old[i], text):
            old[i] = _condition_like(old[i], text)


def _condition_like(old: Any, text: str) -> Any:
    """The new condition ``text`` written as the old one was: text, or a mapping."""
    if isinstance(old, Mapping):
        feature, op, value = text.split(" ", 2)
        for key, part in (("feature", feature), ("op", op)):
            if str(old.get(key)) != part:
                old[key] = part
        number = float(value)
        old["value"] = int(number) if number.is_integer() and abs(number) < 1e15 else number
        return old
    return _styled(old, text)


def edit_policy_yaml(
    text: str, updated: Mapping[str, Any], same_condition: Callable[[Any, str], bool]
) -> str:
    """``text`` (a plan file) with the values of ``updated`` (a policy's ``to_dict()``)
    written in: names, owners, descriptions, conditions, persistence, cooldown, refractory and
    minimum volumes that differ; everything else as the file had it. Raises
    :class:`PlanFileMismatch` when the file's tiers or conditions are not the policy's."""
    _, indent, offset = load_yaml_guess_indent(text)
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # folded text keeps its own fold points
    mapping = indent - offset if indent - offset >= 2 else 2
    yaml.indent(mapping=mapping, sequence=max(indent, 2), offset=offset)
    data = yaml.load(text)
    if not isinstance(data, CommentedMap) or not isinstance(data.get("tiers"), CommentedSeq):
        raise PlanFileMismatch("the file holds no list of tiers")
    for key in ("name", "description"):
        _set(data, key, updated.get(key, ""), after="name" if key == "description" else None)
    by_level: dict[int, CommentedMap] = {}
    for i, tier in enumerate(data["tiers"]):
        if not isinstance(tier, CommentedMap) or "level" not in tier:
            raise PlanFileMismatch(f"tiers[{i}] is not a tier with a level")
        by_level[int(tier["level"])] = tier
    levels = [int(t["level"]) for t in updated["tiers"]]
    if sorted(by_level) != sorted(levels):
        raise PlanFileMismatch(
            f"the file's tiers {sorted(by_level)} are not the policy's {sorted(levels)}"
        )
    for new in updated["tiers"]:
        node = by_level[int(new["level"])]
        where = f"tier {new['level']}"
        for group in ("all", "any"):
            _edit_conditions(node, group, list(new.get(group, ())), same_condition, where)
        persistence = "persistence" if "persistence" in node else "for"
        _set(node, persistence, new.get("for", 1), after="any" if "any" in node else "all")
        for key in _TIER_SCALARS:
            _set(node, key, new.get(key, _DEFAULTS.get(key)), after=persistence)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()
