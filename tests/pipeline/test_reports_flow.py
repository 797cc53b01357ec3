"""The board and oversight flows on Prefect's test harness: files in the output store, counts and paths in Prefect."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.builders.reports import build_dataset


@pytest.mark.prefect
def test_report_flows_publish_counts_and_paths_only(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_harness: None
) -> None:
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    build_dataset(sqlite_url)
    from flows.reports import board_report_flow, oversight_report_flow, ssd_flow

    board = board_report_flow(date(2025, 1, 1), date(2025, 3, 31), str(tmp_path / "board"))
    assert board["counts"] == {"missing_episodes_in_care": 4, "children_in_care_missing": 2, "missing_episodes_all": 7}
    assert Path(board["paths"]["pdf"]).read_bytes().startswith(b"%PDF")

    oversight = oversight_report_flow(date(2025, 3, 1), str(tmp_path / "oversight"))
    assert oversight["counts"]["repeat_missing_children"] == 2
    csv = Path(oversight["paths"]["csv"])
    assert "First1 Last1" in csv.read_text()  # names go to the output store ...

    # The scheduled bi-monthly run on 1 May 2025 covers March and April: the two months just ended.
    from flows.reports import bimonthly_oversight_report

    monkeypatch.setenv("MISSING_EPISODES_NOW", "2025-05-01T07:00:00+01:00")
    scheduled = bimonthly_oversight_report()
    written = Path(scheduled["paths"]["csv"])
    assert written.is_relative_to(tmp_path / "out") and written.name == "oversight-20250430.csv"
    monkeypatch.delenv("MISSING_EPISODES_NOW")

    ssd = ssd_flow(None)  # default: under the output store
    assert Path(ssd["paths"]["csv"]).is_relative_to(tmp_path / "out")

    # ... and never into Prefect: the artifacts carry counts and paths.
    import asyncio

    from prefect.client.orchestration import get_client as client_factory

    async def artifacts() -> list[str]:
        async with client_factory() as client:
            return [a.data for a in await client.read_artifacts() if isinstance(a.data, str)]

    published = asyncio.run(artifacts())
    text = "\n".join(published)
    assert "repeat_missing_children" in text and "First1" not in text and "P1" not in text
