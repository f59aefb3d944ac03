"""Progress bars for long work: tqdm on a terminal, an ipywidgets bar in a notebook, nothing
anywhere else (pipes, CI logs, tests, notebooks rendered headless).

Library functions that take seconds or more accept ``progress: bool | None = None`` and pass
it here: ``True`` shows a bar, ``False`` never does, ``None`` (the default) shows one only
when someone is watching — stderr is a terminal, or the code runs in a Jupyter kernel. The
environment variable ``ESC_ANALYTICS_PROGRESS`` (``0``/``1``) overrides the automatic choice
(``esc-analytics render`` sets it to ``0`` in the kernel it starts, so a rendered report holds
no progress widget). A bar only ever writes to stderr (or displays a widget): it never changes
a result, a printed report on stdout or the bytes of a written file.

This follows scikit-learn's ``verbose`` in spirit (off unless asked) with tqdm's automatic
terminal/notebook choice (``tqdm.auto``) for how it is drawn.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["PROGRESS_ENV", "Quiet", "progress", "progress_default", "progress_enabled"]

#: Environment variable forcing progress bars on (``1``) or off (``0``) when a caller says
#: neither (``progress=None``).
PROGRESS_ENV = "ESC_ANALYTICS_PROGRESS"
_ON = frozenset({"1", "true", "yes", "on"})
_OFF = frozenset({"0", "false", "no", "off"})
# What progress=None means inside a `with progress_default(...)` block (None: automatic).
_DEFAULT: ContextVar[bool | None] = ContextVar("esc_analytics_progress", default=None)


@contextmanager
def progress_default(enabled: bool | None) -> Iterator[None]:
    """Inside the block, library calls left at ``progress=None`` behave as if given
    ``enabled`` (None keeps the automatic choice): how a command's ``--quiet`` reaches every
    function it calls without threading an option through each."""
    token = _DEFAULT.set(enabled)
    try:
        yield
    finally:
        _DEFAULT.reset(token)


def _in_jupyter_kernel() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Notebook, Voilà), where tqdm.auto draws an
    ipywidgets bar; False in a plain interpreter or a terminal IPython."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # an IPython without a running shell
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _stderr_is_terminal() -> bool:
    stream = sys.stderr
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def progress_enabled(progress: bool | None = None) -> bool:
    """Whether to draw a bar: ``progress`` when it is True or False; for None, the setting
    of an enclosing :func:`progress_default`, else the environment's
    ``ESC_ANALYTICS_PROGRESS`` when set, else True on a terminal (stderr is a TTY) or in a
    Jupyter kernel, False otherwise."""
    if progress is None:
        progress = _DEFAULT.get()
    if progress is not None:
        if not isinstance(progress, bool):
            raise TypeError(
                f"progress must be True, False or None (automatic), got {progress!r}"
            )
        return progress
    setting = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if setting in _ON:
        return True
    if setting in _OFF:
        return False
    return _stderr_is_terminal() or _in_jupyter_kernel()


class Quiet:
    """A bar that draws nothing: the part of tqdm's interface the package uses (iterate,
    ``update``, ``set_description``, ``set_postfix_str``, ``write``, ``close``, ``with``),
    counting like tqdm (``n``, ``total``) so callers behave the same with bars on or off."""

    def __init__(self, iterable: Iterable[Any] | None = None, total: float | None = None):
        self.iterable = iterable
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        self.total = total
        self.n = 0
        self.desc = ""

    def __iter__(self) -> Iterator[Any]:
        for item in self.iterable or ():
            yield item
            self.n += 1

    def __enter__(self) -> Quiet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: float = 1) -> None:
        """Count ``n`` more steps."""
        self.n += n

    def set_description(self, desc: str | None = None, refresh: bool = True) -> None:
        """Keep the description (nothing is drawn)."""
        self.desc = desc or ""

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        """Nothing to draw."""

    def write(self, s: str, *args: Any, **kwargs: Any) -> None:
        """Nothing to draw (a quiet run stays quiet)."""

    def close(self) -> None:
        """Nothing to close."""


def progress(
    iterable: Iterable[Any] | None = None,
    *,
    total: float | None = None,
    desc: str | None = None,
    enabled: bool | None = None,
    unit: str = "it",
    leave: bool = False,
    **kwargs: Any,
) -> Any:
    """A progress bar over ``iterable`` (or, without one, a bar of ``total`` steps advanced
    by ``update()``), labelled ``desc``: a ``tqdm.auto`` bar when :func:`progress_enabled`
    says so (``enabled``: True / False / None = automatic), else a :class:`Quiet` bar that
    draws nothing. Iterating either yields exactly the items of ``iterable``. The bar writes to
    stderr and disappears when done (``leave=False``) unless told to stay; other keywords go
    to tqdm (``position``, ``mininterval``...)."""
    if not progress_enabled(enabled):
        return Quiet(iterable, total)
    from tqdm.auto import tqdm

    kwargs.setdefault("file", sys.stderr)
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=leave, **kwargs)
