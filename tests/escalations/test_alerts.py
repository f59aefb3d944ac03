"""Alerts: who is paged and why, per notification; hostile texts escaped per output; files
byte-identical across runs; webhook payloads in the shapes the services document."""

from __future__ import annotations

import json

import mistune
import numpy as np
import pandas as pd
import pytest

import esc_analytics as esc
from esc_analytics.escalations._alerts import teams_escape

T0 = pd.Timestamp("2026-03-02", tz="UTC")
H = pd.Timedelta(hours=1)

PLAN = esc.Policy.from_dict(
    {
        "name": "Two tiers",
        "tiers": [
            {"level": 1, "name": "Community manager", "owner": "Community team",
             "all": ["volume_ratio >= 2"], "min_volume": 10},
            {"level": 2, "name": "Social lead", "owner": "PR on call",
             "all": ["volume_ratio >= 5", "negative_share >= 0.5"],
             "any": ["influencer_mentions >= 3", "volume_z >= 12"]},
        ],
    }
)
#                0    1    2    3    4    5    6    7    8    9
RATIO = [1.0, 1.0, 3.0, 6.2, 6.5, 1.0, 1.0, 1.0, 2.5, 1.0]
NEG = [0.1, 0.1, 0.2, 0.61, 0.7, 0.1, 0.1, 0.1, 0.9, 0.1]
INFL = [0, 0, 0, 4, 0, 0, 0, 0, 9, 0]
VZ = [0.0, 0.0, 2.0, 13.0, 14.0, 0.0, 0.0, 0.0, 1.5, 0.0]
VOLUME = [20, 20, 40, 90, 95, 20, 20, 20, 30, 20]


def features(topic: str = "brand") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "topic": topic,
            "window_start": pd.date_range(T0, periods=len(RATIO), freq="1h"),
            "volume": np.asarray(VOLUME, float),
            "volume_ratio": RATIO,
            "negative_share": NEG,
            "influencer_mentions": np.asarray(INFL, float),
            "volume_z": VZ,
        }
    )


HOSTILE = [
    "<script>alert(1)</script> down again",
    "<!channel> wake up @here &amp; <@U123|boss>",
    "[click me](javascript:alert(1)) ![img](http://x/y.png) # heading",
    "=HYPERLINK(\"http://evil\",\"x\")",
    "line one\nline two\r\n\u202eevil\u202c tail\x00",
]


def mentions() -> pd.DataFrame:
    rows = []
    # window 2 (tier 1 opens): three posts, two share the top reach -> earlier first
    rows += [
        ("m3", T0 + 2 * H + pd.Timedelta(minutes=30), "carol", 500, HOSTILE[0]),
        ("m2", T0 + 2 * H + pd.Timedelta(minutes=10), "bob", 500, HOSTILE[1]),
        ("m1", T0 + 2 * H + pd.Timedelta(minutes=5), "alice", 20, "meh"),
        # same reach and time as m2, larger id: after it
        ("m9", T0 + 2 * H + pd.Timedelta(minutes=10), "zed", 500, HOSTILE[2]),
    ]
    # window 3 (raised to tier 2)
    rows += [
        ("m4", T0 + 3 * H + pd.Timedelta(minutes=1), "dave", 10, HOSTILE[3]),
        ("m5", T0 + 3 * H + pd.Timedelta(minutes=2), "erin", None, HOSTILE[4]),
        ("m6", T0 + 3 * H + pd.Timedelta(minutes=3), "frank", 100_000, "x" * 500),
    ]
    # another topic in the same window never shows up
    rows += [("o1", T0 + 3 * H, "other", 10**7, "other topic")]
    frame = pd.DataFrame(
        rows, columns=["mention_id", "created_at", "author", "author_followers", "text"]
    )
    frame["topic"] = ["brand"] * 7 + ["other"]
    return frame


def test_each_notification_says_who_why_and_which_episode():
    found = esc.alerts(PLAN, features())
    records = list(found)
    # hand-computed: window 2 opens an episode at tier 1, window 3 raises it to tier 2,
    # window 8 opens a new one at tier 1 (its volume_ratio 2.5 < 5 for tier 2)
    assert [(r["window_start"], r["tier"], r["episode"], r["previous_tier"]) for r in records] == [
        ("2026-03-02T02:00:00Z", 1, "opened", 0),
        ("2026-03-02T03:00:00Z", 2, "raised", 1),
        ("2026-03-02T08:00:00Z", 1, "opened", 0),
    ]
    first, raised, again = records
    assert first["alerted_at"] == "2026-03-02T03:00:00Z"  # when the window closes
    assert (first["tier_name"], first["owner"]) == ("Community manager", "Community team")
    assert (raised["tier_name"], raised["owner"]) == ("Social lead", "PR on call")
    assert first["episode_id"] == raised["episode_id"] != again["episode_id"]
    assert raised["episode_started_at"] == "2026-03-02T02:00:00Z"
    assert first["triggered"] == "volume_ratio 3 >= 2 and volume 40 >= 10"
    assert raised["triggered"] == (
        "volume_ratio 6.2 >= 5 and negative_share 0.61 >= 0.5 and "
        "(influencer_mentions 4 >= 3 or volume_z 13 >= 12)"
    )
    assert again["triggered"] == "volume_ratio 2.5 >= 2 and volume 30 >= 10"
    conds = {c["feature"]: c for c in raised["conditions"]}
    assert conds["negative_share"] == {
        "group": "all", "feature": "negative_share", "op": ">=", "threshold": 0.5,
        "value": 0.61, "holds": True,
    }
    assert [c["group"] for c in raised["conditions"]] == ["all", "all", "any", "any"]
    assert found.start == T0 and found.end == T0 + 10 * H


def test_an_alternative_that_did_not_hold_is_marked():
    feats = features()
    feats.loc[3, "volume_z"] = 3.14159
    found = esc.alerts(PLAN, feats)
    raised = found[1]
    assert raised["triggered"].endswith("(influencer_mentions 4 >= 3 or volume_z 3.14 >= 12 [no])")
    assert [c["holds"] for c in raised["conditions"] if c["group"] == "any"] == [True, False]


def test_same_notifications_as_evaluate_and_given_escalations_are_reused():
    feats = features()
    evaluated = esc.evaluate(PLAN, feats)
    found = esc.alerts(PLAN, feats, escalations=evaluated)
    notes = evaluated.notifications
    assert [r["episode_id"] for r in found] == notes["episode_id"].tolist()
    assert [r["tier"] for r in found] == notes["tier"].tolist()
    with pytest.raises(esc.EscAnalyticsError, match="do not belong to these features"):
        esc.alerts(PLAN, features("elsewhere"), escalations=evaluated)


def test_examples_by_reach_then_time_then_id_and_from_the_topic_only():
    found = esc.alerts(PLAN, features(), mentions=mentions(), examples=3, max_chars=40)
    first, raised, again = found
    assert [e["mention_id"] for e in first["examples"]] == ["m2", "m9", "m3"]
    # unknown reach comes last
    assert [e["mention_id"] for e in raised["examples"]] == ["m6", "m4", "m5"]
    assert again["examples"] == []
    long = raised["examples"][0]["text"]
    assert len(long) == 40 and long.endswith("…")
    # one line, no control or bidi-override characters
    cleaned = raised["examples"][2]["text"]
    assert cleaned == "line one line two evil tail"
    assert found.with_examples


def test_persistence_looks_back_over_the_windows_that_held():
    plan = esc.Policy.from_dict(
        {"tiers": [{"level": 1, "name": "t", "owner": "o", "all": ["volume_ratio >= 5"],
                    "for": 2}]}
    )
    found = esc.alerts(plan, features(), mentions=mentions(), examples=10)
    (alert,) = found
    assert alert["window_start"] == "2026-03-02T04:00:00Z"  # windows 3 and 4 held
    # posts of windows 3 and 4 (none in 4): window 2's posts are outside
    assert sorted(e["mention_id"] for e in alert["examples"]) == ["m4", "m5", "m6"]


def test_hostile_texts_are_escaped_for_each_output():
    found = esc.alerts(PLAN, features(), mentions=mentions(), examples=4, max_chars=200)
    markdown = found.to_markdown()
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown
    assert "[click me](" not in markdown and "\\[click me\\]" in markdown
    assert "<!channel>" not in markdown
    # rendered as a notebook or a Markdown viewer would: no link, image, script or heading
    # comes from a post (the one heading per episode is generated)
    html = mistune.html(markdown)
    assert "<a " not in html and "<img" not in html and "<script" not in html
    assert html.count("<h3>") == len(found.episodes()) and "<h1>" not in html

    slack = esc.alert_payload(found[0], "slack")
    dumped = json.dumps(slack)
    assert "<!channel>" not in dumped and "<@U123" not in dumped and "<script>" not in dumped
    assert "&lt;!channel&gt;" in dumped and "&amp;amp;" in dumped

    # a Teams card renders a Markdown subset and no HTML: links and emphasis are escaped
    card = esc.alert_payload(found[0], "teams")["attachments"][0]["content"]
    texts = [b["text"] for b in card["body"] if b["type"] == "TextBlock"]
    assert any("\\[click me\\](javascript" in t for t in texts)
    assert not any("[click me](" in t for t in texts)
    facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    assert facts["Because"].startswith("volume_ratio 3 >= 2")  # readable, not volume\_ratio
    assert teams_escape("**shout** - 1. x") == "\\*\\*shout\\*\\* - 1. x"
    assert teams_escape("# not a heading") == "\\# not a heading"

    csv_text = found.to_csv()
    table = pd.read_csv(pd.io.common.StringIO(csv_text), keep_default_na=False)
    assert len(table) == len(found)
    assert not any(str(cell).startswith("=") for cell in table.to_numpy().ravel())
    raised = table.iloc[1]
    assert raised["example_ids"] == "m6; m4; m5"


def test_csv_cells_that_a_spreadsheet_would_run_are_defused():
    feats = features("=cmd|' /C calc'!A0")
    found = esc.alerts(PLAN, feats)
    table = pd.read_csv(pd.io.common.StringIO(found.to_csv()), keep_default_na=False)
    assert set(table["topic"]) == {"'=cmd|' /C calc'!A0"}
    assert found[0]["topic"] == "=cmd|' /C calc'!A0"  # the record keeps the data as is


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_files_are_byte_identical_across_runs(tmp_path, fmt):
    one = esc.alerts(PLAN, features(), mentions=mentions()).write(tmp_path / f"a.{fmt}")
    two = esc.alerts(PLAN, features(), mentions=mentions().sample(frac=1, random_state=3)).write(
        tmp_path / f"b.{fmt}"
    )
    assert one.read_bytes() == two.read_bytes()
    if fmt == "jsonl":
        lines = one.read_text().splitlines()
        assert [json.loads(line)["alert_id"] for line in lines] == [r["alert_id"] for r in
                                                                   esc.alerts(PLAN, features())]


def test_last_keeps_the_end_of_the_data_and_names_the_previous_alert():
    found = esc.alerts(PLAN, features())
    recent = found.last("3h")  # alerts after 07:00 (end 10:00): only window 8's
    assert [r["window_start"] for r in recent] == ["2026-03-02T08:00:00Z"]
    none = found.last("1h")
    assert len(none) == 0 and none.earlier["alert_id"] == found[2]["alert_id"]
    assert "the last one before went out 2026-03-02 09:00 UTC" in none.summary()
    assert "No alert would have been sent" in none.to_markdown()
    assert len(found.last("30d")) == len(found.last("30 days")) == len(found.last("2h30min")) + 2
    # an episode whose opening alert fell before the period says so
    raised_only = esc.Alerts(found.records[1:], found.start, found.end)
    assert "started 2026-03-02 02:00 UTC (opened before this period, at tier 1)" in (
        raised_only.summary()
    )
    assert "(opened before this period, at tier 1)." in raised_only.to_markdown()
    assert len(found.last(pd.Timedelta(days=30))) == 3
    with pytest.raises(esc.EscAnalyticsError, match="duration like 7d"):
        found.last("last week")


def test_episodes_group_in_order_of_first_alert():
    found = esc.alerts(PLAN, features())
    groups = found.episodes()
    assert [len(g) for _, g in groups] == [2, 1]
    text = found.summary()
    assert text.index(groups[0][0]) < text.index(groups[1][0])
    assert "because volume_ratio 6.2 >= 5" in text


def test_a_topic_in_warm_up_sends_nothing():
    feats = features()
    feats["volume_ratio"] = np.nan  # no baseline yet
    found = esc.alerts(PLAN, feats, mentions=mentions())
    assert len(found) == 0
    assert "no alert would have been sent" in found.summary()
    assert found.to_csv().splitlines() == [",".join(esc.escalations._alerts.CSV_COLUMNS)]
    assert found.to_jsonl() == ""


# --- webhook payloads, against the services' documented required fields --------------------


def test_pagerduty_events_v2_trigger():
    found = esc.alerts(PLAN, features(), mentions=mentions())
    event = esc.alert_payload(found[1], "pagerduty", routing_key="R0UT1NGKEY")
    assert event["routing_key"] == "R0UT1NGKEY"
    assert event["event_action"] == "trigger"
    payload = event["payload"]
    assert {"summary", "source", "severity"} <= set(payload)
    assert payload["severity"] in {"critical", "error", "warning", "info"}
    assert payload["severity"] == "error"  # tier 2
    assert 0 < len(payload["summary"]) <= 1024
    assert pd.Timestamp(payload["timestamp"]) == T0 + 4 * H
    # raising the tier keeps the dedup key of the episode (updates the same PagerDuty alert)
    opened = esc.alert_payload(found[0], "pagerduty", routing_key="R0UT1NGKEY")
    assert opened["dedup_key"] == event["dedup_key"] and len(event["dedup_key"]) <= 255
    assert opened["payload"]["severity"] == "warning"
    json.dumps(event, allow_nan=False)  # JSON as is
    with pytest.raises(esc.EscAnalyticsError, match="routing_key"):
        esc.alert_payload(found[0], "pagerduty")


def test_pagerduty_summary_is_cut_to_its_limit():
    found = esc.alerts(PLAN, features("N" * 2000))
    event = esc.alert_payload(found[0], "pagerduty", routing_key="k")
    assert len(event["payload"]["summary"]) == 1024
    slack = esc.alert_payload(found[0], "slack")
    assert len(slack["blocks"][0]["text"]["text"]) <= 150


def test_slack_message_has_text_and_blocks():
    found = esc.alerts(PLAN, features(), mentions=mentions())
    message = esc.alert_payload(found[0], "slack")
    assert isinstance(message["text"], str) and message["text"]
    assert [b["type"] for b in message["blocks"]] == ["header", "section", "section"]
    assert message["blocks"][0]["text"]["type"] == "plain_text"
    assert all(b["text"]["type"] == "mrkdwn" for b in message["blocks"][1:])
    assert all(len(b["text"]["text"]) <= 3000 for b in message["blocks"][1:])
    assert "volume_ratio 3 &gt;= 2" in message["text"]
    no_examples = esc.alert_payload(esc.alerts(PLAN, features())[0], "slack")
    assert len(no_examples["blocks"]) == 2


def test_teams_message_carries_one_adaptive_card():
    found = esc.alerts(PLAN, features(), mentions=mentions())
    message = esc.alert_payload(found[1], "teams")
    assert message["type"] == "message"
    (attachment,) = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"]
    facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    assert facts["Owner"] == "PR on call"
    assert "raised from tier 1" in facts["Episode"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: esc.alerts(PLAN, features(), examples=-1), "examples"),
        (lambda: esc.alerts(PLAN, features(), max_chars=3), "max_chars"),
        (lambda: esc.alerts("plan.yaml", features()), "Policy"),
        (lambda: esc.alert_payload({"tier": 1}, "slack"), "not an alert record"),
        (lambda: esc.alert_payload(esc.alerts(PLAN, features())[0], "discord"), "slack"),
        (lambda: esc.alerts(PLAN, features(), mentions=pd.DataFrame({"x": [1]})), "mention_id"),
    ],
)
def test_errors_say_what_to_change(call, message):
    with pytest.raises(esc.EscAnalyticsError, match=message):
        call()
