"""Progress bars: on only when someone watches (a terminal, a notebook), never changing a
result or a file; quiet in pipes, CI and tests."""

from __future__ import annotations

import io
import sys

import pytest

from esc_analytics._util.progress import (
    PROGRESS_ENV,
    Quiet,
    progress,
    progress_default,
    progress_enabled,
)


class FakeTerminal(io.StringIO):
    """stderr as a terminal would be (isatty True), keeping what is written."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)


@pytest.mark.parametrize(
    ("given", "env", "tty", "expected"),
    [
        (True, None, False, True),  # asked for: shown even in a pipe
        (False, "1", True, False),  # refused: never, whatever the environment
        (None, None, False, False),  # automatic in a pipe / CI / pytest
        (None, None, True, True),  # automatic on a terminal
        (None, "0", True, False),  # the environment silences a terminal
        (None, "off", True, False),
        (None, "1", False, True),  # ... or asks for bars in a pipe
        (None, "bogus", False, False),  # an unknown value keeps the automatic choice
    ],
)
def test_when_a_bar_is_shown(monkeypatch, no_env, given, env, tty, expected):
    if env is not None:
        monkeypatch.setenv(PROGRESS_ENV, env)
    monkeypatch.setattr(sys, "stderr", FakeTerminal() if tty else io.StringIO())
    assert progress_enabled(given) is expected


def test_progress_default_applies_to_calls_left_automatic(monkeypatch, no_env):
    monkeypatch.setattr(sys, "stderr", FakeTerminal())
    with progress_default(False):
        assert progress_enabled(None) is False
        assert progress_enabled(True) is True  # an explicit choice still wins
        with progress_default(None):
            assert progress_enabled(None) is True
    assert progress_enabled(None) is True


def test_a_closed_or_missing_stderr_means_no_bar(monkeypatch, no_env):
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stderr", closed)
    assert progress_enabled(None) is False
    monkeypatch.setattr(sys, "stderr", None)
    assert progress_enabled(None) is False


def test_not_a_boolean_is_refused():
    with pytest.raises(TypeError, match="True, False or None"):
        progress_enabled("yes")


@pytest.mark.parametrize("enabled", [True, False])
def test_items_and_counts_are_the_same_with_and_without_a_bar(monkeypatch, enabled):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    items = [3, 1, 2]
    bar = progress(items, desc="work", enabled=enabled, mininterval=0)
    assert list(bar) == items
    assert bar.n == 3 and bar.total == 3
    with progress(total=5, desc="steps", enabled=enabled, mininterval=0) as steps:
        steps.set_postfix_str("half")
        steps.update(2)
        steps.set_description("renamed")
        assert steps.n == 2
    written = terminal.getvalue()
    if enabled:
        assert "work" in written and "3/3" in written and "renamed" in written
    else:
        assert written == ""
        assert isinstance(bar, Quiet)


def test_a_bar_writes_to_stderr_only(monkeypatch, capsys):
    list(progress(range(4), desc="visible", enabled=True))
    captured = capsys.readouterr()
    assert captured.out == "" and "visible" in captured.err
