"""Versioned plan files: ``policy-v001.yaml``, ``policy-v002.yaml``... in a folder."""

from __future__ import annotations

import re
from pathlib import Path

_VERSION_RE = re.compile(r"^policy-v(\d{3,})\.yaml$")


def next_policy_path(directory: str | Path) -> Path:
    """``policy-vNNN.yaml`` with NNN one above the highest version already in ``directory``."""
    folder = Path(directory)
    versions = [
        int(m.group(1))
        for p in (folder.glob("policy-v*.yaml") if folder.exists() else [])
        if (m := _VERSION_RE.match(p.name))
    ]
    return folder / f"policy-v{max(versions, default=0) + 1:03d}.yaml"
