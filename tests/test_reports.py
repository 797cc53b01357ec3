"""Board figures, oversight, Annex A and SSD exports on a hand-made dataset, every answer worked out by hand.

The dataset (``build_dataset``) is small enough to count on paper. January to 29 March 2025 is GMT, so a UTC
time there is also the London time; 23:30 UTC on 31 March 2025 is already 00:30 BST on 1 April.

Children: C1 (looked after, P1), C2 (looked after, P2), C3 (child in need, P3), C4 (looked after, P4).

Episodes (start -> found; all found times are also the return-notified times):
  E1  C1 missing 05 Jan 10:00 -> 06 Jan 10:00   RHI done 08 Jan 10:00 (due 09 Jan 10:00: on time)
  E2  C1 missing 10 Feb 10:00 -> 11 Feb 10:00   RHI declined 12 Feb
  E3  C1 missing 01 Mar 10:00 -> 01 Mar 20:00   RHI done 10 Mar (due 04 Mar 20:00: late)
  E4  C1 absent  20 Feb 10:00 -> 20 Feb 18:00
  E5  C2 missing 20 Jan 10:00 -> 22 Jan 10:00   RHI status done but done_at 10 May (after as_of): not done
  E6  C2 absent  01 Mar 10:00 -> 01 Mar 15:00
  E7  C3 missing 02 Jan 10:00 -> 03 Jan 10:00   RHI done 04 Jan (on time)
  E8  C3 missing 09 Jan 10:00 -> 10 Jan 10:00   RHI declined
  E9  C3 missing 16 Jan 10:00 -> 17 Jan 10:00   RHI withdrawn (ignored everywhere)
  E10 C4 missing 20 Dec 2024 -> 21 Dec 2024     RHI declined (outside the Jan-Mar period)
  E11 C2 missing 01 Feb, other authority        RHI done (ignored: not our figures)
  E12 C1 unconfirmed (no kind yet) 20 Mar       (ignored: not yet an episode)
  E13 C2 missing 31 Mar 23:30 UTC = 1 Apr BST   still open (outside a period ending 31 March)

Strategy meeting actions (trigger):
  S1 C1 01 Mar done; S2 C2 21 Jan not_required; S3 C2 23 Jan open; S4 C3 16 Jan done;
  S5 C1 11 Feb withdrawn; S6 C4 21 Dec 2024 done; S7 C3 02 Apr open.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import Action, Child, Episode, Outcome
from missing_episodes.reports.annex_a import COLUMNS as ANNEX_COLUMNS
from missing_episodes.reports.annex_a import annex_a_list8, produce_annex_a
from missing_episodes.reports.board import board_report, render_board_html, write_board_report
from missing_episodes.reports.comparators import load_comparators
from missing_episodes.reports.figures import board_figures
from missing_episodes.reports.oversight import oversight_counts, oversight_table, produce_oversight_report
from missing_episodes.reports.periods import Period, collection_year, two_months_to
from missing_episodes.reports.records import load_records
from missing_episodes.reports.ssd import COLUMNS as SSD_COLUMNS
from missing_episodes.reports.ssd import produce_ssd, ssd_missing

AS_OF = datetime(2025, 4, 30, 12, tzinfo=UTC)
JAN_TO_MAR = Period(date(2025, 1, 1), date(2025, 3, 31))


def t(text: str) -> datetime:
    """A UTC instant from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def add_child(session, n: int, legal_status: str, dob: date, person_id: str | None = "auto") -> Child:
    child = Child(
        ref=f"CH-{n}",
        person_id=f"P{n}" if person_id == "auto" else person_id,
        first_name=f"First{n}",
        last_name=f"Last{n}",
        date_of_birth=dob,
        legal_status=legal_status,
        team="Team A",
        allocated_worker="Worker A",
    )
    session.add(child)
    session.flush()
    return child


def add_episode(
    session,
    n: int,
    child: Child,
    kind: str | None,
    start: str,
    end: str | None,
    *,
    other_authority: bool = False,
) -> Episode:
    ended = t(end) if end else None
    episode = Episode(
        ref=f"EP-{n}",
        source="police",
        incident_ref=f"INC-{n}",
        child_id=child.id,
        kind=kind,
        status="unconfirmed" if kind is None else ("returned" if ended else "open"),
        started_at=t(start),
        last_seen_at=t(start),
        reported_at=t(start),
        found_at=ended,
        return_notified_at=ended,
        other_authority=other_authority,
        state_hash=f"h{n}",
    )
    session.add(episode)
    session.flush()
    return episode


def add_action(
    session,
    key: str,
    child: Child,
    episode: Episode | None,
    kind: str,
    trigger: datetime,
    status: str,
    done_at: datetime | None = None,
    due: datetime | None = None,
) -> Action:
    rule = "rhi.within_72h_of_return" if kind == "return_home_interview" else "strategy.missing_24h"
    action = Action(
        key=key,
        child_id=child.id,
        episode_id=episode.id if episode else None,
        kind=kind,
        rule_id=rule,
        policy_version="2026.11",
        trigger_at=trigger,
        due_at=due or (trigger + timedelta(hours=72)),
        status=status,
        done_at=done_at,
    )
    session.add(action)
    return action


def add_rhi(session, key: str, episode: Episode, child: Child, status: str, done_at: str | None = None) -> Action:
    """An RHI fires at the return and is due 72 hours later."""
    assert episode.return_notified_at is not None
    return add_action(
        session,
        key,
        child,
        episode,
        "return_home_interview",
        episode.return_notified_at,
        status,
        t(done_at) if done_at else None,
    )


def add_outcome(session, n: int, child: Child, event: str, at: str) -> None:
    session.add(Outcome(source="cms", event_id=f"OUT-{n}", recorded_at=t(at), child_id=child.id, event=event))


def build_dataset(url: str) -> None:
    with session_scope(url) as s:
        c1 = add_child(s, 1, "looked_after", date(2009, 5, 1))
        c2 = add_child(s, 2, "looked_after", date(2010, 2, 2))
        c3 = add_child(s, 3, "child_in_need", date(2011, 3, 3))
        c4 = add_child(s, 4, "looked_after", date(2008, 7, 7))
        e1 = add_episode(s, 1, c1, "missing", "2025-01-05 10:00", "2025-01-06 10:00")
        e2 = add_episode(s, 2, c1, "missing", "2025-02-10 10:00", "2025-02-11 10:00")
        e3 = add_episode(s, 3, c1, "missing", "2025-03-01 10:00", "2025-03-01 20:00")
        add_episode(s, 4, c1, "absent", "2025-02-20 10:00", "2025-02-20 18:00")
        e5 = add_episode(s, 5, c2, "missing", "2025-01-20 10:00", "2025-01-22 10:00")
        add_episode(s, 6, c2, "absent", "2025-03-01 10:00", "2025-03-01 15:00")
        e7 = add_episode(s, 7, c3, "missing", "2025-01-02 10:00", "2025-01-03 10:00")
        e8 = add_episode(s, 8, c3, "missing", "2025-01-09 10:00", "2025-01-10 10:00")
        e9 = add_episode(s, 9, c3, "missing", "2025-01-16 10:00", "2025-01-17 10:00")
        e10 = add_episode(s, 10, c4, "missing", "2024-12-20 10:00", "2024-12-21 10:00")
        e11 = add_episode(s, 11, c2, "missing", "2025-02-01 10:00", "2025-02-02 10:00", other_authority=True)
        add_episode(s, 12, c1, None, "2025-03-20 10:00", None)
        add_episode(s, 13, c2, "missing", "2025-03-31 23:30", None)
        add_rhi(s, "rhi-1", e1, c1, "done", "2025-01-08 10:00")
        add_rhi(s, "rhi-2", e2, c1, "declined", "2025-02-12 10:00")
        add_rhi(s, "rhi-3", e3, c1, "done", "2025-03-10 10:00")
        add_rhi(s, "rhi-5", e5, c2, "done", "2025-05-10 10:00")
        add_rhi(s, "rhi-7", e7, c3, "done", "2025-01-04 10:00")
        add_rhi(s, "rhi-8", e8, c3, "declined", "2025-01-11 10:00")
        add_rhi(s, "rhi-9", e9, c3, "withdrawn")
        add_rhi(s, "rhi-10", e10, c4, "declined", "2024-12-22 10:00")
        add_rhi(s, "rhi-11", e11, c2, "done", "2025-02-03 10:00")
        meeting = "strategy_meeting"
        add_action(s, "s1", c1, e3, meeting, t("2025-03-01 12:00"), "done", t("2025-03-01 16:00"))
        add_action(s, "s2", c2, e5, meeting, t("2025-01-21 10:00"), "not_required", t("2025-01-21 12:00"))
        add_action(s, "s3", c2, e5, meeting, t("2025-01-23 10:00"), "open")
        add_action(s, "s4", c3, e9, meeting, t("2025-01-16 12:00"), "done", t("2025-01-17 09:00"))
        add_action(s, "s5", c1, e2, meeting, t("2025-02-11 10:00"), "withdrawn")
        add_action(s, "s6", c4, e10, meeting, t("2024-12-21 10:00"), "done", t("2024-12-21 15:00"))
        add_action(s, "s7", c3, None, meeting, t("2025-04-02 10:00"), "open")
        # Oversight records (see test_oversight_report).
        add_outcome(s, 1, c1, "management_oversight_recorded", "2025-02-15 10:00")
        add_outcome(s, 2, c1, "risk_assessment_recorded", "2024-11-01 10:00")
        add_outcome(s, 3, c1, "safety_plan_recorded", "2025-02-20 10:00")
        add_outcome(s, 4, c3, "management_oversight_recorded", "2024-12-01 10:00")
        add_outcome(s, 5, c3, "safety_plan_recorded", "2025-01-10 10:00")
        add_outcome(s, 6, c3, "risk_assessment_recorded", "2025-03-05 10:00")  # after the oversight date


def records_at(url: str, as_of: datetime = AS_OF):
    with session_scope(url) as session:
        return load_records(session, as_of)


# -- board figures ------------------------------------------------------------------------------------------


def test_board_figures_children_in_care(db_url: str) -> None:
    build_dataset(db_url)
    figures = board_figures(records_at(db_url), JAN_TO_MAR)
    cic = figures.summary["children_in_care"].to_dict()
    expected = {
        # C1: E1, E2, E3; C2: E5. E11 (other authority), E12 (unconfirmed), E13 (1 April in London) and C3 (not
        # in care) are out; E10 is in December.
        "missing_episodes": 4,
        "children_missing": 2,  # C1, C2
        "missing_per_child": 2.0,  # 4 / 2
        "children_3plus": 1,  # C1
        "missing_episodes_3plus": 3,
        "absent_episodes": 2,  # E4, E6: never added to the missing count
        "children_absent": 2,
        "rhi_due": 4,  # the RHI actions of E1, E2, E3, E5
        "rhi_completed": 2,  # E1, E3
        "rhi_completed_pct": 50.0,  # 2 / 4
        "rhi_declined": 1,  # E2
        "rhi_declined_pct": 25.0,  # 1 / 4
        "rhi_not_done": 1,  # E5: recorded done only on 10 May, after the as-of moment
        "rhi_not_done_pct": 25.0,
        "rhi_due_3plus": 3,  # C1's E1, E2, E3
        "rhi_completed_3plus": 2,
        "rhi_completed_3plus_pct": 66.7,  # 2 / 3
        "rhi_declined_3plus": 1,
        "rhi_declined_3plus_pct": 33.3,  # 1 / 3
        "rhi_not_done_3plus": 0,
        "rhi_not_done_3plus_pct": 0.0,
        "rhi_in_time": 1,  # E1 (done 08 Jan, due 09 Jan); E3 done 10 Mar, due 04 Mar
        "rhi_in_time_pct": 50.0,  # 1 of the 2 completed
        "strategy_required": 2,  # S1, S3 (S2 not required, S5 withdrawn, S6 December)
        "strategy_held": 1,  # S1
        "strategy_held_pct": 50.0,
        "strategy_not_required": 1,  # S2
    }
    assert cic == expected


def test_board_figures_all_children(db_url: str) -> None:
    build_dataset(db_url)
    figures = board_figures(records_at(db_url), JAN_TO_MAR)
    everyone = figures.summary["all_children"].to_dict()
    expected = {
        "missing_episodes": 7,  # 4 in care + C3's E7, E8, E9
        "children_missing": 3,
        "missing_per_child": 2.3,  # 7 / 3 = 2.33
        "children_3plus": 2,  # C1, C3
        "missing_episodes_3plus": 6,
        "absent_episodes": 2,
        "children_absent": 2,
        "rhi_due": 6,  # E1, E2, E3, E5, E7, E8 (E9's withdrawn)
        "rhi_completed": 3,  # E1, E3, E7
        "rhi_completed_pct": 50.0,  # 3 / 6
        "rhi_declined": 2,  # E2, E8
        "rhi_declined_pct": 33.3,  # 2 / 6
        "rhi_not_done": 1,  # E5
        "rhi_not_done_pct": 16.7,  # 1 / 6
        "rhi_due_3plus": 5,  # E1, E2, E3, E7, E8
        "rhi_completed_3plus": 3,
        "rhi_completed_3plus_pct": 60.0,  # 3 / 5
        "rhi_declined_3plus": 2,
        "rhi_declined_3plus_pct": 40.0,  # 2 / 5
        "rhi_not_done_3plus": 0,
        "rhi_not_done_3plus_pct": 0.0,
        "rhi_in_time": 2,  # E1, E7
        "rhi_in_time_pct": 66.7,  # 2 / 3
        "strategy_required": 3,  # S1, S3, S4
        "strategy_held": 2,  # S1, S4
        "strategy_held_pct": 66.7,  # 2 / 3
        "strategy_not_required": 1,  # S2
    }
    assert everyone == expected


def test_monthly_trend_and_yearly_averages(db_url: str) -> None:
    build_dataset(db_url)
    records = records_at(db_url)
    figures = board_figures(records, JAN_TO_MAR)
    monthly = figures.monthly.set_index("month")
    # Jan: in care E1, E5; all adds E7, E8, E9. Feb: E2 missing, E4 absent. Mar: E3 missing, E6 absent.
    assert monthly.loc[date(2025, 1, 1)].tolist() == [2, 0, 5]
    assert monthly.loc[date(2025, 2, 1)].tolist() == [1, 1, 1]
    assert monthly.loc[date(2025, 3, 1)].tolist() == [1, 1, 1]
    assert figures.yearly.to_dict("records") == [
        # 4 in care over 3 months = 1.33; 7 over 3 = 2.33
        {
            "year": 2025,
            "months": 3,
            "missing_in_care": 4,
            "per_month_in_care": 1.3,
            "missing_all": 7,
            "per_month_all": 2.3,
        }
    ]
    # December to March splits by calendar year: 2024 has one month (E10), 2025 three.
    wider = board_figures(records, Period(date(2024, 12, 1), date(2025, 3, 31)))
    assert wider.yearly.to_dict("records") == [
        {
            "year": 2024,
            "months": 1,
            "missing_in_care": 1,
            "per_month_in_care": 1.0,
            "missing_all": 1,
            "per_month_all": 1.0,
        },
        {
            "year": 2025,
            "months": 3,
            "missing_in_care": 4,
            "per_month_in_care": 1.3,
            "missing_all": 7,
            "per_month_all": 2.3,
        },
    ]
    # Adding December brings in E10 (declined RHI) and S6 (held).
    assert wider.value("rhi_declined") == 2
    assert wider.value("strategy_held") == 2  # S1, S6


def test_comparators_are_data_with_sources() -> None:
    comparators = load_comparators()
    per_child = next(c for c in comparators if c.compare_to == "missing_per_child")
    assert per_child.value == 6.8
    assert "2025" in per_child.year
    for comparator in comparators:
        assert comparator.url.startswith("https://") and comparator.source_title and comparator.year


def test_board_report_pdf_and_excel(sqlite_url: str, tmp_path: Path) -> None:
    build_dataset(sqlite_url)
    report = board_report(sqlite_url, JAN_TO_MAR, AS_OF)
    html = render_board_html(report, b"png")
    assert "Return interviews completed (%)" in html and "50.0%" in html and "First1" not in html
    assert "6.8" in html  # the national comparator beside ours (2.0)
    outputs = write_board_report(report, tmp_path / "board")
    pdf = outputs.paths["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF") and b"/Subtype /Image" in pdf  # the chart is embedded
    assert outputs.paths["chart"].read_bytes().startswith(b"\x89PNG")
    workbook = load_workbook(outputs.paths["xlsx"])
    assert workbook.sheetnames == ["Summary", "By month", "Average per month", "National comparators"]
    summary = pd.read_excel(outputs.paths["xlsx"], sheet_name="Summary").set_index("measure")
    assert summary.at["missing_episodes", "Children in care"] == 4
    assert summary.at["rhi_completed_pct", "All children"] == 50.0
    assert outputs.counts == {"missing_episodes_in_care": 4, "children_in_care_missing": 2, "missing_episodes_all": 7}


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) missing")
def test_board_pdf_has_the_page_rules_every_pdf_has(sqlite_url: str, tmp_path: Path) -> None:
    """The board paper is printed like every other document: marked OFFICIAL-SENSITIVE in the header and the
    footer of every page, numbered "Page n of m", with a running header naming the board and the period."""
    build_dataset(sqlite_url)
    pdf = write_board_report(board_report(sqlite_url, JAN_TO_MAR, AS_OF), tmp_path).paths["pdf"]
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True)
    pages = [" ".join(page.split()) for page in text.stdout.split("\f") if page.strip()]
    assert pages
    for number, page in enumerate(pages, start=1):
        assert page.count("OFFICIAL-SENSITIVE") >= 2, f"page {number} lacks the marking in header and footer"
        assert f"Page {number} of {len(pages)}" in page
        assert "Corporate Parenting Board · Missing children · 01 January 2025 to 31 March 2025" in page


def test_template_values_are_escaped(sqlite_url: str) -> None:
    from missing_episodes.reports.templating import report_environment

    html = report_environment().from_string("{{ x }}").render(x="<script>")
    assert "&lt;script&gt;" in html


# -- oversight ----------------------------------------------------------------------------------------------


def test_oversight_report(db_url: str, tmp_path: Path) -> None:
    build_dataset(db_url)
    day = date(2025, 3, 1)
    period = two_months_to(day)
    assert period == Period(date(2025, 1, 2), date(2025, 3, 1))
    table = oversight_table(records_at(db_url, period.end_instant), period)
    rows = table[
        ["child_ref", "missing_episodes", "management_oversight", "risk_assessment", "safety_plan", "all_on_record"]
    ].values.tolist()
    assert rows == [
        # C1: E1 05 Jan, E2 10 Feb, E3 01 Mar = 3. Oversight 15 Feb (in the window), risk assessment Nov 2024
        # (on file), safety plan 20 Feb.
        ["CH-1", 3, "Yes", "Yes", "Yes", "Yes"],
        # C3: E7 02 Jan, E8, E9 = 3. Oversight 1 Dec 2024 is before the window; the risk assessment of 5 Mar is
        # after the report date; safety plan 10 Jan.
        ["CH-3", 3, "No", "No", "Yes", "No"],
    ]  # C2 had one missing episode in the window: not listed
    assert table.loc[1, "management_oversight_last"] == date(2024, 12, 1)
    assert oversight_counts(table) == {
        "repeat_missing_children": 2,
        "with_management_oversight": 1,
        "with_risk_assessment": 1,
        "with_safety_plan": 2,
        "with_all_three": 1,
    }
    outputs = produce_oversight_report(db_url, day, tmp_path)
    written = pd.read_csv(outputs.paths["csv"])
    assert written["name"].tolist() == ["First1 Last1", "First3 Last3"]
    assert outputs.counts["repeat_missing_children"] == 2


# -- Annex A and SSD ------------------------------------------------------------------------------------------


def test_annex_a_list8(db_url: str, tmp_path: Path) -> None:
    build_dataset(db_url)
    day = date(2025, 3, 31)
    records = records_at(db_url, Period(day, day).end_instant)
    table = annex_a_list8(records, day)
    assert table.columns.tolist() == ANNEX_COLUMNS
    assert table.values.tolist() == [
        # C1: E1, E2, E3 missing, E4 absent; last missing E3, interview done 10 Mar.
        ["P1", "01/05/2009", 3, 1, "Yes", "Yes"],
        # C2: E5 (E11 another authority's, E13 starts 1 April in London), E6 absent; E5's interview is recorded
        # only in May, so at 31 March it is not known.
        ["P2", "02/02/2010", 1, 1, "Unknown", "Unknown"],
        # C4: E10 in December, interview declined.
        ["P4", "07/07/2008", 1, 0, "Yes", "No"],
    ]  # C3 is not looked after
    outputs = produce_annex_a(db_url, day, tmp_path)
    assert pd.read_csv(outputs.paths["csv"], dtype=str).shape == (3, 6)


def test_ssd_missing(db_url: str, tmp_path: Path) -> None:
    build_dataset(db_url)
    table = ssd_missing(records_at(db_url)).set_index("miss_table_id")
    assert table.reset_index().columns.tolist() == SSD_COLUMNS
    # Every episode of ours: E1-E10 and E13 (E11 another authority's, E12 unconfirmed).
    assert sorted(table.index) == sorted(f"EP-{n}" for n in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13])
    assert table.loc["EP-1"].tolist() == ["P1", "2025-01-05T10:00:00", "Missing", "2025-01-06T10:00:00", "Y", "Y"]
    assert table.loc["EP-2", ["miss_missing_rhi_offered", "miss_missing_rhi_accepted"]].tolist() == ["Y", "N"]
    assert table.loc["EP-4", ["miss_missing_episode_type", "miss_missing_rhi_offered"]].tolist() == ["Absent", "NA"]
    assert table.loc["EP-5", ["miss_missing_rhi_offered", "miss_missing_rhi_accepted"]].isna().all()
    # 23:30 UTC on 31 March is 00:30 on 1 April in London (BST); still missing.
    assert table.loc["EP-13", "miss_missing_episode_start_date"] == "2025-04-01T00:30:00"
    assert pd.isna(table.loc["EP-13", "miss_missing_episode_end_date"])
    outputs = produce_ssd(db_url, tmp_path, AS_OF)
    assert outputs.counts == {"episodes": 11}


# -- CLI ------------------------------------------------------------------------------------------------------


def test_cli_exports_do_not_import_prefect(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_dataset(sqlite_url)
    from typer.testing import CliRunner

    from cli import app

    runner = CliRunner()
    out = tmp_path / "exports"
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    result = runner.invoke(app, ["export", "annex-a", "--date", "2025-03-31", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "annex-a-list8-missing-20250331.csv").exists()
    result = runner.invoke(app, ["export", "ssd", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "episodes: 11" in result.output
    result = runner.invoke(app, ["export", "ssda903", "--year", "2025", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert {"missing.csv", "missing.xml", "validation.csv"} <= {p.name for p in out.iterdir()}
    # A fresh interpreter proves the export path never imports Prefect.
    probe = (
        "import sys; from typer.testing import CliRunner; from cli import app; "
        f"r = CliRunner().invoke(app, ['export', 'ssd', '--out', {str(tmp_path / 'probe')!r}]); "
        "assert r.exit_code == 0, r.output; print('prefect' in sys.modules)"
    )
    import os

    env = {**os.environ, "MISSING_EPISODES_DATABASE_URL": sqlite_url}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_collection_year() -> None:
    assert collection_year(2025) == Period(date(2024, 4, 1), date(2025, 3, 31))


@pytest.mark.parametrize("bad", ["2025-13-01", "yesterday"])
def test_cli_rejects_bad_dates(bad: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli import app

    result = CliRunner().invoke(app, ["export", "annex-a", "--date", bad, "--out", str(tmp_path)])
    assert result.exit_code != 0
