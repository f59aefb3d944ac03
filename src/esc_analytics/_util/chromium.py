"""Where the local Chromium is (kaleido renders figures with it; nothing is ever downloaded)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .errors import EscAnalyticsError


def find_chromium() -> str | None:
    """The Chromium/Chrome executable kaleido will use: ``BROWSER_PATH`` if set, else the first
    of chromium, chromium-browser, google-chrome on PATH (or /usr/bin/chromium)."""
    explicit = os.environ.get("BROWSER_PATH")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


def use_chromium() -> str:
    """The local Chromium, set as kaleido's ``BROWSER_PATH``; an error saying how to install
    it when there is none (figures are exported with it, nothing is downloaded)."""
    browser = find_chromium()
    if browser is None:
        raise EscAnalyticsError(
            "exporting figures needs Chromium: install it with 'sudo apt-get install -y chromium'"
            " (or set BROWSER_PATH to a Chrome/Chromium executable)"
        )
    os.environ["BROWSER_PATH"] = browser
    return browser
