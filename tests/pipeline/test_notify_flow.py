"""The notify flow on Prefect's test harness: it tells people (a real SMTP server with STARTTLS on loopback), it runs
at the end of an ingest that ran the rules, and what Prefect records of it (return value, artifact) is counts only:
no address, no name."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from missing_episodes.db.engine import session_scope
from tests.builders.notify import HELEN, MARTIN, local, seed_day
from tests.builders.smtp import SmtpServer


async def _artifacts(key: str) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async with get_client() as client:
        found = await client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
        return [str(artifact.data) for artifact in found]


@pytest.mark.prefect
def test_the_notify_flow_sends_once_and_tells_prefect_counts_only(
    prefect_harness: None, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.ingest import ingest_files
    from flows.notify import notify

    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    with session_scope(sqlite_url) as session:
        seed_day(session)
    server = SmtpServer(tmp_path).start()
    try:
        for name, value in server.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("MISSING_EPISODES_NOW", local(11, 2, 8).isoformat())
        assert asyncio.run(notify())["sent"] == 0  # notifications begin here
        monkeypatch.setenv("MISSING_EPISODES_NOW", local(11, 2, 14).isoformat())
        asyncio.run(ingest_files("outcomes", [], None, True))  # an ingest (nothing new) ends with the notify subflow
        after_ingest = len(server.received)
        result = asyncio.run(notify())  # and a run after it finds nothing left to send
    finally:
        server.stop()
    # 10:00 overdue RHI (interviewer, Team Manager), 11:00 meeting, 12:00 serious notification and its form, the
    # 09:30 RHI (interviewer, Team Manager), 14:00 Service Manager: 8 messages, each once.
    assert after_ingest == 8 and len(server.received) == 8
    assert (result["sent"], result["failed"], result["waiting"]) == (0, 0, 0)
    assert {r.recipients[0] for r in server.received} >= {HELEN, MARTIN}
    artifacts = asyncio.run(_artifacts("notifications"))
    recorded = " ".join(str(value) for value in result.values()) + " ".join(artifacts)
    assert any("Notifications: 8 sent, 0 failed" in text and "1 serious notification form" in text
               for text in artifacts)
    for personal in ("@", "Amy", "Ashdown", "Helen", "Priya"):
        assert personal not in recorded
