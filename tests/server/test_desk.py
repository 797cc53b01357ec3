"""On a REAL Prefect server with the desk (``deployments.desk``) polling its pool: the command line's on-demand
commands run there as whole processes, as a user runs them with ``PREFECT_API_URL`` set.

The stack (``tests/server/stack.py``) is the production recipe: ``python -m deployments``'s apply step, a process
worker for the scheduled work, and the desk for the on-demand runs, each with the product's settings in its
environment. The commands here share the desk's database and output store, as on an authority's server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deployments import COMMAND_LINE, DESK_POOL
from deployments.stack import LocalStack
from missing_episodes.config import DATA_DIR
from tests.server.leaks import personal_strings
from tests.server.stack import sample_daily_run, stack

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect-server")]

AS_OF = "2026-11-02T08:30"


def _command(current: LocalStack, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """``missing-episodes ARGS`` against the stack's server, database and output store; (result, seconds)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_", "MISSING_EPISODES_"))}
    env.update({"PREFECT_API_URL": current.server.api_url, "MISSING_EPISODES_DATABASE_URL": current.product_db,
                "MISSING_EPISODES_OUTPUT_DIR": str(current.output_dir),
                "PREFECT_HOME": str(current.root / "cli-prefect-home")})
    if current.server.env.get("PREFECT_API_AUTH_STRING"):
        env["PREFECT_API_AUTH_STRING"] = current.server.env["PREFECT_API_AUTH_STRING"]
    started = time.monotonic()
    completed = subprocess.run([str(Path(sys.executable).with_name("missing-episodes")), *args], env=env,
                               capture_output=True, text=True, timeout=600, check=False)
    return completed, time.monotonic() - started


def _serious_episode(current: LocalStack) -> str:
    from bench.sides import serious_episode

    return serious_episode(current.product_db)


def _runs_of(current: LocalStack, flow_name: str) -> list:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    async def read(client):
        return await client.read_flow_runs(deployment_filter=DeploymentFilter(
            name=DeploymentFilterName(any_=[COMMAND_LINE])), limit=200)

    return [run for run in current.call(read) if run.name.startswith(flow_name)]


def test_form_report_and_ingest_run_on_the_desk_as_whole_commands(tmp_path: Path) -> None:
    flow_run = sample_daily_run()  # the sample's feed in the stack's database (through the process worker)
    assert flow_run.state.is_completed(), flow_run.state.message
    current = stack()
    episode = _serious_episode(current)

    form, form_s = _command(current, "form", "serious-notification", "--episode", episode, "--as-of", AS_OF,
                            "--out", str(tmp_path / "form"))
    assert form.returncode == 0, form.stderr
    files = [Path(line) for line in form.stdout.splitlines() if line.startswith("/")]
    assert {path.suffix for path in files} == {".html", ".pdf", ".docx"} and all(path.exists() for path in files)
    assert files[0].parent == tmp_path / "form"  # the command's folder, written by the desk

    report, report_s = _command(current, "report", "oversight", "--date", "2026-10-31", "--out",
                                str(tmp_path / "oversight"))
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "oversight" / "oversight-20261031.csv").exists()

    ingest, ingest_s = _command(current, "ingest", "--kind", "notifications",
                                str(DATA_DIR / "sample" / "notifications.csv"))
    assert ingest.returncode == 0, ingest.stderr
    assert "notifications: read 781" in ingest.stdout

    # Each ran on the desk and is recorded on the server as a Completed run of its command-line deployment.
    (form_run,) = [run for run in _runs_of(current, "serious-notification-") if run.state.is_completed()][-1:]
    assert form_run.work_pool_name == DESK_POOL
    assert form_run.parameters["episode_ref"] == episode
    assert _runs_of(current, "oversight-report-")[0].state.is_completed()
    current.timings.update({"cli_form_s": form_s, "cli_report_s": report_s, "cli_ingest_s": ingest_s})


def test_a_failing_run_is_one_ids_only_line_and_exit_1_and_the_desk_carries_on(tmp_path: Path) -> None:
    current = stack()
    # The command accepts the folder (it is not a file); the desk cannot make it: the flow fails there.
    failed, _ = _command(current, "report", "oversight", "--date", "2026-10-31", "--out", "/dev/null/reports")
    assert failed.returncode == 1
    (line,) = failed.stderr.strip().splitlines()
    # The flows' errors name the kind of failure, never values (``tasks.privacy``): the path is not even quoted.
    assert line.startswith("error: the oversight report failed:") and "NotADirectoryError" in line, line
    assert "traceback in" in line and "desk-errors.log" in line
    assert not [needle for needle in personal_strings() if needle in line.lower()]
    assert "Traceback" not in failed.stderr and failed.stdout == ""
    # The desk is still there and serving.
    again, _ = _command(current, "report", "oversight", "--date", "2026-10-31", "--out", str(tmp_path / "ok"))
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "ok" / "oversight-20261031.csv").exists()
    assert current.server.workers[-1].poll() is None
