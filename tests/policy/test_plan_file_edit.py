"""save_policy(..., like=plan_file): a calibrated plan written as an edit of the team's file —
comments, key order, quoting and layout kept, only the values that changed rewritten."""

from __future__ import annotations

import pytest

import esc_analytics as esc

PLAN = """\
# Our escalation plan: reviewed every quarter by the social team.
name: Brand plan   # shown in the runbook
description: >-
  Two tiers: the desk watches unusual volume, the lead is paged when it turns negative and
  keeps growing.
tiers:
  - level: 1
    name: Desk
    owner: Social desk
    all:
      - volume_ratio >= 2.5   # our first guess
    for: 2
    cooldown: 6
  - level: 2
    name: Lead
    owner: 'Social lead'
    all: ["volume_ratio >= 5", {feature: negative_share, op: '>=', value: 0.5}]
    any: volume_z > 4
    cooldown: 6
    min_volume: 20
"""


@pytest.fixture
def plan_file(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN, encoding="utf-8")
    return path


def test_only_changed_values_are_rewritten(plan_file, tmp_path):
    plan = esc.load_policy(plan_file)
    fitted = plan.set_params(tier1__volume_ratio=2.73, tier2__negative_share=0.45,
                             tier2__volume_z=3.5, tier1__cooldown=4)
    out = esc.save_policy(fitted, tmp_path / "fitted.yaml", like=plan_file)
    text = out.read_text(encoding="utf-8")
    assert esc.load_policy(out) == fitted
    before, after = PLAN.splitlines(), text.splitlines()
    changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert changed == [
        ("      - volume_ratio >= 2.5   # our first guess",
         "      - volume_ratio >= 2.73  # our first guess"),  # the comment's column kept
        ("    cooldown: 6", "    cooldown: 4"),
        ("""    all: ["volume_ratio >= 5", {feature: negative_share, op: '>=', value: 0.5}]""",
         """    all: ["volume_ratio >= 5", {feature: negative_share, op: '>=', value: 0.45}]"""),
        ("    any: volume_z > 4", "    any: volume_z > 3.5"),
    ]


def test_a_longer_description_keeps_its_folded_style(plan_file, tmp_path):
    plan = esc.load_policy(plan_file)
    fitted = esc.Policy(plan.tiers, name=plan.name,
                        description=plan.description + " (thresholds calibrated on 9 incidents)")
    text = esc.save_policy(fitted, tmp_path / "f.yaml", like=plan_file).read_text()
    assert "description: >-\n  Two tiers: the desk" in text
    assert max(len(line) for line in text.splitlines()) <= 100
    assert esc.load_policy(tmp_path / "f.yaml") == fitted
    assert text.startswith("# Our escalation plan: reviewed every quarter")


def test_a_policy_of_another_shape_is_refused(plan_file, tmp_path):
    other = esc.Policy((esc.Tier(1, "Desk", "Social desk",
                                 all=(esc.Condition("volume_z", ">", 3.0),)),))
    with pytest.raises(esc.PolicyError, match="cannot write this policy as an edit"):
        esc.save_policy(other, tmp_path / "x.yaml", like=plan_file)
    assert not (tmp_path / "x.yaml").exists()
    with pytest.raises(esc.PolicyError, match="plan file not found"):
        esc.save_policy(other, tmp_path / "x.yaml", like=tmp_path / "missing.yaml")


def test_the_sample_plan_calibrated_keeps_its_comments(sample_dir, tmp_path):
    inputs = esc.load_inputs(sample_dir, freq="1h")
    fit = esc.calibrate(inputs.features, inputs.incidents.data, template=inputs.policy,
                        max_false_per_week=2)
    out = esc.save_policy(fit.policy, tmp_path / "fitted.yaml", like=sample_dir / "policy.yaml")
    text = out.read_text(encoding="utf-8")
    source = (sample_dir / "policy.yaml").read_text(encoding="utf-8")
    comments = [line for line in source.splitlines() if line.lstrip().startswith("#")]
    assert comments and all(line in text.splitlines() for line in comments)
    assert esc.load_policy(out) == fit.policy
    for value in fit.policy.get_params().values():  # 3 significant digits at most
        assert len(f"{float(value):.15g}".replace(".", "").replace("-", "").strip("0")) <= 3
