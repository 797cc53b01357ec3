"""Regenerate the pictures in docs/ from a live stack; run by ``scripts/screenshots`` (see its header).

A throwaway stack (deployments.stack: server, deployments, one worker) loads the bundled feed through the
operators' ingest deployment; headless Chromium (tests/server/prefect_ui.py) then fills each coordinator's form as the
README shows it, submits the briefing and an outcome, and photographs the finished runs with their artifacts.
docs/briefing-page1.png is page 1 of the demo's own briefing: ``missing-episodes run`` exactly as ``scripts/demo``
runs it (the bundled feed, the briefing for its last morning), on a fresh database in a temporary folder, with the
clock fixed to that morning so the picture shows what the demo's briefing says; pdftoppm makes the PNG.
``--briefing-only`` makes just that picture (no server, no browser; about a minute). Nothing is written outside
docs/ and a temporary folder, which is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from deployments.stack import LocalStack, deployment_of, load_sample_feed, start_stack
from missing_episodes.config import PROJECT_ROOT
from tests.server.prefect_ui import PrefectUI, browser_page, chromium_path

SAMPLE_DAY = "2026-11-02"
#: The briefing PDF is A4 landscape; 70 dpi gives the README a page it can show at full width.
BRIEFING_DPI = 70


def _log(message: str) -> None:
    print(f"screenshots: {message}", file=sys.stderr, flush=True)


def _examples(stack: LocalStack) -> tuple[str, str, str]:
    """(person id, police incident ref) of an open return home interview, and an episode with a serious
    notification: the values the pictures show filled in."""
    with sqlite3.connect(stack.product_db.removeprefix("sqlite:///")) as connection:
        row = connection.execute(
            "SELECT c.person_id, e.incident_ref FROM action a JOIN episode e ON e.id = a.episode_id "
            "JOIN child c ON c.id = e.child_id WHERE a.kind = 'return_home_interview' AND a.status = 'open' "
            "AND c.person_id IS NOT NULL ORDER BY a.due_at DESC LIMIT 1").fetchone()
        serious = connection.execute(
            "SELECT e.incident_ref FROM action a JOIN episode e ON e.id = a.episode_id "
            "WHERE a.kind = 'serious_notification' ORDER BY e.incident_ref LIMIT 1").fetchone()
    if row is None or serious is None:
        raise SystemExit("the bundled feed left no open return home interview or serious notification")
    return row[0], row[1], serious[0]


def _run_pages(ui: PrefectUI, run_id: str, run_png: Path, artifact_png: Path) -> None:
    """The finished run's page on its Artifacts tab, then its artifact opened (what the coordinator reads)."""
    artifacts = httpx.post(f"{ui.api}/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [run_id]}}},
                           timeout=30).raise_for_status().json()
    if not artifacts:
        raise SystemExit(f"run {run_id} has no artifact to show")
    ui.page.goto(f"{ui.ui_url}/runs/flow-run/{run_id}")
    ui.page.get_by_role("tab", name="Artifacts").or_(ui.page.get_by_text("Artifacts", exact=True)).first.click()
    ui.page.get_by_text(artifacts[0]["key"]).first.wait_for()
    ui.page.wait_for_load_state("networkidle")
    ui.screenshot(str(run_png))
    ui.page.goto(f"{ui.ui_url}/artifacts/artifact/{artifacts[0]['id']}")
    ui.page.locator(".markdown-renderer").first.wait_for()
    ui.page.wait_for_load_state("networkidle")
    ui.screenshot(str(artifact_png))


def take(stack: LocalStack, docs: Path) -> tuple[list[Path], list[str]]:
    """Every picture it can make, into ``docs``: (files written, what could not be made and why).

    A run that does not complete is not photographed (a picture of a failure is no documentation); the other
    pictures are still made, so one broken form does not hold the rest back.
    """
    executable = chromium_path()
    if executable is None:
        raise SystemExit("chromium not found (apt-get install -y chromium)")
    written: list[Path] = []
    problems: list[str] = []
    person_id, incident_ref, serious_ref = _examples(stack)
    with browser_page(executable) as page:
        ui = PrefectUI(page, stack.server.ui_url)
        forms = (
            ("brief-for-date", {"day": SAMPLE_DAY}, "form-briefing.png", "prefect-ui-briefing.png"),
            ("regenerate-serious-notification", {"episode": serious_ref}, "form-serious-notification.png", None),
            ("record-outcome", {"child": person_id, "incident_ref": incident_ref,
                                "event": "Return home interview completed", "day": SAMPLE_DAY},
             "form-record-outcome.png", "run-record-outcome.png"),
        )
        submitted: list[tuple[str, str]] = []
        for flow_name, values, form_png, run_png in forms:
            ui.open_custom_run(deployment_of(flow_name))
            ui.fill(values)
            ui.screenshot(str(docs / form_png), full_form=True)
            written.append(docs / form_png)
            if run_png:
                run_id = ui.submit()
                if run_id is None:
                    problems.append(f"{flow_name}: the form did not start a run ({ui.refusal})")
                else:
                    submitted.append((run_id, run_png))
        for run_id, run_png in submitted:
            run = ui.wait_final(run_id)
            if run["state"]["type"] != "COMPLETED":
                problems.append(f"{run_png}: run {run['name']} ended {run['state']['type']}, not photographed")
                continue
            artifact_png = run_png.replace(".png", "-artifact.png")
            _run_pages(ui, run_id, docs / run_png, docs / artifact_png)
            written += [docs / run_png, docs / artifact_png]

    return written, problems


def briefing_page(docs: Path) -> tuple[list[Path], list[str]]:
    """docs/briefing-page1.png from the demo's briefing: ``missing-episodes run`` as ``scripts/demo`` runs it, in a
    temporary folder (its own database, output and Prefect home) with the clock at the sample's briefing morning."""
    manifest = json.loads((PROJECT_ROOT / "data" / "sample" / "manifest.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="me-briefing-") as work:
        folder = Path(work)
        env = {
            **os.environ,
            "MISSING_EPISODES_DATABASE_URL": f"sqlite:///{folder / 'missing_episodes.db'}",
            "MISSING_EPISODES_OUTPUT_DIR": str(folder / "out"),
            "MISSING_EPISODES_NOW": str(manifest["as_of"]),
            "PREFECT_HOME": str(folder / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        }
        env.pop("PREFECT_API_URL", None)  # the demo's ephemeral server, never a server this shell points at
        command = [str(PROJECT_ROOT / ".venv" / "bin" / "missing-episodes"), "run"]
        done = subprocess.run(command, env=env, cwd=folder, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            return [], [f"briefing-page1.png: `missing-episodes run` exited {done.returncode}: "
                        f"{done.stderr.strip().splitlines()[-1:] or done.stdout[-200:]}"]
        pdf = next((folder / "out" / "briefing").glob(f"*{SAMPLE_DAY}*.pdf"), None)
        if pdf is None:
            return [], [f"briefing-page1.png: the demo wrote no briefing PDF for {SAMPLE_DAY}"]
        target = docs / "briefing-page1"
        subprocess.run(["pdftoppm", "-png", "-r", str(BRIEFING_DPI), "-f", "1", "-l", "1", "-singlefile",
                        str(pdf), str(target)], check=True, timeout=120)
    return [target.with_suffix(".png")], []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs", help="where the PNGs go (docs/)")
    parser.add_argument("--briefing-only", action="store_true",
                        help="only docs/briefing-page1.png, from the demo's briefing (no server, no browser)")
    args = parser.parse_args(argv)
    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdftoppm not found (apt-get install -y poppler-utils)")
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    _log("running the demo's main job for page 1 of its briefing")
    written, problems = briefing_page(args.out)
    if not args.briefing_only:
        _log("starting a throwaway Prefect server, the deployments and a worker")
        stack = start_stack(Path(tempfile.mkdtemp(prefix="me-screenshots-")))
        try:
            _log(f"UI at {stack.server.ui_url}; loading the bundled feed")
            for flow_run in load_sample_feed(stack):
                if not flow_run.state.is_completed():
                    raise SystemExit(f"loading the sample: {flow_run.name} ended {flow_run.state.name}")
            taken, missed = take(stack, args.out)
            written, problems = written + taken, problems + missed
        finally:
            stack.stop()
    for path in written:
        _log(f"wrote {path}")
    for problem in problems:
        _log(f"NOT MADE: {problem}")
    _log(f"done in {time.monotonic() - started:.0f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
