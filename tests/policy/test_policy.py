"""Policy model: construction, YAML round trip, validation errors, flat parameters, renderings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from esc_analytics._util.errors import PolicyError
from esc_analytics.policy import policy_to_markdown, policy_to_mermaid
from esc_analytics.policy._policy import (
    DEFAULT_FEATURES,
    OPERATORS,
    Condition,
    Policy,
    Tier,
    load_policy,
    save_policy,
)

SAMPLE_POLICY = Path(__file__).resolve().parents[2] / "data" / "sample" / "policy.yaml"

THREE_TIERS = """
name: Brand watch
description: Default plan for hourly windows
tiers:
  - level: 1
    name: Watch
    owner: Community team
    all: ["volume_ratio >= 2.5"]
    for: 2
    cooldown: 6
  - level: 2
    name: Escalate
    owner: Social lead
    all: ["volume_ratio >= 4", "volume_ratio < 100"]
    any: ["negative_share > 0.4", "reach ge 1e6"]
    min_volume: 20
  - level: 3
    name: Crisis
    owner: Head of comms
    all: ["volume_z > 8"]
    cooldown: 12
"""


@pytest.fixture
def policy() -> Policy:
    return Policy.from_yaml(THREE_TIERS)


def test_yaml_is_read_into_the_model(policy: Policy) -> None:
    assert policy.name == "Brand watch"
    assert policy.levels == (1, 2, 3)
    watch, escalate, crisis = policy.tiers
    assert watch.all == (Condition("volume_ratio", ">=", 2.5),)
    assert (watch.persistence, watch.cooldown, watch.min_volume) == (2, 6, None)
    assert escalate.any[1] == Condition("reach", ">=", 1_000_000.0)  # alias ge -> >=
    assert escalate.min_volume == 20.0
    assert crisis.owner == "Head of comms" and crisis.cooldown == 12


@pytest.mark.parametrize("alias, symbol", [("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")])
def test_operator_aliases_are_stored_as_symbols(alias: str, symbol: str) -> None:
    assert Condition("volume", alias, 3).op == symbol
    assert Condition.parse(f"volume {alias} 3") == Condition("volume", symbol, 3.0)
    assert Condition.parse({"feature": "volume", "op": alias, "value": 3}).op == symbol


def test_tiers_are_sorted_by_level_and_levels_may_be_given_in_any_order() -> None:
    a = Tier(2, "b", "B", all=["volume > 2"])
    b = Tier(1, "a", "A", all=["volume > 1"])
    assert Policy([a, b]).levels == (1, 2)
    assert Policy([a, b]) == Policy([b, a])


def test_round_trip_of_a_hand_written_policy(policy: Policy, tmp_path: Path) -> None:
    assert Policy.from_yaml(policy.to_yaml()) == policy
    assert Policy.from_dict(policy.to_dict()) == policy
    path = save_policy(policy, tmp_path / "plans" / "policy.yaml")
    assert load_policy(path) == policy
    assert Policy.from_yaml(path) == policy
    # `for` is the YAML key of persistence
    assert yaml.safe_load(policy.to_yaml())["tiers"][0]["for"] == 2


@pytest.mark.skipif(not SAMPLE_POLICY.exists(), reason="data/sample/policy.yaml not present")
def test_bundled_sample_policy_loads_and_round_trips() -> None:
    policy = load_policy(SAMPLE_POLICY)
    assert policy.levels == (1, 2, 3)
    assert Policy.from_yaml(policy.to_yaml()) == policy


# --- lossless round trip (property) ----------------------------------------------------------
_texts = st.text(max_size=30)
_values = st.floats(allow_nan=False, allow_infinity=False, width=64)
_conditions = st.builds(
    Condition, st.sampled_from(DEFAULT_FEATURES), st.sampled_from(OPERATORS), _values
)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    n = draw(st.integers(1, 4))
    tiers = []
    for level in range(1, n + 1):
        all_ = draw(st.lists(_conditions, max_size=3))
        any_ = draw(st.lists(_conditions, min_size=0 if all_ else 1, max_size=3))
        tiers.append(
            Tier(
                level,
                draw(_texts),
                draw(_texts),
                all=all_,
                any=any_,
                persistence=draw(st.integers(1, 48)),
                cooldown=draw(st.integers(0, 48)),
                min_volume=draw(st.none() | st.floats(0, 1e9, allow_nan=False)),
            )
        )
    order = draw(st.permutations(tiers))
    return Policy(order, name=draw(_texts), description=draw(st.text(max_size=80)))


@settings(max_examples=150, deadline=None)
@given(policies())
def test_yaml_round_trip_is_lossless(policy: Policy) -> None:
    again = Policy.from_yaml(policy.to_yaml())
    assert again == policy
    assert again.get_params() == policy.get_params()
    assert Policy.from_dict(policy.to_dict()) == policy


# --- validation errors -----------------------------------------------------------------------
def _tier(body: str) -> str:
    return "tiers:\n  - level: 1\n    name: Watch\n    owner: Team\n" + body


VALIDATION_CASES = [
    # (yaml, key path, words the message must contain)
    (
        _tier("    all: [volum_ratio >= 2]\n"),
        "tiers[0].all[0]",
        ["unknown feature", "volume_ratio"],
    ),
    (_tier("    all: [volume_ratio => 2]\n"), "tiers[0].all[0]", [">=", "feature op value"]),
    (
        _tier("    all: [{feature: volume_ratio, op: '==', value: 2}]\n"),
        "tiers[0].all[0].op",
        ["unknown operator", "> >= < <="],
    ),
    (_tier("    all: [volume_ratio >= high]\n"), "tiers[0].all[0].value", ["finite number"]),
    (_tier("    all: [volume_ratio >= nan]\n"), "tiers[0].all[0].value", ["finite number"]),
    (
        _tier("    all: [{feature: volume_ratio, op: '>', value: .inf}]\n"),
        "tiers[0].all[0].value",
        ["finite number"],
    ),
    (
        _tier("    all: [{feature: volume_ratio, op: '>', value: true}]\n"),
        "tiers[0].all[0].value",
        ["finite number"],
    ),
    (
        _tier("    all: [volume_ratio > 2]\n  - level: 1\n    all: [volume_ratio > 3]\n"),
        "tiers[1].level",
        ["duplicate level 1"],
    ),
    (
        _tier("    all: [volume_ratio > 2]\n  - level: 3\n    all: [volume_ratio > 3]\n"),
        "tiers[1].level",
        ["consecutive", "missing [2]"],
    ),
    (
        "tiers:\n  - level: 0\n    all: [volume_ratio > 2]\n",
        "tiers[0].level",
        [">= 1"],
    ),
    (_tier("    all: [volume_ratio > 2]\n    for: -1\n"), "tiers[0].for", [">= 1"]),
    (_tier("    all: [volume_ratio > 2]\n    for: 1.5\n"), "tiers[0].for", ["whole number"]),
    (_tier("    all: [volume_ratio > 2]\n    cooldown: -2\n"), "tiers[0].cooldown", [">= 0"]),
    (_tier("    all: [volume_ratio > 2]\n    min_volume: -5\n"), "tiers[0].min_volume", [">= 0"]),
    (_tier("    all: []\n"), "tiers[0].all", ["at least one condition", "any"]),
    (
        _tier("    all: [volume_ratio > 2]\n    persistance: 2\n"),
        "tiers[0].persistance",
        ["unknown key", "did you mean 'persistence'", "for"],
    ),
    (
        _tier("    all: [volume_ratio > 2]\n    cooldwn: 2\n"),
        "tiers[0].cooldwn",
        ["did you mean 'cooldown'"],
    ),
    ("tier:\n  - level: 1\n", "tier", ["unknown key", "did you mean 'tiers'"]),
    ("name: x\n", "tiers", ["needs a list of tiers"]),
    ("tiers: []\n", "tiers", ["at least one tier"]),
    ("- level: 1\n", None, ["mapping", "got list"]),
    ("tiers:\n  - 3\n", "tiers[0]", ["mapping", "got int"]),
    (_tier("    all: [volume_ratio > 2\n"), None, ["invalid YAML", "line"]),
    (
        _tier("    all: [volume_ratio > 2]\n    for: 2\n    for: 3\n"),
        None,
        ["invalid YAML", "line 7", "duplicate key 'for'", "first given at line 6"],
    ),
    ("tiers: []\ntiers: []\n", None, ["duplicate key 'tiers'"]),
    (
        _tier("    all: [{feature: volume_ratio, op: '>', valeu: 2}]\n"),
        "tiers[0].all[0].valeu",
        ["did you mean 'value'"],
    ),
]


@pytest.mark.parametrize("text, key, words", VALIDATION_CASES)
def test_invalid_policy_files_raise_policy_error_naming_the_key(
    text: str, key: str | None, words: list[str]
) -> None:
    with pytest.raises(PolicyError) as caught:
        Policy.from_yaml(text)
    message = str(caught.value)
    assert caught.value.key == key
    if key:
        assert message.startswith(f"{key}: ")
    for word in words:
        assert word in message, message


def test_errors_in_a_policy_file_name_the_file_and_keep_the_key(tmp_path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(_tier("    all: [volume_ratio > 2]\n    for: -1\n"))
    with pytest.raises(PolicyError) as caught:
        Policy.from_yaml(path)
    assert str(caught.value).startswith(f"{path}: tiers[0].for: ")
    assert caught.value.key == "tiers[0].for"


def test_yaml_syntax_error_reports_the_line_number() -> None:
    text = "name: x\ntiers:\n  - level: 1\n    all: [volume_ratio > 2\n    for: 2\n"
    with pytest.raises(PolicyError, match=r"line [45]"):
        Policy.from_yaml(text)


def test_unknown_feature_lists_the_allowed_features_and_accepts_known_features() -> None:
    text = _tier("    all: [my_score >= 0.9]\n")
    with pytest.raises(PolicyError) as caught:
        Policy.from_yaml(text)
    for name in ("volume_ratio", "negative_share", "log_volume_ratio", "known_features="):
        assert name in str(caught.value)
    policy = Policy.from_yaml(text, known_features=["my_score"])
    assert policy.features_used == ("my_score",)


def test_constructor_validates_without_a_file() -> None:
    with pytest.raises(PolicyError, match="unknown operator"):
        Condition("volume", "=", 2)
    with pytest.raises(PolicyError, match="for: must be a whole number"):
        Tier(1, "a", "b", all=["volume > 1"], persistence=0)
    with pytest.raises(PolicyError, match=r"tiers\[0\]\.all\[0\]"):
        Policy([{"level": 1, "all": ["volume >> 1"]}])


def test_load_policy_of_a_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not found"):
        load_policy(tmp_path / "nope.yaml")


# --- saving ---------------------------------------------------------------------------------
def test_save_policy_replaces_atomically_and_leaves_no_temporary_file(
    policy: Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "policy.yaml"
    save_policy(policy, path)
    first = path.read_text()
    changed = policy.set_params(tier1__volume_ratio=3.0)

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_policy(changed, path)
    assert path.read_text() == first  # the old file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["policy.yaml"]
    monkeypatch.undo()
    save_policy(changed, path)
    assert load_policy(path) == changed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["policy.yaml"]


# --- flat parameters ------------------------------------------------------------------------
def test_get_params_uses_flat_names_and_operator_suffixes_for_repeated_features(
    policy: Policy,
) -> None:
    assert policy.get_params() == {
        "tier1__volume_ratio": 2.5,
        "tier1__persistence": 2,
        "tier1__cooldown": 6,
        "tier1__refractory": 0,
        "tier1__min_volume": None,
        "tier2__volume_ratio__ge": 4.0,
        "tier2__volume_ratio__lt": 100.0,
        "tier2__negative_share": 0.4,
        "tier2__reach": 1_000_000.0,
        "tier2__persistence": 1,
        "tier2__cooldown": 0,
        "tier2__refractory": 0,
        "tier2__min_volume": 20.0,
        "tier3__volume_z": 8.0,
        "tier3__persistence": 1,
        "tier3__cooldown": 12,
        "tier3__refractory": 0,
        "tier3__min_volume": None,
    }


def test_same_feature_and_operator_twice_gets_group_and_index_suffixes() -> None:
    tier = Tier(1, "", "", all=["volume > 1", "volume > 2"], any=["volume > 3"])
    names = list(Policy([tier]).get_params())
    assert names[:3] == [
        "tier1__volume__gt__all0",
        "tier1__volume__gt__all1",
        "tier1__volume__gt__any",
    ]


def test_set_params_returns_a_new_policy_and_leaves_the_original(policy: Policy) -> None:
    changed = policy.set_params(
        tier2__volume_ratio__ge=5, tier2__reach=2e6, tier1__persistence=3, tier3__min_volume=50
    )
    assert changed is not policy
    assert policy.get_params()["tier2__volume_ratio__ge"] == 4.0
    params = changed.get_params()
    assert params["tier2__volume_ratio__ge"] == 5.0
    assert params["tier2__reach"] == 2e6
    assert params["tier1__persistence"] == 3
    assert params["tier3__min_volume"] == 50.0
    assert changed.tier(2).any[1] == Condition("reach", ">=", 2e6)
    unchanged = {
        k: v
        for k, v in params.items()
        if k
        not in {
            "tier2__volume_ratio__ge",
            "tier2__reach",
            "tier1__persistence",
            "tier3__min_volume",
        }
    }
    assert unchanged.items() <= policy.get_params().items()
    assert policy.set_params(**policy.get_params()) == policy


@pytest.mark.parametrize(
    "params, key, words",
    [
        (
            {"tier1__volume_rati": 3},
            "tier1__volume_rati",
            ["unknown parameter", "tier1__volume_ratio"],
        ),
        ({"tier4__volume_ratio": 3}, "tier4__volume_ratio", ["unknown parameter"]),
        ({"tier1__persistence": 0}, "tier1__persistence", [">= 1"]),
        ({"tier1__cooldown": -1}, "tier1__cooldown", [">= 0"]),
        ({"tier1__volume_ratio": float("nan")}, "tier1__volume_ratio", ["finite number"]),
    ],
)
def test_set_params_rejects_unknown_names_and_bad_values(
    policy: Policy, params: dict, key: str, words: list[str]
) -> None:
    with pytest.raises(PolicyError) as caught:
        policy.set_params(**params)
    assert caught.value.key == key
    for word in words:
        assert word in str(caught.value)


def test_features_used_in_order_of_first_use_including_volume_for_min_volume(
    policy: Policy,
) -> None:
    assert policy.features_used == ("volume_ratio", "negative_share", "reach", "volume", "volume_z")


# --- renderings -----------------------------------------------------------------------------
def test_markdown_plan_lists_tiers_highest_first_then_monitor(policy: Policy) -> None:
    text = policy_to_markdown(policy)
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert [row.split("|")[1].strip() for row in rows] == ["Tier", "3", "2", "1", "0"]
    assert "| 1 | Watch | Community team | volume_ratio ≥ 2.5 | 2 windows | 6 windows |" in text
    assert (
        "volume_ratio ≥ 4 and volume_ratio < 100 and (negative_share > 0.4 or reach ≥ 1000000) "
        "and volume ≥ 20" in text
    )
    assert text.startswith("## Brand watch")


def test_markdown_escapes_pipes_in_cells() -> None:
    policy = Policy([Tier(1, "a|b", "ops | pr", all=["volume > 1"])])
    assert "a\\|b" in policy_to_markdown(policy)
    assert "ops \\| pr" in policy_to_markdown(policy)


def test_mermaid_decision_tree_structure(policy: Policy) -> None:
    lines = policy_to_mermaid(policy).splitlines()
    assert lines[0] == "flowchart TD"
    assert lines[1].endswith("--> q3")
    assert "    q3 -->|no| q2" in lines
    assert "    q2 -->|no| q1" in lines
    assert "    q1 -->|no| t0" in lines
    assert '    t0["monitor (tier 0)"]' in lines
    assert '    q3 -->|yes| t3["tier 3 (Crisis): Head of comms"]' in lines
    assert '    q1{"volume_ratio ≥ 2.5 for 2 windows?"}' in lines


def test_mermaid_escapes_quotes_brackets_and_angle_brackets() -> None:
    policy = Policy([Tier(1, 'The "A" team', "ops [24/7] {x} <b>", all=["volume > 1"])])
    text = policy_to_mermaid(policy)
    label = next(line for line in text.splitlines() if "-->|yes|" in line)
    inner = label.split('t1["', 1)[1].rsplit('"]', 1)[0]
    for char in '"[]{}<>':
        assert char not in inner
    assert "#quot;A#quot;" in inner and "#91;24/7#93;" in inner and "#lt;b#gt;" in inner
    assert 'q1{"volume #gt; 1?"}' in text


def test_policy_is_clonable_by_scikit_learn_as_an_estimator_parameter(policy: Policy) -> None:
    from sklearn.base import clone

    assert clone(policy) is policy  # immutable: shared, not rebuilt from flat parameters
    assert policy.get_params(deep=False) == policy.get_params()


@pytest.mark.parametrize("level", ["one", "0", "1.5", "true"])
def test_a_bad_level_is_called_a_tier_number_not_a_count_of_windows(level: str) -> None:
    text = f"tiers:\n  - level: {level}\n    all: [volume_ratio > 2]\n"
    with pytest.raises(PolicyError) as caught:
        Policy.from_yaml(text)
    message = str(caught.value)
    assert message.startswith("tiers[0].level: ") and "tier number" in message
    assert "windows" not in message, message


def test_counts_of_windows_still_say_windows() -> None:
    with pytest.raises(PolicyError, match=r"cooldown: must be a whole number of windows >= 0"):
        Policy.from_yaml(_tier("    all: [volume_ratio > 2]\n    cooldown: soon\n"))


def test_yaml_merge_keys_and_anchors_still_load() -> None:
    """A tier built from another with ``<<: *anchor`` overrides what it brings; that is not a
    duplicate key (only a key written twice in one mapping is)."""
    text = (
        "tiers:\n"
        "  - &watch\n    level: 1\n    name: Watch\n    owner: Desk\n    for: 2\n"
        "    cooldown: 3\n    all: [volume_ratio >= 3]\n"
        "  - <<: *watch\n    level: 2\n    name: Escalate\n    all: [volume_ratio >= 6]\n"
    )
    policy = Policy.from_yaml(text)
    second = policy.to_dict()["tiers"][1]
    assert [second[k] for k in ("level", "owner", "for", "cooldown")] == [2, "Desk", 2, 3]
    assert second["all"] == ["volume_ratio >= 6"]
