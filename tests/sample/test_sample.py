"""The sample generator: reproducible, in the data contracts, and realistic enough that incidents,
launches and viral spikes show in the mentions the way later analyses rely on."""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esc_analytics._util.errors import EscAnalyticsError
from esc_analytics._util.schema import (
    DEFAULT_INFLUENCER_FOLLOWERS,
    INCIDENT_COLUMNS,
    MENTION_COLUMNS,
    NEGATIVE_SENTIMENT_BAR,
)
from esc_analytics.sample._generate import (
    PLATFORMS,
    SAMPLE_FILES,
    SampleData,
    generate_sample,
    sample_csv_text,
    write_sample,
)

MENTION_FILE_COLUMNS = [c for c in MENTION_COLUMNS if c != "sentiment_estimated"]
INCIDENT_FILE_COLUMNS = [
    "incident_id",
    "topic",
    "title",
    "category",
    "severity",
    "started_at",
    "detected_at",
    "escalated_at",
    "resolved_at",
    "ended_at",
]
INCIDENT_WORDS = r"outage|down|refund|boycott|recall|breach|hacked|price hike|safety"


@pytest.fixture(scope="module")
def sample() -> SampleData:
    """The documented sample (default seed and size): the same data as data/sample."""
    return generate_sample()


@pytest.fixture(scope="module")
def small() -> SampleData:
    return generate_sample(seed=7, days=40)


@pytest.fixture(scope="module")
def tiny() -> SampleData:
    """A quick sample for the file and command-line tests."""
    return generate_sample(seed=7, days=25, topics=["Lumo", "Acme"])


@pytest.fixture(scope="module")
def hourly(sample: SampleData) -> pd.DataFrame:
    """Hourly counts per topic computed with plain pandas, with each hour's usual level: the
    median of the same topic and hour of week over hours outside every event."""
    m = sample.mentions
    frame = pd.DataFrame(
        {
            "topic": m["topic"],
            "hour": m["created_at"].dt.floor("h"),
            "negative": (m["sentiment"] <= NEGATIVE_SENTIMENT_BAR).astype(int),
            "scored": m["sentiment"].notna().astype(int),
            "sentiment": m["sentiment"].fillna(0.0),
            "influencer": (
                (m["author_followers"] >= DEFAULT_INFLUENCER_FOLLOWERS) | m["is_verified"]
            ).astype(int),
        }
    )
    counts = frame.groupby(["topic", "hour"]).agg(
        volume=("negative", "size"),
        negative=("negative", "sum"),
        scored=("scored", "sum"),
        sentiment=("sentiment", "sum"),
        influencer=("influencer", "sum"),
    )
    grid = pd.MultiIndex.from_product(
        [
            sorted(m["topic"].unique()),
            pd.date_range(
                m["created_at"].min().floor("h"), m["created_at"].max().floor("h"), freq="h"
            ),
        ],
        names=["topic", "hour"],
    )
    counts = counts.reindex(grid, fill_value=0).reset_index()
    counts["in_event"] = False
    events = pd.concat(
        [
            sample.incidents[["topic", "started_at", "ended_at"]],
            sample.planned_events[["topic", "started_at", "ended_at"]],
            sample.benign_spikes[["topic", "started_at", "ended_at"]],
        ]
    )
    for event in events.itertuples():
        inside = (
            (counts["topic"] == event.topic)
            & (counts["hour"] >= event.started_at.floor("h") - pd.Timedelta("1h"))
            & (counts["hour"] <= event.ended_at + pd.Timedelta("1h"))
        )
        counts.loc[inside, "in_event"] = True
    counts["how"] = counts["hour"].dt.day_of_week * 24 + counts["hour"].dt.hour
    usual = counts[~counts["in_event"]].groupby(["topic", "how"])["volume"].median()
    counts = counts.join(usual.rename("usual"), on=["topic", "how"])
    return counts


def _window(hourly: pd.DataFrame, topic: str, start: pd.Timestamp, end: pd.Timestamp):
    return hourly[
        (hourly["topic"] == topic) & (hourly["hour"] >= start.floor("h")) & (hourly["hour"] < end)
    ]


def _quiet_negative_share(hourly: pd.DataFrame, topic: str) -> float:
    quiet = hourly[(hourly["topic"] == topic) & ~hourly["in_event"]]
    return quiet["negative"].sum() / quiet["volume"].sum()


# --- reproducibility --------------------------------------------------------------------------


def test_same_seed_gives_identical_frames(small: SampleData) -> None:
    again = generate_sample(seed=7, days=40)
    for name in ("mentions", "incidents", "planned_events", "benign_spikes"):
        pd.testing.assert_frame_equal(getattr(small, name), getattr(again, name))


def test_different_seed_gives_different_data(small: SampleData) -> None:
    other = generate_sample(seed=8, days=40)
    assert len(other.mentions) != len(small.mentions) or not other.mentions.equals(small.mentions)
    assert not other.incidents["started_at"].equals(small.incidents["started_at"])


# --- schema -----------------------------------------------------------------------------------


def test_mentions_follow_the_contract(sample: SampleData) -> None:
    m = sample.mentions
    assert list(m.columns) == MENTION_FILE_COLUMNS
    for column in ("mention_id", "topic", "text", "author", "platform"):
        assert pd.api.types.is_string_dtype(m[column]), column
        assert m[column].notna().all() and (m[column].str.len() > 0).all(), column
    assert isinstance(m["created_at"].dtype, pd.DatetimeTZDtype)
    assert str(m["created_at"].dt.tz) == "UTC"
    assert m["author_followers"].dtype == np.int64 and (m["author_followers"] >= 0).all()
    assert m["engagement"].dtype == np.int64 and (m["engagement"] >= 0).all()
    assert m["is_verified"].dtype == bool
    assert m["sentiment"].dtype == np.float64
    scored = m["sentiment"].dropna()
    assert scored.between(-1, 1).all()
    assert 0 < m["sentiment"].isna().mean() < 0.05  # most rows scored, a few left to estimate
    assert m["mention_id"].is_unique
    assert m["created_at"].is_monotonic_increasing
    assert set(m["platform"]) == set(PLATFORMS)
    assert m["topic"].nunique() == 4


def test_incident_log_follows_the_contract(sample: SampleData) -> None:
    inc = sample.incidents
    assert list(inc.columns) == INCIDENT_FILE_COLUMNS
    assert set(INCIDENT_FILE_COLUMNS) <= set(INCIDENT_COLUMNS)
    assert inc["incident_id"].is_unique
    for column in ("incident_id", "topic", "title", "category"):
        assert pd.api.types.is_string_dtype(inc[column]), column
    for column in ("started_at", "detected_at", "escalated_at", "resolved_at", "ended_at"):
        assert isinstance(inc[column].dtype, pd.DatetimeTZDtype), column
        assert str(inc[column].dt.tz) == "UTC"
    assert inc["severity"].dtype == np.int64
    assert set(inc["topic"]) <= set(sample.mentions["topic"])
    for frame in (sample.planned_events, sample.benign_spikes):
        assert list(frame.columns) == [
            "event_id",
            "topic",
            "name",
            "kind",
            "started_at",
            "ended_at",
        ]
        assert (frame["ended_at"] > frame["started_at"]).all()


def _assert_timeline_ordered(inc: pd.DataFrame) -> None:
    assert (inc["started_at"] <= inc["detected_at"]).all()
    assert (inc["ended_at"] >= inc["started_at"]).all()
    assert (inc["resolved_at"] >= inc["detected_at"]).all()
    escalated = inc["escalated_at"].notna()
    assert (inc.loc[escalated, "escalated_at"] >= inc.loc[escalated, "detected_at"]).all()
    assert (inc.loc[escalated, "resolved_at"] >= inc.loc[escalated, "escalated_at"]).all()
    # tiers 2 and 3 were escalated, tier 1 stayed with the community team
    assert (escalated == (inc["severity"] >= 2)).all()
    assert set(inc["severity"]) <= {1, 2, 3}


def test_incident_timeline_is_ordered(sample: SampleData) -> None:
    _assert_timeline_ordered(sample.incidents)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incident_timeline_is_ordered_for_other_seeds(seed: int) -> None:
    _assert_timeline_ordered(generate_sample(seed=seed, days=45, topics=["A", "B"]).incidents)


def test_tier_mix_and_coverage(sample: SampleData) -> None:
    inc = sample.incidents
    assert 20 <= len(inc) <= 30
    share = inc["severity"].value_counts(normalize=True)
    assert 0.4 <= share[1] <= 0.6 and 0.2 <= share[2] <= 0.4 and 0.12 <= share[3] <= 0.28
    assert set(inc["topic"]) == set(sample.mentions["topic"])  # every topic has incidents
    assert inc["category"].nunique() >= 5
    assert len(sample.planned_events) >= 4
    assert set(sample.benign_spikes["kind"]) == {"viral", "roast"}
    delay = inc["detected_at"] - inc["started_at"]
    # the team noticed some incidents within the hour and others only after many hours
    assert (delay <= pd.Timedelta("1h")).sum() >= 3
    assert (delay >= pd.Timedelta("12h")).sum() >= 3


# --- realism: what later analyses rely on ---------------------------------------------------


def test_incident_windows_show_raised_volume_and_negative_share(
    sample: SampleData, hourly: pd.DataFrame
) -> None:
    ratios = {}
    for inc in sample.incidents.itertuples():
        window = _window(hourly, inc.topic, inc.started_at, inc.ended_at)
        ratio = window["volume"].sum() / window["usual"].sum()
        negative_share = window["negative"].sum() / window["volume"].sum()
        quiet = _quiet_negative_share(hourly, inc.topic)
        # tier 1 includes issues barely above the noise in volume, but their complaints show
        # in the negative count; tiers 2 and 3 stand out clearly
        min_ratio, min_rise = (1.1, 0.08) if inc.severity == 1 else (2.5, 0.25)
        assert ratio >= min_ratio, (inc.incident_id, ratio)
        assert negative_share >= quiet + min_rise, (inc.incident_id, negative_share, quiet)
        negative_ratio = window["negative"].sum() / (quiet * window["usual"].sum())
        assert negative_ratio >= 1.8, (inc.incident_id, negative_ratio)
        ratios.setdefault(inc.severity, []).append(ratio)
    mean_ratio = {tier: np.mean(values) for tier, values in ratios.items()}
    assert mean_ratio[1] < mean_ratio[2] < mean_ratio[3]


def test_incidents_range_from_obvious_to_barely_visible(
    sample: SampleData, hourly: pd.DataFrame
) -> None:
    """Retrospectives need incidents a volume rule catches early, late and not at all."""
    fast, slow, faint = 0, 0, 0
    for inc in sample.incidents.itertuples():
        window = _window(hourly, inc.topic, inc.started_at, inc.ended_at)
        ratio = (window["volume"] + 1) / (window["usual"] + 1)
        loud = window.loc[ratio >= 6, "hour"]
        if inc.severity >= 2 and len(loud) and loud.iloc[0] - inc.started_at <= pd.Timedelta("3h"):
            fast += 1
        if inc.severity >= 2 and len(loud) and loud.iloc[0] - inc.started_at >= pd.Timedelta("8h"):
            slow += 1
        if inc.severity == 1 and ratio.max() < 3.5:
            faint += 1
    assert fast >= 3 and slow >= 3 and faint >= 3, (fast, slow, faint)


def test_severe_incidents_draw_influencers(sample: SampleData, hourly: pd.DataFrame) -> None:
    for inc in sample.incidents[sample.incidents["severity"] == 3].itertuples():
        window = _window(hourly, inc.topic, inc.started_at, inc.ended_at)
        quiet = hourly[(hourly["topic"] == inc.topic) & ~hourly["in_event"]]
        assert window["influencer"].max() >= 3
        assert window["influencer"].mean() >= 4 * quiet["influencer"].mean()


def _benign_events(sample: SampleData, which: str) -> pd.DataFrame:
    if which == "planned":
        return sample.planned_events
    return sample.benign_spikes[sample.benign_spikes["kind"] == which]


@pytest.mark.parametrize("which", ["planned", "viral"])
def test_positive_benign_events_raise_volume_with_positive_sentiment(
    sample: SampleData, hourly: pd.DataFrame, which: str
) -> None:
    events = _benign_events(sample, which)
    assert len(events) >= 2
    for event in events.itertuples():
        window = _window(hourly, event.topic, event.started_at, event.ended_at)
        quiet = hourly[(hourly["topic"] == event.topic) & ~hourly["in_event"]]
        assert window["volume"].sum() >= 2 * window["usual"].sum(), event.name
        mean_sentiment = window["sentiment"].sum() / window["scored"].sum()
        usual_sentiment = quiet["sentiment"].sum() / quiet["scored"].sum()
        assert mean_sentiment > 0.2 and mean_sentiment > usual_sentiment + 0.05, event.name
        negative_share = window["negative"].sum() / window["volume"].sum()
        assert negative_share <= _quiet_negative_share(hourly, event.topic) + 0.05


def test_roasts_look_negative_but_use_no_incident_vocabulary(
    sample: SampleData, hourly: pd.DataFrame
) -> None:
    """Harmless joke waves: a volume + negative-share rule fires, the words tell otherwise."""
    roasts = _benign_events(sample, "roast")
    assert len(roasts) >= 1
    m = sample.mentions
    for event in roasts.itertuples():
        window = _window(hourly, event.topic, event.started_at, event.ended_at)
        assert window["volume"].sum() >= 2 * window["usual"].sum(), event.name
        negative_share = window["negative"].sum() / window["volume"].sum()
        assert negative_share >= _quiet_negative_share(hourly, event.topic) + 0.15
        inside = m[
            (m["topic"] == event.topic)
            & (m["created_at"] >= event.started_at)
            & (m["created_at"] <= event.ended_at)
        ]
        assert inside["text"].str.contains("roast|joke|lol|lmao", regex=True).mean() > 0.2
        assert inside["text"].str.lower().str.contains(INCIDENT_WORDS, regex=True).mean() < 0.1


def test_texts_carry_incident_signal(sample: SampleData) -> None:
    m = sample.mentions
    in_incident = np.zeros(len(m), dtype=bool)
    times = m["created_at"]
    for inc in sample.incidents.itertuples():
        in_incident |= (
            (m["topic"] == inc.topic) & (times >= inc.started_at) & (times <= inc.ended_at)
        ).to_numpy()
    has_words = m["text"].str.lower().str.contains(INCIDENT_WORDS, regex=True).to_numpy()
    assert has_words[in_incident].mean() >= 3 * has_words[~in_incident].mean()
    assert has_words[~in_incident].mean() < 0.1


def test_texts_include_markup_urls_hashtags_and_emoji(sample: SampleData) -> None:
    text = sample.mentions["text"]
    assert text.str.contains("<script>", regex=False).sum() >= 5
    assert text.str.contains("onerror=", regex=False).sum() >= 5
    assert text.str.contains("https://", regex=False).mean() > 0.03
    assert text.str.contains("#", regex=False).mean() > 0.15
    assert text.str.contains("🔥|😡", regex=True).sum() > 100


def test_followers_are_heavy_tailed(sample: SampleData) -> None:
    followers = sample.mentions.drop_duplicates("author")["author_followers"]
    assert followers.max() >= 1000 * followers.median()
    assert 0.005 <= (followers >= DEFAULT_INFLUENCER_FOLLOWERS).mean() <= 0.1


def test_baseline_has_daily_and_weekly_seasonality(hourly: pd.DataFrame) -> None:
    quiet = hourly[~hourly["in_event"]]
    by_hour = quiet.groupby(quiet["hour"].dt.hour)["volume"].mean()
    assert by_hour.max() >= 2 * by_hour.min()
    weekend = quiet["hour"].dt.day_of_week >= 5
    brewhaus = quiet["topic"] == "Brewhaus"  # a leisure brand: busier at weekends
    assert (
        quiet.loc[brewhaus & weekend, "volume"].mean()
        > quiet.loc[brewhaus & ~weekend, "volume"].mean()
    )


# --- parameters and validation -------------------------------------------------------------


def test_custom_topics_and_volume_scale() -> None:
    base = generate_sample(seed=5, days=30, topics=["Acme"])
    louder = generate_sample(seed=5, days=30, topics=["Acme"], volume_scale=2.0)
    assert set(base.mentions["topic"]) == {"Acme"}
    assert set(base.incidents["topic"]) == {"Acme"}
    assert base.mentions["text"].str.contains("Acme").mean() > 0.5
    assert 1.6 <= len(louder.mentions) / len(base.mentions) <= 2.4
    assert base.mentions["created_at"].min() >= pd.Timestamp("2026-01-05", tz="UTC")
    assert base.mentions["created_at"].max() < pd.Timestamp("2026-02-04", tz="UTC")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"days": 5}, "days"),
        ({"topics": []}, "topics"),
        ({"topics": "Lumo"}, "topics"),
        ({"topics": ["A", "A"]}, "distinct"),
        ({"volume_scale": 0}, "volume_scale"),
        ({"start": "not a date"}, "start"),
    ],
)
def test_bad_parameters_raise_library_error(kwargs: dict, message: str) -> None:
    with pytest.raises(EscAnalyticsError, match=message):
        generate_sample(**kwargs)


# --- files --------------------------------------------------------------------------------


def _read_sample_files(directory: Path) -> dict[str, pd.DataFrame]:
    """Read the three files with plain pandas: strings stay strings, *_at become UTC times."""
    frames = {}
    for name in SAMPLE_FILES:
        frame = pd.read_csv(directory / name, keep_default_na=False, na_values={"sentiment": [""]})
        for column in frame.columns:
            if column.endswith("_at"):
                frame[column] = pd.to_datetime(frame[column].replace("", None), utc=True)
        frames[name] = frame
    return frames


def test_write_sample_round_trips_and_is_byte_reproducible(
    tiny: SampleData, tmp_path: Path
) -> None:
    first = write_sample(tiny, tmp_path / "a" / "nested")
    second = write_sample(tiny, tmp_path / "b")
    assert [p.name for p in first] == list(SAMPLE_FILES)
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == sorted(SAMPLE_FILES)  # no temps
    frames = _read_sample_files(tmp_path / "b")
    pd.testing.assert_frame_equal(frames["mentions.csv.gz"], tiny.mentions, check_dtype=False)
    assert frames["mentions.csv.gz"]["created_at"].dt.tz is not None
    incidents = frames["incidents.csv"]
    pd.testing.assert_frame_equal(incidents, tiny.incidents, check_dtype=False)
    pd.testing.assert_frame_equal(
        frames["planned_events.csv"], tiny.planned_events, check_dtype=False
    )
    raw = gzip.decompress(first[0].read_bytes()).decode("utf-8").splitlines()
    assert raw[0] == ",".join(MENTION_FILE_COLUMNS)
    assert raw[1].split(",")[1].endswith("Z")


def test_write_sample_refuses_a_file_as_directory(tiny: SampleData, tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(EscAnalyticsError, match="not a directory"):
        write_sample(tiny, target)


def test_committed_sample_matches_the_generator(sample_dir: Path, sample: SampleData) -> None:
    """data/sample is exactly what `esc-analytics sample --out data/sample` writes (compared as
    text, line by line, so that a zlib version cannot matter)."""
    total = sum(p.stat().st_size for p in sample_dir.iterdir() if p.is_file())
    assert total <= 10_000_000
    frames = (sample.mentions, sample.incidents, sample.planned_events)
    for name, frame in zip(SAMPLE_FILES, frames, strict=True):
        raw = (sample_dir / name).read_bytes()
        committed = (gzip.decompress(raw) if name.endswith(".gz") else raw).decode("utf-8")
        expected = sample_csv_text(frame)
        if committed != expected:
            pairs = zip(committed.splitlines(), expected.splitlines(), strict=False)
            first = next(
                (i for i, (a, b) in enumerate(pairs) if a != b),
                min(committed.count("\n"), expected.count("\n")),
            )
            pytest.fail(
                f"{name} differs from the generator at line {first + 1}: regenerate with "
                "'esc-analytics sample --out data/sample'"
            )
    committed_frames = _read_sample_files(sample_dir)
    pd.testing.assert_frame_equal(
        committed_frames["incidents.csv"], sample.incidents, check_dtype=False
    )


def test_committed_sample_loads_without_quarantine(sample_dir: Path) -> None:
    from esc_analytics.io import _load as io

    mentions = io.load_mentions(sample_dir / "mentions.csv.gz")
    assert mentions.summary.quarantined == 0, str(mentions.summary)
    assert mentions.summary.accepted == mentions.summary.rows_read
    assert len(mentions.data) == mentions.summary.rows_read
    assert mentions.data["mention_id"].is_unique
    assert str(mentions.data["created_at"].dt.tz) == "UTC"
    incidents = io.load_incidents(sample_dir / "incidents.csv")
    assert incidents.summary.quarantined == 0, str(incidents.summary)
    assert len(incidents.data) == 25
    assert set(incidents.data["severity"]) == {1, 2, 3}


def test_committed_policy_loads(sample_dir: Path) -> None:
    from esc_analytics.policy import _policy as policy_module

    policy = policy_module.Policy.from_yaml(sample_dir / "policy.yaml")
    assert [t.level for t in policy.tiers] == [1, 2, 3]
    assert all(t.owner for t in policy.tiers)
    assert "volume_ratio" in policy.features_used
    assert policy_module.Policy.from_yaml(policy.to_yaml()) == policy


def test_cli_writes_the_files(
    tiny: SampleData, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from esc_analytics.cli import _sample as cli_sample

    parser = argparse.ArgumentParser()
    cli_sample.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        [
            "sample",
            "--out",
            str(tmp_path / "out"),
            "--seed",
            "7",
            "--days",
            "25",
            "--topics",
            "Lumo",
            "Acme",
        ]
    )
    assert args.func(args) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(SAMPLE_FILES)
    assert "incidents" in capsys.readouterr().out
    frames = _read_sample_files(tmp_path / "out")
    assert len(frames["mentions.csv.gz"]) == len(tiny.mentions)
    bad = parser.parse_args(["sample", "--out", str(tmp_path / "bad"), "--days", "3"])
    with pytest.raises(EscAnalyticsError, match="days"):
        bad.func(bad)


def test_readme_describes_the_committed_sample(sample_dir: Path, sample: SampleData) -> None:
    """The README's counts and incident table are those of the data (no stale documentation)."""
    readme = (sample_dir / "README.md").read_text(encoding="utf-8")
    assert "esc-analytics sample --out data/sample" in readme
    assert f"{len(sample.mentions):,} mentions" in readme
    assert f"{sample.mentions['sentiment'].isna().sum():,} rows" in readme
    rows = {}
    for line in readme.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells and cells[0].startswith(("INC-", "EVT-", "SPK-")):
            rows[cells[0]] = cells
    for inc in sample.incidents.itertuples():
        cells = rows.pop(inc.incident_id)
        assert cells[1:5] == [inc.topic, str(inc.severity), inc.category, inc.title]
        assert cells[5] == f"{inc.started_at:%Y-%m-%d %H:%M}"
    for frame in (sample.planned_events, sample.benign_spikes):
        for event in frame.itertuples():
            cells = rows.pop(event.event_id)
            assert cells[1:4] == [event.topic, event.kind, event.name]
    assert not rows, f"README lists events the data does not have: {sorted(rows)}"


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), days=st.integers(23, 40))
def test_any_seed_gives_a_consistent_history(seed: int, days: int) -> None:
    """Property: for any seed and length, mentions stay inside the period, ids are unique, and
    the incident log is ordered and refers to the generated topics."""
    sample = generate_sample(seed=seed, days=days, topics=["Acme"], start="2025-03-30")
    m = sample.mentions
    start = pd.Timestamp("2025-03-30", tz="UTC")
    assert m["created_at"].min() >= start
    assert m["created_at"].max() < start + pd.Timedelta(days=days)
    assert m["mention_id"].is_unique and m["created_at"].is_monotonic_increasing
    assert m["sentiment"].dropna().between(-1, 1).all()
    _assert_timeline_ordered(sample.incidents)
    assert (sample.incidents["ended_at"] < start + pd.Timedelta(days=days)).all()
    assert (sample.incidents["started_at"] >= start + pd.Timedelta(days=14)).all()
    assert set(sample.incidents["topic"]) == {"Acme"}
