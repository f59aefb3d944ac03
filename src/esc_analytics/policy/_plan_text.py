"""The plan as text people paste into their written escalation plan: Markdown and Mermaid."""

from __future__ import annotations

from .._util.html import markdown_defang, markdown_text
from ._policy import Condition, ConditionGroup, Policy, Tier


def _md_cell(text: str) -> str:
    """A name, owner or condition from the policy file as literal text in a Markdown table
    cell (no link, image, HTML or ``|`` can come through)."""
    return markdown_text(text) or "—"


def _md_conditions(text: str) -> str:
    """The tier's conditions, generated from validated measures, operators and numbers: kept
    readable (``a < 100``), only what breaks a table cell escaped."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ") or "—"


def _windows(n: int) -> str:
    return f"{n} window" + ("" if n == 1 else "s")


def policy_to_markdown(policy: Policy) -> str:
    """The escalation plan as Markdown: a table of tiers (highest first) and the decision rule,
    ready to paste into a team's written plan."""
    title = policy.name or "Escalation plan"
    lines = [f"## {_md_cell(title)}", ""]
    if policy.description:
        lines += [markdown_defang(policy.description.strip()), ""]
    lines += [
        "| Tier | Name | Owner | Escalate when | For | Cooldown |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for tier in reversed(policy.tiers):
        lines.append(
            f"| {tier.level} | {_md_cell(tier.name)} | {_md_cell(tier.owner)} | "
            f"{_md_conditions(tier.describe_conditions())} | {_windows(tier.persistence)} | "
            f"{_windows(tier.cooldown)} |"
        )
    lines.append("| 0 | Monitor | — | otherwise | — | — |")
    lines += [
        "",
        "Each window, check the tiers from the highest down; the first whose conditions hold "
        "(for the given number of consecutive windows) decides who is involved. A new "
        "escalation within the cooldown after an episode ends, at the same or a lower tier, "
        "continues that episode without a new notification.",
        "",
    ]
    for tier in reversed(policy.tiers):
        if tier.nested:  # the nested conditions as a bullet list, easier to read than brackets
            lines += [f"**{_md_cell(tier.title)}** escalates when:", ""]
            lines += [
                f"{'  ' * depth}- {_md_conditions(text)}" for depth, text in tier.outline()
            ]
            lines.append("")
    return "\n".join(lines)


def _mermaid_label(text: str) -> str:
    """Escape text for a quoted Mermaid label (entities for # " < > [ ] { } |)."""
    out = text.replace("#", "#35;")
    for char, entity in (
        ('"', "#quot;"),
        ("<", "#lt;"),
        (">", "#gt;"),
        ("[", "#91;"),
        ("]", "#93;"),
        ("{", "#123;"),
        ("}", "#125;"),
        ("|", "#124;"),
        ("\n", " "),
    ):
        out = out.replace(char, entity)
    return out


def policy_to_mermaid(policy: Policy) -> str:
    """The policy as a Mermaid ``flowchart TD`` decision tree: the highest tier's question
    first; yes -> that tier's owner, no -> the next tier, ... no -> monitor (tier 0)."""
    lines = ["flowchart TD"]
    tiers = list(reversed(policy.tiers))
    start = _mermaid_label(policy.name or "each window")
    lines.append(f'    start(["{start}"]) --> q{tiers[0].level}')
    for i, tier in enumerate(tiers):
        nxt = f"q{tiers[i + 1].level}" if i + 1 < len(tiers) else "t0"
        if tier.nested:
            _mermaid_chain(tier, nxt, lines)
            continue
        question = tier.describe_conditions()
        if tier.persistence > 1:
            question += f" for {_windows(tier.persistence)}"
        outcome = f"tier {tier.level}: {tier.owner or tier.name or 'escalate'}"
        if tier.name and tier.owner:
            outcome = f"tier {tier.level} ({tier.name}): {tier.owner}"
        lines.append(f'    q{tier.level}{{"{_mermaid_label(question + "?")}"}}')
        lines.append(f'    q{tier.level} -->|yes| t{tier.level}["{_mermaid_label(outcome)}"]')
        lines.append(f"    q{tier.level} -->|no| {nxt}")
    lines.append('    t0["monitor (tier 0)"]')
    return "\n".join(lines) + "\n"


def _outcome(tier: Tier) -> str:
    outcome = f"tier {tier.level}: {tier.owner or tier.name or 'escalate'}"
    if tier.name and tier.owner:
        outcome = f"tier {tier.level} ({tier.name}): {tier.owner}"
    return outcome


def _mermaid_chain(tier: Tier, no: str, lines: list[str]) -> None:
    """A nested tier as the decision tree it is: one question per condition, ``yes``/``no``
    edges as ``all`` (every one yes), ``any`` (the first yes) and ``not`` (yes and no swapped)
    combine them; entry node ``q{level}``, every "no" way out leads to ``no``."""
    level = tier.level
    outcome = _outcome(tier)
    if tier.persistence > 1:
        outcome += f" (held {_windows(tier.persistence)})"
    yes = f"t{level}"
    lines.append(f'    {yes}["{_mermaid_label(outcome)}"]')
    count = [0]
    nodes: list[list[str]] = []

    def build(node: Condition | ConditionGroup, yes_to: str, no_to: str) -> str:
        if isinstance(node, Condition):
            count[0] += 1
            ident = f"q{level}_{count[0]}"
            nodes.append([
                f'    {ident}{{"{_mermaid_label(node.describe() + "?")}"}}',
                f"    {ident} -->|yes| {yes_to}",
                f"    {ident} -->|no| {no_to}",
            ])
            return ident
        if node.kind == "not":
            return build(node.items[0], no_to, yes_to)
        target = yes_to if node.kind == "all" else no_to
        for item in reversed(node.items):
            target = build(item, target, no_to) if node.kind == "all" else build(
                item, yes_to, target
            )
        return target

    root = tier.root
    if tier.min_volume is not None:
        root = ConditionGroup("all", (*root.items, Condition("volume", ">=", tier.min_volume)))
    entry = build(root, yes, no)
    lines.append(f'    q{level}(["{_mermaid_label(tier.title)}"]) --> {entry}')
    for block in reversed(nodes):  # built from the last condition: written in reading order
        lines.extend(block)
