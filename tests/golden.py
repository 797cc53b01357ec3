"""The golden record of the bundled sample: the product's output, byte for byte, as of the sample's briefing morning.

Why: a change meant to leave behaviour alone (a reorganisation, a refactoring, a dependency bump) must leave the
sample's stored actions, daily briefing and statutory returns byte-identical. This module runs the product on the
sample exactly as a user would (its own command line, a fresh SQLite database and output folder in a temporary
directory, ``MISSING_EPISODES_NOW`` fixed to the manifest's ``as_of`` so the wall clock plays no part), collects what
it wrote, and compares each artefact's SHA-256 and size with ``tests/golden/sample.json``. The texts themselves are
kept beside it (``tests/golden/sample/``) so that a difference is shown as a diff, and a deliberate behaviour
change is reviewed as one (``scripts/golden --update`` rewrites both; say so in the commit message).

What is compared (paths relative to the run's folder):

* ``commands.txt``: every command run, its exit status and its standard output (the run's counts, the exports'
  counts), with the temporary folder written as ``<work>``;
* ``worklist.json``: ``missing-episodes actions --as-of <as_of> --json``, every action with its status then;
* ``stored/actions.json``: the ``action`` table itself, every column but the surrogate ids (children and episodes
  by their refs), ordered by key: also the repeating schedules stored ahead of ``as_of``;
* every file the commands wrote under ``out/`` (briefing, weekly list, forms) and ``returns/`` (SSDA903, Annex A,
  SSD). PDF, Excel and Word files carry their creation time, so only their presence is checked.

Prefect-backed commands each start an ephemeral server (15-20 s on a busy machine), so there are two: ``run`` (the
main job, which writes the briefing) and ``weekly-list``. Everything else reads the store without Prefect.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shlex
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN_DIR = ROOT / "tests" / "golden"
GOLDEN_FILE = GOLDEN_DIR / "sample.json"
GOLDEN_TEXTS = GOLDEN_DIR / "sample"
MANIFEST = ROOT / "data" / "sample" / "manifest.json"

#: Files whose bytes carry a creation time (PDF metadata, zip entries): checked for presence, not content.
UNSTABLE_SUFFIXES = (".pdf", ".xlsx", ".docx")
#: Differing lines shown per artefact.
DIFF_LINES = 40
#: How the run's temporary folder is written in the texts, so the digests do not depend on where it was.
WORK_PLACEHOLDER = "<work>"


@dataclass(frozen=True)
class SampleMoments:
    """The dates the golden run asks about, all read from the sample's manifest (nothing here is today)."""

    as_of: str  # the briefing morning, ISO 8601 with offset: MISSING_EPISODES_NOW and the worklist's --as-of
    briefing_day: date
    week_ending: date  # the Sunday before the briefing morning
    annex_a_date: date  # the last day of the sample's period
    ssda903_year: int  # the collection year (by its end) holding the briefing morning

    @classmethod
    def from_manifest(cls, path: Path = MANIFEST) -> SampleMoments:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        as_of = str(manifest["as_of"])
        moment = datetime.fromisoformat(as_of)
        day = moment.date()
        return cls(
            as_of=as_of,
            briefing_day=day,
            week_ending=day - timedelta(days=(day.weekday() + 1) % 7 or 7),
            annex_a_date=date.fromisoformat(str(manifest["period"]["end"])),
            ssda903_year=day.year + 1 if (day.month, day.day) >= (4, 1) else day.year,
        )


@dataclass
class Run:
    """One golden run: its folder, the commands' transcript, and the artefacts it produced."""

    work: Path
    transcript: list[str] = field(default_factory=list)
    artefacts: dict[str, bytes] = field(default_factory=dict)  # compared byte for byte
    present: list[str] = field(default_factory=list)  # checked for presence only

    def digests(self) -> dict[str, dict[str, object]]:
        return {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                for name, data in sorted(self.artefacts.items())}


class GoldenCommandError(RuntimeError):
    """A command of the golden run failed: its output is in the message, the folder is kept for a look."""


def cli_path() -> Path:
    """The ``missing-episodes`` command of the interpreter running this (the project's ``.venv``)."""
    candidate = Path(sys.executable).with_name("missing-episodes")
    return candidate if candidate.exists() else ROOT / ".venv" / "bin" / "missing-episodes"


def environment(work: Path, as_of: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without any MISSING_EPISODES_* or PREFECT_* setting, then the run's own.

    A developer's ``PREFECT_API_URL`` would send the runs to their server and their ``MISSING_EPISODES_POLICY``
    would change the answer, so both families are dropped; Prefect gets its own home (database, profile) inside
    the run's folder.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MISSING_EPISODES_", "PREFECT_"))}
    env.update(
        {
            "MISSING_EPISODES_NOW": as_of,
            "MISSING_EPISODES_DATABASE_URL": f"sqlite:///{work / 'golden.db'}",
            "MISSING_EPISODES_OUTPUT_DIR": str(work / "out"),
            "PREFECT_HOME": str(work / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            # A first start migrates a fresh Prefect database; on a busy machine that outlasts the 20 s default.
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        }
    )
    env.update(extra or {})
    return env


def run_command(
    run: Run, env: dict[str, str], *args: str, ok: tuple[int, ...] = (0,), record_output: bool = True
) -> str:
    """Run ``missing-episodes ARGS`` in the run's folder; record the command, its status and (unless it is an
    artefact of its own) its output."""
    completed = subprocess.run(
        [str(cli_path()), *args], cwd=run.work, env=env, capture_output=True, text=True, check=False, timeout=900
    )
    shown = " ".join(shlex.quote(a) for a in args)
    if completed.returncode not in ok:
        raise GoldenCommandError(
            f"missing-episodes {shown} exited {completed.returncode} (folder kept: {run.work})\n"
            f"--- stdout\n{completed.stdout[-4000:]}\n--- stderr\n{completed.stderr[-4000:]}"
        )
    stdout = completed.stdout.replace(str(run.work), WORK_PLACEHOLDER) if record_output else "(output: see below)\n"
    run.transcript.append(f"$ missing-episodes {shown.replace(str(run.work), WORK_PLACEHOLDER)}\n"
                          f"[exit {completed.returncode}]\n{stdout}")
    return completed.stdout


def stored_actions(database: Path) -> bytes:
    """The ``action`` table as a JSON array ordered by key: every column but the surrogate ids, refs for the rest.

    One field a line (indented as the worklist is), so a diff shows which field of which action changed.

    Read with ``sqlite3`` rather than the product's models, so this keeps working whatever the code is reorganised
    into; the columns are discovered, so a column added or dropped shows as a difference.
    """
    with sqlite3.connect(database) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(action)")
                   if row[1] not in ("id", "key", "child_id", "episode_id")]
        selected = ", ".join(f"a.{name}" for name in columns)
        rows = connection.execute(
            f"SELECT a.key, c.ref, e.ref, {selected} FROM action a JOIN child c ON c.id = a.child_id "
            "LEFT JOIN episode e ON e.id = a.episode_id ORDER BY a.key"
        ).fetchall()
    names = ["key", "child_ref", "episode_ref", *columns]
    table = [dict(zip(names, row, strict=True)) for row in rows]
    return (json.dumps(table, indent=2, ensure_ascii=False) + "\n").encode()


def _first(rows: list[dict[str, object]], kind_part: str, field_name: str) -> str | None:
    for row in rows:
        if kind_part in str(row.get("kind", "")) and row.get(field_name):
            return str(row[field_name])
    return None


#: What ``produce(..., worklist_only=True)`` collects: the stored actions, from one Prefect-backed command.
WORKLIST_ARTEFACTS = ("worklist.json", "stored/actions.json")


def produce(work: Path, extra_env: dict[str, str] | None = None, *, worklist_only: bool = False) -> Run:
    """Run the product on the sample in ``work`` (empty or absent) and collect what it wrote.

    ``extra_env`` adds settings (a different policy, say); ``worklist_only`` stops after the main job and the
    worklist (one server start instead of two, no documents or returns), for checks that need only the actions.
    """
    moments = SampleMoments.from_manifest()
    work.mkdir(parents=True, exist_ok=True)
    run = Run(work)
    env = environment(work, moments.as_of, extra_env)
    run_command(run, env, "run", "--out", str(work / "out"), record_output=not worklist_only)
    worklist = run_command(run, env, "actions", "--as-of", moments.as_of, "--json", record_output=False)
    run.artefacts["worklist.json"] = worklist.encode()
    if worklist_only:
        run.artefacts["stored/actions.json"] = stored_actions(work / "golden.db")
        return _kept(run)
    run_command(run, env, "weekly-list", "--week-ending", moments.week_ending.isoformat(),
                "--out", str(work / "out" / "weekly_list"))
    returns = work / "returns"
    # ssda903 exits 1 when a DfE rule fails; which rules fail on the sample is part of the behaviour.
    run_command(run, env, "export", "ssda903", "--year", str(moments.ssda903_year), "--out", str(returns / "ssda903"),
                ok=(0, 1))
    run_command(run, env, "export", "annex-a", "--date", moments.annex_a_date.isoformat(),
                "--out", str(returns / "annex-a"))
    run_command(run, env, "export", "ssd", "--out", str(returns / "ssd"))
    actions = stored_actions(work / "golden.db")
    run.artefacts["stored/actions.json"] = actions
    rows: list[dict[str, object]] = json.loads(actions)
    # The two forms rendered without Prefect, for the first episode and child (by key) the rules asked them for.
    episode = _first(rows, "return_home_interview", "episode_ref")
    if episode:
        run_command(run, env, "form", "rhi-record", "--episode", episode, "--out", str(work / "out" / "forms"))
    child = _first(rows, "written_confirmation", "child_ref")
    if child:
        run_command(run, env, "form", "written-confirmation", "--child", child, "--on",
                    moments.briefing_day.isoformat(), "--out", str(work / "out" / "forms"))
    for folder in (work / "out", returns):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = path.relative_to(work).as_posix()
            if path.suffix.lower() in UNSTABLE_SUFFIXES:
                run.present.append(name)
            else:
                run.artefacts[name] = path.read_bytes().replace(str(work).encode(), WORK_PLACEHOLDER.encode())
    run.artefacts["commands.txt"] = "\n".join(run.transcript).encode()
    return _kept(run)


def _kept(run: Run) -> Run:
    """Write the artefacts collected from outside the folder (worklist, table, transcript) into it, to look at."""
    for name in ("worklist.json", "stored/actions.json", "commands.txt"):
        if name in run.artefacts:
            (run.work / name).parent.mkdir(parents=True, exist_ok=True)
            (run.work / name).write_bytes(run.artefacts[name])
    return run


# -- the record ------------------------------------------------------------------------------------------------


def load_golden(path: Path = GOLDEN_FILE) -> dict[str, object]:
    return json.loads(path.read_text(encoding="utf-8"))


def write_golden(run: Run, path: Path = GOLDEN_FILE, texts: Path = GOLDEN_TEXTS) -> None:
    """Rewrite the record and the reference texts from ``run`` (a deliberate behaviour change)."""
    moments = SampleMoments.from_manifest()
    record = {
        "about": "Digests of the bundled sample's output as of its briefing morning; see tests/golden.py. "
                 "Rewrite with scripts/golden --update only for a deliberate behaviour change.",
        "as_of": moments.as_of,
        "artefacts": run.digests(),
        "present": sorted(run.present),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    for old in sorted(texts.rglob("*"), reverse=True) if texts.exists() else []:
        old.unlink() if old.is_file() else old.rmdir()
    for name, data in run.artefacts.items():
        target = texts / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def differences(
    run: Run, golden: dict[str, object] | None = None, texts: Path = GOLDEN_TEXTS, only: tuple[str, ...] = ()
) -> list[str]:
    """One report per artefact that is missing, new or different; a unified diff for texts. Empty: identical.

    ``only`` restricts the comparison to those artefacts (a run made with ``worklist_only``).
    """
    golden = golden if golden is not None else load_golden()
    expected: dict[str, dict[str, object]] = golden["artefacts"]  # type: ignore[assignment]
    actual = run.digests()
    if only:
        expected = {name: digest for name, digest in expected.items() if name in only}
        actual = {name: digest for name, digest in actual.items() if name in only}
        golden = {**golden, "present": []}
    reports = []
    for name in sorted(set(expected) | set(actual)):
        if name not in actual:
            reports.append(f"{name}: missing (expected {expected[name]['size']} bytes)")
        elif name not in expected:
            reports.append(f"{name}: new artefact ({actual[name]['size']} bytes), not in the golden record")
        elif expected[name] != actual[name]:
            reports.append(
                f"{name}: differs (sha256 {str(expected[name]['sha256'])[:12]}… {expected[name]['size']} bytes, "
                f"now {str(actual[name]['sha256'])[:12]}… {actual[name]['size']} bytes; this run's copy: "
                f"{run.work / name})\n{_diff(name, texts / name, run.artefacts[name], expected[name])}"
            )
    wanted, present = set(golden.get("present", [])), set(run.present)  # type: ignore[arg-type]
    reports += [f"{name}: not written (presence expected)" for name in sorted(wanted - present)]
    reports += [f"{name}: written, not in the golden record" for name in sorted(present - wanted)]
    return reports


def _diff(name: str, reference: Path, data: bytes, digest: dict[str, object]) -> str:
    if not reference.exists() or hashlib.sha256(reference.read_bytes()).hexdigest() != digest["sha256"]:
        return f"  (no reference copy matching the record at {reference}: cannot show a diff)"
    try:
        before, after = reference.read_text(encoding="utf-8"), data.decode("utf-8")
    except UnicodeDecodeError:
        return "  (not text: no diff)"
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), f"golden/{name}", f"now/{name}",
                                      n=2, lineterm=""))
    shown = lines[:DIFF_LINES]
    more = f"\n  … {len(lines) - DIFF_LINES} more diff lines" if len(lines) > DIFF_LINES else ""
    return "\n".join(f"  {line[:300]}" for line in shown) + more


# -- scripts/golden ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Check the sample against the golden record (exit 1 and keep the run's folder on a difference), or rewrite it."""
    import argparse
    import shutil
    import tempfile

    parser = argparse.ArgumentParser(prog="scripts/golden", description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true",
                        help="rewrite tests/golden/ from this run (a deliberate behaviour change: say so in the "
                             "commit message)")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder even when nothing differs")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="missing-episodes-golden-"))
    try:
        run = produce(work)
    except GoldenCommandError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.update:
        write_golden(run)
        print(f"golden record rewritten: {len(run.artefacts)} artefacts compared, {len(run.present)} checked for "
              f"presence ({GOLDEN_FILE.relative_to(ROOT)}, {GOLDEN_TEXTS.relative_to(ROOT)}/)")
        reports: list[str] = []
    else:
        reports = differences(run)
        for report in reports:
            print(report, end="\n\n")
        print(f"{len(reports)} difference(s) from the golden record" if reports
              else f"identical: {len(run.artefacts)} artefacts byte for byte, {len(run.present)} present")
    if reports or args.keep:
        print(f"this run's files: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if reports else 0


if __name__ == "__main__":
    raise SystemExit(main())
