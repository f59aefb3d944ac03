"""Static images of several figures with one browser: ``export_figures``.

kaleido renders plotly figures in Chromium; ``fig.write_image`` starts a new Chromium for every
image (seconds each). ``export_figures`` opens one ``kaleido.Kaleido`` browser, renders every
figure in it, and writes each file atomically. It runs kaleido's event loop in a thread of its
own, so it works the same from a script and from a notebook (whose loop is already running).
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .._util.atomic import atomic_write_bytes
from .._util.chromium import use_chromium
from .._util.errors import EscAnalyticsError

FORMATS = ("png", "svg", "pdf", "jpeg", "webp")


def _file_stem(name: Any) -> str:
    """A file name from a figure's key (keys may be topics or incident ids from users' files:
    never a path, never hidden)."""
    stem = re.sub(r"[^\w.-]+", "_", str(name)).strip("._") or "figure"
    return stem[:120]


def _named(figs: Mapping[Any, Any] | Iterable[Any]) -> list[tuple[str, Any]]:
    """(file stem, figure) pairs: a mapping's keys, else ``figure-01``, ``figure-02``...;
    stems made unique (``name``, ``name-2``...)."""
    if isinstance(figs, Mapping):
        pairs = [(_file_stem(k), f) for k, f in figs.items()]
    else:
        items = list(figs)
        width = max(2, len(str(len(items))))
        pairs = [(f"figure-{i:0{width}d}", f) for i, f in enumerate(items, start=1)]
    seen: dict[str, int] = {}
    out = []
    for stem, fig in pairs:
        seen[stem.lower()] = seen.get(stem.lower(), 0) + 1
        out.append((stem if seen[stem.lower()] == 1 else f"{stem}-{seen[stem.lower()]}", fig))
    return out


def _in_thread(work: Any) -> Any:
    """Run the coroutine function ``work`` to completion on a fresh event loop in a thread."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(work())
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="esc-export-figures", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def export_figures(
    figs: Mapping[Any, Any] | Iterable[Any],
    folder: str | os.PathLike[str],
    format: str = "png",
    *,
    width: int | None = None,
    height: int | None = None,
    scale: float | None = None,
) -> list[Path]:
    """Write every plotly figure of ``figs`` to ``folder`` as ``format`` (png, svg, pdf, jpeg,
    webp) with **one** Chromium for all of them, and return the files in order.

    ``figs``: a mapping ``{name: figure}`` (files ``<name>.<format>``, the name made safe for a
    file system) or a sequence (files ``figure-01.png``...). Each file is written atomically.
    Uses the local Chromium (``BROWSER_PATH`` or chromium on PATH); never downloads one.
    """
    fmt = str(format).lower().lstrip(".")
    fmt = "jpeg" if fmt == "jpg" else fmt
    if fmt not in FORMATS:
        raise EscAnalyticsError(f"unsupported image format {format!r}; use one of {FORMATS}")
    named = _named(figs)
    for stem, fig in named:
        if not hasattr(fig, "to_dict"):
            raise EscAnalyticsError(f"{stem}: expected a plotly Figure, got {type(fig).__name__}")
    out_dir = Path(folder)
    if out_dir.exists() and not out_dir.is_dir():
        raise EscAnalyticsError(f"{out_dir}: not a folder (figures are written into a folder)")
    if not named:
        return []
    browser = use_chromium()
    opts = {
        k: v
        for k, v in {"format": fmt, "width": width, "height": height, "scale": scale}.items()
        if v is not None
    }

    async def render() -> list[bytes]:
        import kaleido  # heavy (a browser driver): only when exporting

        async with kaleido.Kaleido(n=1) as k:  # one browser, one tab, every figure
            return [await k.calc_fig(fig.to_dict(), opts=opts) for _stem, fig in named]

    try:
        images = _in_thread(render)
    except EscAnalyticsError:
        raise
    except Exception as exc:  # kaleido/choreographer raise their own types
        raise EscAnalyticsError(f"figure export with {browser} failed: {exc}") from exc
    paths = []
    for (stem, _fig), data in zip(named, images, strict=True):
        paths.append(atomic_write_bytes(out_dir / f"{stem}.{fmt}", data))
    return paths
