"""The page every document is printed on: A4 Word files, the marking on every PDF page and every workbook, one
font from body to footer, no table row split across pages, references kept whole, and hostile names (Chinese,
emoji, a right-to-left override, 5,004 characters) shown as text that stays on the page (issues 18 and 16.19).

Layout is checked on WeasyPrint's own boxes (``HTML.render()``), PDF text with ``pdftotext`` and fonts with
``pdffonts`` (poppler-utils), Word files with python-docx, workbooks with openpyxl.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy.orm import Session
from weasyprint import HTML
from weasyprint.document import Document as WeasyDocument
from weasyprint.formatting_structure import boxes

from missing_episodes.config import DATA_DIR
from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import Child, Episode
from missing_episodes.documents.briefing import build_briefing
from missing_episodes.documents.display import BIDI_CONTROLS, MAX_DISPLAY_CHARS
from missing_episodes.documents.environment import DOCUMENT_TEMPLATES
from missing_episodes.documents.forms import build_rhi_record, build_serious_notification, build_written_confirmation
from missing_episodes.documents.render import (
    render_briefing,
    render_html,
    render_rhi_record,
    render_serious_notification,
    render_weekly_list,
    render_written_confirmation,
)
from missing_episodes.documents.weekly import build_weekly_list
from missing_episodes.policy import Policy, load_policy
from missing_episodes.reports.board import board_report, render_board_html, write_board_report
from missing_episodes.reports.oversight import produce_oversight_report
from missing_episodes.reports.periods import Period
from missing_episodes.reports.spreadsheets import MARKING
from tests.builders.documents import AS_OF, BRIEFING_DAY, _episode, local, seed_briefing
from tests.builders.reports import AS_OF as REPORT_AS_OF
from tests.builders.reports import build_dataset

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdffonts") is None, reason="poppler-utils missing"
)
JAN_TO_MAR = Period(date(2025, 1, 1), date(2025, 3, 31))

CJK = "王小明"
EMOJI = "🌈"
RLO_NAME = "Ali\u202eyelcraH\u202c"  # a right-to-left override would show "Harcley" reversed, and the rest
LONG_NAME = "A" * 5004  # one word: nothing to wrap at


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(DATA_DIR / "policies" / "default.yaml")


def pdf_pages(path: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True)
    return [re.sub(r"\s+", " ", page).strip() for page in text.stdout.split("\f") if page.strip()]


def pdf_fonts(path: Path) -> str:
    return subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout


def _walk(box: boxes.Box) -> Iterator[boxes.Box]:
    yield box
    for child in getattr(box, "children", []):
        yield from _walk(child)


def _rendered(html: str) -> WeasyDocument:
    return HTML(string=html, base_url=str(DOCUMENT_TEMPLATES)).render()


def split_rows(html: str) -> list[str]:
    """Text of each body row of a table that has boxes on more than one page (a head repeated is not a split)."""
    pages_of: dict[int, set[int]] = {}
    text_of: dict[int, str] = {}
    for number, page in enumerate(_rendered(html).pages):
        for group in _walk(page._page_box):
            if isinstance(group, boxes.TableRowGroupBox) and not group.is_header:
                for row in group.children:
                    key = id(row.element)
                    pages_of.setdefault(key, set()).add(number)
                    text_of[key] = "".join(b.text for b in _walk(row) if isinstance(b, boxes.TextBox))[:60]
    return [text_of[key] for key, pages in pages_of.items() if len(pages) > 1]


# -- Word: A4 ------------------------------------------------------------------------------------------------


def test_every_word_file_is_a4_with_the_pdf_margins(sqlite_url: str, policy: Policy, tmp_path: Path) -> None:
    with session_scope(sqlite_url) as session:
        seed_briefing(session)
    with session_scope(sqlite_url) as session:
        files = [
            *render_serious_notification(build_serious_notification(session, "EP-TOM", policy, as_of=AS_OF), tmp_path),
            *render_rhi_record(build_rhi_record(session, "EP-AN-4", policy, as_of=AS_OF), tmp_path),
            *render_written_confirmation(build_written_confirmation(session, "CH-LEAVER", policy, on=BRIEFING_DAY),
                                         tmp_path),
        ]
    words = [path for path in files if path.suffix == ".docx"]
    assert len(words) == 3  # the serious notification, the RHI record and the letter
    for path in words:
        for section in Document(str(path)).sections:
            assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297), path.name
            margins = (section.top_margin, section.right_margin, section.bottom_margin, section.left_margin)
            assert [round(margin.mm) for margin in margins] == [20, 14, 16, 14], path.name  # page.css's


# -- the marking on every PDF page and in every workbook -----------------------------------------------------


@needs_poppler
def test_every_pdf_kind_is_marked_on_every_page(sqlite_url: str, policy: Policy, tmp_path: Path) -> None:
    with session_scope(sqlite_url) as session:
        seed_briefing(session)
    with session_scope(sqlite_url) as session:
        files = [
            *render_briefing(build_briefing(session, BRIEFING_DAY, policy), tmp_path),
            *render_serious_notification(build_serious_notification(session, "EP-TOM", policy, as_of=AS_OF), tmp_path),
            *render_rhi_record(build_rhi_record(session, "EP-AN-4", policy, as_of=AS_OF), tmp_path),
            *render_weekly_list(build_weekly_list(session, date(2026, 10, 25), policy), tmp_path),
            *render_written_confirmation(build_written_confirmation(session, "CH-LEAVER", policy, on=BRIEFING_DAY),
                                         tmp_path),
        ]
    pdfs = [path for path in files if path.suffix == ".pdf"]
    assert len(pdfs) == 5
    for path in pdfs:
        pages = pdf_pages(path)
        assert pages, path.name
        for number, page in enumerate(pages, start=1):
            assert page.count(MARKING) >= 2, f"{path.name} page {number}: no marking in header and footer"


@needs_poppler
def test_reports_are_marked_in_the_pdf_and_every_sheet(sqlite_url: str, tmp_path: Path) -> None:
    build_dataset(sqlite_url)
    board = write_board_report(board_report(sqlite_url, JAN_TO_MAR, REPORT_AS_OF), tmp_path / "board")
    for number, page in enumerate(pdf_pages(board.paths["pdf"]), start=1):
        assert page.count(MARKING) >= 2, f"board page {number}"
    oversight = produce_oversight_report(sqlite_url, date(2025, 3, 1), tmp_path / "oversight")
    for path in (board.paths["xlsx"], oversight.paths["xlsx"]):
        workbook = load_workbook(path)
        assert workbook.properties.category == MARKING, path.name
        for ws in workbook.worksheets:
            assert ws["A1"].value == MARKING, f"{path.name}!{ws.title}: no marking in the first row"
            assert MARKING in ws.oddHeader.right.text and MARKING in ws.oddFooter.left.text, f"{path.name}!{ws.title}"


# -- the board paper's page ----------------------------------------------------------------------------------


def test_board_rows_are_never_split_across_pages(sqlite_url: str) -> None:
    """Many comparator rows (each with its source text) cross page breaks; none is cut in two. The same paper with
    the rule switched off does split a row, so the check can see one."""
    build_dataset(sqlite_url)
    report = board_report(sqlite_url, JAN_TO_MAR, REPORT_AS_OF)
    many = report.comparators.loc[report.comparators.index.repeat(8)].reset_index(drop=True)
    html = render_board_html(type(report)(report.figures, many, report.as_of), b"png")
    assert "tr { break-inside: avoid; }" in html
    assert split_rows(html) == []
    unruled = html.replace("tr { break-inside: avoid; }", "tr { break-inside: auto; }")
    assert split_rows(unruled), "the check found no split row even without the rule"


def test_board_footer_and_header_are_in_the_body_font(sqlite_url: str) -> None:
    build_dataset(sqlite_url)
    document = _rendered(render_board_html(board_report(sqlite_url, JAN_TO_MAR, REPORT_AS_OF), b"png"))
    body = next(box for box in _walk(document.pages[0]._page_box) if box.element_tag == "td")
    margins = [box for box in document.pages[0]._page_box.children if isinstance(box, boxes.MarginBox)]
    assert {box.at_keyword for box in margins} >= {"@top-right", "@bottom-left", "@bottom-right"}
    for box in margins:
        assert box.style["font_family"] == body.style["font_family"], box.at_keyword
    assert body.style["font_family"][0] == "DejaVu Sans"


def test_board_numbers_follow_one_rule(sqlite_url: str) -> None:
    """Counts whole, rates (per child, per month) and percentages to one decimal: 2.0 per child (4 episodes, 2
    children in care) beside England's 6.8, never "2"; 2.3 for all children (7 episodes, 3 children)."""
    build_dataset(sqlite_url)
    html = render_board_html(board_report(sqlite_url, JAN_TO_MAR, REPORT_AS_OF), b"png")
    per_child = re.search(r"Average missing episodes per child who went missing</td>(.*?)</tr>", html, re.S)
    assert per_child and re.findall(r'class="n">([^<]*)<', per_child.group(1)) == ["2.0", "2.3"]
    comparator = re.search(r"<td>Missing incidents on average per looked-after child.*?</td>(.*?)</tr>", html, re.S)
    assert comparator and re.findall(r'class="n">([^<]*)<', comparator.group(1)) == ["6.8", "2.0"]
    assert "86,900" in html  # a national count stays a whole number
    assert re.findall(r'class="n">(\d+\.\d)%<', html)  # percentages to one decimal


# -- references whole ---------------------------------------------------------------------------------------


def test_weekly_list_episode_refs_never_wrap(sqlite_url: str, policy: Policy) -> None:
    with session_scope(sqlite_url) as session:
        seed_briefing(session)
        child = session.query(Child).filter(Child.ref == "CH-AVA").one()
        _episode(session, "EP-005DFDB4DCCC", child, local(2026, 10, 20, 19), found_at=local(2026, 10, 21, 9))
    with session_scope(sqlite_url) as session:
        weekly = build_weekly_list(session, date(2026, 10, 25), policy)
    html = render_html("weekly_list.html.j2", weekly=weekly)
    assert '<td class="ref nowrap">EP-005DFDB4DCCC</td>' in html
    cells = [box for page in _rendered(html).pages for box in _walk(page._page_box)
             if isinstance(box, boxes.TableCellBox) and "nowrap" in (box.element.get("class") or "")]
    assert len(cells) == len(weekly.rows) + len(weekly.other_authority)
    for cell in cells:
        lines = [box for box in _walk(cell) if isinstance(box, boxes.LineBox)]
        assert len(lines) == 1, f"{cell.element.text} wraps over {len(lines)} lines"


# -- hostile names: CJK, emoji, bidi controls, 5,004 characters ----------------------------------------------


def _hostile_children(session: Session) -> None:
    """Three children missing now, one per kind of hostile name, on the 26 October 2026 briefing."""
    names = {"CH-CJK": (CJK, f"Lee {EMOJI}"), "CH-RLO": (RLO_NAME, "Smith"), "CH-LONG": (LONG_NAME, "Jones")}
    for number, (ref, (first, last)) in enumerate(names.items()):
        child = Child(ref=ref, first_name=first, last_name=last, date_of_birth=date(2011, 1, 1),
                      legal_status="looked_after", placement=f"{CJK} House \u2067{EMOJI}\u2069")
        session.add(child)
        session.flush()
        started = AS_OF - timedelta(hours=30 + number)
        session.add(Episode(ref=f"EP-{ref[3:]}", child_id=child.id, source="police", incident_ref=f"WYP-{number}",
                            kind="missing", status="open", started_at=started, last_seen_at=started,
                            reported_at=started, risk_level="high", state_hash="x",
                            last_seen_location="Market \u202eteertS\u202c " + "B" * 3000))


@needs_poppler
def test_hostile_names_print_as_text_that_stays_on_the_page(sqlite_url: str, policy: Policy,
                                                           tmp_path: Path) -> None:
    with session_scope(sqlite_url) as session:
        _hostile_children(session)
    with session_scope(sqlite_url) as session:
        pack = build_briefing(session, BRIEFING_DAY, policy)
        serious = build_serious_notification(session, "EP-LONG", policy, rule_id="serious.media_interest", as_of=AS_OF)
    assert {row.child.ref for row in pack.missing_now} == {"CH-CJK", "CH-RLO", "CH-LONG"}
    files = [*render_briefing(pack, tmp_path), *render_serious_notification(serious, tmp_path)]
    for path in files:
        if path.suffix == ".html":
            html = path.read_text(encoding="utf-8")
            assert not BIDI_CONTROLS.search(html), f"{path.name} keeps a bidi control"
            assert "A" * MAX_DISPLAY_CHARS not in html
            assert "A" * (MAX_DISPLAY_CHARS - 1) + "…" in html, f"{path.name}: the long name is not cut"
            assert "B" * 1000 not in html
        if path.suffix == ".docx":
            text = "\n".join(p.text for table in Document(str(path)).tables for row in table.rows
                             for p in row.cells[-1].paragraphs)
            assert not BIDI_CONTROLS.search(text) and "A" * 600 not in text and "…" in text
    briefing_pdf = next(path for path in files if path.name.startswith("briefing") and path.suffix == ".pdf")
    text = " ".join(pdf_pages(briefing_pdf))
    assert CJK in text and "AliyelcraH" in text  # the letters as stored, in their own order
    fonts = pdf_fonts(briefing_pdf)
    assert "Noto-Sans-CJK" in fonts, "Chinese fell back to no font (empty boxes)"
    assert "Emoji" in fonts, "the emoji fell back to no font"
    # Nothing runs off the page: every box on every page lies within the page's width.
    for page in _rendered(render_html("briefing.html.j2", pack=pack)).pages:
        for box in _walk(page._page_box):
            if isinstance(box, boxes.TextBox):
                assert box.position_x + box.width <= page.width + 0.5, f"text runs off the page: {box.text[:30]}"
