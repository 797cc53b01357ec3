"""The document flows on Prefect's test harness: what Prefect records must name no child.

The flow-run name, the return value and the artifact carry dates, refs, counts and paths; the names, dates of birth
and addresses stay in the files.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from missing_episodes.db.engine import session_scope
from tests.builders.documents import BRIEFING_DAY, GREEK, VIETNAMESE, seed_briefing

PERSONAL = ["Zoë", "O'Brien", "Σοφία", "Nguyễn", "Tom Green", "Leeds-Placed", "2011-03-14", "14 Mar 2011", "Larch"]


async def _artifacts(key: str) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async with get_client() as client:
        found = await client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
        return [str(artifact.data) for artifact in found]


async def _run_names(flow_name: str) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    async with get_client() as client:
        runs = await client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])))
        return [run.name for run in runs]


@pytest.mark.prefect
def test_daily_briefing_flow_publishes_counts_not_names(
    prefect_harness: None, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.documents import daily_briefing

    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MISSING_EPISODES_OUTPUT_DIR", str(tmp_path / "store"))
    with session_scope(sqlite_url) as session:
        seed_briefing(session)

    result = asyncio.run(daily_briefing(day=BRIEFING_DAY))
    assert result["delivery"] == "stored" and result["key"] == "briefing:2026-10-26"
    assert result["counts"]["missing_now"] == 2 and result["counts"]["other_authority"] == 1
    pdf = tmp_path / "store" / "briefing" / "briefing-2026-10-26.pdf"
    assert str(pdf) in result["files"] and pdf.exists()
    assert GREEK in (tmp_path / "store" / "briefing" / "briefing-2026-10-26.html").read_text(encoding="utf-8")

    again = asyncio.run(daily_briefing(day=BRIEFING_DAY))
    assert again["delivery"] == "already_stored"

    artifacts = asyncio.run(_artifacts("daily-briefing"))
    # The harness's server is shared by the session: other tests' briefings carry the same key, so this run's
    # artifact is the one naming this test's own store (the server lists them in no set order).
    ours = [text for text in artifacts if str(tmp_path / "store") in text]
    assert ours and "| missing now | 2 |" in ours[0] and "briefing-2026-10-26.pdf" in ours[0]
    recorded = json.dumps(result, ensure_ascii=False) + "".join(artifacts)
    recorded += "".join(asyncio.run(_run_names("daily-briefing")))
    assert "briefing-2026-10-26" in recorded
    for personal in [*PERSONAL, VIETNAMESE]:
        assert personal not in recorded, f"{personal!r} reached Prefect"


@pytest.mark.prefect
def test_cli_briefing_writes_the_pack_into_out(
    prefect_harness: None, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli import app

    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    with session_scope(sqlite_url) as session:
        seed_briefing(session)
    out = tmp_path / "pack"
    result = CliRunner().invoke(app, ["briefing", "--date", "2026-10-26", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["briefing-2026-10-26.html", "briefing-2026-10-26.pdf"]
    result = CliRunner().invoke(app, ["form", "serious-notification", "--episode", "EP-TOM", "--out", str(out),
                                      "--as-of", "2026-10-26T08:30"])
    assert result.exit_code == 0, result.output
    assert (out / "serious-notification-EP-TOM-serious-missing_72h.docx").exists()
    # "Still missing" is counted to the moment asked for (Wed 21 Oct 10:00 BST to Mon 26 Oct 08:30 GMT), not to
    # the machine's clock.
    form = (out / "serious-notification-EP-TOM-serious-missing_72h.html").read_text(encoding="utf-8")
    assert "Status at 26 Oct 2026 08:30" in form and "4 d 23 h since last seen" in form
    result = CliRunner().invoke(app, ["weekly-list", "--week-ending", "2026-10-25", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "weekly-list-2026-10-25.pdf").exists()
    # With a Prefect server configured the same command runs the flow on the desk (here the harness's, in this
    # process, with the parameters the command would send): same files, same key, and the delivery already done
    # by the direct run is not done again.
    from prefect import Flow

    import cli.desk
    import cli.documents
    from cli.flows import run_flow
    from flows import documents as document_flows

    def on_desk(what: str, flow_name: str, parameters: dict, deployment: str = cli.desk.COMMAND_LINE) -> dict:
        chosen = next(f for f in vars(document_flows).values() if isinstance(f, Flow) and f.name == flow_name)
        return run_flow(what, chosen, **parameters)  # JSON values, as the desk gets them: the flow coerces them

    monkeypatch.setattr(cli.documents, "prefect_server_configured", lambda: True)
    monkeypatch.setattr(cli.desk, "run_on_desk", on_desk)
    again = CliRunner().invoke(app, ["weekly-list", "--week-ending", "2026-10-25", "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert "delivery weekly_list:2026-10-25: already_" in again.output


async def _artifacts_of_run(flow_run_id: object) -> dict[str, str]:
    """Artifact key -> text, of one flow run only (not of its subflows)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async with get_client() as client:
        found = await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
        return {str(artifact.key): str(artifact.data) for artifact in found}


@pytest.mark.prefect
def test_the_briefing_is_told_in_words_on_the_run_the_coordinator_or_the_schedule_started(
    prefect_harness: None, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daily run (the 08:30 schedule) and "Briefing for a chosen day" each carry the sentence on their own
    page; the briefing's table stays on the subflow, which nobody opens."""
    from flows.daily import daily_run
    from flows.operations import brief_for_date

    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MISSING_EPISODES_OUTPUT_DIR", str(tmp_path / "store"))
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources: []\n", encoding="utf-8")  # no feed to read: the briefing is what is tested
    monkeypatch.setenv("MISSING_EPISODES_SOURCES", str(sources))
    with session_scope(sqlite_url) as session:
        seed_briefing(session)

    said = "Briefing for Mon 26 Oct 2026: 2 missing, "
    daily = asyncio.run(daily_run(day=BRIEFING_DAY, return_state=True))
    on_daily = asyncio.run(_artifacts_of_run(daily.state_details.flow_run_id))
    assert list(on_daily) == ["briefing-for-coordinators"]
    assert on_daily["briefing-for-coordinators"].startswith(f"**{said}")
    assert "; filed in the shared output folder 'briefing' (briefing-2026-10-26.html, briefing-2026-10-26.pdf)" in (
        on_daily["briefing-for-coordinators"])

    chosen = asyncio.run(brief_for_date(day=BRIEFING_DAY, return_state=True))
    on_chosen = asyncio.run(_artifacts_of_run(chosen.state_details.flow_run_id))
    assert on_chosen["briefing-for-a-chosen-day"].startswith(f"**{said}")
    assert "already filed earlier" in on_chosen["briefing-for-a-chosen-day"]
    for text in [*on_daily.values(), *on_chosen.values()]:
        assert str(tmp_path) not in text  # no worker-side path
        for personal in [*PERSONAL, VIETNAMESE]:
            assert personal not in text
