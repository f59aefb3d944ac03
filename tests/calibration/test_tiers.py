"""Tiers that stay tiers (issue 9): calibrated tiers nested and distinct, fewer tiers (with the
reason) when the incident log cannot separate them, no plan escalated all the time, and
thresholds a person would type — on generated histories and on the airline-shaped week."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from airline_shaped import T0 as AIR_T0
from airline_shaped import features as air_features
from airline_shaped import incidents as air_incidents
from hourly_topics import T0, hourly_features
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import esc_analytics as esc
from esc_analytics.backtesting import MatchRules
from esc_analytics.backtesting._backtest import CostModel
from esc_analytics.calibration import CalibrationError
from esc_analytics.calibration._sweep import calibrate as calibrate_fresh
from esc_analytics.calibration._template import (
    _notifications,
    _prepare,
    _threshold_params,
    sweep_threshold,
)
from esc_analytics.calibration._tiers import (
    MAX_ESCALATED_SHARE,
    open_thresholds,
    readable_condition_value,
    readable_threshold,
    rounding_options,
)

HOUR = pd.Timedelta("1h")


_features = hourly_features


def _incidents(rows: list[tuple[str, int, float, int]]) -> pd.DataFrame:
    """(topic, start hour, hours, severity) -> incidents."""
    return pd.DataFrame(
        {
            "incident_id": [f"i{i}" for i in range(len(rows))],
            "topic": [r[0] for r in rows],
            "started_at": [T0 + HOUR * r[1] for r in rows],
            "ended_at": [T0 + HOUR * r[1] + pd.Timedelta(hours=r[2]) for r in rows],
            "severity": [r[3] for r in rows],
        }
    )


def _significant_digits(value: float) -> int:
    text = f"{abs(value):.15g}".replace(".", "").lstrip("0")
    return len(text.split("e")[0].rstrip("0")) if text else 1


def _alone(tier: esc.Tier) -> esc.Policy:
    """One tier's rule as a one-tier plan (its windows, whatever the other tiers do)."""
    return esc.Policy((esc.Tier(1, "t", "o", all=tier.all, any=tier.any,
                                persistence=tier.persistence, cooldown=tier.cooldown),))


# ------------------------------------------------------------------ generated histories
@st.composite
def _histories(draw, every_tier: bool = False):
    n = draw(st.integers(24, 60))
    topics = {}
    for topic in ("a", "b")[: draw(st.integers(1, 2))]:
        base = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
        bumps = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(2, 9)), max_size=6))
        values = [float(v) for v in base]
        for at, height in bumps:
            values[at] = float(height)
        topics[topic] = values
    rows = []
    severities = [1, 2, 3] if every_tier else []
    severities += draw(st.lists(st.integers(1, 3), min_size=0 if every_tier else 1, max_size=4))
    for severity in severities:
        topic = draw(st.sampled_from(sorted(topics)))
        rows.append((topic, draw(st.integers(0, n - 1)), draw(st.sampled_from([0.5, 2, 4])),
                     severity))
    options = {
        "max_false_per_week": draw(st.sampled_from([0.0, 3.0, 1e9])),
        "persistence_grid": draw(st.sampled_from([(1,), (1, 2)])),
        "cooldown_grid": draw(st.sampled_from([(0,), (0, 3)])),
        "max_early": draw(st.sampled_from(["0h", "2h"])),
        "objective": draw(st.sampled_from(["recall", "recall", "cost"])),
    }
    return _features(topics), _incidents(rows), options


def _fit(features, incidents, options):
    return esc.calibrate(features, incidents, n_tiers=3, feature_candidates=["volume_z"],
                         n_thresholds=60, **options)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_histories())
def test_calibrated_tiers_are_nested_and_each_strictly_harder(case):
    features, incidents, options = case
    result = _fit(features, incidents, options)
    tiers = result.policy.tiers
    rules = [(t.all[0].feature, t.all[0].op, t.cooldown) for t in tiers]
    assert all(len(t.all) == 1 and not t.any for t in tiers)
    assert len(set(rules)) == 1  # one measure, one operator, one cooldown
    values = [t.all[0].value for t in tiers]
    assert values == sorted(values) and len(set(values)) == len(values)  # strictly higher
    assert all(a.persistence <= b.persistence for a, b in itertools.pairwise(tiers))
    # nested: every window escalated by tier k+1's rule is escalated by tier k's; and each
    # tier escalates windows the next one does not (tier k can page on its own)
    alone = [esc.evaluate(_alone(t), features).windows["tier"].to_numpy() > 0 for t in tiers]
    for lower, upper in itertools.pairwise(alone):
        assert not (upper & ~lower).any()
        assert (lower & ~upper).any()
    plan = esc.evaluate(result.policy, features).windows["tier"].to_numpy()
    for k, mine in enumerate(alone, start=1):
        assert np.array_equal(plan >= k, mine)
    # thresholds a person would type (the data are whole numbers: 3 digits always fit)
    assert all(_significant_digits(value) <= 3 for value in values), values


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_histories(every_tier=True))
def test_with_an_incident_per_tier_tiers_are_distinct_and_catch_one_or_say_why(case):
    features, incidents, options = case
    result = _fit(features, incidents, options)
    tiers = result.policy.tiers
    assert len({(t.all, t.persistence, t.cooldown) for t in tiers}) == len(tiers)
    notes = "\n".join(result.notes)
    caught = result.backtest.tiers.set_index("tier")["caught"]
    for tier in tiers:
        if caught.get(tier.level, 0) == 0:
            assert tier.level == 1 and "tier 1 catches none" in notes
    if len(tiers) < 3:
        assert f"tier {len(tiers) + 1} not written" in notes
    # the sweep's figures for the chosen tiers are the exact backtest's
    chosen = result.chosen.set_index("tier")
    if len(tiers) == 1:
        assert chosen.at[1, "caught"] == caught.get(1, 0)


# ------------------------------------------------------------------ time in an open episode
def _open_quiet_share(policy, features, incidents, max_early):
    """Brute force: quiet rows (outside every incident's match window) inside an episode of
    evaluate(policy), over all quiet rows."""
    escal = esc.evaluate(policy, features)
    prep = _prepare(features, incidents, MatchRules.of(max_early=max_early), CostModel(), None)
    frame = prep.features
    inside = np.zeros(len(frame), dtype=bool)
    for ep in escal.episodes.itertuples(index=False):
        inside |= ((frame["topic"] == ep.topic) & (frame["window_start"] >= ep.started_at)
                   & (frame["window_start"] < ep.ended_at)).to_numpy()
    quiet = ~prep.in_window
    return (inside & quiet).sum() / max(quiet.sum(), 1)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_histories(), cooldown=st.integers(0, 6), persistence=st.integers(1, 2))
def test_open_share_is_the_quiet_time_inside_episodes(case, cooldown, persistence):
    features, incidents, _ = case
    thresholds = [0.5, 1.5, 2.5, 4.5, 8.5]
    result = calibrate_fresh(
        features, incidents, n_tiers=1, feature_candidates=["volume_z"],
        thresholds={"volume_z": thresholds}, persistence_grid=(persistence,),
        cooldown_grid=(cooldown,), max_early="2h", max_false_per_week=1e9,
        max_escalated_share=1.0, run_backtest=False,
    )
    table = result.candidates.set_index("threshold")
    for t in thresholds:
        policy = esc.Policy((esc.Tier(1, "w", "o", all=(esc.Condition("volume_z", ">", t),),
                                      persistence=persistence, cooldown=cooldown),))
        expected = _open_quiet_share(policy, features, incidents, "2h")
        assert table.at[t, "open_share"] == pytest.approx(expected)
    # the template sweep measures the same, refractory periods included
    template = esc.Policy((esc.Tier(1, "w", "o", all=(esc.Condition("volume_z", ">", 1.0),),
                                    persistence=persistence, cooldown=cooldown, refractory=4),))
    prep = _prepare(features, incidents, MatchRules.of(max_early="2h"), CostModel(), None)
    param = _threshold_params(template)["tier1__volume_z"]
    swept = sweep_threshold(prep, template, param, thresholds)
    for t, share in zip(thresholds, swept["open_share"], strict=True):
        expected = _open_quiet_share(template.set_params(tier1__volume_z=t), features,
                                     incidents, "2h")
        assert share == pytest.approx(expected)


def test_open_thresholds_by_hand():
    # escalated at 0, 3 and 7 for t < 5; cooldown 2 bridges 1-2 (gap 2), not 4-6 (gap 3)
    held = np.array([5.0, 0, 0, 5, 0, 0, 0, 5, -np.inf, 3])
    opened = open_thresholds(held, [slice(0, 10)], 2)
    assert np.flatnonzero(opened > 1).tolist() == [0, 1, 2, 3, 7, 8, 9]
    assert np.flatnonzero(opened > 4).tolist() == [0, 1, 2, 3, 7]
    assert np.array_equal(open_thresholds(held, [slice(0, 10)], 0), held)


def test_an_endless_episode_is_no_plan():
    """An incident in quiet hours and no false alarm allowed: a low threshold with a long
    cooldown keeps the topic escalated for good — one episode from the first hours, one
    notification that "catches" the incident, "no false alarm". Never chosen, never on the
    frontier: the plan chosen catches nothing and says so."""
    rng = np.random.default_rng(3)
    features = _features({"a": list(rng.normal(0, 1, 24 * 14))})
    incidents = _incidents([("a", 5, 2, 1)])
    result = esc.calibrate(features, incidents, n_tiers=1, feature_candidates=["volume_z"],
                           persistence_grid=(1,), cooldown_grid=(24,), max_false_per_week=0.0)
    cands = result.candidates
    trap = cands[(cands["caught"] == 1) & (cands["false_alerts"] == 0)]
    assert len(trap) and (trap["open_share"] > 0.9).all()  # the trap exists...
    assert (result.frontier["open_share"] <= MAX_ESCALATED_SHARE).all()  # ...and is avoided
    assert result.chosen["open_share"].max() <= MAX_ESCALATED_SHARE
    assert result.backtest.tiers["caught"].tolist() == [0]
    assert result.notes[0].startswith("tier 1 catches none of the 1 incident: no rule keeps")


# ------------------------------------------------------------------ readable thresholds
@pytest.mark.parametrize(
    ("value", "bound", "direction", "expected"),
    [
        (3.4391, 3.52, "up", 3.44),
        (3.125000000000001, np.inf, "up", 3.13),
        (3.125000000000001, 3.1251, "up", 3.12501),  # a data value close above: more digits
        (2.54321, 2.5, "down", 2.54),
        (-4.0, -np.inf, "down", -4.0),
        (1234.5, np.inf, "up", 1240.0),
        (0.0123456, 1.0, "up", 0.0124),
    ],
)
def test_readable_threshold(value, bound, direction, expected):
    assert readable_threshold(value, bound, direction) == expected


def test_rounding_options_and_condition_values():
    assert rounding_options(3.4391) == [3.44, 3.43]  # nearest (= up), then down
    assert rounding_options(4.5) == [4.5]
    assert rounding_options(2.726) == [2.73, 2.72]
    data = np.array([1.0, 2.5, 3.4391, 3.52])
    # ">" and "<=" round up, ">=" and "<" down: every data value keeps its side
    for op, expected in ((">", 3.44), ("<=", 3.44), (">=", 3.43), ("<", 3.43)):
        value = readable_condition_value(data, op, 3.4391)
        assert value == expected
        holds = {">": data > value, "<=": data <= value, ">=": data >= value, "<": data < value}
        before = {">": data > 3.4391, "<=": data <= 3.4391, ">=": data >= 3.4391,
                  "<": data < 3.4391}
        assert np.array_equal(holds[op], before[op])


def test_written_thresholds_catch_what_the_fit_caught():
    features = air_features()
    result = esc.calibrate(features, air_incidents(), n_tiers=3, max_false_per_week=2)
    for tier in result.policy.tiers:
        (condition,) = tier.all
        assert _significant_digits(condition.value) <= 3, condition
    exact = result.backtest.tiers.set_index("tier")
    for row in result.chosen.itertuples(index=False):
        assert exact.at[row.tier, "caught"] == row.caught


# ------------------------------------------------------------------ the airline-shaped week
def test_airline_shaped_three_tiers_are_distinct_and_nested():
    """Busy topic: AIR-1 (severity 3) and AIR-2 (severity 1, starting while AIR-1 runs) in one
    surge, AIR-3 (severity 2) a smaller one; AIR-4 on the zero-baseline topic, AIR-5 in the
    late topic's first day. Three tiers on one measure, strictly harder each: tier 3 pages
    for AIR-1 only, tier 2 for AIR-1 and AIR-3; tier 1 reaches three of the five."""
    features, incidents = air_features(), air_incidents()
    result = esc.calibrate(features, incidents, n_tiers=3, max_false_per_week=2)
    tiers = result.policy.tiers
    assert [t.level for t in tiers] == [1, 2, 3]
    assert len({t.all[0].feature for t in tiers}) == 1
    values = [t.all[0].value for t in tiers]
    assert values[0] < values[1] < values[2]
    assert result.notes == ()
    bt = result.backtest
    assert bt.tiers.set_index("tier")["caught"].to_dict() == {1: 3, 2: 2, 3: 1}
    reached = bt.incidents.set_index("incident_id")["tier_reached"]
    assert reached["AIR-1"] == 3 and reached["AIR-3"] == 2
    plan = esc.evaluate(result.policy, features).windows["tier"]
    assert set(plan.unique()) == {0, 1, 2, 3}  # every tier pages on its own somewhere


def test_airline_shaped_without_a_severity_3_incident_gives_two_tiers_and_says_why():
    features = air_features()
    incidents = air_incidents().assign(severity=[2, 1, 2, 1, 1])  # AIR-1 now severity 2
    result = esc.calibrate(features, incidents, n_tiers=3, max_false_per_week=2)
    assert [t.level for t in result.policy.tiers] == [1, 2]
    (note,) = result.notes
    assert note.startswith("tier 3 not written: the history has no incident of severity >= 3")
    assert note in result.summary()
    assert "2 of the 3 tiers asked" in result.policy.description


def test_airline_shaped_crisis_incident_no_rule_can_separate():
    # The severity-3 incident is AIR-4: nine posts on the almost silent topic. No rule harder
    # than tier 2 catches it: tier 3 is not written, and the note names the tier-2 rule.
    features = air_features()
    incidents = air_incidents().assign(severity=[1, 1, 2, 3, 1])
    result = esc.calibrate(features, incidents, n_tiers=3, max_false_per_week=2)
    assert len(result.policy.tiers) == 2
    tier2 = result.policy.tiers[1]
    (note,) = result.notes
    assert note.startswith(f"tier 3 not written: no rule harder than tier 2 "
                           f"({tier2.describe_conditions()} for {tier2.persistence}")
    assert "catches the 1 incident of severity >= 3 on this history" in note


AIRLINE_PLAN = {
    "name": "Airline plan",
    "tiers": [
        {"level": 1, "name": "Community manager", "owner": "Community team",
         "all": ["volume_z >= 1.5"], "for": 1, "cooldown": 3},
        {"level": 2, "name": "Social lead and PR", "owner": "PR on call",
         "all": ["volume_z >= 3", "volume_ratio >= 3"], "for": 1, "cooldown": 3},
        {"level": 3, "name": "Executive crisis team", "owner": "Head of communications",
         "all": ["volume_z >= 6", "volume_ratio >= 8"], "for": 1, "cooldown": 6,
         "refractory": 12},
    ],
}


def test_airline_shaped_team_plan_keeps_its_structure():
    plan = esc.Policy.from_dict(AIRLINE_PLAN)
    features, incidents = air_features(), air_incidents()
    result = esc.calibrate(features, incidents, template=plan, max_false_per_week=2)
    assert isinstance(result, esc.TemplateCalibrationResult)
    fitted = result.policy
    for before, after in zip(plan.tiers, fitted.tiers, strict=True):
        assert (before.name, before.owner, before.persistence, before.cooldown,
                before.refractory) == (after.name, after.owner, after.persistence,
                                       after.cooldown, after.refractory)
        assert [(c.feature, c.op) for c in before.all] == [(c.feature, c.op) for c in after.all]
    p = fitted.get_params()
    assert p["tier1__volume_z"] < p["tier2__volume_z"] < p["tier3__volume_z"]  # still apart
    assert result.backtest.tiers.set_index("tier")["caught"].to_dict() == {1: 3, 2: 2, 3: 1}
    # the sweep's figures of the written plan are the exact backtest's (refractory included)
    point = result.chosen_point
    exact = result.backtest.tiers.set_index("tier")
    for k in (1, 2, 3):
        assert point[f"caught_{k}"] == exact.at[k, "caught"]
        assert point[f"notifications_{k}"] == exact.at[k, "notifications"]


def test_airline_shaped_team_plan_tier_without_incidents_keeps_the_plans_thresholds():
    plan = esc.Policy.from_dict(AIRLINE_PLAN)
    incidents = air_incidents().assign(severity=[2, 1, 2, 1, 1])
    result = esc.calibrate(air_features(), incidents, template=plan, max_false_per_week=2)
    p, before = result.policy.get_params(), plan.get_params()
    assert (p["tier3__volume_z"], p["tier3__volume_ratio"]) == (6.0, 8.0)
    assert result.settings["kept_tiers"] == (3,)
    (note,) = result.notes
    assert note.startswith("tier 3 'Executive crisis team' keeps the plan's thresholds: the "
                           "history has no incident of severity >= 3")
    assert "(plan's value kept)" in result.summary() and note in result.summary()
    assert p["tier2__volume_z"] >= before["tier1__volume_z"]


def test_replacing_a_plans_conditions_is_said_tier_by_tier():
    plan = esc.Policy.from_dict(AIRLINE_PLAN)
    result = esc.calibrate(air_features(), air_incidents(), template=plan,
                           replace_conditions=True, max_false_per_week=2)
    assert [(t.name, t.owner) for t in result.policy.tiers] == [
        (t.name, t.owner) for t in plan.tiers
    ]
    for tier in plan.tiers:
        label = f"tier {tier.level} {tier.name!r}: the plan's conditions "
        assert any(n.startswith(label) and "are replaced by" in n for n in result.notes)
    assert "are replaced by" in result.summary()


def test_a_template_refuses_options_that_shape_a_fresh_plan():
    plan = esc.Policy.from_dict(AIRLINE_PLAN)
    with pytest.raises(CalibrationError, match="replace_conditions=True"):
        esc.calibrate(air_features(), air_incidents(), template=plan,
                      feature_candidates=["volume_z"])
    with pytest.raises(CalibrationError, match="the plan has 3 tiers"):
        esc.calibrate(air_features(), air_incidents(), template=plan, n_tiers=2)


def test_a_plan_tier_that_would_catch_nothing_keeps_the_plans_thresholds():
    # Tier 2's only incident sits where volume_z never rises: no value of tier 2's threshold
    # catches it within the budget, so tier 2 keeps the plan's value instead of being pushed
    # to a threshold that never fires.
    z = [0.0] * 72
    z[10], z[40], z[41] = 6.0, 3.0, 3.0
    features = _features({"a": z})
    incidents = _incidents([("a", 10, 1, 1), ("a", 60, 1, 2)])
    plan = esc.Policy.from_dict({"tiers": [
        {"level": 1, "name": "watch", "owner": "desk", "all": ["volume_z >= 2"]},
        {"level": 2, "name": "page", "owner": "lead", "all": ["volume_z >= 5"]},
    ]})
    result = esc.calibrate_policy(plan, features, incidents, max_false_per_week=0.0,
                                  max_early="0h")
    assert result.policy.get_params()["tier2__volume_z"] == 5.0
    (note,) = result.notes
    assert note.startswith("tier 2 'page' keeps the plan's thresholds: no value of its "
                           "thresholds") and "catches any of its 1 incident(s)" in note
    assert result.policy.get_params()["tier1__volume_z"] < 5.0  # tier 1 still below it


# ------------------------------------------------------------------ refractory vs evaluate
@settings(max_examples=60, deadline=None)
@given(
    tiers=st.lists(st.integers(0, 3), min_size=1, max_size=60),
    gaps=st.lists(st.integers(0, 3), min_size=60, max_size=60),
    cooldown=st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 5)),
    refractory=st.tuples(st.integers(0, 9), st.integers(0, 9), st.integers(0, 9)),
    split=st.integers(0, 60),
)
def test_episode_links_match_evaluate_with_refractory(tiers, gaps, cooldown, refractory, split):
    """The fast sweep's episodes are evaluate's: windows with missing ones in between, two
    topics, per-tier cooldowns and refractory periods."""
    n = len(tiers)
    positions = np.cumsum([1 + g for g in gaps[:n]])
    topics = np.where(np.arange(n) < split, 0, 1)
    windows = pd.DataFrame({
        "topic": np.where(topics == 0, "a", "b"),
        "window_start": AIR_T0 + HOUR * positions,
        "tier": tiers,
    })
    escal = esc.escalations_from_tiers(
        windows, freq="1h", cooldown=dict(enumerate(cooldown, start=1)),
        refractory=dict(enumerate(refractory, start=1)),
    )
    expected = np.where(escal.windows["escalation"].to_numpy() == 1, tiers, 0)
    active = np.flatnonzero(np.asarray(tiers) > 0)
    got = np.zeros(n, dtype=int)
    if len(active):
        notes = _notifications(
            np.asarray(tiers, dtype=np.int8)[active][None, :], positions[active],
            topics[active], np.array([0, *cooldown]), np.array([0, *refractory]),
        )
        got[active] = notes[0]
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_histories(every_tier=True), refractory=st.integers(0, 6))
def test_a_team_plans_tiers_each_catch_one_or_say_why(case, refractory):
    """The template path on any log with an incident per tier: tiers stay in the plan's strict
    order, and a tier that catches nothing in the exact backtest says why in the notes."""
    features, incidents, options = case
    plan = esc.Policy.from_dict({"tiers": [
        {"level": 1, "name": "watch", "owner": "desk", "all": ["volume_z >= 1"], "cooldown": 2},
        {"level": 2, "name": "page", "owner": "lead", "all": ["volume_z >= 3"], "cooldown": 2},
        {"level": 3, "name": "crisis", "owner": "head", "all": ["volume_z >= 5"],
         "cooldown": 2, "refractory": refractory},
    ]})
    result = esc.calibrate(features, incidents, template=plan, objective=options["objective"],
                           max_false_per_week=options["max_false_per_week"],
                           max_early=options["max_early"])
    p = result.policy.get_params()
    assert p["tier1__volume_z"] < p["tier2__volume_z"] < p["tier3__volume_z"]
    caught = result.backtest.tiers.set_index("tier")["caught"]
    notes = "\n".join(result.notes)
    for tier in result.policy.tiers:
        if caught.get(tier.level, 0) == 0:
            assert f"tier {tier.level} {tier.name!r} keeps the plan's thresholds" in notes
