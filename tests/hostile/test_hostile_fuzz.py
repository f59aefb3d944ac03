"""Fuzz: random bytes and random JSON / YAML structures fed to every loader give a result or a
library error (an EscAnalyticsError subclass), never another exception."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esc_analytics import (
    EscAnalyticsError,
    incidents_from_nab_windows,
    load_incidents,
    load_mentions,
    load_policy,
    load_series,
)
from esc_analytics.policy import Policy

FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["2024-01-01T00:00:00Z", "0001-01-01", "9999-12-31", "inf", "1e20", "high",
                     "volume_ratio >= 2_5", "level", "tiers", "start", "end", "", "nan"]),
)
keys = st.one_of(st.text(max_size=12), st.sampled_from([
    "incident_id", "topic", "started_at", "ended_at", "severity", "created_at", "mention_id",
    "window_start", "volume", "text", "author", "tiers", "level", "all", "any", "for",
    "min_volume", "name", "start", "end", "incidents",
]))
structures = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(keys, inner, max_size=5)),
    max_leaves=30,
)

LOADERS = [load_incidents, load_mentions, load_series]


def _call(loader, *args) -> None:
    with contextlib.suppress(EscAnalyticsError):  # anything else fails the test
        loader(*args)


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".json", ".jsonl", ".gz"]))
def test_random_bytes(folder, data, suffix) -> None:
    path = folder / f"input{suffix}"
    path.write_bytes(data)
    for loader in LOADERS:
        _call(loader, path)
    _call(incidents_from_nab_windows, path)
    _call(load_policy, path)
    _call(Policy.from_yaml, data.decode("utf-8", errors="replace"))


@FUZZ
@given(payload=structures, records=st.lists(st.dictionaries(keys, scalars, max_size=6),
                                            max_size=6))
def test_random_json(folder, payload, records) -> None:
    for i, document in enumerate((payload, records, {"incidents": records})):
        path = folder / f"doc{i}.json"
        path.write_text(json.dumps(document, allow_nan=True), encoding="utf-8")
        for loader in LOADERS:
            _call(loader, path)
        _call(incidents_from_nab_windows, path)
    lines = folder / "doc.jsonl"
    lines.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    for loader in LOADERS:
        _call(loader, lines)


@FUZZ
@given(payload=structures, tiers=st.lists(st.dictionaries(keys, structures, max_size=5),
                                          max_size=4))
def test_random_yaml(folder, payload, tiers) -> None:
    for document in (payload, {"tiers": tiers}, {"name": payload, "tiers": tiers}):
        text = yaml.safe_dump(document, allow_unicode=True)
        _call(Policy.from_yaml, text)
        path = folder / "policy.yaml"
        path.write_text(text, encoding="utf-8")
        _call(load_policy, path)


@FUZZ
@given(frame=st.lists(st.dictionaries(keys, scalars, min_size=1, max_size=6), min_size=1,
                      max_size=6))
def test_random_frames(frame) -> None:
    import pandas as pd

    for loader in LOADERS:
        _call(loader, pd.DataFrame(frame))
