"""The Prefect UI, in a real headless Chromium, shows the briefing run and its artifact.

The page is a single-page app: Chromium's ``--virtual-time-budget`` lets its scripts fetch from the API before
the DOM is dumped and the screenshot taken (into tmp: the pictures in docs/ are made by scripts/screenshots,
which drives the forms themselves; tests/server/test_ui_forms.py tests them). Skipped
without Chromium unless CI is set (where a missing browser is a broken runner).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.pg import in_ci
from tests.server.stack import sample_daily_run, stack

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect-server")]

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
    "--window-size=1400,900", "--virtual-time-budget=20000",
]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    if in_ci():
        pytest.fail("CI is set and chromium is missing (apt-get install -y chromium)", pytrace=False)
    pytest.skip("chromium not installed (apt-get install -y chromium)")


def _browse(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url],
                          capture_output=True, text=True, timeout=120, check=False)


def test_ui_shows_the_briefing_run_and_its_artifact(tmp_path: Path) -> None:
    _chromium()
    sample_daily_run()
    current = stack()

    async def briefing(client):
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

        (run,) = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(like_="briefing-")), limit=1)
        artifacts = await client.read_artifacts()
        return run, [a for a in artifacts if a.key == "daily-briefing" and a.flow_run_id == run.id]

    run, artifacts = current.call(briefing)
    assert artifacts, "the briefing run has its artifact"
    url = f"{current.server.ui_url}/runs/flow-run/{run.id}?tab=Artifacts"
    dom = _browse(url, tmp_path / "profile-dom", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert run.name in dom.stdout, "the run page shows the briefing run"
    assert "daily-briefing" in dom.stdout, "and its artifact"

    target = tmp_path / "briefing.png"
    shot = _browse(url, tmp_path / "profile-shot", f"--screenshot={target}")
    assert shot.returncode == 0 and target.stat().st_size > 20_000, shot.stderr[-2000:]
