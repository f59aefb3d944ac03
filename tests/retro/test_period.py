"""Period retrospectives on the bundled sample data: every incident of the period with the
backtest's outcome, the alert load per week adding up to the plan's notifications."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import esc_analytics as esc
from esc_analytics._util.errors import DataLoadError


@pytest.fixture(scope="module")
def sample():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inputs = esc.load_inputs(None)
        escalations = esc.evaluate(inputs.policy, inputs.features)
        result = esc.backtest(escalations, inputs.incidents.data)
    return inputs, escalations, result


@pytest.mark.parametrize(
    ("start", "end", "topics"),
    [("2026-02-01", "2026-03-31", None), ("2026-03-01", "2026-03-15", ["Voltra"])],
)
def test_period_review_on_the_sample(sample, start, end, topics):
    inputs, escalations, result = sample
    period = esc.review_period(
        start,
        end,
        result,
        inputs.features,
        inputs.incidents.data,
        escalations,
        inputs.policy,
        planned_events=inputs.planned_events,
        topics=topics,
        name="Test period",
    )
    lo, hi = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC") + pd.Timedelta("1D")
    bt = result.incidents
    started = pd.to_datetime(bt["started_at"], utc=True)
    want = bt[(started >= lo) & (started < hi)]
    if topics:
        want = want[want["topic"].isin(topics)]
    assert period.incidents["incident_id"].tolist() == want["incident_id"].astype(str).tolist()
    missed = want.loc[want["outcome"] == "missed", "incident_id"].astype(str)
    assert (period.incidents["outcome"] == "missed").sum() == len(missed)
    for inc in missed:
        assert inc in period.sections["did_not_go_well"]
    # the alert load adds up to the plan's notifications inside the period
    notes = escalations.notifications
    at = pd.to_datetime(notes["alerted_at"], utc=True)
    inside = (at >= lo) & (at < hi) & (notes["topic"].isin(topics) if topics else True)
    assert period.alert_load["alerts"].sum() == int(inside.sum()) == period.facts["alerts"]
    assert period.alert_load["false_alerts"].sum() <= period.alert_load["alerts"].sum()
    assert set(period.alert_load["week"].dt.dayofweek) == {0}  # weeks start on Monday
    # phases: the planned events overlapping the period are on the timeline
    ev = inputs.planned_events
    overlap = (pd.to_datetime(ev["started_at"], utc=True) < hi) & (
        pd.to_datetime(ev["ended_at"], utc=True) > lo
    )
    if topics:
        overlap &= ev["topic"].isin(topics)
    assert (period.phases["kind"] != "incident").sum() == int(overlap.sum())
    assert period.incident_id.startswith("period-test-period-")
    assert period.to_markdown().count("\n## ") == 5
    assert len(period.plot().data) >= 1 and len(period.plot_alert_load().data) >= 1


def test_period_bounds_are_checked(sample):
    inputs, escalations, result = sample
    with pytest.raises(DataLoadError, match="before it starts"):
        esc.review_period(
            "2026-03-01",
            "2026-02-01",
            result,
            inputs.features,
            inputs.incidents.data,
            escalations,
        )


def test_a_period_outside_the_data_says_so_and_an_unknown_topic_is_refused(sample):
    inputs, escalations, result = sample
    args = (result, inputs.features, inputs.incidents.data, escalations, inputs.policy)
    period = esc.review_period("2027-01-01", "2027-01-07", *args)
    assert period.facts["windows_in_period"] == 0 and period.facts["n_incidents"] == 0
    assert "The data holds no window in this period (it covers 2026-" in period.sections["scope"]
    with pytest.raises(DataLoadError, match="its topics are: Brewhaus"):
        esc.review_period("2026-02-01", "2026-02-03", *args, topics=["Nope"])
