"""Nested conditions: all/any/not to any depth, read, validated, round-tripped, evaluated and
drawn as the decision tree."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esc_analytics import (
    Condition,
    ConditionGroup,
    Policy,
    PolicyError,
    evaluate,
    policy_to_markdown,
    policy_to_mermaid,
    save_policy,
)
from esc_analytics.policy import MAX_CONDITION_DEPTH

PLAN = """\
name: nested
tiers:
  - level: 1
    name: watch
    owner: cm
    all: [volume_ratio >= 2]
  - level: 2
    name: PR
    owner: lead
    any:
      - all: [volume_ratio >= 5, negative_share >= 0.6]   # a spike, and angry
      - all: [influencer_mentions >= 3, negative_share >= 0.5]
    all:
      - not: {any: [planned_event >= 1, volume < 10]}
"""

FEATURES = pd.DataFrame(
    {
        "topic": "a",
        "window_start": pd.date_range("2026-01-01", periods=6, freq="1h", tz="UTC"),
        #                   0     1     2     3     4     5
        "volume_ratio": [1.0, 6.0, 6.0, 2.5, 6.0, 6.0],
        "negative_share": [0.9, 0.7, 0.55, 0.55, 0.7, np.nan],
        "influencer_mentions": [0, 0, 4, 4, 0, 5],
        "planned_event": [0, 0, 0, 0, 1, 0],
        "volume": [50, 50, 50, 50, 50, 50],
    }
)


def test_nested_plan_evaluates_as_written_by_hand():
    policy = Policy.from_yaml(PLAN, known_features=["planned_event"])
    tiers = evaluate(policy, FEATURES).windows["tier"].tolist()
    # 0: ratio 1 < 2 -> 0; 1: spike and angry -> 2; 2: influencers and share 0.55 -> 2;
    # 3: influencers (ratio 2.5 holds tier 1) -> 2; 4: planned event -> tier 1 only;
    # 5: negative share missing: both alternatives fail -> tier 1
    assert tiers == [0, 2, 2, 2, 1, 1]


def test_a_missing_value_fails_its_condition_and_so_passes_its_not():
    policy = Policy.from_dict(
        {"tiers": [{"level": 1, "all": [{"not": "negative_share >= 0.5"}]}]}
    )
    tiers = evaluate(policy, FEATURES).windows["tier"].tolist()
    assert tiers == [0, 0, 0, 0, 0, 1]


@pytest.mark.parametrize(
    ("tier", "message", "key"),
    [
        ({"all": [{"any": []}]}, "needs at least one condition", "tiers[0].all[0].any"),
        ({"all": [{"not": ["a >= 1"]}]}, "not a list", "tiers[0].all[0].not"),
        ({"all": [{"any": ["volume_ratio >> 2"]}]}, "cannot read", "tiers[0].all[0].any[0]"),
        ({"any": [{"every": ["volume >= 1"]}]}, "one key, all, any or not", "tiers[0].any[0]"),
        (
            {"all": [{"any": ["volume >= 1", {"not": "volum >= 2"}]}]},
            "did you mean 'volume'",
            "tiers[0].all[0].any[1].not",
        ),
    ],
)
def test_errors_name_the_nested_key(tier, message, key):
    with pytest.raises(PolicyError, match=re.escape(message)) as info:
        Policy.from_dict({"tiers": [{"level": 1, **tier}]})
    assert info.value.key == key
    assert "\n" not in str(info.value)


def test_depth_is_bounded_with_a_one_line_error():
    node: object = "volume >= 1"
    for _ in range(MAX_CONDITION_DEPTH):
        node = {"all": [node]}
    Policy.from_dict({"tiers": [{"level": 1, "all": [node]}]})  # at the bound: fine
    with pytest.raises(PolicyError, match="nest deeper than") as info:
        Policy.from_dict({"tiers": [{"level": 1, "all": [{"not": node}]}]})
    assert "\n" not in str(info.value)


# ------------------------------------------------------------------ round trip property
FEATURE_NAMES = ["volume", "volume_ratio", "negative_share", "volume_z", "reach"]
conditions = st.builds(
    Condition,
    st.sampled_from(FEATURE_NAMES),
    st.sampled_from([">", ">=", "<", "<="]),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)
def _items(inner):
    return st.lists(inner, min_size=1, max_size=3)


nodes = st.recursive(
    conditions,
    lambda inner: st.one_of(
        st.builds(lambda items: ConditionGroup("all", tuple(items)), _items(inner)),
        st.builds(lambda items: ConditionGroup("any", tuple(items)), _items(inner)),
        st.builds(lambda item: ConditionGroup("not", (item,)), inner),
    ),
    max_leaves=8,
)


@st.composite
def nested_plans(draw):
    tiers = []
    for level in range(1, draw(st.integers(1, 3)) + 1):
        all_items = draw(st.lists(nodes, max_size=3))
        any_items = draw(st.lists(nodes, min_size=0 if all_items else 1, max_size=3))
        tiers.append(
            {"level": level, "name": f"t{level}", "owner": "o", "all": all_items,
             "any": any_items, "for": draw(st.integers(1, 3))}
        )
    return Policy(tiers=tuple(tiers), name="generated")


@settings(max_examples=60, deadline=None)
@given(nested_plans())
def test_nested_plans_round_trip_losslessly(policy):
    assert Policy.from_dict(policy.to_dict()) == policy
    text = policy.to_yaml()
    again = Policy.from_yaml(text)
    assert again == policy
    assert again.to_yaml() == text
    assert again.get_params() == policy.get_params()
    # every threshold is a flat parameter with a unique, stable path
    paths = policy.param_paths()
    assert len(set(paths.values())) == len(paths) == sum(
        len(t.conditions) for t in policy.tiers
    )
    for name, path in paths.items():
        assert policy.param_name(path) == name


@settings(max_examples=30, deadline=None)
@given(nested_plans(), st.data())
def test_set_params_by_path_changes_exactly_that_condition(policy, data):
    names = list(policy.param_paths())
    name = data.draw(st.sampled_from(names))
    changed = policy.set_params(**{policy.param_paths()[name]: 123.5})
    before, after = policy.get_params(), changed.get_params()
    assert after[name] == 123.5
    assert {k: v for k, v in after.items() if k != name} == {
        k: v for k, v in before.items() if k != name
    }


def test_plan_file_edit_keeps_comments_in_nested_groups(tmp_path):
    source = tmp_path / "plan.yaml"
    source.write_text(PLAN, encoding="utf-8")
    policy = Policy.from_yaml(source, known_features=["planned_event"])
    changed = policy.set_params(**{"tier2.any[0].all[1].negative_share": 0.65})
    out = save_policy(changed, tmp_path / "fitted.yaml", like=source)
    text = out.read_text(encoding="utf-8")
    assert "# a spike, and angry" in text
    assert "negative_share >= 0.65" in text
    def spaced(t):
        return re.sub(r" +#", " #", t)

    assert spaced(text.replace("0.65", "0.6")) == spaced(PLAN)  # only the number changed
    assert Policy.from_yaml(out, known_features=["planned_event"]) == changed


# ------------------------------------------------------------------ renderings
def test_mermaid_draws_one_question_per_condition_with_not_swapping_yes_and_no():
    policy = Policy.from_yaml(PLAN, known_features=["planned_event"])
    text = policy_to_mermaid(policy)
    questions = re.findall(r'(q2_\d+)\{"([^"]+)"\}', text)
    assert len(questions) == len(policy.tiers[1].conditions)
    ids = {label: ident for ident, label in questions}
    planned = ids["planned_event ≥ 1?"]
    assert f"{planned} -->|yes| q1" in text  # not: yes leads away from tier 2
    assert f"{planned} -->|no| " in text
    spike = ids["volume_ratio ≥ 5?"]
    assert f"{spike} -->|yes| {ids['negative_share ≥ 0.6?']}" in text  # all: chain on yes
    assert f"{spike} -->|no| {ids['influencer_mentions ≥ 3?']}" in text  # any: next on no


def test_markdown_lists_nested_conditions_as_bullets():
    policy = Policy.from_yaml(PLAN, known_features=["planned_event"])
    text = policy_to_markdown(policy)
    assert "not (planned_event ≥ 1 or volume < 10) and ((volume_ratio ≥ 5 and" in text
    assert "  - none of:\n    - planned_event ≥ 1\n    - volume < 10" in text


def test_flat_plans_render_as_before():
    flat = Policy.from_dict({"tiers": [{"level": 1, "all": ["volume_ratio >= 2"],
                                        "any": ["reach >= 5", "volume_z >= 3"]}]})
    assert "q1_" not in policy_to_mermaid(flat)
    assert "escalates when" not in policy_to_markdown(flat)
    assert flat.get_params()["tier1__reach"] == 5.0


def test_policy_tree_figure_outlines_a_nested_tier():
    from esc_analytics import plot_policy_tree

    policy = Policy.from_yaml(PLAN, known_features=["planned_event"])
    texts = [a.text for a in plot_policy_tree(policy).layout.annotations]
    outline = next(t for t in texts if "none of:" in t)
    assert "any of:" in outline and "planned_event ≥ 1" in outline
