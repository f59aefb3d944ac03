"""Helpers for the real-browser tests: Debian's chromium driven by Playwright, JupyterLab and
Voilà started on loopback, offline HTML opened from file:// with the network blocked.

Facts these follow are in ../shared/notes/notebook-testing.md (flags, selectors, pitfalls).
Nothing here downloads a browser (never `playwright install`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
LOCAL_PREFIXES = ("http://127.0.0.1", "ws://127.0.0.1", "http://localhost", "ws://localhost")
# Schemes that never leave the machine: files, inline data and blobs made by the page itself.
OFFLINE_SCHEMES = ("file:", "data:", "blob:", "about:")


def write_notebook(path: Path, parameters: str, *cells: str | tuple[str, str]) -> Path:
    """Write a small notebook: a ``parameters``-tagged cell then code cells (or
    ``("markdown", text)`` tuples); returns ``path``."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params]
    for cell in cells:
        if isinstance(cell, tuple):
            nb.cells.append(nbformat.v4.new_markdown_cell(cell[1]))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(cell))
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def require_browser() -> None:
    """Skip the calling test with a clear reason when chromium or Playwright is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install it with 'apt-get install -y chromium'")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright (python) is not installed: pip install -e '.[test]'")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def artifact_path(name: str) -> Path:
    """A path under test-artifacts/ (git-ignored) for screenshots and rendered files."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


@dataclass
class RequestLog:
    """Every URL the page tried to load, split into allowed and aborted."""

    allowed: list[str] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)


@contextlib.contextmanager
def browser_page(
    *, allow_local_http: bool, viewport: tuple[int, int] = (1400, 1000)
) -> Iterator[tuple[Any, RequestLog]]:
    """A fresh chromium page whose requests are all aborted except file:/data:/blob: (and, with
    ``allow_local_http``, 127.0.0.1/localhost); yields (page, log of attempted requests)."""
    from playwright.sync_api import sync_playwright

    log = RequestLog()

    def route(route: Any) -> None:
        url = route.request.url
        local = allow_local_http and url.startswith(LOCAL_PREFIXES)
        if url.startswith(OFFLINE_SCHEMES) or local:
            log.allowed.append(url)
            route.continue_()
        else:
            log.aborted.append(url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]},
                service_workers="block",
            )
            context.route("**/*", route)
            page = context.new_page()
            page.set_default_timeout(30_000)
            yield page, log
        finally:
            browser.close()


def plotly_traces(page: Any, selector: str = ".js-plotly-plot") -> list[list[dict[str, Any]]]:
    """The live data of every plotly chart matching ``selector`` (type, name, x, y, hovertext).

    ``.data`` keeps base64-encoded arrays (``{dtype, bdata}``) as given; those are read from the
    decoded ``_fullData`` of the same trace.
    """
    return page.evaluate(
        """(sel) => Array.from(document.querySelectorAll(sel)).map(gd =>
            (gd.data || []).map((t, i) => {
                const full = (gd._fullData || []).find(f => f.index === i) || {};
                const arr = (key) => {
                    let v = t[key];
                    if (v && !Array.isArray(v) && !ArrayBuffer.isView(v)) { v = full[key]; }
                    if (v === undefined || v === null) { return null; }
                    return typeof v === 'string' ? v : Array.from(v);
                };
                const x = arr('x'), y = arr('y'), hover = arr('hovertext');
                return {
                    type: t.type || 'scatter', name: t.name === undefined ? null : t.name,
                    x: x === null ? null : x.map(String),
                    y: y === null ? null : y.map(v => v === null ? null : Number(v)),
                    hovertext: hover === null ? null : [].concat(hover).map(String),
                };
            }))""",
        selector,
    )


def chart_selector(css_class: str) -> str:
    """CSS selector of the plotly chart(s) of a widget with ``css_class``: a FigureWidget with
    the class itself, or charts inside a container with it."""
    return f".{css_class}.js-plotly-plot, .{css_class} .js-plotly-plot"


def screenshot(locator: Any, name: str) -> Path:
    """Screenshot one element (not the page: Lab scrolls inside its panes) to test-artifacts/."""
    path = artifact_path(name)
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(path))
    return path


def press_slider(page: Any, css_class: str, key: str = "ArrowRight", times: int = 1) -> None:
    """Focus the slider handle inside the widget with ``css_class`` and press ``key``."""
    handle = page.locator(f".{css_class} [role='slider']").first
    handle.wait_for(state="visible")
    handle.focus()
    for _ in range(times):
        page.keyboard.press(key)


def slider_readout(page: Any, css_class: str) -> str:
    """The text of the readout next to the slider with ``css_class``."""
    readout = page.locator(f".{css_class} .widget-readout").first
    return readout.inner_text().strip()


def wait_for_js(page: Any, expression: str, arg: Any = None, timeout_ms: int = 30_000) -> None:
    """Wait until the JavaScript function ``expression(arg)`` returns truthy."""
    page.wait_for_function(expression, arg=arg, timeout=timeout_ms)


def _get_json(url: str, timeout: float = 2.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # loopback only
        return json.loads(response.read().decode("utf-8"))


def _wait_http(url: str, process: subprocess.Popen[bytes], deadline_s: float, log: Path) -> None:
    """Poll ``url`` until it answers 200, the process dies, or the deadline passes."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early ({process.returncode}):\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2.0) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {deadline_s} s:\n{_tail(log)}")


def _wait_port(port: int, process: subprocess.Popen[bytes], deadline_s: float, log: Path) -> None:
    """Wait until something accepts TCP connections on 127.0.0.1:``port`` (Voilà executes the
    notebook on a page request, so there is no cheap status URL to poll)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early ({process.returncode}):\n{_tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1.0):
            return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on port {port} after {deadline_s} s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server we started (by its own PID), then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@dataclass
class Server:
    """A Jupyter server (Lab or Voilà) we started: its base URL, root dir and log file."""

    url: str
    root: Path
    log: Path
    process: subprocess.Popen[bytes]


def _isolated_env(base: Path) -> dict[str, str]:
    """Environment with Jupyter's settings/workspaces/runtime/config in temp dirs (no news)."""
    env = dict(os.environ)
    settings = base / "settings"
    notification = settings / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True, exist_ok=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    # Never let Lab write a run notebook (with outputs) back to disk behind the test's back.
    docmanager = settings / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True, exist_ok=True)
    (docmanager / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    for name in ("workspaces", "runtime", "config", "data"):
        (base / name).mkdir(exist_ok=True)
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        JUPYTER_CONFIG_DIR=str(base / "config"),
        PYTHONUNBUFFERED="1",
    )
    return env


@contextlib.contextmanager
def jupyter_lab(root: Path, *, startup_s: float = 60.0) -> Iterator[Server]:
    """JupyterLab on 127.0.0.1 (free port, no token) serving ``root``; stopped by PID after
    its sessions are deleted."""
    base = Path(tempfile.mkdtemp(prefix="esc-lab-"))
    port = free_port()
    log = base / "lab.log"
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
        "--ServerApp.token=", "--ServerApp.password=", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}", "--LabApp.news_url=",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=_isolated_env(base), cwd=root
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{url}/api/status", process, startup_s, log)
        yield Server(url=url, root=root, log=log, process=process)
    finally:
        with contextlib.suppress(Exception):
            for session in _get_json(f"{url}/api/sessions"):
                request = urllib.request.Request(
                    f"{url}/api/sessions/{session['id']}", method="DELETE"
                )
                urllib.request.urlopen(request, timeout=5).close()
        _stop(process)
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def voila(notebook: Path, *, startup_s: float = 60.0) -> Iterator[Server]:
    """Voilà serving one notebook on 127.0.0.1 (free port); stopped by PID."""
    base = Path(tempfile.mkdtemp(prefix="esc-voila-"))
    port = free_port()
    log = base / "voila.log"
    cmd = [
        sys.executable, "-m", "voila", str(notebook), "--no-browser",
        f"--port={port}", "--Voila.ip=127.0.0.1", "--Voila.port_retries=0",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=_isolated_env(base),
            cwd=notebook.parent,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_port(port, process, startup_s, log)
        yield Server(url=url, root=notebook.parent, log=log, process=process)
    finally:
        _stop(process)
        shutil.rmtree(base, ignore_errors=True)


def open_notebook_in_lab(page: Any, server: Server, relpath: str, timeout_ms: int = 60_000) -> None:
    """Open ``relpath`` in Lab with a fresh workspace and wait until its kernel is idle."""
    page.goto(f"{server.url}/lab/tree/{relpath}?reset", wait_until="domcontentloaded")
    page.locator(".jp-Notebook").first.wait_for(state="visible", timeout=timeout_ms)
    wait_kernel_idle(page, timeout_ms)


def wait_kernel_idle(page: Any, timeout_ms: int = 60_000) -> None:
    """Wait for the status bar to read "Python 3 ... | Idle" (the kernel exists and is idle)."""
    page.get_by_text(re.compile(r"Python 3.*\| Idle")).first.wait_for(
        state="visible", timeout=timeout_ms
    )


def run_all_cells(page: Any, timeout_ms: int = 120_000) -> None:
    """Run all cells through the "Run" menu, then wait for every cell to have executed."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()
    # Each code cell shows "[*]" while queued/running and "[n]" when done.
    page.wait_for_function(
        """() => {
            const prompts = Array.from(document.querySelectorAll(
                '.jp-CodeCell .jp-InputArea-prompt'));
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""",
        timeout=timeout_ms,
    )
    wait_kernel_idle(page, timeout_ms)


# anywidget rejects a model's `ready` promise when its module takes over 2 s to load (each
# plotly FigureWidget imports a ≈5 MB bundle); on a loaded machine that fires although the
# widget then renders. Tests check the drawn data instead of this one message.
ANYWIDGET_SLOW_INIT = "[anywidget] Failed to initialize model."


def real_page_errors(errors: list[str]) -> list[str]:
    """Page errors other than anywidget's slow-initialisation notice."""
    return [e for e in errors if e != ANYWIDGET_SLOW_INIT]
