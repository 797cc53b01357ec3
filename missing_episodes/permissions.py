"""Files that name children are readable by the service account only: files 0600, folders 0700.

The database (and SQLite's ``-wal``/``-shm``), every document in the output store, archived and failed feed files
and quarantine exports all hold names, dates of birth or case notes. Rather than a mode on every ``open`` (one
forgotten call site and a briefing pack is world-readable), each process that can write such a file sets its
umask once, at its start: the CLI before any command, and every flow process when ``tasks.privacy`` is imported
(every flow module imports it). Files another process made are tightened where the product takes them over: a
feed file when it is archived, an existing SQLite database when the product opens it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

#: Group and others get nothing: new files are 0600 (0666 & ~0o077), new folders 0700.
PRIVATE_UMASK = 0o077
PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def restrict_process() -> None:
    """Set this process's umask so every file and folder it creates from now on is private to its owner."""
    os.umask(PRIVATE_UMASK)


def make_private(path: Path | str) -> None:
    """Take group and other permissions off an existing file or folder (one made before the product owned it)."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        path.chmod(stat.S_IMODE(mode) & ~(stat.S_IRWXG | stat.S_IRWXO))


def readable_by_others(root: Path | str) -> list[Path]:
    """Every file or folder under ``root`` (itself included) that its group or other users can read, write or
    enter: what an operator checks after changing where the product writes, and what the tests assert is empty."""
    root = Path(root)
    found = [root] if root.exists() and root.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO) else []
    for folder, folders, files in os.walk(root):
        for name in (*folders, *files):
            path = Path(folder) / name
            if not path.is_symlink() and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                found.append(path)
    return found
