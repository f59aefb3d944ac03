"""Evaluation semantics: persistence, episodes, cooldown, notifications; policy conditions.

Hand-computed tables, a row-by-row reference implementation compared with the vectorised one
on random inputs, and the monotonicity property of thresholds.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esc_analytics import Condition, Policy, Tier
from esc_analytics._util.errors import DataLoadError, PolicyError
from esc_analytics._util.schema import (
    EPISODE_COLUMNS,
    ESCALATION_WINDOW_COLUMNS,
    NOTIFICATION_COLUMNS,
    infer_freq,
)
from esc_analytics.escalations._evaluate import (
    escalations_from_tiers,
    evaluate,
    prepare_grid,
    raw_tiers,
)

T0 = pd.Timestamp("2026-03-01 00:00", tz="UTC")
HOUR = pd.Timedelta("1h")


def _windows(tiers: list[int], topic: str = "a") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "topic": [topic] * len(tiers),
            "window_start": T0 + HOUR * np.arange(len(tiers)),
            "tier": tiers,
        }
    )


def _episode_spans(esc, freq=HOUR) -> list[tuple[int, int, int]]:
    """Episodes as (first window index, last window index, tier)."""
    return [
        (
            int((row.started_at - T0) / freq),
            int((row.ended_at - T0) / freq) - 1,
            int(row.tier),
        )
        for row in esc.episodes.itertuples()
    ]


# --- escalations_from_tiers: hand-computed cases ----------------------------------------------
CASES = [
    # id, raw tiers, persistence, cooldown, tiers after persistence, notifications, episodes
    (
        "persistence 2: true at 2,3,4 -> tier from 3",
        [0, 0, 1, 1, 1, 0, 0],
        2,
        0,
        [0, 0, 0, 1, 1, 0, 0],
        [0, 0, 0, 1, 0, 0, 0],
        [(3, 4, 1)],
    ),
    ("persistence 3 never reached", [1, 1, 0, 1, 1, 0], 3, 0, [0] * 6, [0] * 6, []),
    (
        "cooldown 0: a quiet window splits episodes",
        [1, 0, 1],
        1,
        0,
        [1, 0, 1],
        [1, 0, 1],
        [(0, 0, 1), (2, 2, 1)],
    ),
    (
        "cooldown 2 bridges 2 quiet windows, not 3",
        [1, 0, 0, 1, 0, 0, 0, 1],
        1,
        2,
        [1, 0, 0, 1, 0, 0, 0, 1],
        [1, 0, 0, 0, 0, 0, 0, 1],
        [(0, 3, 1), (7, 7, 1)],
    ),
    (
        "rising tier in one episode: two notifications",
        [1, 2, 2, 1, 0],
        1,
        0,
        [1, 2, 2, 1, 0],
        [1, 1, 0, 0, 0],
        [(0, 3, 2)],
    ),
    (
        "falling then rising to the same tier again: no new notification",
        [1, 2, 1, 2],
        1,
        0,
        [1, 2, 1, 2],
        [1, 1, 0, 0],
        [(0, 3, 2)],
    ),
    (
        "lower tier within cooldown continues the episode",
        [2, 0, 1],
        1,
        3,
        [2, 0, 1],
        [1, 0, 0],
        [(0, 2, 2)],
    ),
    (
        "higher tier within cooldown starts a new episode",
        [1, 0, 2],
        1,
        3,
        [1, 0, 2],
        [1, 0, 1],
        [(0, 0, 1), (2, 2, 2)],
    ),
    (
        "bridged episode that then rises notifies the rise",
        [2, 0, 1, 3, 0],
        1,
        2,
        [2, 0, 1, 3, 0],
        [1, 0, 0, 1, 0],
        [(0, 3, 3)],
    ),
    (
        "cooldown of the episode's tier applies",
        [2, 0, 0, 1, 0, 1],
        1,
        {1: 0, 2: 5},
        [2, 0, 0, 1, 0, 1],
        [1, 0, 0, 0, 0, 0],
        [(0, 5, 2)],
    ),
    (
        "tier-1 cooldown 0 does not bridge",
        [1, 0, 1],
        1,
        {1: 0, 2: 5},
        [1, 0, 1],
        [1, 0, 1],
        [(0, 0, 1), (2, 2, 1)],
    ),
    (
        "persistence per tier: tier 2 needs 3 windows",
        [2, 2, 2, 0],
        {2: 3},
        0,
        [1, 1, 2, 0],
        [1, 0, 1, 0],
        [(0, 2, 2)],
    ),
    (
        "persistence counts raw tier >= k: a tier-1 window breaks tier 2's run",
        [1, 2, 1, 2],
        {2: 2},
        0,
        [1, 1, 1, 1],
        [1, 0, 0, 0],
        [(0, 3, 1)],
    ),
    (
        "persistence then cooldown 1: two episodes",
        [1, 1, 0, 1, 1],
        2,
        1,
        [0, 1, 0, 0, 1],
        [0, 1, 0, 0, 1],
        [(1, 1, 1), (4, 4, 1)],
    ),
    (
        "persistence then cooldown 2: one episode",
        [1, 1, 0, 1, 1],
        2,
        2,
        [0, 1, 0, 0, 1],
        [0, 1, 0, 0, 0],
        [(1, 4, 1)],
    ),
    ("nothing escalates", [0, 0, 0], 1, 5, [0, 0, 0], [0, 0, 0], []),
]


@pytest.mark.parametrize(
    "raw, persistence, cooldown, tiers, notes, episodes",
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_escalations_from_tiers_hand_computed(
    raw, persistence, cooldown, tiers, notes, episodes
) -> None:
    esc = escalations_from_tiers(_windows(raw), persistence=persistence, cooldown=cooldown)
    assert esc.windows["tier"].tolist() == tiers
    assert esc.windows["escalation"].tolist() == notes
    assert _episode_spans(esc) == episodes
    assert esc.notifications["window_start"].tolist() == [
        T0 + HOUR * i for i, flag in enumerate(notes) if flag
    ]
    assert (esc.notifications["alerted_at"] == esc.notifications["window_start"] + HOUR).all()


# refractory r: a run starting at most r windows after the episode's first window (same or
# lower tier) continues the episode, whatever the quiet windows in between
REFRACTORY_CASES = [
    # id, raw tiers, cooldown, refractory, notifications, episodes
    ("refractory 0 changes nothing", [1, 0, 1, 0, 1], 0, 0, [1, 0, 1, 0, 1],
     [(0, 0, 1), (2, 2, 1), (4, 4, 1)]),
    ("refractory 3 silences the wobbles after a page", [1, 0, 1, 0, 1, 0, 0, 0, 1], 0, 3,
     [1, 0, 0, 0, 1, 0, 0, 0, 1], [(0, 2, 1), (4, 4, 1), (8, 8, 1)]),
    ("refractory 4 reaches the third run", [1, 0, 1, 0, 1, 0, 0, 0, 1], 0, 4,
     [1, 0, 0, 0, 0, 0, 0, 0, 1], [(0, 4, 1), (8, 8, 1)]),
    ("refractory counts from the page, not from the last escalated window",
     [1, 1, 1, 1, 0, 1], 0, 4, [1, 0, 0, 0, 0, 1], [(0, 3, 1), (5, 5, 1)]),
    ("a higher tier inside the refractory period pages", [1, 0, 2, 0, 1], 0, 10,
     [1, 0, 1, 0, 0], [(0, 0, 1), (2, 4, 2)]),
    ("cooldown still bridges quiet windows after the refractory period",
     [1, 0, 0, 0, 1, 0, 1], 1, 2, [1, 0, 0, 0, 1, 0, 0], [(0, 0, 1), (4, 6, 1)]),
]


@pytest.mark.parametrize(
    "raw, cooldown, refractory, notes, episodes",
    [case[1:] for case in REFRACTORY_CASES],
    ids=[case[0] for case in REFRACTORY_CASES],
)
def test_refractory_hand_computed(raw, cooldown, refractory, notes, episodes) -> None:
    esc = escalations_from_tiers(_windows(raw), cooldown=cooldown, refractory=refractory)
    assert esc.windows["escalation"].tolist() == notes
    assert _episode_spans(esc) == episodes


def test_policy_refractory_round_trips_and_is_a_flat_parameter() -> None:
    tier = Tier(1, "Watch", "CM", all=["volume_ratio >= 2"], refractory=24)
    policy = Policy([tier])
    assert policy.get_params()["tier1__refractory"] == 24
    assert Policy.from_yaml(policy.to_yaml()) == policy
    assert "refractory: 24" in policy.to_yaml()
    assert "refractory" not in Policy([Tier(1, "", "", all=["volume > 1"])]).to_yaml()
    features = pd.DataFrame(
        {"topic": "a", "window_start": T0 + HOUR * np.arange(6), "volume_ratio": [3, 0, 3, 0, 0, 3]}
    )
    windows = evaluate(policy.set_params(tier1__refractory=4), features).windows
    assert windows["escalation"].tolist() == [1, 0, 0, 0, 0, 1]


def test_notification_rows_name_their_episode_and_tier() -> None:
    esc = escalations_from_tiers(_windows([1, 2, 0, 0, 0, 1]), cooldown=1)
    assert esc.notifications["tier"].tolist() == [1, 2, 1]
    first, second = esc.episodes["episode_id"].tolist()
    assert esc.notifications["episode_id"].tolist() == [first, first, second]
    assert esc.episodes["tier"].tolist() == [2, 1]


def test_a_missing_window_breaks_persistence_and_counts_as_quiet_for_cooldown() -> None:
    frame = pd.DataFrame(
        {"topic": "a", "window_start": T0 + HOUR * np.array([0, 1, 3, 4]), "tier": [1, 1, 1, 1]}
    )
    assert escalations_from_tiers(frame, persistence=3).windows["tier"].tolist() == [0] * 4
    assert len(escalations_from_tiers(frame, cooldown=0).episodes) == 2
    assert len(escalations_from_tiers(frame, cooldown=1).episodes) == 1


def test_topics_are_independent_and_input_order_is_kept() -> None:
    # two topics interleaved, newest first: persistence 2 must count per topic
    times = T0 + HOUR * np.array([3, 3, 2, 2, 1, 1, 0, 0])
    frame = pd.DataFrame(
        {
            "topic": ["a", "b"] * 4,
            "window_start": times,
            "tier": [1, 0, 1, 1, 0, 1, 1, 0],
        }
    )
    # a (times 0..3): 1,0,1,1 -> persisted 0,0,0,1 ; b: 0,1,1,0 -> 0,0,1,0
    esc = escalations_from_tiers(frame, persistence=2)
    assert esc.windows["topic"].tolist() == frame["topic"].tolist()
    assert (esc.windows["window_start"] == frame["window_start"]).all()
    assert esc.windows["tier"].tolist() == [1, 0, 0, 1, 0, 0, 0, 0]
    assert esc.windows["escalation"].tolist() == [1, 0, 0, 1, 0, 0, 0, 0]
    # episodes and notifications are chronological
    assert esc.episodes["topic"].tolist() == ["b", "a"]
    assert esc.notifications["topic"].tolist() == ["b", "a"]
    assert esc.episodes["episode_id"].is_unique


def test_output_contract_columns_and_types() -> None:
    esc = escalations_from_tiers(_windows([0, 1, 1, 0]))
    assert tuple(esc.windows.columns) == ESCALATION_WINDOW_COLUMNS
    assert tuple(esc.episodes.columns) == EPISODE_COLUMNS
    assert tuple(esc.notifications.columns) == NOTIFICATION_COLUMNS
    assert pd.api.types.is_string_dtype(esc.episodes["episode_id"])
    assert pd.api.types.is_string_dtype(esc.notifications["episode_id"])
    assert str(esc.episodes["started_at"].dt.tz) == "UTC"
    assert esc.freq == HOUR
    empty = escalations_from_tiers(_windows([0, 0, 0]))
    assert tuple(empty.episodes.columns) == EPISODE_COLUMNS and empty.episodes.empty
    assert tuple(empty.notifications.columns) == NOTIFICATION_COLUMNS


def test_freq_is_inferred_like_infer_freq_or_taken_from_the_caller() -> None:
    frame = pd.DataFrame(
        {
            "topic": ["a", "a", "b", "b"],
            "window_start": T0 + pd.Timedelta("10min") * np.array([0, 1, 0, 2]),
            "tier": [1, 1, 1, 1],
        }
    )
    inferred = escalations_from_tiers(frame)
    assert inferred.freq == infer_freq(frame) == pd.Timedelta("10min")
    # with 10-minute windows, a's two windows are consecutive and b's are not
    assert sorted(inferred.episodes["topic"]) == ["a", "b", "b"]
    gaps = inferred.notifications["alerted_at"] - inferred.notifications["window_start"]
    assert (gaps == pd.Timedelta("10min")).all()
    # with 5-minute windows nothing is consecutive
    given_freq = escalations_from_tiers(frame, freq="5min")
    assert given_freq.freq == pd.Timedelta("5min")
    assert len(given_freq.episodes) == 4
    with pytest.raises(DataLoadError, match="freq"):
        escalations_from_tiers(frame, freq="30min")  # b's windows would share a window


def test_naive_times_are_taken_as_utc() -> None:
    frame = _windows([1, 0])
    frame["window_start"] = frame["window_start"].dt.tz_localize(None)
    esc = escalations_from_tiers(frame)
    assert str(esc.windows["window_start"].dt.tz) == "UTC"
    assert esc.episodes["started_at"].iloc[0] == T0


@pytest.mark.parametrize(
    "frame, kwargs, error, words",
    [
        (_windows([1, 2]).drop(columns="tier"), {}, DataLoadError, ["tier"]),
        (_windows([1, 2]).drop(columns="topic"), {}, DataLoadError, ["topic"]),
        (_windows([1, -1]), {}, DataLoadError, ["integers >= 0"]),
        (_windows([1, 2]).assign(tier=[1.5, 0]), {}, DataLoadError, ["integers >= 0"]),
        (pd.concat([_windows([1, 2]), _windows([1])]), {}, DataLoadError, ["duplicate window"]),
        (_windows([1]), {}, DataLoadError, ["freq="]),
        (_windows([1, 0]), {"persistence": 0}, PolicyError, ["persistence", ">= 1"]),
        (_windows([1, 0]), {"cooldown": {1: -1}}, PolicyError, ["cooldown[1]", ">= 0"]),
    ],
)
def test_escalations_from_tiers_rejects_bad_input(frame, kwargs, error, words) -> None:
    with pytest.raises(error) as caught:
        escalations_from_tiers(frame, **kwargs)
    for word in words:
        assert word in str(caught.value)


# --- evaluate: policy conditions ------------------------------------------------------------
def _features(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"topic": "a", "window_start": T0 + HOUR * np.arange(n), **columns})


def _policy(*tiers: Tier) -> Policy:
    return Policy(tiers)


def test_highest_tier_whose_conditions_hold_wins() -> None:
    policy = _policy(
        Tier(1, "watch", "team", all=["volume_ratio >= 2"]),
        Tier(2, "escalate", "lead", all=["volume_ratio >= 4"]),
        Tier(3, "crisis", "exec", any=["negative_share > 0.8"]),
    )
    features = _features(
        volume_ratio=[1.0, 3.0, 5.0, 1.0, 5.0], negative_share=[0.0, 0.0, 0.0, 0.9, 0.9]
    )
    assert raw_tiers(policy, features).tolist() == [0, 1, 2, 3, 3]
    assert evaluate(policy, features).windows["tier"].tolist() == [0, 1, 2, 3, 3]


@pytest.mark.parametrize(
    "a, b, c, d, expected",
    [
        (1, 1, 1, 0, 1),
        (1, 1, 0, 1, 1),
        (1, 1, 0, 0, 0),  # no `any` alternative
        (1, 0, 1, 1, 0),  # one `all` condition fails
        (0, 0, 1, 1, 0),
    ],
)
def test_all_and_any(a, b, c, d, expected) -> None:
    policy = _policy(
        Tier(1, "", "", all=["volume >= 1", "reach >= 1"], any=["engagement >= 1", "volume_z >= 1"])
    )
    features = _features(volume=[a], reach=[b], engagement=[c], volume_z=[d])
    assert raw_tiers(policy, features).tolist() == [expected]


def test_min_volume_is_required_in_addition_to_the_conditions() -> None:
    policy = _policy(Tier(1, "", "", all=["volume_ratio >= 3"], min_volume=10))
    features = _features(volume=[5.0, 10.0, 50.0, 50.0], volume_ratio=[9.0, 9.0, 9.0, 1.0])
    assert raw_tiers(policy, features).tolist() == [0, 1, 1, 0]


@pytest.mark.parametrize("op", [">", ">=", "<", "<="])
def test_nan_makes_a_condition_false(op: str) -> None:
    policy = _policy(Tier(1, "", "", all=[Condition("volume_z", op, 0.5)]))
    features = _features(volume_z=[np.nan, np.nan])
    assert raw_tiers(policy, features).tolist() == [0, 0]
    either = _policy(Tier(1, "", "", any=[Condition("volume_z", op, 0.5), "volume >= 1"]))
    features = _features(volume_z=[np.nan, np.nan], volume=[0.0, 2.0])
    assert raw_tiers(either, features).tolist() == [0, 1]
    with_volume = _policy(Tier(1, "", "", all=["volume_z >= 0"], min_volume=1))
    assert raw_tiers(with_volume, _features(volume_z=[1.0], volume=[np.nan])).tolist() == [0]


def test_evaluate_applies_each_tiers_persistence_and_cooldown() -> None:
    policy = _policy(
        Tier(1, "", "", all=["volume_ratio >= 2"], persistence=2, cooldown=2),
        Tier(2, "", "", all=["volume_ratio >= 5"]),
    )
    ratio = [3, 3, 1, 3, 3, 6, 1, 1, 1, 1, 3]
    esc = evaluate(policy, _features(volume_ratio=[float(r) for r in ratio]))
    # raw:        1 1 0 1 1 2 0 0 0 0 1 ; tier 1 needs 2 windows, tier 2 one window
    assert esc.windows["tier"].tolist() == [0, 1, 0, 0, 1, 2, 0, 0, 0, 0, 0]
    # window 1 (tier 1, cooldown 2) bridges windows 2-3 to window 4; window 5 rises to tier 2
    assert esc.windows["escalation"].tolist() == [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    assert _episode_spans(esc) == [(1, 5, 2)]


def test_evaluate_matches_escalations_from_tiers_on_raw_tiers() -> None:
    rng = np.random.default_rng(7)
    features = pd.concat(
        [_features(volume_ratio=rng.lognormal(0, 0.8, 300)).assign(topic=t) for t in "abc"]
    ).sample(frac=1, random_state=3)
    policy = _policy(
        Tier(1, "", "", all=["volume_ratio >= 1.5"], persistence=2, cooldown=3),
        Tier(2, "", "", all=["volume_ratio >= 3"], cooldown=6),
    )
    direct = evaluate(policy, features)
    shared = escalations_from_tiers(
        features.assign(tier=raw_tiers(policy, features)),
        persistence={1: 2, 2: 1},
        cooldown={1: 3, 2: 6},
    )
    pd.testing.assert_frame_equal(direct.windows, shared.windows)
    pd.testing.assert_frame_equal(direct.episodes, shared.episodes)
    pd.testing.assert_frame_equal(direct.notifications, shared.notifications)


def test_a_prepared_grid_gives_the_same_escalations_for_every_policy() -> None:
    rng = np.random.default_rng(11)
    features = pd.concat(
        [_features(volume_ratio=rng.lognormal(0, 0.8, 200)).assign(topic=t) for t in "ab"]
    ).sample(frac=1, random_state=5)
    grid = prepare_grid(features)
    for threshold, persistence, cooldown in [(1.5, 1, 0), (2.0, 2, 3), (3.0, 3, 6)]:
        policy = _policy(
            Tier(
                1,
                "",
                "",
                all=[f"volume_ratio >= {threshold}"],
                persistence=persistence,
                cooldown=cooldown,
            )
        )
        direct, reused = evaluate(policy, features), evaluate(policy, features, grid=grid)
        pd.testing.assert_frame_equal(direct.windows, reused.windows)
        pd.testing.assert_frame_equal(direct.episodes, reused.episodes)
        pd.testing.assert_frame_equal(direct.notifications, reused.notifications)
    with pytest.raises(DataLoadError, match="same features"):
        evaluate(policy, features.iloc[:10], grid=grid)


def test_escalations_to_frame_and_plot() -> None:
    policy = _policy(
        Tier(1, "", "", all=["volume_ratio >= 2"]), Tier(2, "", "", all=["volume_ratio >= 5"])
    )
    features = _features(volume_ratio=[1.0, 3.0, 6.0, 1.0])
    esc = evaluate(policy, features)
    frame = esc.to_frame()
    assert frame["tier"].tolist() == [0, 1, 2, 0]
    frame.loc[0, "tier"] = 9  # a copy: the result is not changed
    assert esc.windows["tier"].tolist() == [0, 1, 2, 0]
    # Without features the tier is drawn: one marker per escalated window, at its tier.
    fig = esc.plot()
    markers = {
        t.name: list(t.y) for t in fig.data if t.name.startswith("tier ") and "escalated" in t.name
    }
    assert markers == {"tier 1 escalated": [1.0], "tier 2 escalated": [2.0]}
    # With features: volume on the y axis, incidents shaded.
    incidents = pd.DataFrame(
        {"incident_id": ["i1"], "topic": ["a"], "started_at": [T0 + HOUR], "severity": [2]}
    )
    fig = esc.plot(
        topic="a", features=features.assign(volume=[10.0, 20.0, 30.0, 40.0]), incidents=incidents
    )
    assert list(fig.data[0].y) == [10.0, 20.0, 30.0, 40.0]
    assert len(fig.layout.shapes) == 1


def test_missing_feature_column_names_the_feature_and_the_available_columns() -> None:
    policy = _policy(Tier(1, "", "", all=["negative_share >= 0.5"]))
    with pytest.raises(PolicyError) as caught:
        evaluate(policy, _features(volume=[1.0], volume_ratio=[2.0]))
    message = str(caught.value)
    assert "'negative_share'" in message and "volume, volume_ratio" in message


def test_min_volume_needs_a_volume_column() -> None:
    policy = _policy(Tier(1, "", "", all=["volume_ratio >= 1"], min_volume=5))
    with pytest.raises(PolicyError, match="'volume'"):
        evaluate(policy, _features(volume_ratio=[2.0]))


def test_non_numeric_feature_is_a_policy_error() -> None:
    policy = _policy(Tier(1, "", "", all=["volume >= 1"]))
    with pytest.raises(PolicyError, match="not numeric"):
        evaluate(policy, _features(volume=["many"]))


def test_empty_features_give_empty_escalations_when_freq_is_given() -> None:
    policy = _policy(Tier(1, "", "", all=["volume >= 1"]))
    features = _features(volume=[1.0]).iloc[:0]
    esc = evaluate(policy, features, freq="1h")
    assert esc.windows.empty and esc.episodes.empty and esc.notifications.empty


# --- reference implementation and properties ------------------------------------------------
def _reference(frame: pd.DataFrame, freq, persistence: dict, cooldown: dict):
    """Row-by-row statement of the semantics (the spec in code, deliberately naive)."""
    n = len(frame)
    tier = np.zeros(n, dtype=int)
    note = np.zeros(n, dtype=int)
    episodes = []
    levels = sorted(set(persistence) | set(cooldown) | set(range(1, frame["tier"].max() + 1)))
    for _, rows in frame.groupby("topic", sort=False):
        rows = rows.sort_values("window_start")
        count = dict.fromkeys(levels, 0)
        previous = None
        episode = None  # [topic, first, last, max tier]
        for i, row in zip(rows.index, rows.itertuples(), strict=True):
            pos = (row.window_start - T0) // freq
            contiguous = previous is not None and pos == previous + 1
            for k in levels:
                count[k] = (count[k] + 1 if contiguous else 1) if row.tier >= k else 0
            t = max([k for k in levels if count[k] >= persistence.get(k, 1)], default=0)
            tier[i] = t
            previous = pos
            if t == 0:
                continue
            if episode is not None and pos == episode[2] + 1:
                pass  # consecutive escalated windows
            elif (
                episode is not None
                and pos - episode[2] - 1 <= cooldown.get(episode[3], 0)
                and t <= episode[3]
            ):
                pass  # re-escalation within the cooldown
            else:
                episode = [row.topic, pos, pos, 0]
                episodes.append(episode)
            if t > episode[3]:
                note[i] = 1
                episode[3] = t
            episode[2] = pos
    spans = sorted((p[0], p[1], p[2], p[3]) for p in episodes)
    return tier, note, spans


@st.composite
def tier_frames(draw: st.DrawFn):
    rows = []
    for topic in draw(st.lists(st.sampled_from("abc"), min_size=1, max_size=3, unique=True)):
        positions = draw(st.lists(st.integers(0, 40), min_size=1, max_size=30, unique=True))
        for pos in positions:
            rows.append((topic, T0 + HOUR * pos, draw(st.integers(0, 3))))
    frame = pd.DataFrame(rows, columns=["topic", "window_start", "tier"])
    order = draw(st.permutations(range(len(frame))))
    frame = frame.iloc[list(order)].reset_index(drop=True)
    per_tier = st.dictionaries(st.integers(1, 3), st.integers(1, 4), max_size=3)
    persistence = draw(st.integers(1, 4) | per_tier)
    cooldown = draw(
        st.integers(0, 4) | st.dictionaries(st.integers(1, 3), st.integers(0, 4), max_size=3)
    )
    return frame, persistence, cooldown


@settings(max_examples=200, deadline=None)
@given(tier_frames())
def test_vectorised_escalations_match_the_row_by_row_reference(case) -> None:
    frame, persistence, cooldown = case
    esc = escalations_from_tiers(frame, freq=HOUR, persistence=persistence, cooldown=cooldown)
    p = persistence if isinstance(persistence, dict) else dict.fromkeys(range(1, 4), persistence)
    c = cooldown if isinstance(cooldown, dict) else dict.fromkeys(range(1, 4), cooldown)
    tier, note, spans = _reference(frame, HOUR, p, c)
    assert esc.windows["tier"].tolist() == tier.tolist()
    assert esc.windows["escalation"].tolist() == note.tolist()
    got = sorted(
        (
            r.topic,
            (r.started_at - T0) // HOUR,
            (r.ended_at - T0) // HOUR - 1,
            r.tier,
        )
        for r in esc.episodes.itertuples()
    )
    assert got == spans
    assert len(esc.notifications) == int(note.sum())
    assert (esc.notifications["alerted_at"] - esc.notifications["window_start"] == HOUR).all()


_FEATURES = ("volume_ratio", "negative_share", "volume_z")


@st.composite
def policies_and_features(draw: st.DrawFn):
    n_tiers = draw(st.integers(1, 3))
    tiers = []
    for level in range(1, n_tiers + 1):
        conditions = st.builds(
            Condition,
            st.sampled_from(_FEATURES),
            st.sampled_from([">", ">=", "<", "<="]),
            st.floats(0, 4).map(lambda v: round(v, 1)),
        )
        all_ = draw(st.lists(conditions, max_size=2))
        any_ = draw(st.lists(conditions, min_size=0 if all_ else 1, max_size=2))
        tiers.append(
            Tier(
                level,
                "",
                "",
                all=all_,
                any=any_,
                persistence=draw(st.integers(1, 3)),
                cooldown=draw(st.integers(0, 3)),
            )
        )
    n = draw(st.integers(1, 40))
    values = st.lists(
        st.floats(0, 4).map(lambda v: round(v, 1)) | st.just(float("nan")), min_size=n, max_size=n
    )
    features = pd.DataFrame(
        {
            "topic": draw(st.lists(st.sampled_from("ab"), min_size=n, max_size=n)),
            "window_start": T0 + HOUR * np.array(draw(st.permutations(range(n)))),
            **{name: draw(values) for name in _FEATURES},
        }
    )
    return Policy(tiers), features


def _naive_raw(policy: Policy, features: pd.DataFrame) -> list[int]:
    compare = {
        ">": lambda x, v: x > v,
        ">=": lambda x, v: x >= v,
        "<": lambda x, v: x < v,
        "<=": lambda x, v: x <= v,
    }
    out = []
    for row in features.to_dict("records"):

        def holds(c: Condition, row=row) -> bool:
            return compare[c.op](row[c.feature], c.value)  # NaN compares False

        level = 0
        for tier in policy.tiers:
            if all(holds(c) for c in tier.all) and (
                not tier.any or any(holds(c) for c in tier.any)
            ):
                level = tier.level
        out.append(level)
    return out


@settings(max_examples=100, deadline=None)
@given(policies_and_features())
def test_evaluate_matches_a_naive_per_row_evaluation(case) -> None:
    policy, features = case
    assert raw_tiers(policy, features).tolist() == _naive_raw(policy, features)
    esc = evaluate(policy, features, freq=HOUR)
    frame = features.assign(tier=_naive_raw(policy, features))
    p = {t.level: t.persistence for t in policy.tiers}
    c = {t.level: t.cooldown for t in policy.tiers}
    tier, note, _ = _reference(frame, HOUR, p, c)
    assert esc.windows["tier"].tolist() == tier.tolist()
    assert esc.windows["escalation"].tolist() == note.tolist()


@settings(max_examples=100, deadline=None)
@given(policies_and_features(), st.data())
def test_tightening_a_threshold_never_adds_escalated_windows(case, data) -> None:
    """Raising the threshold of a > / >= condition (or lowering that of a < / <= one) can only
    make the tier of every window lower or equal, whatever persistence and cooldown: so the
    windows escalated at tier >= k never increase, for every k. (Notifications can increase:
    see the next test.)"""
    policy, features = case
    params = policy.get_params()
    names = [
        n
        for n in params
        if not n.endswith(("__persistence", "__cooldown", "__refractory", "__min_volume"))
    ]
    name = data.draw(st.sampled_from(names))
    level = int(name.split("__")[0].removeprefix("tier"))
    index = list(n for n in names if n.startswith(f"tier{level}__")).index(name)
    condition = policy.tier(level).conditions[index]
    step = data.draw(st.floats(0, 3).map(lambda v: round(v, 1)))
    value = condition.value + step if condition.op in (">", ">=") else condition.value - step
    tighter = policy.set_params(**{name: value})
    before = evaluate(policy, features, freq=HOUR).windows["tier"].to_numpy()
    after = evaluate(tighter, features, freq=HOUR).windows["tier"].to_numpy()
    assert (after <= before).all()
    for k in range(1, len(policy.tiers) + 1):
        assert (after >= k).sum() <= (before >= k).sum()


def test_tightening_a_threshold_can_split_an_episode_and_add_a_notification() -> None:
    policy = _policy(Tier(1, "", "", all=["volume_ratio >= 2"]))
    features = _features(volume_ratio=[3.0, 2.5, 3.0])
    loose = evaluate(policy, features)
    tight = evaluate(policy.set_params(tier1__volume_ratio=2.8), features)
    assert loose.windows["tier"].sum() == 3 and tight.windows["tier"].sum() == 2
    assert len(loose.notifications) == 1 and len(tight.notifications) == 2


# --- measures the input did not carry ---------------------------------------------------------


def _series_like(n: int = 48) -> pd.DataFrame:
    """Features of a volume series: negative_share / influencer_mentions are zero fillers."""
    volume = np.full(n, 10.0)
    volume[20:23] = 80.0
    return pd.DataFrame(
        {
            "topic": "a",
            "window_start": T0 + HOUR * np.arange(n),
            "volume": volume,
            "volume_ratio": volume / 10.0,
            "negative_share": 0.0,
            "influencer_mentions": 0,
        }
    )


def _policy_reading(*tiers: tuple[str, list[str], list[str]]) -> Policy:
    return Policy(
        tiers=tuple(
            Tier(level=i + 1, name=name, owner="o", all=all_, any=any_)
            for i, (name, all_, any_) in enumerate(tiers)
        )
    )


def test_a_policy_reading_an_absent_measure_warns_per_tier() -> None:
    from esc_analytics import AbsentFeatureWarning
    from esc_analytics.features import mark_absent_features

    features = mark_absent_features(_series_like(), ["topic", "window_start", "volume"], "series")
    policy = _policy_reading(
        ("watch", ["volume_ratio >= 2.5"], []),
        ("escalate", ["volume_ratio >= 2.5", "negative_share < 0.1"], []),
        ("crisis", ["negative_share >= 0.5"], ["influencer_mentions >= 5", "volume_ratio >= 9"]),
    )
    with pytest.warns(AbsentFeatureWarning) as caught:
        evaluate(policy, features)
    assert [str(w.message) for w in caught] == [
        "tier 2 'escalate' uses negative_share, which volume series do not carry: evaluated as 0",
        "tier 3 'crisis' uses negative_share and influencer_mentions, which volume series do "
        "not carry: evaluated as 0",
    ]


@pytest.mark.parametrize(
    ("carried", "feature", "words"),
    [
        (["created_at", "author"], "negative_share", ["no sentiment column"]),
        (["created_at", "sentiment"], "reach", ["no author_followers column"]),
        (["created_at"], "influencer_mentions", ["no author_followers or is_verified column"]),
    ],
)
def test_mentions_lacking_a_column_name_it(carried, feature, words) -> None:
    from esc_analytics import AbsentFeatureWarning
    from esc_analytics.features import mark_absent_features

    features = _series_like().assign(reach=0.0)
    mark_absent_features(features, carried, "mentions")
    with pytest.warns(AbsentFeatureWarning) as caught:
        evaluate(_policy_reading(("t", [f"{feature} > 1"], [])), features)
    (message,) = [str(w.message) for w in caught]
    assert message.startswith(f"tier 1 't' uses {feature}, which the mentions do not carry")
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    ("carried", "change"),
    [
        (["volume", "sentiment"], None),  # the data had sentiment
        (["volume"], "unmarked"),  # features built without the mark: nothing known
        (["volume"], "real values"),  # a real column joined in after marking
    ],
)
def test_no_warning_when_the_measure_is_real_or_unknown(carried, change) -> None:
    import warnings

    from esc_analytics.features import mark_absent_features

    features = _series_like()
    if change != "unmarked":
        mark_absent_features(features, carried, "series")
    if change == "real values":
        features["negative_share"] = np.linspace(0, 1, len(features))
    policy = _policy_reading(("t", ["negative_share < 0.1", "volume_ratio >= 2"], []))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        evaluate(policy, features)


def test_an_all_missing_filler_says_its_conditions_never_hold() -> None:
    from esc_analytics import AbsentFeatureWarning
    from esc_analytics.features import mark_absent_features

    features = _series_like().assign(negative_share=np.nan)
    mark_absent_features(features, ["volume"], "series")
    with pytest.warns(AbsentFeatureWarning, match="missing everywhere, so its conditions never"):
        evaluate(_policy_reading(("t", ["negative_share < 0.1"], [])), features)


@pytest.mark.parametrize("source", ["series", "mentions without sentiment"])
def test_features_built_by_the_library_carry_what_they_lack(source) -> None:
    """build_features / features_from_series mark their filler measures themselves, so the
    Python API (and the notebooks) warn like the CLI; a measure with data does not warn."""
    from esc_analytics import AbsentFeatureWarning, build_features, features_from_series

    times = pd.date_range("2026-01-01", periods=48, freq="1h", tz="UTC")
    if source == "series":
        features = features_from_series(
            pd.DataFrame({"topic": "acme", "window_start": times, "volume": 5.0})
        )
        absent = "volume series do not carry"
    else:
        mentions = pd.DataFrame(
            {
                "mention_id": [str(i) for i in range(48)],
                "created_at": times,
                "topic": "acme",
                "author": [f"a{i % 7}" for i in range(48)],
            }
        )
        features = build_features(mentions, freq="1h")
        absent = "no sentiment column"
    policy = _policy_reading(
        ("watch", ["volume >= 1"], []), ("escalate", ["negative_share > 0.5"], [])
    )
    with pytest.warns(AbsentFeatureWarning, match=absent) as caught:
        evaluate(policy, features)
    assert len(caught) == 1 and "tier 2 'escalate'" in str(caught[0].message)
    if source != "series":  # unique_authors comes from the author column: no warning
        with warnings.catch_warnings():
            warnings.simplefilter("error", AbsentFeatureWarning)
            evaluate(_policy_reading(("watch", ["unique_authors >= 1"], [])), features)


def test_a_measure_that_is_its_own_input_is_named_in_the_warning() -> None:
    from esc_analytics import AbsentFeatureWarning
    from esc_analytics.features import mark_absent_features

    features = _series_like().assign(engagement=0.0)
    mark_absent_features(features, ["volume", "sentiment"], "mentions")
    policy = _policy_reading(("watch", ["engagement > 5"], []))
    with pytest.warns(AbsentFeatureWarning, match=r"\(no engagement column\)"):
        evaluate(policy, features)
