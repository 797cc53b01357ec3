"""Measuring one side of a benchmark in its own process, and the data every benchmark shares.

Each side runs in a fresh ``python -m bench.child`` process so that its peak memory (``ru_maxrss`` of that one
process, read with ``os.wait4``) is its own and not the largest of everything run before, and so that one side's
imports and caches never warm the other. The time reported is measured inside the child around the work only
(interpreter start and imports excluded on both sides alike).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"


@dataclass
class Sample:
    """One timed run of one side: seconds of work, the child's peak RSS in MiB, and what it returned."""

    seconds: float
    rss_mib: float
    result: dict[str, Any] = field(default_factory=dict)


def run_child(target: str, env: dict[str, str] | None = None, **kwargs: Any) -> Sample:
    """Run ``module:function(**kwargs)`` in a new process; the function returns a dict, timed by ``bench.child``."""
    environment = {**os.environ, **(env or {})}
    environment["PYTHONPATH"] = str(ROOT) + os.pathsep + environment.get("PYTHONPATH", "")
    with open(os.devnull, "wb") as devnull:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.child", target, json.dumps(kwargs, default=str)],
            cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=devnull if not _verbose() else None,
        )
        assert process.stdout is not None
        output = process.stdout.read().decode()
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = output[-3000:]
        raise RuntimeError(f"{target} failed ({process.returncode}): {tail} (BENCH_VERBOSE=1 shows stderr)")
    line = [text for text in output.splitlines() if text.startswith("BENCH-RESULT ")][-1]
    data = json.loads(line.removeprefix("BENCH-RESULT "))
    return Sample(data["seconds"], usage.ru_maxrss / 1024, data["result"])


def run_process(argv: list[str], env: dict[str, str], cwd: Path = ROOT) -> Sample:
    """Run a whole command as a user would and time it from outside: interpreter start, imports, the work, exit.

    ``seconds`` is wall time from ``Popen`` to exit; ``result`` has the process's CPU seconds (user + system, from
    ``os.wait4``), which a loaded machine inflates much less than the wall time, and the tail of its output. A
    failed command raises with that tail. Peak memory is not reported (0): Linux counts a child's ``ru_maxrss``
    from before its exec, which is this process's own size.
    """
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    output = process.stdout.read().decode(errors="replace")
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{' '.join(argv[-6:])} failed ({code}): {output[-3000:]}")
    if _verbose():
        print(output, file=sys.stderr, flush=True)
    return Sample(seconds, 0.0, {"cpu_s": usage.ru_utime + usage.ru_stime, "output": output[-2000:]})


def _verbose() -> bool:
    return os.environ.get("BENCH_VERBOSE", "") not in ("", "0")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- data ------------------------------------------------------------------------------------------------------


def region(episodes: int, seed: int = 1) -> Path:
    """The synthetic region of this size, generated once and cached under bench/work/ (never committed)."""
    from missing_episodes.synthetic import generate_region

    directory = WORK / f"region-{episodes}-s{seed}"
    if not (directory / "manifest.json").exists():
        log(f"generating a region of {episodes:,} episodes into {directory}")
        partial = directory.with_name(directory.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        generate_region(partial, episodes, seed)
        shutil.rmtree(directory, ignore_errors=True)
        partial.rename(directory)
    return directory


def head_csv(source: Path, rows: int, target: Path) -> Path:
    """The header and the first ``rows`` data rows of a CSV (the synthetic feed has no embedded newlines)."""
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with source.open("r", encoding="utf-8", newline="") as src, partial.open("w", encoding="utf-8", newline="") as out:
        for number, line in enumerate(src):
            if number > rows:
                break
            out.write(line)
    partial.rename(target)
    return target


# --- databases -------------------------------------------------------------------------------------------------


class Databases:
    """Fresh databases on SQLite (files under bench/work/) and on a throwaway PostgreSQL server (tests/pg.py)."""

    def __init__(self) -> None:
        self._server = None

    def sqlite(self, name: str) -> str:
        path = WORK / "db" / f"{name}.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"

    def postgres(self, template: str | None = None) -> str:
        """A fresh database on the throwaway server: empty, or a file-level copy of the database at ``template``
        (a URL this method returned; nothing may be connected to it)."""
        if self._server is None:
            from tests import pg

            self._server = pg.start()
        name = self._server.create_database(template=template.rsplit("/", 1)[-1] if template else None,
                                            prefix="me_bench")
        return self._server.url_for(name)

    def drop(self, url: str) -> None:
        if url.startswith("sqlite"):
            path = url.removeprefix("sqlite:///")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        elif self._server is not None:
            self._server.drop_database(url.rsplit("/", 1)[-1])

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


@contextmanager
def databases() -> Iterator[Databases]:
    dbs = Databases()
    try:
        yield dbs
    finally:
        dbs.close()


def copy_sqlite(url: str, name: str) -> str:
    """A private copy of a built SQLite database under bench/work/db (the daily run writes to it)."""
    from missing_episodes.db.engine import copy_sqlite as backup_copy

    (WORK / "db").mkdir(parents=True, exist_ok=True)
    return backup_copy(Path(url.removeprefix("sqlite:///")), WORK / "db" / f"{name}.sqlite")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a running process (all its threads) has used so far, from /proc (Linux): the
    desk's share of a command, read before and after it."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_sqlite(source_url: str, target_url: str) -> None:
    """Overwrite a SQLite database another process holds open with ``source``'s content, through SQLite's backup
    API (the other process's connections see the new content; replacing the file would leave them on the old
    one)."""
    import sqlite3

    with sqlite3.connect(source_url.removeprefix("sqlite:///")) as source, \
            sqlite3.connect(target_url.removeprefix("sqlite:///")) as target:
        source.backup(target)


def machine() -> dict[str, str]:
    """CPU count, memory, date and commit: printed with every results table."""
    memory = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    return {
        "cpus": str(os.cpu_count()),
        "memory": memory,
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "commit": (commit.stdout.strip() or "?") + (" (with uncommitted changes)" if dirty.stdout.strip() else ""),
        "python": sys.version.split()[0],
    }
