"""The SSDA903 Missing table built from the store, its XML fragment and ``validation.csv``.

Uses the hand-made dataset of ``tests/builders/reports.py`` plus E14: C4 missing from 30 March 2025 10:00 UTC (11:00
BST) until 2 April 2025, so at 31 March, the picture the return gives, that period is still open.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from missing_episodes.db.engine import session_scope
from missing_episodes.reports.ssda903 import build_return, produce_ssda903, to_xml, write_return
from tests.builders.reports import (
    AS_OF,
    EXPECTED,
    add_child,
    add_episode,
    authority_files,
    build_with_open_period,
    records_at,
)


def test_missing_table_for_the_collection_year(db_url: str, tmp_path: Path) -> None:
    build_with_open_period(db_url)
    result = build_return(records_at(db_url), 2025)
    assert result.period.start == date(2024, 4, 1) and result.period.end == date(2025, 3, 31)
    assert result.missing.columns.tolist() == ["CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"]
    assert result.missing.values.tolist() == EXPECTED
    assert result.failures.empty
    statuses = result.validation.set_index("rule")["status"].to_dict()
    # Without the authority's Header and Episodes, their rules are reported as not checked, never as passed.
    assert {code for code, status in statuses.items() if status == "not_checked"} == {
        "575", "577", "578", "581", "1012", "INT04", "INT13",
    }  # fmt: skip
    assert statuses["576"] == "passed"  # last year's table rebuilt from our records (empty here)

    outputs = write_return(result, tmp_path)
    written = pd.read_csv(outputs.paths["csv"], dtype=str, keep_default_na=False)
    assert written.values.tolist() == EXPECTED
    assert outputs.paths["csv"].read_text().splitlines()[0] == "CHILD,DOB,MISSING,MIS_START,MIS_END"
    assert outputs.counts == {"rows": 8, "children": 3, "failures": 0, "rules_not_checked": 7}


def test_xml_fragment_round_trips() -> None:
    table = pd.DataFrame(EXPECTED, columns=["CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"])
    root = ET.fromstring(to_xml(table))
    assert root.tag == "Children" and len(root) == 3
    rows = [
        [child.findtext("HEADER/CHILDID"), child.findtext("HEADER/DOB"), p.findtext("MISSING"),
         p.findtext("MIS_START"), p.findtext("MIS_END") or ""]
        for child in root
        for p in child.findall("AMISSING")
    ]  # fmt: skip
    assert rows == EXPECTED


def test_with_the_authoritys_header_and_episodes(db_url: str, tmp_path: Path) -> None:
    build_with_open_period(db_url)
    header, episodes = authority_files(tmp_path / "in")
    outputs = produce_ssda903(db_url, 2025, tmp_path / "out", header_path=header, episodes_path=episodes, as_of=AS_OF)
    validation = pd.read_csv(outputs.paths["validation"], dtype=str, keep_default_na=False)
    assert set(validation["status"]) == {"passed"}
    assert outputs.counts["failures"] == 0 and outputs.counts["rules_not_checked"] == 0

    # P2's care starts on 1 February 2025: E5 (20 January) is before it. Listed per child, never fixed.
    header, episodes = authority_files(tmp_path / "in2", {"P2": "01/02/2025"})
    outputs = produce_ssda903(db_url, 2025, tmp_path / "out2", header_path=header, episodes_path=episodes, as_of=AS_OF)
    validation = pd.read_csv(outputs.paths["validation"], dtype=str, keep_default_na=False)
    failed = validation[validation["status"] == "fail"]
    assert failed[["rule", "CHILD", "MIS_START"]].values.tolist() == [
        ["577", "P2", "20/01/2025"],  # ends (22 January) before the period of care began
        ["578", "P2", "20/01/2025"],  # starts outside the period of care
        ["581", "P2", "20/01/2025"],  # not inside an episode of care
    ]
    written = pd.read_csv(outputs.paths["csv"], dtype=str, keep_default_na=False)
    assert written.values.tolist() == EXPECTED  # the table is unchanged: corrected at source, not here


def test_child_without_person_id_is_listed_not_dropped_silently(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(sqlite_url) as s:
        child = add_child(s, 5, "looked_after", date(2010, 1, 1), person_id=None)
        add_episode(s, 15, child, "missing", "2024-06-01 10:00", "2024-06-02 10:00")
    result = build_return(records_at(sqlite_url), 2025)
    assert result.missing.empty
    assert result.failures[["rule", "CHILD", "MIS_START"]].values.tolist() == [["LOCAL01", "CH-5", "01/06/2024"]]

    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    from cli import app

    run = CliRunner().invoke(app, ["export", "ssda903", "--year", "2025", "--out", str(tmp_path / "out")])
    assert run.exit_code == 1
    assert "failures: 1" in run.output
