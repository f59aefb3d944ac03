"""Keyword and segment measures a plan reads, computed by both engines on the same fixtures
and checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import esc_analytics as esc
from esc_analytics import DataLoadError, Policy, PolicyError
from esc_analytics._util.measures import fold_text, term_pattern

T0 = pd.Timestamp("2026-01-01", tz="UTC")
PLAN = Policy.from_yaml("""
terms:
  safety: [recall, injury, "data breach"]
  odd: ["c++", "a.b", "(x)|y"]
tiers:
  - level: 1
    any:
      - terms.safety >= 3
      - terms.safety_share > 0.9
      - terms.odd >= 1
      - volume[platform=tiktok] >= 5
      - negative_share[platform=tiktok] > 0.5
      - negative_volume[platform=reddit] >= 1
      - mentions[verified] >= 1
      - mentions[followers>=100000] >= 1
      - mentions[platform=reddit,followers>100000] >= 1
      - reach[platform=reddit] > 1
      - engagement[verified] > 1
""")
MENTIONS = pd.DataFrame({
    "mention_id": [str(i) for i in range(10)],
    "created_at": [T0 + pd.Timedelta(minutes=m) for m in (1, 5, 20, 40, 61, 70, 80, 130, 131,
                                                           132)],
    "topic": "a",
    "text": ["Product RECALL now", "I got an injury", "données: data  breach!", "recalled it",
             "Récall", "nothing", None, "injury+recall", "I love C++ and a.b", "ab axb (x)|y"],
    "sentiment": [-0.5, 0.2, -0.9, 0.0, -0.3, -0.8, -0.6, 0.0, 0.0, 0.0],
    "platform": ["TikTok", "reddit", " tiktok ", None, "twitter", "Reddit", "tiktok", "reddit",
                 "x", "x"],
    "author_followers": [100, 200000, 5, 150000, np.nan, 100000, 1, 0, 0, 0],
    "engagement": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    "is_verified": [False, True, False, False, True, False, None, False, False, True],
})
# per window (00:00, 01:00, 02:00), computed by hand from the rows above
EXPECTED = {
    "terms.safety": [3, 1, 1],  # "recalled" is not "recall"; "Récall" folds to recall
    "terms.safety_share": [0.75, 1 / 3, 1 / 3],
    "terms.odd": [0, 0, 2],  # c++ and a.b literally; (x)|y literally, not as a pattern
    "volume[platform=tiktok]": [2, 1, 0],
    "negative_share[platform=tiktok]": [1.0, 1.0, np.nan],
    "negative_volume[platform=reddit]": [0, 1, 0],
    "mentions[verified]": [1, 1, 1],
    "mentions[followers>=100000]": [2, 1, 0],
    "mentions[platform=reddit,followers>100000]": [1, 0, 0],
    "reach[platform=reddit]": [200000, 100000, 0],
    "engagement[verified]": [2, 5, 10],
}


def _features(engine, tmp_path, mentions=MENTIONS, plan=PLAN):
    if engine == "pandas":
        return esc.build_features(mentions, freq="1h", measures=plan)
    path = tmp_path / "mentions.csv"
    mentions.to_csv(path, index=False)
    return esc.aggregate_files(path, freq="1h", measures=plan).features


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_measures_by_hand_on_both_engines(engine, tmp_path):
    features = _features(engine, tmp_path)
    assert len(features) == 3
    for name, expected in EXPECTED.items():
        np.testing.assert_allclose(features[name].to_numpy(float), expected, err_msg=name)


def test_both_engines_give_identical_columns(tmp_path):
    pandas = _features("pandas", tmp_path)
    duck = _features("duckdb", tmp_path)
    names = [m.name for m in PLAN.plan_measures]
    pd.testing.assert_frame_equal(
        pandas[names].reset_index(drop=True), duck[names].reset_index(drop=True)
    )


def test_a_plan_evaluates_on_the_measures():
    features = esc.build_features(MENTIONS, freq="1h", measures=PLAN)
    plan = Policy.from_dict({"terms": {"safety": ["recall", "injury", "data breach"]},
                             "tiers": [{"level": 1, "all": ["terms.safety >= 3"]}]})
    assert esc.evaluate(plan, features).windows["tier"].tolist() == [1, 0, 0]
    bare = esc.build_features(MENTIONS, freq="1h")
    with pytest.raises(PolicyError, match="measures=policy"):
        esc.evaluate(plan, bare)
    added = esc.add_plan_measures(bare, MENTIONS, plan)
    assert added["terms.safety"].tolist() == [3, 1, 1]


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_a_measure_needing_a_column_the_data_lacks_names_it(engine, tmp_path):
    with pytest.raises(DataLoadError, match="needs the mentions' platform column") as info:
        _features(engine, tmp_path, MENTIONS.drop(columns="platform"))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"tiers": [{"level": 1, "all": ["terms.legal >= 1"]}]}, "does not declare"),
        ({"tiers": [{"level": 1, "all": ["volume[country=fr] >= 1"]}]}, "unknown segment"),
        ({"tiers": [{"level": 1, "all": ["reach_ratio[verified] >= 1"]}]}, "a segment is taken"),
        ({"terms": {"safety": []}, "tiers": [{"level": 1, "all": ["volume >= 1"]}]},
         "list of words"),
    ],
)
def test_bad_measure_names_are_one_line_errors(plan, message):
    with pytest.raises(PolicyError, match=message) as info:
        Policy.from_dict(plan)
    assert "\n" not in str(info.value)


def test_terms_round_trip_and_patterns_escape_everything():
    assert Policy.from_yaml(PLAN.to_yaml()) == PLAN
    assert fold_text("Crème BRÛLÉE ﬁne") == "creme brulee fine"
    pattern = term_pattern(("a.b", "(x)|y", "data breach"))
    assert r"a\.b" in pattern and r"\(x\)\|y" in pattern and r"data\s+breach" in pattern


def test_spark_is_refused_for_plan_measures():
    from esc_analytics.features._segments import check_engine

    check_engine("spark", ())
    with pytest.raises(DataLoadError, match="spark engine does not compute"):
        check_engine("spark", PLAN.plan_measures)
