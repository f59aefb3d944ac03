"""Atomic file writes: a temporary file in the same folder, fsync, then rename over the target,
so a crash or a full disk never leaves a half-written policy, note, report or data file.

A target that is a symbolic link is written through the link (a notes file linked to a shared
drive stays linked); an existing file keeps its permission bits (a private 0600 file stays
private); the previous version, when asked for, is kept by a hard link — never by a copy that
a crash or a full disk could cut short.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def _real_target(path: str | os.PathLike[str]) -> Path:
    """The file to replace: ``path`` itself, or what its symbolic link(s) point to."""
    target = Path(path)
    if target.is_symlink():
        target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def _mode_for(target: Path) -> int:
    """Permission bits for the new file: the existing file's, else 0666 less the umask."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _keep_previous(target: Path) -> None:
    """``<name>.bak`` becomes the current version, atomically (a hard link renamed into place;
    a copy only where the file system has no hard links)."""
    if not target.exists():
        return
    backup = target.with_name(target.name + ".bak")
    fd, tmp = tempfile.mkstemp(prefix=f".{backup.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        try:
            os.link(target, tmp)
        except OSError:  # no hard links here: copy, fsynced, then rename
            with open(target, "rb") as source, open(tmp, "wb") as copy:
                copy.write(source.read())
                copy.flush()
                os.fsync(copy.fileno())
        os.replace(tmp, backup)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename or a new link) to disk, where the platform can."""
    with contextlib.suppress(OSError):  # not every platform can open a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _naming(exc: OSError, target: Path) -> OSError:
    """The same error, saying which file could not be written (a system error names the
    temporary file otherwise)."""
    return OSError(exc.errno, f"cannot write {target}: {exc.strerror}", str(target))


@contextlib.contextmanager
def _replacing(path: str | os.PathLike[str], *, backup: bool = False) -> Iterator[str]:
    """Yield a temporary path beside the target; when the block succeeds it is given the
    target's permissions and renamed over it (the previous version kept as ``.bak`` first when
    ``backup``); when it fails the temporary file is removed and the target is untouched."""
    target = Path(path)
    try:
        target = _real_target(path)
        mode = _mode_for(target)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as exc:  # name the file the user asked for, not a temporary one
        if exc.errno is None:
            raise
        raise _naming(exc, target) from exc
    try:
        yield tmp
        os.chmod(tmp, mode)
        if backup:
            _keep_previous(target)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.errno is None:
            raise
        raise _naming(exc, target) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_folder(target.parent)


def atomic_write_bytes(
    path: str | os.PathLike[str], data: bytes, *, backup: bool = False
) -> Path:
    """Write ``data`` to ``path`` atomically (parent folders created). With ``backup`` the
    previous content is kept as ``<name>.bak``. Returns the path written (a link's target)."""
    with _replacing(path, backup=backup) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return Path(path)


def atomic_write_text(
    path: str | os.PathLike[str], text: str, *, backup: bool = False
) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically; see :func:`atomic_write_bytes`."""
    return atomic_write_bytes(path, text.encode("utf-8"), backup=backup)


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str], **csv_options: object) -> Path:
    """Write a DataFrame atomically as Parquet (``.parquet``) or CSV (anything else): written
    to a temporary file beside ``path`` and renamed over it, so readers never see half a file."""
    with _replacing(path) as tmp:
        if Path(path).suffix.lower() == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False, **csv_options)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
    return Path(path)
