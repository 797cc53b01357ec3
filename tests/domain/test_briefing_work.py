"""The briefing shows all the work (issue 17): every kind of action the policy has, when open, in the section of
its protocol; clocks that fire before the next briefing with their time ("fires at 21:40 today"); the MASH flag in
every section; margins when the HTML is read in a browser.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from missing_episodes.config import DATA_DIR
from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import Child
from missing_episodes.documents.briefing import build_briefing, protocol_of
from missing_episodes.documents.render import render_briefing, render_html
from missing_episodes.jobs._shared import ingest_records
from missing_episodes.jobs.rules import review_next_batch
from missing_episodes.policy import Rule, load_policy
from missing_episodes.sources import RawRow
from tests.builders.documents import AS_OF, BRIEFING_DAY, _action, _episode, local, seed_briefing

POLICY = load_policy(DATA_DIR / "policies" / "default.yaml")
KINDS = sorted({rule.action for rule in POLICY.rules})
#: Where each rule's work is listed: the first protocol's own sections, else its protocol's table.
OWN = {"return_home_interview": "rhi-due", "strategy_meeting": "meetings-due",
       "serious_notification": "notifications-due"}
PROTOCOL_SECTION = {"home_or_care": "other-work", "care_leavers": "care-leavers", "long_term": "long-term-missing"}


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}">')
    return html[start: html.index("</section>", start)]


def _section_of(rule: Rule) -> str:
    protocol = protocol_of(rule)
    return OWN[rule.action] if protocol == "home_or_care" and rule.action in OWN else PROTOCOL_SECTION[protocol]


def _seed_kind(session: Session, kind: str) -> list[tuple[Rule, str]]:
    """One child not known to us (MASH to screen) with an open action of every rule of ``kind``."""
    child = Child(ref="CH-KIND", first_name="Kay", last_name="Test", date_of_birth=date(2011, 3, 14),
                  legal_status="looked_after", needs_mash_screening=True)
    session.add(child)
    session.flush()
    placed = []
    for number, rule in enumerate(r for r in POLICY.rules if r.action == kind):
        episode = _episode(session, f"EP-K{number:02d}", child, local(2026, 10, 20, 10))
        _action(session, episode, rule.id, kind, AS_OF - timedelta(hours=2), AS_OF + timedelta(hours=5),
                actor=rule.actor)
        placed.append((rule, episode.ref))
    return placed


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_open_action_is_in_its_protocols_section(sqlite_url: str, kind: str) -> None:
    with session_scope(sqlite_url) as session:
        placed = _seed_kind(session, kind)
    with session_scope(sqlite_url) as session:
        pack = build_briefing(session, BRIEFING_DAY, POLICY)
    html = render_html("briefing.html.j2", pack=pack)
    assert placed
    for rule, episode_ref in placed:
        section = _section(html, _section_of(rule))
        assert episode_ref in section, (rule.id, _section_of(rule))
        if rule.action != "return_home_interview":  # the RHI table shows the interviewer, not the rule's title
            assert escape(rule.title) in section
        assert "Not known: MASH to screen" in section
    assert sum(len(items) for items in pack.other_work.values()) + len(pack.rhi_due) + len(pack.meetings_due) + len(
        pack.notifications_due) == len(placed)


def test_a_clock_firing_later_today_is_on_the_morning_pack(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A high-risk child last seen at 21:40 on Sunday reaches 24 hours at 21:40 on Monday: Monday's pack says so."""
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MISSING_EPISODES_NOW", "2026-11-02T08:30:00")
    ingest_records("children", [RawRow("register", 1, {
        "child_id": "P000701", "first_name": "Rhys", "last_name": "Test", "date_of_birth": "2010-02-03",
        "legal_status": "looked_after", "responsible_authority": "Kingsbridge"})], "register")
    ingest_records("notifications", [RawRow("police", 1, {
        "notification_id": "M-1", "sent_at": "2026-11-01T22:10:00", "event": "missing",
        "incident_ref": "KBP-2026-000701", "child_id": "P000701", "last_seen_at": "2026-11-01T21:40:00",
        "risk_level": "high", "responsible_authority": "Kingsbridge"})], "police")
    review_next_batch(100)
    with session_scope(sqlite_url) as session:
        pack = build_briefing(session, date(2026, 11, 2), POLICY)
    html = render_html("briefing.html.j2", pack=pack)
    meetings = _section(html, "meetings-due")
    later = [row for row in pack.meetings_due if row.fires_at is not None]
    assert [row.rule for row in later] == ["strategy.missing_24h"]
    assert "Strategy meeting, missing 24 hours" in meetings and "fires at 21:40 today" in meetings
    assert pack.counts()["firing_later"] >= 1 and pack.counts()["meetings_due"] == 1  # the high-risk one has fired
    assert "No strategy meeting is due" not in meetings


def test_the_html_has_margins_in_a_browser(sqlite_url: str) -> None:
    with session_scope(sqlite_url) as session:
        pack = build_briefing(session, date(2026, 11, 2), POLICY)
    html = render_html("briefing.html.j2", pack=pack)
    assert "@media screen" in html and "margin: 12mm auto" in html


def _pdf_pages(path: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True)
    return [re.sub(r"\s+", " ", page).strip() for page in text.stdout.split("\f") if page.strip()]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) missing")
def test_the_pack_does_not_end_on_a_near_empty_page(sqlite_url: str, tmp_path: Path) -> None:
    """The short closing sections travel together: the last page is never only the tail of the last one.

    The seeded day grows by two interview rows at a time, so the page break sweeps across the closing sections.
    """
    with session_scope(sqlite_url) as session:
        seed_briefing(session)
    for step in range(12):
        with session_scope(sqlite_url) as session:
            child = session.scalars(select(Child).where(Child.ref == "CH-AVA")).one()
            for extra in range(2):
                episode = _episode(session, f"EP-FILL-{step}-{extra}", child, local(2026, 10, 10, 10),
                                   found_at=local(2026, 10, 24, 10))
                _action(session, episode, "rhi.within_72h_of_return", "return_home_interview",
                        local(2026, 10, 24, 10), local(2026, 10, 27, 10))
        with session_scope(sqlite_url) as session:
            pack = build_briefing(session, BRIEFING_DAY, POLICY)
        pdf = next(path for path in render_briefing(pack, tmp_path / str(step)) if path.suffix == ".pdf")
        last = _pdf_pages(pdf)[-1]
        assert "9. Repeat missing" in last and "10. Placed here by other authorities" in last, step
        assert "Leeds City Council" in last
