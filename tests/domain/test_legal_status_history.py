"""Legal status is a history (issue 15, contradiction 3): returns and board figures judge each episode by the
status on the day it began, so a child who has since left care does not vanish from the year's figures.

Through the real ingest: the register says looked after, the police report an episode in June 2026, then the
register says care leaver from 1 December 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from missing_episodes.config import DATA_DIR, Settings
from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import Child, LegalStatusPeriod
from missing_episodes.jobs import Context
from missing_episodes.jobs.ingest import ingest_path
from missing_episodes.policy import load_policy
from missing_episodes.reports.figures import board_figures
from missing_episodes.reports.periods import collection_year
from missing_episodes.reports.records import load_records
from missing_episodes.reports.ssda903 import build_return
from tests.builders.feeds import message, write_csv

POLICY = load_policy(DATA_DIR / "policies" / "default.yaml")


def register(path, status: str, since: str = ""):
    return write_csv(path, [{"child_id": "P000900", "first_name": "Ada", "last_name": "Lane",
                             "date_of_birth": "2008-05-01", "legal_status": status, "legal_status_from": since,
                             "uasc": "no", "responsible_authority": "Kingsbridge"}])


def load(url, monkeypatch, tmp_path, *, change: tuple[str, str] | None) -> None:
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", url)
    context = Context(Settings(), POLICY)
    ingest_path("children", register(tmp_path / "r1.csv", "looked_after"), "register", context)
    police = write_csv(tmp_path / "n.csv", [
        message("N1", "2026-06-10T21:00:00", "missing", "KBP-2026-000900", child_id="P000900",
                last_seen_at="2026-06-10T19:00:00", risk_level="medium"),
        message("N2", "2026-06-11T09:00:00", "found", "KBP-2026-000900", found_at="2026-06-11T08:30:00"),
    ])
    ingest_path("notifications", police, "police", context)
    if change:
        ingest_path("children", register(tmp_path / "r2.csv", *change), "register", context)


def test_a_child_in_care_in_june_and_a_care_leaver_in_december_keeps_junes_episode_in_that_years_return(
        sqlite_url, monkeypatch, tmp_path):
    load(sqlite_url, monkeypatch, tmp_path, change=("care_leaver", "2026-12-01"))
    as_of = datetime(2027, 4, 2, 9, tzinfo=UTC)
    with session_scope(sqlite_url) as session:
        [child] = session.scalars(select(Child))
        periods = [(p.legal_status, p.effective_from) for p in
                   session.scalars(select(LegalStatusPeriod).order_by(LegalStatusPeriod.id))]
        records = load_records(session, as_of)
    assert child.legal_status == "care_leaver"  # the rules use today's status ...
    assert periods == [("looked_after", None), ("care_leaver", date(2026, 12, 1))]  # ... the history is kept
    missing = build_return(records, 2027).missing
    assert missing[["CHILD", "MISSING", "MIS_START", "MIS_END"]].values.tolist() == [
        ["P000900", "M", "10/06/2026", "11/06/2026"]]
    summary = board_figures(records, collection_year(2027)).summary
    assert summary.loc["missing_episodes", "children_in_care"] == 1


def test_an_episode_after_leaving_care_is_not_in_the_return(sqlite_url, monkeypatch, tmp_path):
    # Left care on 1 June 2026, before the June episode: judged by the status on its start date, it is not returned.
    load(sqlite_url, monkeypatch, tmp_path, change=("care_leaver", "2026-06-01"))
    with session_scope(sqlite_url) as session:
        records = load_records(session, datetime(2027, 4, 2, 9, tzinfo=UTC))
    assert build_return(records, 2027).missing.empty
    summary = board_figures(records, collection_year(2027)).summary
    assert summary.loc["missing_episodes", "children_in_care"] == 0
    assert summary.loc["missing_episodes", "all_children"] == 1


def test_a_register_row_naming_a_solicitor_reaches_the_rules(sqlite_url, monkeypatch, tmp_path):
    from missing_episodes import bulk

    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    context = Context(Settings(), POLICY)
    row = {"child_id": "P000901", "first_name": "Sami", "last_name": "Haile", "date_of_birth": "2010-02-01",
           "legal_status": "looked_after", "uasc": "yes", "immigration_solicitor": "Firm A, 020 7946 0000"}
    ingest_path("children", write_csv(tmp_path / "r.csv", [row]), "register", context)
    with session_scope(sqlite_url) as session:
        [facts] = bulk.child_facts(bulk.load_facts(session)).values()
    assert facts.uasc and facts.has_immigration_solicitor
