"""Issue 15's contradictions, checked on the bundled sample through the real ingest and a recompute.

Surrey's review schedule is for unaccompanied asylum-seeking children and former-UASC care leavers. In the sample
P000146 and P000147 are care leavers who were never UASC: before the fix they were sent Home Office and NRM actions.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from missing_episodes import actions
from missing_episodes.config import DATA_DIR, Settings
from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import Action, Child
from missing_episodes.jobs import Context
from missing_episodes.jobs.ingest import ingest_path
from missing_episodes.policy import load_policy

POLICY = load_policy(DATA_DIR / "policies" / "default.yaml")
AS_OF = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)


def test_no_home_office_nrm_or_surrey_action_for_a_care_leaver_who_was_never_uasc(sqlite_url, monkeypatch):
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    context = Context(Settings(), POLICY)
    for kind, source in (("children", "register"), ("notifications", "police"), ("outcomes", "case-management")):
        ingest_path(kind, DATA_DIR / "sample" / f"{kind}.csv", source, context)
    with session_scope(sqlite_url) as session:
        ids = list(session.scalars(select(Child.id)))
        actions.recompute_children(session, ids, POLICY, now=AS_OF, roster_path=DATA_DIR / "roster.csv",
                                   actor="test", audit_each=False, evaluator=actions.PER_CHILD)
        rows = session.execute(select(Child.person_id, Child.legal_status, Child.uasc, Action.rule_id, Action.kind)
                               .join(Action, Action.child_id == Child.id)).all()
    leavers = {row.person_id for row in rows if row.legal_status == "care_leaver" and not row.uasc}
    assert {"P000146", "P000147"} <= leavers
    wrong = [row for row in rows if row.person_id in leavers
             and (row.rule_id.startswith("ltm.") or row.kind in ("home_office_notified", "nrm_referral"))]
    assert wrong == []
    # They keep Wokingham's care-leaver duties: the fix narrows Surrey's scope, it does not drop them.
    assert any(row.person_id in leavers and row.rule_id.startswith("care_leaver.") for row in rows)
    # UASC children in the sample are still on Surrey's schedule.
    assert any(row.uasc and row.rule_id == "ltm.day1_intervention_meeting" for row in rows)
