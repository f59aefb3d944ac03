"""The decision-tree figure of a policy, and the shared tier palette."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from esc_analytics import Policy, Tier
from esc_analytics._util.errors import PolicyError
from esc_analytics.plots import TIER_COLORS, plot_policy_tree, tier_color, tier_fill


@pytest.fixture
def policy() -> Policy:
    return Policy(
        [
            Tier(1, "Watch", "Community team", all=["volume_ratio >= 2.5"], persistence=2),
            Tier(2, "Escalate", "Social lead", all=["volume_ratio >= 4", "negative_share > 0.4"]),
            Tier(3, "Crisis", "Head of comms", any=["volume_z >= 12", "reach >= 1e6"]),
        ],
        name="Brand watch",
    )


def _texts(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations]


def test_one_question_and_one_outcome_per_tier_plus_start_and_monitor(policy: Policy) -> None:
    fig = plot_policy_tree(policy)
    assert isinstance(fig, go.Figure)
    assert len(fig.layout.shapes) == 2 * len(policy.tiers) + 2
    texts = _texts(fig)
    assert "<b>Tier 0: monitor</b>" in texts
    assert texts.count("<i>yes</i>") == 3 and texts.count("<i>no</i>") == 3
    assert any("volume_ratio ≥ 2.5 for 2 windows in a row?" in t for t in texts)
    assert any("Head of comms" in t for t in texts)


def test_questions_run_from_the_highest_tier_down(policy: Policy) -> None:
    fig = plot_policy_tree(policy)
    heights = {}
    for annotation in fig.layout.annotations:
        for level, owner in ((1, "Community team"), (2, "Social lead"), (3, "Head of comms")):
            if owner in annotation.text:
                heights[level] = annotation.y
    assert heights[3] > heights[2] > heights[1]


def test_boxes_are_coloured_by_tier(policy: Policy) -> None:
    fig = plot_policy_tree(policy)
    line_colors = [shape.line.color for shape in fig.layout.shapes]
    for level in (1, 2, 3):
        assert line_colors.count(TIER_COLORS[level]) == 2  # its question and its outcome
    fills = [shape.fillcolor for shape in fig.layout.shapes]
    assert TIER_COLORS[0] in fills  # the monitor box
    assert tier_fill(3, 0.14) in fills


def test_user_text_is_escaped_and_long_conditions_are_wrapped() -> None:
    long_any = [f"volume_ratio >= {i}" for i in range(1, 9)]
    policy = Policy(
        [Tier(1, "<b>x</b>", "<script>alert(1)</script>", any=long_any)], name="<img src=x>"
    )
    fig = plot_policy_tree(policy)
    texts = " ".join(_texts(fig))
    assert "<script>" not in texts and "&lt;script&gt;" in texts
    assert "<img" not in fig.layout.title.text
    question = next(t for t in _texts(fig) if "volume_ratio ≥ 8" in t)
    assert question.count("<br>") >= 2


def test_hover_details_name_owner_persistence_and_cooldown(policy: Policy) -> None:
    fig = plot_policy_tree(policy)
    hover = " ".join(fig.data[0].hovertext)
    assert "owner: Social lead" in hover and "for: 2 window(s)" in hover
    assert "cooldown: 0 window(s)" in hover


def test_height_grows_with_the_number_of_tiers(policy: Policy) -> None:
    one = Policy([Tier(1, "", "", all=["volume > 1"])])
    assert plot_policy_tree(policy).layout.height > plot_policy_tree(one).layout.height


def test_plot_policy_tree_needs_a_policy() -> None:
    with pytest.raises(PolicyError, match="needs a Policy"):
        plot_policy_tree({"tiers": []})


def test_tier_palette_is_stable_and_extends_beyond_three() -> None:
    assert [tier_color(t) for t in range(4)] == [TIER_COLORS[t] for t in range(4)]
    assert len({tier_color(t) for t in range(8)}) == 7  # tiers 4, 5, 6 distinct; 7 reuses 6
    assert tier_fill(2, 0.5) == "rgba(245, 124, 0, 0.5)"
