"""The hand-made reporting dataset, small enough to count on paper, and the authority's SSDA903 files to match.

Used by the report, SSDA903 export and sector-validator tests; every answer they expect is worked out by hand from
the table below. January to 29 March 2025 is GMT, so a UTC time there is also the London time; 23:30 UTC on
31 March 2025 is already 00:30 BST on 1 April.

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

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd

from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import Action, Child, Episode, Outcome
from missing_episodes.reports.records import load_records

AS_OF = datetime(2025, 4, 30, 12, tzinfo=UTC)


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


# -- the SSDA903 return: E14 and the authority's own files ------------------------------------------------

EXPECTED = [
    # CHILD, DOB, MISSING, MIS_START, MIS_END: looked-after children only (C3 is not), ordered by child and start.
    ["P1", "01/05/2009", "M", "05/01/2025", "06/01/2025"],
    ["P1", "01/05/2009", "M", "10/02/2025", "11/02/2025"],
    ["P1", "01/05/2009", "A", "20/02/2025", "20/02/2025"],  # absent is A, never M
    ["P1", "01/05/2009", "M", "01/03/2025", "01/03/2025"],
    ["P2", "02/02/2010", "M", "20/01/2025", "22/01/2025"],  # E11 (another authority's) and E13 (1 April) left out
    ["P2", "02/02/2010", "A", "01/03/2025", "01/03/2025"],
    ["P4", "07/07/2008", "M", "20/12/2024", "21/12/2024"],
    ["P4", "07/07/2008", "M", "30/03/2025", ""],  # E14: open at 31 March, so returned open
]


def build_with_open_period(url: str) -> None:
    build_dataset(url)
    with session_scope(url) as s:
        c4 = s.query(Child).filter_by(ref="CH-4").one()
        add_episode(s, 14, c4, "missing", "2025-03-30 10:00", "2025-04-02 10:00")


def authority_files(directory: Path, care_starts: dict[str, str] | None = None) -> tuple[Path, Path]:
    """Minimal Header and Episodes files matching the dataset (every child in care since 1 January 2024)."""
    starts = {"P1": "01/01/2024", "P2": "01/01/2024", "P4": "01/01/2024", **(care_starts or {})}
    dobs = {"P1": "01/05/2009", "P2": "02/02/2010", "P4": "07/07/2008"}
    header = pd.DataFrame(
        {
            "CHILD": list(dobs),
            "SEX": ["1", "2", "1"],
            "DOB": list(dobs.values()),
            "ETHNIC": ["WBRI"] * 3,
            "UPN": ["UN1"] * 3,
            "MOTHER": ["", "", ""],
            "MC_DOB": ["", "", ""],
        }
    )
    episodes = pd.DataFrame(
        {
            "CHILD": list(starts),
            "DECOM": list(starts.values()),
            "RNE": ["S"] * 3,
            "LS": ["C2"] * 3,
            "CIN": ["N1"] * 3,
            "PLACE": ["U1"] * 3,
            "PLACE_PROVIDER": ["PR1"] * 3,
            "DEC": ["", "", ""],
            "REC": ["", "", ""],
            "REASON_PLACE_CHANGE": ["", "", ""],
            "HOME_POST": ["", "", ""],
            "PL_POST": ["", "", ""],
            "URN": ["XXXXXXX"] * 3,
        }
    )
    directory.mkdir(parents=True, exist_ok=True)
    header_path, episodes_path = directory / "header.csv", directory / "episodes.csv"
    header.to_csv(header_path, index=False)
    episodes.to_csv(episodes_path, index=False)
    return header_path, episodes_path
