"""Document content from known data: the right children in the right sections, as a coordinator would read them.

Domain tests only (no Prefect). The data is ``tests/builders/documents.py``: a Monday briefing just after the
October clock change. PDF text is read back with ``pdftotext`` (poppler-utils), Word with python-docx.
"""

from __future__ import annotations

import gc
import re
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from docx import Document
from jinja2.exceptions import SecurityError, UndefinedError
from sqlalchemy import select
from sqlalchemy.orm import Session

from missing_episodes.clock import UTC
from missing_episodes.config import DATA_DIR
from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import Child, Episode, Outcome
from missing_episodes.documents import DocumentError
from missing_episodes.documents.briefing import BriefingPack, OverdueBacklog, build_briefing
from missing_episodes.documents.environment import docx_environment, html_environment
from missing_episodes.documents.forms import build_rhi_record, build_serious_notification, build_written_confirmation
from missing_episodes.documents.render import (
    render_briefing,
    render_html,
    render_rhi_record,
    render_serious_notification,
    render_weekly_list,
    render_written_confirmation,
    write_pdf,
)
from missing_episodes.documents.weekly import build_weekly_list
from missing_episodes.policy import Briefing, LeavingCare, Policy, PolicyError, load_policy, parse_policy
from tests.builders.documents import (
    AS_OF,
    BRIEFING_DAY,
    GREEK,
    HOSTILE_NAME,
    HOSTILE_PLACE,
    VIETNAMESE,
    _action,
    _episode,
    local,
    seed_briefing,
)
from tests.builders.plans import sqlite_plan, statements_sent

needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) missing")


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(DATA_DIR / "policies" / "default.yaml")


def _pack(url: str, policy: Policy) -> BriefingPack:
    with session_scope(url) as session:
        seed_briefing(session)
    with session_scope(url) as session:
        return build_briefing(session, BRIEFING_DAY, policy)


def pdf_pages(path: Path) -> list[str]:
    """Text of each page, whitespace collapsed (pdftotext separates pages with form feeds)."""
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True)
    return [re.sub(r"\s+", " ", page).strip() for page in text.stdout.split("\f") if page.strip()]


def docx_text(path: Path) -> list[str]:
    """Every paragraph's text: body, table cells, headers and footers."""
    document = Document(str(path))
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            texts.extend(cell.text for cell in row.cells)
    for section in document.sections:
        texts.extend(p.text for p in section.header.paragraphs)
        texts.extend(p.text for p in section.footer.paragraphs)
    return texts


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}">')
    return html[start : html.index("</section>", start)]


# -- the briefing's data -------------------------------------------------------------------------------------


def test_briefing_puts_each_child_in_the_right_sections(db_url: str, policy: Policy) -> None:
    pack = _pack(db_url, policy)
    assert pack.as_of == AS_OF
    assert pack.since == datetime(2026, 10, 23, 7, 30, tzinfo=UTC)  # Friday 08:30 BST: Monday looks back to Friday

    # Missing now: high risk first; hours are real hours across the clock change (naive wall clock says 36.5).
    assert [row.episode_ref for row in pack.missing_now] == ["EP-ZOE", "EP-TOM"]
    zoe = pack.missing_now[0]
    assert zoe.hours_missing == pytest.approx(37.5)
    assert zoe.child.name == HOSTILE_NAME and zoe.find_me.phone == "07700 900123" and zoe.find_me.gaps == []
    assert pack.missing_now[1].find_me.gaps == ["photograph", "contacts", "likely locations", "phone", "return address"]

    assert {row.episode_ref for row in pack.reported_since} == {"EP-ZOE", "EP-AN-4"}
    an = next(row for row in pack.reported_since if row.episode_ref == "EP-AN-4")
    assert not an.still_missing and an.found_at is not None

    rhi = {row.episode_ref: row for row in pack.rhi_due}
    assert set(rhi) == {"EP-SOFIA", "EP-AN-4"}
    assert rhi["EP-SOFIA"].status == "overdue" and rhi["EP-SOFIA"].hours_to_due == pytest.approx(-10.5)
    assert rhi["EP-SOFIA"].assigned_to == "Jo Reed" and rhi["EP-SOFIA"].child.allocated_worker == "Dana Kowalski"
    assert rhi["EP-AN-4"].status == "open"

    # The 72-hour meeting for Tom was held: only open and overdue actions are shown.
    assert {(row.episode_ref, row.rule) for row in pack.meetings_due} == {
        ("EP-AN-4", "strategy.four_in_28_days"),
        ("EP-ZOE", "strategy.missing_24h"),
    }
    assert [(row.episode_ref, row.status) for row in pack.notifications_due] == [("EP-TOM", "overdue")]

    repeat = {row.child.ref: row for row in pack.repeat}
    assert set(repeat) == {"CH-AN", "CH-AVA"}  # absent episodes are not counted; Leeds's child is not ours
    assert repeat["CH-AN"].episodes_28_days == 4
    assert repeat["CH-AN"].thresholds_met == ["Strategy meeting, missing four times within 28 days"]
    assert repeat["CH-AVA"].episodes_28_days == 3 and repeat["CH-AVA"].thresholds_met == []

    assert [(row.episode_ref, row.responsible_authority) for row in pack.other_authority] == [
        ("EP-LIAM", "Leeds City Council")
    ]
    ours = [*pack.missing_now, *pack.reported_since, *pack.rhi_due, *pack.meetings_due, *pack.notifications_due]
    assert all(row.child.ref not in ("CH-LIAM", "CH-OLD") for row in [*ours, *pack.repeat])
    assert pack.counts()["rhi_overdue"] == 1


def test_an_empty_day_renders_every_section_as_none(sqlite_url: str, policy: Policy, tmp_path: Path) -> None:
    with session_scope(sqlite_url) as session:
        pack = build_briefing(session, date(2026, 11, 2), policy)
    assert all(value == 0 for value in pack.counts().values())
    html = render_briefing(pack, tmp_path)[0].read_text(encoding="utf-8")
    assert "No child of ours is missing" in html and "No Return Home Interview is due." in html


def _seed_backlog(session: Session) -> None:
    """Overdue actions around the 28-day window before the briefing (Monday 28 September 08:30 BST)."""
    child = session.scalars(select(Child).where(Child.ref == "CH-AVA")).one()
    leeds = session.scalars(select(Child).where(Child.ref == "CH-LIAM")).one()
    rows = [  # episode, child, kind, due, extra
        ("EP-BL-2024", child, "return_home_interview", local(2024, 3, 1, 9), {}),
        ("EP-BL-SEP", child, "return_home_interview", local(2026, 9, 1, 9), {}),
        ("EP-BL-EDGE", child, "return_home_interview", local(2026, 9, 28, 8, 30), {}),  # on the edge: backlog
        ("EP-BL-OCT", child, "return_home_interview", local(2026, 10, 1, 9), {}),  # in the window: listed
        ("EP-BL-WITHDRAWN", child, "return_home_interview", local(2024, 1, 1, 9), {"status": "withdrawn"}),
        ("EP-BL-LEEDS", leeds, "return_home_interview", local(2024, 1, 1, 9), {}),
        # Closed only after the briefing: overdue as the pack stood that morning.
        ("EP-BL-LATE", child, "strategy_meeting", local(2025, 1, 1, 9),
         {"status": "done", "done_at": local(2026, 10, 27, 9)}),
        ("EP-BL-DONE", child, "strategy_meeting", local(2025, 6, 1, 9),
         {"status": "done", "done_at": local(2025, 6, 10, 9)}),
    ]
    for ref, owner, kind, due, extra in rows:
        episode = _episode(session, ref, owner, due - timedelta(days=4), found_at=due - timedelta(days=3),
                           other_authority=owner.ref == "CH-LIAM")
        _action(session, episode, f"rule.{ref.lower()}", kind, due - timedelta(days=3), due, **extra)


def test_overdue_actions_before_the_window_are_one_line_per_kind(db_url: str, policy: Policy) -> None:
    with session_scope(db_url) as session:
        seed_briefing(session)
        _seed_backlog(session)
    with session_scope(db_url) as session:
        pack = build_briefing(session, BRIEFING_DAY, policy)
        wider = build_briefing(session, BRIEFING_DAY, policy.model_copy(update={"briefing": Briefing(
            overdue_window_days=60)}))

    assert pack.overdue_since == local(2026, 9, 28, 8, 30)
    assert {row.episode_ref for row in pack.rhi_due} == {"EP-SOFIA", "EP-AN-4", "EP-BL-OCT"}
    assert pack.backlog == [
        OverdueBacklog("return_home_interview", 3, local(2024, 3, 1, 9)),  # not withdrawn, not Leeds's child
        OverdueBacklog("strategy_meeting", 1, local(2025, 1, 1, 9)),
    ]
    assert pack.counts()["overdue_backlog"] == 4
    assert pack.backlog_of("serious_notification") is None
    # The window is the policy's: 60 days lists September's interviews, and the backlog shrinks with it.
    assert {"EP-BL-SEP", "EP-BL-EDGE"} <= {row.episode_ref for row in wider.rhi_due}
    assert wider.backlog_of("return_home_interview") == OverdueBacklog("return_home_interview", 1,
                                                                       local(2024, 3, 1, 9))


def test_the_backlog_line_closes_its_section(sqlite_url: str, policy: Policy, tmp_path: Path) -> None:
    with session_scope(sqlite_url) as session:
        seed_briefing(session)
        _seed_backlog(session)
    with session_scope(sqlite_url) as session:
        html = render_briefing(build_briefing(session, BRIEFING_DAY, policy), tmp_path)[0].read_text(encoding="utf-8")
    line = "Also overdue, due before 28 Sep 2026 and not listed: {}</span> (oldest due {})"
    assert line.format(3, "01 Mar 2024") in _section(html, "rhi-due")
    assert line.format(1, "01 Jan 2025") in _section(html, "meetings-due")
    assert "Also overdue" not in _section(html, "notifications-due")
    assert "missing-episodes actions --open" in _section(html, "rhi-due")


# -- the briefing as rendered --------------------------------------------------------------------------------


@needs_pdftotext
def test_briefing_html_and_pdf_read_right(sqlite_url: str, policy: Policy, tmp_path: Path) -> None:
    pack = _pack(sqlite_url, policy)
    html_path, pdf_path = render_briefing(pack, tmp_path)
    assert (html_path.name, pdf_path.name) == ("briefing-2026-10-26.html", "briefing-2026-10-26.pdf")
    html = html_path.read_text(encoding="utf-8")

    missing = _section(html, "missing-now")
    assert "37 h 30 min" in missing and "4 d 23 h" in missing and "07700 900123" in missing
    assert "Find Me plan missing: photograph" in missing  # Tom's plan is empty
    rhi = _section(html, "rhi-due")
    sofia_row = rhi[rhi.index(GREEK) : rhi.index("</tr>", rhi.index(GREEK))]
    assert "OVERDUE by 10 h 30 min" in sofia_row and "Jo Reed" in sofia_row
    assert "due in 54 h 30 min" in rhi
    # The Leeds child is only in the forwarding section.
    assert html.count("Leeds-Placed") == 1 and "Leeds-Placed" in _section(html, "other-authority")
    assert "Olive" not in html

    pages = pdf_pages(pdf_path)
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert page.count("OFFICIAL-SENSITIVE") >= 2, f"page {number} lacks the marking in header and footer"
        assert f"Page {number} of {len(pages)}" in page
        assert "Daily missing briefing · Monday 26 October 2026" in page  # the running header, on every page
    assert "37 h 30 min" in pages[0]


def test_briefing_lists_are_fixed_layout_tables_with_one_row_per_item(sqlite_url: str, policy: Policy) -> None:
    """At a region's thousands of rows WeasyPrint's cost is per cell, line and inline box: the lists are
    fixed-layout tables (widths from one <colgroup>, summing to the page), one row per child or action, emphasis on
    the cell rather than inside it, and no flex or per-row float."""
    pack = _pack(sqlite_url, policy)
    html = render_html("briefing.html.j2", pack=pack)
    assert "table.list { table-layout: fixed; }" in html and "display: flex" not in html
    tables = re.findall(r'<table class="list"><colgroup>(.*?)</colgroup>(.*?)</table>', html, flags=re.S)
    assert len(tables) == 7  # every section of the seeded day has rows
    for colgroup, body in tables:
        assert sum(int(width) for width in re.findall(r"width:(\d+)%", colgroup)) == 100
        rows = re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], flags=re.S)
        assert rows and all("float" not in row and '<span class="risk' not in row for row in rows)
    missing = _section(html, "missing-now")
    rows = re.findall(r"<tr>(.*?)</tr>", missing, flags=re.S)
    assert len(rows) == 1 + len(pack.missing_now)  # the header row and one row per child
    zoe = next(row for row in rows if "EP-ZOE" in row)
    assert "EP-ZOE</span></td>" in zoe and '<td class="risk risk-high">high</td>' in zoe  # episode on the ref line


def test_write_pdf_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path) -> None:
    """The cyclic collector is paused while WeasyPrint lays out, and left enabled or disabled as before."""
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            assert write_pdf("<p>Hello</p>", tmp_path / "hello.pdf").stat().st_size > 0
            assert gc.isenabled() is enabled
    finally:
        gc.enable()


# -- escaping through every document -------------------------------------------------------------------------


def test_the_weekly_list_finds_its_interviews_by_episode(sqlite_url: str, policy: Policy) -> None:
    """By the episode index, not the kind index: SQLite, without statistics, took the index on (kind, status,
    worker) for ``kind = 'return_home_interview'`` and read every interview of the history (``store.unindexed``)."""
    with session_scope(sqlite_url) as session:
        seed_briefing(session)
    with statements_sent(sqlite_url, lambda statement, parameters: "return_home_interview" in str(parameters)
                         and "action.episode_id IN" in statement) as sent, session_scope(sqlite_url) as session:
        assert build_weekly_list(session, date(2026, 10, 25), policy).rows
    assert len(sent) == 1
    plan = sqlite_plan(sqlite_url, *sent[0])
    assert "ix_action_episode_id" in plan and "ix_action_assigned" not in plan, plan


@needs_pdftotext
def test_hostile_and_non_latin_text_survives_every_document(sqlite_url: str, policy: Policy, tmp_path: Path) -> None:
    pack = _pack(sqlite_url, policy)
    with session_scope(sqlite_url) as session:
        serious = build_serious_notification(session, "EP-ZOE", policy, rule_id="serious.media_interest", as_of=AS_OF)
        rhi = build_rhi_record(session, "EP-ZOE", policy, as_of=AS_OF)
        weekly = build_weekly_list(session, date(2026, 10, 25), policy)
        letter = build_written_confirmation(session, "CH-LEAVER", policy, on=BRIEFING_DAY)
    documents = {
        "briefing": (render_briefing(pack, tmp_path), [HOSTILE_NAME, GREEK, VIETNAMESE, HOSTILE_PLACE]),
        "serious": (
            render_serious_notification(serious, tmp_path),
            [HOSTILE_NAME, HOSTILE_PLACE, "Aunt Mary & Uncle Joe"],
        ),
        "rhi": (render_rhi_record(rhi, tmp_path), [HOSTILE_NAME]),
        "weekly": (render_weekly_list(weekly, tmp_path), [HOSTILE_NAME, GREEK, VIETNAMESE]),
        "letter": (render_written_confirmation(letter, tmp_path), ["Σοφία O'Brien & <Nguyễn>", "Flat 2 & 3"]),
    }
    for name, (paths, expected) in documents.items():
        by_suffix = {path.suffix: path for path in paths}
        html = by_suffix[".html"].read_text(encoding="utf-8")
        assert "<script>alert" not in html and "<b>car park" not in html and "<Nguyễn>" not in html, name
        pdf = " ".join(pdf_pages(by_suffix[".pdf"]))
        for text in expected:
            escaped = text.replace("&", "&amp;").replace("<", "&lt;")
            assert escaped == text or escaped not in pdf, f"{name}: PDF shows escaped text"
            assert text in pdf, f"{name}: PDF lost {text!r}"
        if ".docx" in by_suffix:
            words = "\n".join(docx_text(by_suffix[".docx"]))
            for text in expected:
                assert text in words, f"{name}: Word file lost {text!r}"
    html = documents["briefing"][0][0].read_text(encoding="utf-8")
    assert "O&#39;Brien &amp; &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;Stand 4&#34; &amp; &lt;b&gt;car park&lt;/b&gt;" in html


def test_environments_are_sandboxed_strict_and_escaping() -> None:
    env = html_environment()
    assert env.get_template("base.html.j2").environment.autoescape  # type: ignore[truthy-function]
    assert "&lt;script&gt;" in env.from_string("{{ x }}").render(x="<script>")
    with pytest.raises(UndefinedError):
        env.from_string("{{ missing_field }}").render()
    with pytest.raises(SecurityError):
        env.from_string("{{ x.__class__.__mro__[1].__subclasses__() }}").render(x="")
    assert docx_environment().from_string("{{ x }}").render(x="A & <B>") == "A &amp; &lt;B&gt;"


# -- forms ---------------------------------------------------------------------------------------------------


def test_serious_notification_is_addressed_as_the_rule_says(sqlite_url: str, policy: Policy, tmp_path: Path) -> None:
    with session_scope(sqlite_url) as session:
        seed_briefing(session)
    with session_scope(sqlite_url) as session:
        tom = build_serious_notification(session, "EP-TOM", policy, as_of=AS_OF)  # the rule raised on the episode
        media = build_serious_notification(session, "EP-ZOE", policy, rule_id="serious.media_interest", as_of=AS_OF)
        with pytest.raises(DocumentError) as caught:
            build_serious_notification(session, "EP-AVA-1", policy, as_of=AS_OF)
    assert tom.rule_id == "serious.missing_72h" and tom.key == "serious_notification:EP-TOM:serious.missing_72h"
    assert tom.recipients == ["Relevant Heads of Service", "Service Director", "Director of Children's Services"]
    assert tom.hours_missing == pytest.approx(119.5) and tom.still_missing
    assert media.recipients[0] == "Service Director" and "Safeguarding Partnership Manager" in media.recipients
    assert [c.who for c in media.contacts] == ["Aunt Mary <mary@example.org>"]
    assert str(caught.value) == "EP-AVA-1: no serious notification is due"  # a ref, never a name

    paths = render_serious_notification(tom, tmp_path)
    assert [p.suffix for p in paths] == [".html", ".pdf", ".docx"]
    words = docx_text(paths[2])
    assert "Relevant Heads of Service; Service Director; Director of Children's Services" in words
    assert any("4 d 23 h since last seen" in text for text in words)
    assert any(text.startswith("OFFICIAL-SENSITIVE") for text in words)  # the Word footer


def test_serious_notification_says_when_police_were_contacted_apart_from_when_police_told_us(
        sqlite_url: str, policy: Policy, tmp_path: Path) -> None:
    # Lilac Alliance's incident record asks for the "time police contacted": not the time the police's message
    # reached the council (``reported_at``, 12:00 for Tom). Not recorded is said so, never filled in.
    with session_scope(sqlite_url) as session:
        seed_briefing(session)
    with session_scope(sqlite_url) as session:
        before = build_serious_notification(session, "EP-TOM", policy, as_of=AS_OF)
        episode = session.scalar(select(Episode).where(Episode.ref == "EP-TOM"))
        session.add(Outcome(source="coordinator", event_id="PC-1", child_id=episode.child_id,
                            incident_ref=episode.incident_ref, event="police_contacted",
                            recorded_at=local(2026, 10, 21, 11, 5)))
    with session_scope(sqlite_url) as session:
        after = build_serious_notification(session, "EP-TOM", policy, as_of=AS_OF)
    assert before.episode.police_contacted_at is None
    assert after.episode.police_contacted_at == local(2026, 10, 21, 11, 5)
    assert after.episode.reported_at == local(2026, 10, 21, 12)
    html = render_serious_notification(before, tmp_path / "before")[0].read_text(encoding="utf-8")
    assert "<th>Police contacted</th><td>not recorded</td>" in html
    words = docx_text(render_serious_notification(after, tmp_path / "after")[2])
    assert any("21 Oct 2026 11:05" in text for text in words) or any("11:05" in text for text in words)


def test_weekly_list_has_everyone_missing_in_the_week(db_url: str, policy: Policy) -> None:
    with session_scope(db_url) as session:
        seed_briefing(session)
    with session_scope(db_url) as session:
        weekly = build_weekly_list(session, date(2026, 10, 25), policy)  # Mon 19 - Sun 25 October
    rows = {row.episode_ref: row for row in weekly.rows}
    assert set(rows) == {"EP-ZOE", "EP-AN-4", "EP-TOM", "EP-SOFIA"}  # absent and earlier episodes are not
    assert rows["EP-ZOE"].still_missing and rows["EP-SOFIA"].rhi_status == "overdue"
    assert rows["EP-AN-4"].hours_missing == pytest.approx(24.0)  # 16:00 BST to 15:00 GMT is 24 real hours
    assert {row.episode_ref for row in weekly.other_authority} == {"EP-LIAM", "EP-LIAM-3"}
    assert weekly.counts() == {"episodes": 4, "children": 4, "still_missing": 2, "other_authority": 2}


def test_rhi_record_and_letter(sqlite_url: str, policy: Policy, tmp_path: Path) -> None:
    with session_scope(sqlite_url) as session:
        seed_briefing(session)
    with session_scope(sqlite_url) as session:
        record = build_rhi_record(session, "EP-AN-4", policy, as_of=AS_OF)
        letter = build_written_confirmation(session, "CH-LEAVER", policy, on=BRIEFING_DAY)
        with pytest.raises(DocumentError, match="CH-ZOE: written confirmation is for care leavers only"):
            build_written_confirmation(session, "CH-ZOE", policy)
    assert record.previous_episodes == 3 and record.assigned_to == "Jo Reed"
    assert letter.support_until == date(2031, 2, 28)
    words = "\n".join(docx_text(render_rhi_record(record, tmp_path)[2]))
    for heading in (
        "Why the child went missing",
        "The young person's views, in their own words",
        "If the interview was declined",
    ):
        assert heading in words
    letter_words = "\n".join(docx_text(render_written_confirmation(letter, tmp_path)[2]))
    assert "until your 25th birthday on 28 February 2031" in letter_words


@needs_pdftotext
def test_the_letter_says_how_to_come_back_from_the_policy_and_shows_no_internal_ref(
    sqlite_url: str, policy: Policy, tmp_path: Path
) -> None:
    """The duty line and the Personal Advisor's own contact come from the policy's ``leaving_care``; the young
    person never sees the CH- ref (it is only in the file name)."""
    listed = policy.model_copy(update={"leaving_care": LeavingCare.model_validate({
        "duty_line": {"phone": "01632 960 100", "email": "leaving.care@kingsbridge.example"},
        "personal_advisors": [{"name": "Chris Ng (PA)", "phone": "01632 960 141"}],
    })})
    with session_scope(sqlite_url) as session:
        seed_briefing(session)
    with session_scope(sqlite_url) as session:
        letter = build_written_confirmation(session, "CH-LEAVER", listed, on=BRIEFING_DAY)
        unlisted = build_written_confirmation(session, "CH-LEAVER", listed.model_copy(update={
            "leaving_care": LeavingCare.model_validate({"duty_line": {"phone": "01632 960 100"}})}), on=BRIEFING_DAY)
        without = listed.model_copy(update={"leaving_care": LeavingCare()})
        with pytest.raises(DocumentError, match=r"CH-LEAVER: the policy gives no leaving_care\.duty_line"):
            build_written_confirmation(session, "CH-LEAVER", without, on=BRIEFING_DAY)
    html_path, pdf_path, docx_path = render_written_confirmation(letter, tmp_path / "listed")
    sentence = ("To ask for support, contact your Personal Advisor, Chris Ng (PA), on 01632 960 141, or the Leaving "
                "Care Service duty line on 01632 960 100 or at leaving.care@kingsbridge.example.")
    texts = {
        "html": re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html_path.read_text(encoding="utf-8"))),
        "pdf": " ".join(pdf_pages(pdf_path)),
        "docx": " ".join(docx_text(docx_path)),
    }
    for kind, text in texts.items():
        assert sentence in text, f"{kind}: {text[-600:]}"
        assert "CH-" not in text, f"{kind} shows the internal ref"
    assert "CH-LEAVER" in html_path.name  # filed under the ref
    html = render_written_confirmation(unlisted, tmp_path / "unlisted")[0].read_text(encoding="utf-8")
    assert ("your Personal Advisor, Chris Ng (PA), through the\nLeaving Care Service duty line on 01632 960 100."
            in html)


@pytest.mark.parametrize(
    ("leaving_care", "problem"),
    [
        ({"duty_line": {"phone": "call us"}}, "leaving_care.duty_line.phone: String should match pattern"),
        ({"duty_line": {}}, "give a phone number, an e-mail address or both"),
        ({"duty_line": {"email": "not an address"}}, "leaving_care.duty_line.email: String should match pattern"),
        ({"personal_advisors": [{"name": "Jo", "phone": "01632 960 141"}, {"name": "jo", "email": "j@k.example"}]},
         "personal_advisors lists jo more than once"),
        ({"duty_line": {"phone": "01632 960 100"}, "extra": 1}, "leaving_care.extra: Extra inputs are not permitted"),
    ],
)
def test_leaving_care_contacts_are_validated(leaving_care: dict[str, object], problem: str) -> None:
    data = yaml.safe_load((DATA_DIR / "policies" / "default.yaml").read_text(encoding="utf-8"))
    data["leaving_care"] = leaving_care
    with pytest.raises(PolicyError, match=re.escape(problem)):
        parse_policy(data, "authority.yaml")


def test_documents_cli_module_does_not_import_prefect() -> None:
    probe = "import sys, cli.documents; print('prefect' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
