"""scikit-learn escalation classifiers: dataset building, estimator conventions, tiers, export."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from esc_analytics import Condition, Policy, Tier
from esc_analytics._util.errors import ModelError
from esc_analytics.models._classifiers import (
    EscalationClassifier,
    PolicyClassifier,
    TieredEscalationModel,
    build_dataset,
    incident_tier_labels,
    load_model,
    save_model,
    tree_to_policy,
)


def _synthetic_history(seed: int = 0, hours: int = 24 * 40, topics=("a", "b")):
    """Hourly features for some topics with incidents that raise volume_ratio and negativity."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-01-01", tz="UTC")
    frames, incidents = [], []
    for t_index, topic in enumerate(topics):
        times = pd.date_range(start, periods=hours, freq="h")
        ratio = rng.lognormal(0.0, 0.25, hours)
        negative = rng.beta(2, 8, hours)
        for k, at in enumerate(range(60 + 13 * t_index, hours - 30, 97)):
            severity = 1 + (k % 3)
            length = 6 + 2 * severity
            ramp = np.linspace(1.5, 2.0 + 2.5 * severity, length)
            ratio[at : at + length] *= ramp
            negative[at : at + length] = np.clip(negative[at : at + length] + 0.3, 0, 1)
            incidents.append(
                {
                    "incident_id": f"{topic}-{k}",
                    "topic": topic,
                    "started_at": times[at],
                    "ended_at": times[at + length - 1],
                    "severity": severity,
                }
            )
        volume = np.round(20 * ratio).astype(int)
        frames.append(
            pd.DataFrame(
                {
                    "topic": topic,
                    "window_start": times,
                    "volume": volume,
                    "negative_share": negative,
                    "volume_ratio": ratio,
                    "volume_z": (ratio - 1) * 3,
                    "influencer_mentions": rng.poisson(0.2, hours),
                }
            )
        )
    return pd.concat(frames, ignore_index=True), pd.DataFrame(incidents)


# --- dataset -----------------------------------------------------------------------------------
def test_dataset_lags_use_only_the_past_and_rows_are_time_ordered():
    features = pd.DataFrame(
        {
            "topic": ["b", "b", "b", "a", "a", "a"],
            "window_start": pd.to_datetime(
                ["2026-01-01 00:00", "2026-01-01 01:00", "2026-01-01 02:00"] * 2, utc=True
            ),
            "volume": [1, 2, 3, 10, 20, 30],
            "volume_ratio": [1.0, 2.0, 4.0, 1.0, 1.5, 3.0],
        }
    )
    data = build_dataset(features, lags=(1,), rolling=(2,))
    # Sorted by time, then topic.
    assert list(data.keys["topic"]) == ["a", "b", "a", "b", "a", "b"]
    assert data.keys["window_start"].is_monotonic_increasing
    lag = data.X["volume_ratio_lag1"].to_numpy()
    assert np.isnan(lag[0]) and np.isnan(lag[1])
    assert lag[2] == 1.0 and lag[3] == 1.0  # a@1h sees a@0h; b@1h sees b@0h
    assert lag[4] == 1.5 and lag[5] == 2.0
    # Rolling max over 2 windows includes the current and the previous window only.
    assert data.X["volume_ratio_max2"].tolist() == [1.0, 1.0, 1.5, 2.0, 3.0, 4.0]
    assert data.X["log_volume_diff1"].iloc[5] == pytest.approx(np.log1p(3) - np.log1p(2))


def test_dataset_on_a_prefix_equals_the_prefix_of_the_full_dataset():
    features, incidents = _synthetic_history(hours=200)
    cut = pd.Timestamp("2026-01-05", tz="UTC")
    full = build_dataset(features, incidents)
    prefix = build_dataset(features[features["window_start"] < cut], incidents)
    n = len(prefix.X)
    pd.testing.assert_frame_equal(prefix.X, full.X.iloc[:n].reset_index(drop=True))


@pytest.mark.parametrize(
    ("horizon", "expected"),
    [
        ("0h", [0, 0, 2, 2, 2, 0]),
        ("1h", [0, 2, 2, 2, 2, 0]),
        ("2h", [2, 2, 2, 2, 2, 0]),
    ],
)
def test_labels_mark_the_horizon_before_an_incident_and_its_duration(horizon, expected):
    keys = pd.DataFrame(
        {
            "topic": ["a"] * 6,
            "window_start": pd.date_range("2026-01-01", periods=6, freq="h", tz="UTC"),
        }
    )
    incidents = pd.DataFrame(
        {
            "topic": ["a", "a", "z"],
            "started_at": pd.to_datetime(
                ["2026-01-01 02:00", "2026-01-01 03:00", "2026-01-01 00:00"], utc=True
            ),
            "ended_at": pd.to_datetime(
                ["2026-01-01 04:00", "2026-01-01 03:00", "2026-01-01 05:00"], utc=True
            ),
            "severity": [2, 1, 3],
        }
    )
    labels = incident_tier_labels(keys, incidents, horizon=pd.Timedelta(horizon))
    assert labels.tolist() == expected


def test_dataset_rejects_bad_inputs():
    with pytest.raises(ModelError, match="key columns"):
        build_dataset(pd.DataFrame({"volume": [1]}))
    features, _ = _synthetic_history(hours=10)
    with pytest.raises(ModelError, match="horizon"):
        build_dataset(features, horizon="-1h")


# --- scikit-learn conventions ------------------------------------------------------------------
_THRESHOLD_TUNED = (
    "the decision threshold is tuned for the escalation objective, so predict is not the "
    "argmax of predict_proba"
)


def _expected_failures(estimator):
    if isinstance(estimator, EscalationClassifier) and estimator.model == "logistic":
        return {"check_classifiers_train": _THRESHOLD_TUNED}
    return {}


@parametrize_with_checks(
    [
        EscalationClassifier("logistic"),
        EscalationClassifier("hgb"),
        EscalationClassifier("tree"),
        PolicyClassifier(),
    ],
    expected_failed_checks=_expected_failures,
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


# --- one classifier on a real signal -----------------------------------------------------------
@pytest.mark.parametrize("objective", ["recall", "cost", "nab"])
def test_classifier_learns_the_incident_signal(objective):
    features, incidents = _synthetic_history()
    data = build_dataset(features, incidents)
    y = data.y(1)
    X = data.X[list(data.numeric_columns)]
    half = len(X) // 2
    model = EscalationClassifier("logistic", objective=objective, max_false_rate=0.05)
    model.fit(X.iloc[:half], y[:half])
    assert model.tuned_ and 0.0 < model.threshold_ < 1.0
    predicted = model.predict(X.iloc[half:])
    test_y = y[half:]
    recall = (predicted[test_y == 1] == 1).mean()
    false_rate = (predicted[test_y == 0] == 1).mean()
    assert recall > 0.5
    assert 0.5 * (recall + 1 - false_rate) > 0.7  # balanced accuracy out of sample
    if objective == "recall":  # the false-alarm budget (5 % of quiet windows) roughly holds
        assert false_rate < 0.1


def test_tfidf_text_column_is_used_when_given():
    rng = np.random.default_rng(1)
    n = 400
    y = (rng.random(n) < 0.2).astype(int)
    words = np.where(y == 1, "outage refund angry", "lovely launch new colour")
    X = pd.DataFrame({"noise": rng.normal(size=n), "text": words})
    model = EscalationClassifier("logistic", text_column="text", calibrate=False).fit(X, y)
    assert (model.predict(X) == y).mean() > 0.95
    with pytest.raises(ModelError, match="text_column"):
        EscalationClassifier(text_column="text").fit(X.drop(columns="text"), y)


# --- tiers, escalations, persistence of models --------------------------------------------------
def test_tiered_model_gives_escalations_that_backtest_like_a_policy(tmp_path):
    from esc_analytics import backtest

    features, incidents = _synthetic_history()
    cut = pd.Timestamp("2026-01-25", tz="UTC")
    train = features[features["window_start"] < cut]
    test = features[features["window_start"] >= cut]
    model = TieredEscalationModel(
        n_tiers=3, model="logistic", max_false_per_week=3, use_text=False
    ).fit(train, incidents[incidents["started_at"] < cut])
    escalations = model.escalations(test)
    assert len(escalations.windows) == len(test)
    # Input row order is kept.
    assert escalations.windows["window_start"].tolist() == test["window_start"].tolist()
    test_incidents = incidents[incidents["started_at"] >= cut]
    result = backtest(escalations, test_incidents)
    caught = result.incidents["caught"].mean()
    assert caught >= 0.6
    # Saved with skops and reloaded: identical predictions.
    path = save_model(model, tmp_path / "model.skops")
    again = load_model(path)
    pd.testing.assert_frame_equal(model.predict_tiers(test), again.predict_tiers(test))


def test_load_model_refuses_other_files(tmp_path):
    bogus = tmp_path / "model.skops"
    bogus.write_bytes(b"not a zip file")
    with pytest.raises(ModelError, match="not a skops model"):
        load_model(bogus)
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "absent.skops")


# --- a policy as an estimator -------------------------------------------------------------------
def _one_tier(threshold: float) -> Policy:
    return Policy(
        tiers=(
            Tier(
                level=1,
                name="Watch",
                owner="community",
                all=(Condition("volume_ratio", ">=", threshold),),
            ),
        )
    )


def test_policy_classifier_exposes_flat_thresholds_for_grid_search():
    features, incidents = _synthetic_history()
    data = build_dataset(features, incidents)
    X = pd.concat([data.keys, data.X], axis=1)
    y = data.y(1)
    classifier = PolicyClassifier(_one_tier(10.0))
    assert classifier.get_params()["tier1__volume_ratio"] == 10.0
    search = GridSearchCV(
        classifier,
        {"tier1__volume_ratio": [1.2, 1.8, 2.5, 10.0]},
        scoring="balanced_accuracy",
        cv=[(np.arange(0, len(X) // 2), np.arange(len(X) // 2, len(X)))],
    )
    search.fit(X, y)
    best = search.best_params_["tier1__volume_ratio"]
    assert best in (1.8, 2.5)
    assert search.best_estimator_.policy.get_params()["tier1__volume_ratio"] == best


def test_policy_classifier_predicts_what_the_policy_evaluates():
    from esc_analytics import evaluate

    features, _ = _synthetic_history(hours=100)
    policy = _one_tier(1.5)
    classifier = PolicyClassifier(policy).fit(features, np.r_[0, 1, [0] * (len(features) - 2)])
    expected = (evaluate(policy, features).windows["tier"].to_numpy() >= 1).astype(int)
    assert classifier.predict(features).tolist() == expected.tolist()


# --- tree → plan --------------------------------------------------------------------------------
def test_tree_exports_as_a_readable_policy_that_reproduces_its_decisions():
    from esc_analytics import evaluate

    rng = np.random.default_rng(3)
    n = 600
    frame = pd.DataFrame(
        {
            "volume_ratio": rng.uniform(0, 10, n),
            "negative_share": rng.uniform(0, 1, n),
        }
    )
    y = ((frame["volume_ratio"] > 5) & (frame["negative_share"] > 0.4)).astype(int)
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(frame, y)
    policy = tree_to_policy(tree, list(frame.columns), owners={1: "PR lead"})
    assert len(policy.tiers) == 1
    conditions = {(c.feature, c.op) for c in policy.tiers[0].all}
    assert conditions == {("volume_ratio", ">"), ("negative_share", ">")}
    values = {c.feature: c.value for c in policy.tiers[0].all}
    assert values["volume_ratio"] == pytest.approx(5, abs=0.3)
    assert values["negative_share"] == pytest.approx(0.4, abs=0.05)
    assert policy.tiers[0].owner == "PR lead"
    # Evaluated as a policy (one window per row) it makes the tree's decisions.
    windows = frame.assign(
        topic="t", window_start=pd.date_range("2026-01-01", periods=n, freq="h", tz="UTC")
    )
    tiers = evaluate(policy, windows).windows["tier"].to_numpy()
    assert ((tiers >= 1).astype(int) == tree.predict(frame)).all()
    # It survives the YAML round trip.
    assert Policy.from_yaml(policy.to_yaml()) == policy


def test_tree_that_never_escalates_cannot_be_exported():
    tree = DecisionTreeClassifier().fit([[0.0], [1.0]], [0, 0])
    with pytest.raises(ModelError, match="never predicts"):
        tree_to_policy(tree, ["volume_ratio"])


def test_tree_whose_leaves_are_all_quiet_says_why_instead_of_an_empty_plan():
    # tier 1 is a class of the tree, but a minority in every leaf: no path escalates
    X = [[float(i)] for i in range(40)]
    y = [1 if i in (3, 17, 31) else 0 for i in range(40)]
    tree = DecisionTreeClassifier(max_depth=2, min_samples_leaf=10).fit(X, y)
    assert 1 in tree.classes_
    with pytest.raises(ModelError, match=r"never predicts an escalation .*more history"):
        tree_to_policy(tree, ["volume_ratio"])


def test_plan_tree_learned_from_history_is_a_policy_that_catches_incidents():
    from esc_analytics import backtest, evaluate, fit_plan_tree

    features, incidents = _synthetic_history()
    policy, tree = fit_plan_tree(features, incidents, max_depth=3, n_tiers=3)
    assert tree.get_depth() <= 3
    assert 1 <= len(policy.tiers) <= 3
    # Conditions read like a hand-written plan: the features' own columns, no lags.
    used = set(policy.features_used)
    assert used <= set(features.columns) - {"topic", "window_start"}
    assert used & {"volume_ratio", "volume_z", "negative_share", "volume"}
    assert Policy.from_yaml(policy.to_yaml()) == policy
    result = backtest(evaluate(policy, features), incidents)
    assert result.recall >= 0.8  # in sample, on a clearly separable history
    assert result.false_per_week <= 3.0  # unweighted by default: a plan, not an alarm siren
    with pytest.raises(ModelError, match="max_depth"):
        fit_plan_tree(features, incidents, max_depth=0)
    with pytest.raises(ModelError, match="no incident"):
        fit_plan_tree(features, incidents.iloc[:0])


# --- options for event-scored, cross-topic use ---------------------------------------------------
def test_onset_labels_only_the_start_of_each_incident():
    keys = pd.DataFrame(
        {"topic": ["a"] * 12,
         "window_start": pd.date_range("2026-01-01", periods=12, freq="h", tz="UTC")}
    )
    incidents = pd.DataFrame(
        {"topic": ["a"], "started_at": [pd.Timestamp("2026-01-01 02:00", tz="UTC")],
         "ended_at": [pd.Timestamp("2026-01-01 10:00", tz="UTC")], "severity": [1]}
    )
    # 8 h incident, onset 0.25 → 02:00 .. 04:00; horizon 1h adds 01:00.
    labels = incident_tier_labels(keys, incidents, horizon=pd.Timedelta("1h"), onset=0.25)
    assert labels.tolist() == [0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    with pytest.raises(ModelError, match="onset"):
        incident_tier_labels(keys, incidents, horizon=pd.Timedelta(0), onset=0.0)


def test_burst_levels_are_past_only_and_scale_free_inputs_do_not_depend_on_size():
    features, incidents = _synthetic_history(hours=24 * 12)
    options = dict(burst_levels=((3, 2, 0.9),), scale_free=True)
    data = build_dataset(features, incidents, **options)
    assert "level_q90_2d_s3" in data.X.columns and "level_q90_2d_s3_lag1" in data.X.columns
    assert not {"volume", "log_volume", "log_volume_lag1", "influencer_mentions"} & set(
        data.X.columns
    )
    # Past only: the dataset of a prefix is the prefix of the full dataset.
    cut = features["window_start"].min() + pd.Timedelta("6D")
    prefix = build_dataset(features[features["window_start"] < cut], incidents, **options)
    pd.testing.assert_frame_equal(prefix.X, data.X.iloc[: len(prefix.X)].reset_index(drop=True))
    # Scale free: a topic 100× larger gives the same burst levels (log1p ≈ log + const).
    bigger = features.assign(volume=features["volume"] * 100)
    big = build_dataset(bigger, incidents, **options)
    both = data.X["level_q90_2d_s3"].notna()
    np.testing.assert_allclose(
        big.X.loc[both, "level_q90_2d_s3"], data.X.loc[both, "level_q90_2d_s3"], atol=0.1
    )
    with pytest.raises(ModelError, match="burst level"):
        build_dataset(features, incidents, burst_levels=((3, 2, 1.5),))


def test_event_tuning_chooses_threshold_persistence_and_cooldown_on_training_topics(tmp_path):
    from esc_analytics import nab_from_escalations

    features, incidents = _synthetic_history(topics=("a", "b", "c"))
    train = features["topic"] != "c"
    settings = dict(n_tiers=1, model="logistic", objective="nab", calibrate=False,
                    use_text=False, horizon="0h", scale_free=True,
                    burst_levels=((3, 2, 0.99),), persistence=1, cooldown=0)
    train_i = incidents[incidents["topic"] != "c"]
    plain = TieredEscalationModel(**settings).fit(features[train], train_i)
    tuned = TieredEscalationModel(
        **settings, tune_events=True, persistence_grid=(1, 2), cooldown_grid=(0, 12)
    ).fit(features[train], train_i)
    row = tuned.event_tuning_.iloc[0]
    assert tuned.threshold(1) == row["threshold"]
    assert (tuned.persistence_[1], tuned.cooldown_[1]) == (row["persistence"], row["cooldown"])
    assert row["persistence"] in (1, 2) and row["cooldown"] in (0, 12)
    # Held-out topic: choosing on events does at least as well as the window proxy here.
    test_i = incidents[incidents["topic"] == "c"]
    score = {
        name: nab_from_escalations(m.escalations(features[~train]), test_i).normalised
        for name, m in (("plain", plain), ("tuned", tuned))
    }
    assert score["tuned"] >= score["plain"] - 5.0
    assert score["tuned"] > 50.0
    again = load_model(save_model(tuned, tmp_path / "tuned.skops"))
    assert again.thresholds_ == tuned.thresholds_ and again.cooldown_ == tuned.cooldown_
    pd.testing.assert_frame_equal(
        again.escalations(features[~train]).windows, tuned.escalations(features[~train]).windows
    )


@pytest.mark.parametrize(
    ("kind", "use_text", "calibrate"),
    [
        ("logistic", False, True),
        ("hgb", False, True),
        ("tree", False, False),
        ("logistic", True, False),
    ],
)
def test_saved_models_need_only_the_trusted_types(tmp_path, kind, use_text, calibrate):
    import skops.io as sio

    from esc_analytics.models._classifiers import TRUSTED_MODEL_TYPES

    features, incidents = _synthetic_history(hours=24 * 20)
    mentions = None
    if use_text:
        rng = np.random.default_rng(0)
        mentions = pd.DataFrame(
            {
                "topic": features["topic"].to_numpy(),
                "created_at": features["window_start"].to_numpy(),
                "text": rng.choice(["outage refund", "love the launch", "hello"], len(features)),
            }
        )
    model = TieredEscalationModel(
        n_tiers=1, model=kind, use_text=use_text, calibrate=calibrate
    ).fit(features, incidents, mentions=mentions)
    path = save_model(model, tmp_path / "m.skops")
    assert set(sio.get_untrusted_types(file=path)) <= TRUSTED_MODEL_TYPES
    assert load_model(path).models_.keys() == model.models_.keys()


def test_a_crafted_model_file_calling_a_numpy_function_is_refused(tmp_path):
    """A skops file whose node names numpy.testing's runstring (an exec) must not load."""
    import datetime
    import json
    import zipfile

    import skops.io as sio

    marker = tmp_path / "ran"
    legit = tmp_path / "legit.skops"
    sio.dump({"format": "esc-analytics-model/1", "tz": datetime.UTC}, legit)
    with zipfile.ZipFile(legit) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    schema = json.loads(files["schema.json"])
    node = schema["content"]["tz"]
    node["__module__"], node["__class__"] = "numpy.testing._private.utils", "runstring"
    code = f"open({str(marker)!r}, 'w').write('ran')"
    node["content"]["content"] = [
        {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
         "content": json.dumps(code), "is_json": True},
        {"__class__": "dict", "__module__": "builtins", "__loader__": "DictNode", "content": {},
         "key_types": {"__class__": "list", "__module__": "builtins",
                       "__loader__": "ListNode", "content": []}},
    ]
    files["schema.json"] = json.dumps(schema).encode()
    crafted = tmp_path / "crafted.skops"
    with zipfile.ZipFile(crafted, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    assert "numpy.testing._private.utils.runstring" in sio.get_untrusted_types(file=crafted)
    with pytest.raises(ModelError, match="untrusted"):
        load_model(crafted)
    assert not marker.exists()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deep_tree_exports_every_path_and_reproduces_every_decision(seed):
    """A three-class tree with several leaves per class: every path is kept (nested any of
    all), the plan's tier equals the tree's class on every row, and no two tiers repeat."""
    from esc_analytics import evaluate

    rng = np.random.default_rng(seed)
    n = 900
    frame = pd.DataFrame(
        {
            "volume_ratio": rng.uniform(0, 10, n),
            "negative_share": rng.uniform(0, 1, n),
            "influencer_mentions": rng.integers(0, 6, n).astype(float),
        }
    )
    y = np.where(
        (frame["volume_ratio"] > 7) & (frame["negative_share"] > 0.5),
        2,
        np.where((frame["volume_ratio"] > 4) | (frame["influencer_mentions"] >= 4), 1, 0),
    )
    tree = DecisionTreeClassifier(max_depth=4, random_state=0).fit(frame, y)
    policy = tree_to_policy(tree, list(frame.columns))
    assert "not expressed" not in policy.description
    windows = frame.assign(
        topic="t", window_start=pd.date_range("2026-01-01", periods=n, freq="h", tz="UTC")
    )
    tiers = evaluate(policy, windows).windows["tier"].to_numpy()
    assert (tiers == tree.predict(frame)).all()
    rules = [t.describe_conditions() for t in policy.tiers]
    assert len(set(rules)) == len(rules)
    assert any(t.nested for t in policy.tiers)
    assert Policy.from_yaml(policy.to_yaml()) == policy
