"""`detect --alerts` and `alerts --last`: per-notification alerts from the command line, on
small hand-made mention files and on the bundled sample; byte-identical files across runs."""

from __future__ import annotations

import contextlib
import io
import json
import re

import numpy as np
import pandas as pd
import pytest

import esc_analytics as esc
from esc_analytics.cli import main

PLAN = """\
name: Test plan
tiers:
  - level: 1
    name: Community <b>manager</b>
    owner: Community team
    all: [volume_ratio >= 3]
    min_volume: 5
  - level: 2
    name: Social lead
    owner: PR on call
    all: [volume_ratio >= 6, negative_share >= 0.5]
"""


def _mentions(days: int, burst_day: int | None, topic: str = "alpha", seed: int = 1):
    """Hourly posts (Poisson 4/h) over ``days`` days; at noon of ``burst_day`` a ramp: 24
    neutral posts, then 40 negative ones with hostile texts for 2 hours."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-03-02", tz="UTC")
    rows = []
    for hour in range(24 * days):
        t = start + pd.Timedelta(hours=hour)
        ramp = burst_day is not None and hour == 24 * burst_day + 12
        burst = burst_day is not None and 24 * burst_day + 13 <= hour < 24 * burst_day + 15
        n = 40 if burst else 24 if ramp else int(rng.poisson(4))
        for k in range(n):
            rows.append(
                {
                    "mention_id": f"{topic}-{hour}-{k}",
                    "created_at": (t + pd.Timedelta(seconds=60 * k + 1)).isoformat(),
                    "topic": topic,
                    "text": ("<!channel> <script>x</script> [win](http://evil) outage"
                             if burst else "all fine"),
                    "author": f"user{k}",
                    "author_followers": 100 * (k % 7),
                    "sentiment": "negative" if burst else "positive",
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("alerts_cli")
    _mentions(10, burst_day=8).to_csv(root / "mentions.csv", index=False)
    # a topic with no history: half a day of posts, all of it warm-up
    _mentions(1, burst_day=None, topic="newbrand").head(40).to_csv(root / "new.csv", index=False)
    (root / "plan.yaml").write_text(PLAN)
    return root


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


def expected_alerts(files, name="mentions.csv"):
    loaded = esc.load_mentions(files / name)
    features = esc.build_features(loaded.data, freq="1h")
    plan = esc.load_policy(files / "plan.yaml")
    return esc.alerts(plan, features, mentions=loaded.data)


def test_detect_writes_one_alert_per_notification(files, tmp_path):
    out = tmp_path / "alerts.csv"
    rc, printed, _ = run(["detect", "--mentions", str(files / "mentions.csv"), "--policy",
                          str(files / "plan.yaml"), "--alerts", str(out)])
    assert rc == 0
    table = pd.read_csv(out, keep_default_na=False)
    want = expected_alerts(files)
    assert len(table) == len(want) >= 2
    assert f"{len(want)} alerts (csv) with example posts -> {out}" in printed
    assert table["tier"].tolist() == [r["tier"] for r in want]
    assert table["episode"].tolist()[:2] == ["opened", "raised"]
    first = table.iloc[0]
    assert first["owner"] == "Community team" and first["tier_name"] == "Community <b>manager</b>"
    assert first["triggered"] == want[0]["triggered"]
    assert re.fullmatch(r"volume_ratio [\d.]+ >= 3 and volume \d+ >= 5", first["triggered"])
    assert first["example_ids"].count(";") == 2  # three examples


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_alert_files_are_byte_identical_across_runs(files, tmp_path, fmt):
    paths = [tmp_path / f"run{i}.out" for i in (1, 2)]
    for path in paths:
        rc, _, _ = run(["detect", "--mentions", str(files / "mentions.csv"), "--policy",
                        str(files / "plan.yaml"), "--alerts", str(path), "--format", fmt])
        assert rc == 0
    assert paths[0].read_bytes() == paths[1].read_bytes()
    if fmt == "jsonl":
        records = [json.loads(line) for line in paths[0].read_text().splitlines()]
        assert records == json.loads(json.dumps(list(expected_alerts(files))))
        # JSON keeps the data as typed (its consumers escape for where they show it)
        raised = [r for r in records if r["tier"] == 2]
        assert raised and all("<!channel>" in r["examples"][0]["text"] for r in raised)


def test_detect_still_writes_windows_and_checks_its_options(files, tmp_path):
    windows = tmp_path / "tiers.csv"
    rc, printed, _ = run(["detect", "--mentions", str(files / "mentions.csv"), "--policy",
                          str(files / "plan.yaml"), "--out", str(windows)])
    assert rc == 0 and "notifications ->" in printed
    assert list(pd.read_csv(windows).columns) == ["topic", "window_start", "tier", "escalation"]
    for extra, message in (
        ([], "give --out"),
        (["--out", str(windows), "--format", "csv"], "--format is the format of --alerts"),
    ):
        rc, _, err = run(["detect", "--mentions", str(files / "mentions.csv"), "--policy",
                          str(files / "plan.yaml"), *extra])
        assert rc == 2 and message in err and len(err.strip().splitlines()) == 1


def test_alerts_preview_groups_by_episode(files):
    want = expected_alerts(files).last("7d")
    rc, printed, _ = run(["alerts", "--mentions", str(files / "mentions.csv"), "--policy",
                          str(files / "plan.yaml"), "--last", "7d"])
    assert rc == 0
    assert f"{len(want)} alert(s) in {len(want.episodes())} episode(s)" in printed
    for episode_id, group in want.episodes():
        assert f"episode {episode_id}" in printed
        assert all(r["triggered"] in printed for r in group)
    assert "PR on call" in printed


def test_alerts_markdown_is_a_document_with_the_load_summary_on_stderr(files):
    rc, printed, err = run(["alerts", "--mentions", str(files / "mentions.csv"), "--policy",
                            str(files / "plan.yaml"), "--markdown"])
    assert rc == 0
    assert printed.startswith("**") and "### Episode" in printed
    assert "read " in err and "read " not in printed
    assert "<script>" not in printed and "<!channel>" not in printed and "<b>" not in printed


@pytest.mark.parametrize("kind", ["slack", "teams", "pagerduty"])
def test_alerts_payloads_one_json_per_line(files, kind):
    key = ["--routing-key", "abc123"] if kind == "pagerduty" else []
    rc, printed, _ = run(["alerts", "--mentions", str(files / "mentions.csv"), "--policy",
                          str(files / "plan.yaml"), "--last", "all", "--payload", kind, *key])
    assert rc == 0
    payloads = [json.loads(line) for line in printed.splitlines()]
    assert len(payloads) == len(expected_alerts(files))
    if kind == "pagerduty":
        assert all(p["routing_key"] == "abc123" and p["event_action"] == "trigger"
                   for p in payloads)
    elif kind == "slack":
        assert all(p["text"] and p["blocks"] for p in payloads)
        assert "<!channel>" not in printed
    else:
        assert all(p["type"] == "message" for p in payloads)


def test_pagerduty_needs_its_routing_key(files):
    rc, _, err = run(["alerts", "--mentions", str(files / "mentions.csv"), "--policy",
                      str(files / "plan.yaml"), "--payload", "pagerduty"])
    assert rc == 2 and "--routing-key" in err and len(err.strip().splitlines()) == 1


def test_a_topic_with_no_history_sends_nothing_and_says_so(files):
    rc, printed, _ = run(["alerts", "--mentions", str(files / "new.csv"), "--policy",
                          str(files / "plan.yaml"), "--last", "7d"])
    assert rc == 0
    assert "0 alert(s) in 0 episode(s)" in printed
    assert "no alert would have been sent" in printed


@pytest.mark.parametrize("last", ["soon", "-3d", "0h"])
def test_a_bad_duration_is_one_line(files, last):
    rc, _, err = run(["alerts", "--mentions", str(files / "mentions.csv"), "--policy",
                      str(files / "plan.yaml"), f"--last={last}"])
    assert rc == 2 and "duration" in err and len(err.strip().splitlines()) == 1


# --- the bundled sample, as a newcomer runs it -----------------------------------------------


@pytest.fixture(scope="module")
def sample_alerts(sample_dir):
    loaded = esc.load_mentions(sample_dir / "mentions.csv.gz")
    features = esc.build_features(loaded.data, freq="1h")
    plan = esc.load_policy(sample_dir / "policy.yaml")
    return esc.alerts(plan, features, mentions=loaded.data)


def test_alerts_last_7d_on_the_sample(sample_dir, sample_alerts):
    rc, printed, _ = run(["alerts", "--mentions", str(sample_dir / "mentions.csv.gz"),
                          "--policy", str(sample_dir / "policy.yaml"), "--last", "7d"])
    assert rc == 0
    want = sample_alerts.last("7d")
    assert want.summary() in printed
    if not len(want):  # the sample's last week is quiet: the preview says when the last was
        assert "the last one before went out" in printed


def test_detect_alerts_on_the_sample_byte_identical(sample_dir, sample_alerts, tmp_path):
    paths = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    for path in paths:
        assert run(["detect", "--mentions", str(sample_dir / "mentions.csv.gz"), "--policy",
                    str(sample_dir / "policy.yaml"), "--alerts", str(path)])[0] == 0
    assert paths[0].read_bytes() == paths[1].read_bytes()
    lines = paths[0].read_text().splitlines()
    assert len(lines) == len(sample_alerts) > 10
    assert [json.loads(line)["alert_id"] for line in lines] == [
        r["alert_id"] for r in sample_alerts
    ]
