"""Versioned plan files: ``policy-v001.yaml``, ``policy-v002.yaml``... in a folder.

A new version's name is *claimed* atomically: the content is written to a temporary file beside
the target, fsynced, then hard-linked to ``policy-vNNN.yaml`` — a link that fails when the name
exists, so two tuners (or two processes) saving at once never pick the same name and a reader
never sees half a policy. Where the file system has no hard links the name is claimed by an
exclusive create (``O_CREAT | O_EXCL``) and written in place.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from pathlib import Path

from .._util.atomic import fsync_folder

_VERSION_RE = re.compile(r"^policy-v(\d{3,})\.yaml$")
#: How many names a save tries before giving up (each try follows a concurrent claim).
_MAX_CLAIMS = 10_000


def _highest_version(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    return max(
        (int(m.group(1)) for p in folder.iterdir() if (m := _VERSION_RE.match(p.name))),
        default=0,
    )


def _version_path(folder: Path, version: int) -> Path:
    return folder / f"policy-v{version:03d}.yaml"


def next_policy_path(directory: str | Path) -> Path:
    """``policy-vNNN.yaml`` with NNN one above the highest version already in ``directory``.

    Only a hint: another process may take that name before you write it. To save a new
    version use :func:`save_policy_version`, which claims the name atomically."""
    folder = Path(directory)
    return _version_path(folder, _highest_version(folder) + 1)


def _claim_by_exclusive_create(folder: Path, data: bytes) -> Path:
    """Fallback without hard links: ``O_EXCL`` create of the first free name, then write."""
    version = _highest_version(folder) + 1
    for _ in range(_MAX_CLAIMS):
        target = _version_path(folder, version)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            version = max(version + 1, _highest_version(folder) + 1)
            continue
        try:
            os.write(fd, data)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            target.unlink(missing_ok=True)
            raise
        os.close(fd)
        return target
    raise FileExistsError(f"no free policy-vNNN.yaml name in {folder}")


def write_policy_version(directory: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` as the next ``policy-vNNN.yaml`` in ``directory`` (created if needed)
    and return its path. The name is claimed atomically: concurrent saves get distinct names,
    an existing version is never overwritten, and the file appears complete or not at all."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=".policy-new.", suffix=".tmp", dir=folder)
    try:
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        version = _highest_version(folder) + 1
        for _ in range(_MAX_CLAIMS):
            target = _version_path(folder, version)
            try:
                os.link(tmp, target)
            except FileExistsError:
                version = max(version + 1, _highest_version(folder) + 1)
                continue
            except OSError as exc:
                if exc.errno in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV,
                                 errno.EMLINK):  # fmt: skip
                    return _claim_by_exclusive_create(folder, data)
                raise
            fsync_folder(folder)
            return target
        raise FileExistsError(f"no free policy-vNNN.yaml name in {folder}")
    finally:
        Path(tmp).unlink(missing_ok=True)


def save_policy_version(policy: object, directory: str | os.PathLike[str]) -> Path:
    """Save ``policy`` (a :class:`~esc_analytics.policy.Policy`) as the next
    ``policy-vNNN.yaml`` in ``directory``; see :func:`write_policy_version`."""
    to_yaml = getattr(policy, "to_yaml", None)
    if not callable(to_yaml):
        raise TypeError(f"save_policy_version needs a Policy, got {type(policy).__name__}")
    return write_policy_version(directory, to_yaml())
