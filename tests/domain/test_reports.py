"""Board figures, oversight, Annex A and SSD exports on a hand-made dataset, every answer worked out by hand.

The dataset is ``build_dataset`` in ``tests/builders/reports.py``, whose docstring lists it child by child and episode
by episode.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import Child
from missing_episodes.reports.annex_a import COLUMNS as ANNEX_COLUMNS
from missing_episodes.reports.annex_a import annex_a_list8, produce_annex_a
from missing_episodes.reports.board import board_report, render_board_html, write_board_report
from missing_episodes.reports.comparators import load_comparators
from missing_episodes.reports.figures import board_figures
from missing_episodes.reports.oversight import (
    nrm_by_child,
    oversight_counts,
    oversight_table,
    produce_oversight_report,
)
from missing_episodes.reports.periods import Period, collection_year, two_months_to
from missing_episodes.reports.ssd import COLUMNS as SSD_COLUMNS
from missing_episodes.reports.ssd import produce_ssd, ssd_missing
from tests.builders.reports import AS_OF, add_action, build_dataset, records_at, t

JAN_TO_MAR = Period(date(2025, 1, 1), date(2025, 3, 31))


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
        "curfew_episodes": 0, "hidden_missing": 0, "children_hidden_missing": 0,  # none in this dataset
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
        "children_declined": 1,  # C1 (E2)
        "children_declined_3plus": 1,  # C1 had three
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
        "curfew_episodes": 0, "hidden_missing": 0, "children_hidden_missing": 0,
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
        "children_declined": 2,  # C1 (E2) and C3 (E8): two children, two declines
        "children_declined_3plus": 2,
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
    # Under the marking and a title, the table: headers in words, numbers as numbers, one code per measure.
    summary = pd.read_excel(outputs.paths["xlsx"], sheet_name="Summary", header=2).set_index("Code")
    assert summary.at["missing_episodes", "Children in care"] == 4
    assert summary.at["rhi_completed_pct", "All children"] == 50.0
    for ws in workbook.worksheets:
        headers = [cell.value for cell in ws[3] if cell.value]
        assert headers and all("_" not in header and header[0].isupper() for header in headers), ws.title
        assert all(ws.column_dimensions[cell.column_letter].width >= 8 for cell in ws[3] if cell.value), ws.title
    assert [c.value for c in workbook["By month"][3]] == [
        "Month", "Missing episodes (children in care)", "Absent episodes (children in care)",
        "Missing episodes (all children)"]
    rows = {ws_row[3].value: ws_row for ws_row in workbook["Summary"].iter_rows(min_row=4)}
    assert rows["rhi_completed_pct"][1].number_format == '0.0"%"'
    assert rows["missing_per_child"][1].number_format == "0.0" and rows["missing_episodes"][1].number_format == "#,##0"
    # The month-by-month chart, drawn from the sheet's own cells.
    [chart] = workbook["By month"]._charts
    assert chart.title is not None and len(chart.series) == 1 and len(chart._charts) == 2
    assert chart.series[0].val.numRef.f == "'By month'!$B$4:$B$6"
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
        "nrm_outstanding": 0,
        "repeat_missing_children": 2,
        "with_management_oversight": 1,
        "with_risk_assessment": 1,
        "with_safety_plan": 2,
        "with_all_three": 1,
    }
    assert table["nrm_referral"].tolist() == ["Not asked", "Not asked"]
    outputs = produce_oversight_report(db_url, day, tmp_path)
    written = pd.read_csv(outputs.paths["csv"])
    assert written["name"].tolist() == ["First1 Last1", "First3 Last3"]
    assert outputs.counts["repeat_missing_children"] == 2 and outputs.counts["nrm_outstanding"] == 0


def test_oversight_report_checks_nrm_referrals(db_url: str) -> None:
    # Wolverhampton 4.8: "an NRM audit ... to ensure all young people who need an NRM have one". C1's referral,
    # asked on 6 January, is still open at 1 March: outstanding, so not all is on record though the three are.
    build_dataset(db_url)
    with session_scope(db_url) as session:
        c1, c2, c3 = (session.scalar(select(Child).where(Child.ref == ref)) for ref in ("CH-1", "CH-2", "CH-3"))
        add_action(session, "NRM-1", c1, None, "nrm_referral", t("2025-01-06 10:00"), "open")
        add_action(session, "NRM-2", c2, None, "nrm_referral", t("2025-01-21 10:00"), "open")
        add_action(session, "NRM-3", c3, None, "nrm_referral", t("2025-01-03 10:00"), "not_required",
                   done_at=t("2025-01-04 10:00"))
    period = two_months_to(date(2025, 3, 1))
    records = records_at(db_url, period.end_instant)
    table = oversight_table(records, period)
    assert table[["child_ref", "nrm_referral", "all_on_record"]].values.tolist() == [
        ["CH-1", "Outstanding", "No"], ["CH-3", "Not referred, rationale recorded", "No"]]
    assert nrm_by_child(records) == {c1.id: "Outstanding", c2.id: "Outstanding",
                                     c3.id: "Not referred, rationale recorded"}


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


def test_cli_reports_without_a_prefect_server_never_import_prefect(sqlite_url: str, tmp_path: Path) -> None:
    """With no ``PREFECT_API_URL`` the report commands call their jobs: no temporary Prefect server is started
    (Prefect is not even imported), and they write the same files and print the same counts as their flows."""
    build_dataset(sqlite_url)
    board, oversight = tmp_path / "board", tmp_path / "oversight"
    probe = (
        "import sys; from typer.testing import CliRunner; from cli import app; "
        f"b = CliRunner().invoke(app, ['report', 'board', '--from', '2025-01-01', '--to', '2025-03-31', "
        f"'--out', {str(board)!r}]); assert b.exit_code == 0, b.output; "
        f"o = CliRunner().invoke(app, ['report', 'oversight', '--date', '2025-03-31', '--out', {str(oversight)!r}]); "
        "assert o.exit_code == 0, o.output; print(b.output + o.output); print('prefect' in sys.modules)"
    )
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["MISSING_EPISODES_DATABASE_URL"] = sqlite_url
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
    assert "pdf: " in done.stdout and "xlsx: " in done.stdout
    assert list(board.glob("*.pdf")) and list(board.glob("*.xlsx")) and list(oversight.glob("*.csv"))


def test_collection_year() -> None:
    assert collection_year(2025) == Period(date(2024, 4, 1), date(2025, 3, 31))


@pytest.mark.parametrize("bad", ["2025-13-01", "yesterday"])
def test_cli_rejects_bad_dates(bad: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli import app

    result = CliRunner().invoke(app, ["export", "annex-a", "--date", bad, "--out", str(tmp_path)])
    assert result.exit_code != 0
