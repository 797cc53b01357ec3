"""The daily missing briefing pack (Wakefield section 4), read from the store as of 08:30 on the day.

The coordinator, MASH and the police go through it each working morning: who is missing now and for how long,
who was reported since yesterday's briefing, then all the work, grouped by protocol (children missing from home or
care: Return Home Interviews, strategy meetings, serious notifications and the rest; care leavers; UASC and care
leavers missing long term): every kind of action due or overdue, and every clock still running that fires before
the next briefing ("fires at 21:40 today"); who keeps going missing; and which children placed here by other
authorities must be forwarded to them (kept out of every other section, Wakefield section 3). Everything is read
as of the briefing moment, so a pack for a past day can be rebuilt as it would have stood.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from missing_episodes.clock import (
    add_days,
    add_hours,
    add_months,
    hours_between,
    is_working_day,
    now,
    previous_working_day,
)
from missing_episodes.db.models import Action, Child, Episode, Outcome
from missing_episodes.documents.briefing_pack import (
    OWN_SECTIONS,
    PROTOCOLS,
    BriefingPack,
    DueAction,
    HiddenMissing,
    MissingNow,
    OtherAuthorityEpisode,
    OverdueBacklog,
    RepeatChild,
    ReportedEpisode,
)
from missing_episodes.documents.common import (
    briefing_moment,
    child_view,
    find_me_plan,
    missing_at,
    risk_sort_key,
)
from missing_episodes.policy import ACTION_KINDS, Offset, Policy, Rule
from missing_episodes.worklist import CLOSED_STATUSES, status_as_of

#: Wolverhampton's board figures count a child as "repeat missing" at three or more episodes.
REPEAT_COUNT = 3
REPEAT_WINDOW = Offset(days=28)


def protocol_of(rule: Rule | None) -> str:
    """The procedure a rule belongs to, from whom it applies to (``PROTOCOLS``): Wokingham's care leavers (the
    rule is for care leavers only), Surrey's schedule for UASC and former-UASC care leavers missing long term (the
    rule is for UASC, or its clock starts at a care leaver's assessment), else Wakefield's children missing from
    home or care."""
    if rule is None:
        return "home_or_care"
    applies = rule.applies_to
    if "care_leaver" in applies.legal_status:
        return "care_leavers"
    if applies.uasc is True or applies.care_leaver_clock_from:
        return "long_term"
    return "home_or_care"


def next_working_day(day: date) -> date:
    following = add_days(briefing_moment(day), 1).date()
    while not is_working_day(following):
        following = following.fromordinal(following.toordinal() + 1)
    return following


def build_briefing(session: Session, day: date, policy: Policy) -> BriefingPack:
    """Everything the daily missing briefing on ``day`` discusses, as of 08:30 London time that day."""
    as_of = briefing_moment(day)
    since = briefing_moment(previous_working_day(day))
    episodes = _episodes_in_view(session, since, as_of)
    ours = [(episode, child) for episode, child in episodes if not episode.other_authority]
    pack = BriefingPack(
        day=day,
        authority=policy.authority,
        policy_version=policy.version,
        as_of=as_of,
        since=since,
        generated_at=now(),
        missing_now=_missing_now(ours, as_of),
        reported_since=_reported_since(ours, since, as_of),
        hidden_missing=_hidden_missing(session, since, as_of),
        other_authority=_other_authority(episodes, since, as_of),
        overdue_since=add_days(as_of, -policy.briefing.overdue_window_days),
        next_as_of=briefing_moment(next_working_day(day)),
    )
    due = _due_actions(session, as_of, pack.overdue_since, policy, pack.next_as_of)
    own = {"return_home_interview": pack.rhi_due, "strategy_meeting": pack.meetings_due,
           "serious_notification": pack.notifications_due}
    for item in due:
        if item.protocol == "home_or_care" and item.kind in OWN_SECTIONS:
            own[item.kind].append(item)
        else:
            pack.other_work.setdefault(item.protocol, []).append(item)
    pack.backlog.extend(_overdue_backlog(session, as_of, pack.overdue_since, policy))
    pack.repeat.extend(_repeat_children(session, as_of, policy))
    return pack


def _episodes_in_view(session: Session, since: datetime, as_of: datetime) -> list[tuple[Episode, Child | None]]:
    """Episodes open at the briefing or reported since the last one (one query; the filters are refined here)."""
    query = (
        select(Episode, Child)
        .outerjoin(Child, Episode.child_id == Child.id)
        .where(
            Episode.kind.is_not(None),
            Episode.started_at.is_not(None),
            Episode.started_at <= as_of,
            or_(
                Episode.found_at.is_(None),
                Episode.found_at > as_of,
                Episode.reported_at > since,
                Episode.started_at > since,
            ),
        )
        .order_by(Episode.started_at, Episode.ref)
    )
    return [(row[0], row[1]) for row in session.execute(query)]


def _reported_between(episode: Episode, since: datetime, as_of: datetime) -> bool:
    reported = episode.reported_at or episode.started_at
    return reported is not None and since < reported <= as_of


def _missing_now(episodes: list[tuple[Episode, Child | None]], as_of: datetime) -> list[MissingNow]:
    rows = [
        MissingNow(
            child=child_view(child, as_of),
            find_me=find_me_plan(child),
            episode_ref=episode.ref,
            started_at=episode.started_at,
            hours_missing=hours_between(episode.started_at, as_of) or 0.0,
            risk_level=episode.risk_level,
            last_seen_at=episode.last_seen_at,
            last_seen_location=episode.last_seen_location,
            reported_at=episode.reported_at,
            clothing=episode.clothing,
        )
        for episode, child in episodes
        if episode.kind == "missing" and missing_at(episode, as_of)
    ]
    return sorted(rows, key=lambda row: (risk_sort_key(row.risk_level), -row.hours_missing))


def _reported_since(
    episodes: list[tuple[Episode, Child | None]], since: datetime, as_of: datetime
) -> list[ReportedEpisode]:
    return [
        ReportedEpisode(**_episode_line(episode, child, as_of))
        for episode, child in episodes
        if _reported_between(episode, since, as_of)
    ]


def _hidden_missing(session: Session, since: datetime, as_of: datetime) -> list[HiddenMissing]:
    """Hidden missing children the service recorded since the last briefing (the ``hidden_missing`` case event)."""
    query = (
        select(Outcome, Child)
        .join(Child, Outcome.child_id == Child.id)
        .where(Outcome.event == "hidden_missing", Outcome.recorded_at > since, Outcome.recorded_at <= as_of)
        .order_by(Outcome.recorded_at, Outcome.id)
    )
    return [HiddenMissing(child_view(child, as_of), outcome.recorded_at, outcome.incident_ref)
            for outcome, child in session.execute(query)]


def _other_authority(
    episodes: list[tuple[Episode, Child | None]], since: datetime, as_of: datetime
) -> list[OtherAuthorityEpisode]:
    return [
        OtherAuthorityEpisode(
            **_episode_line(episode, child, as_of),
            responsible_authority=episode.responsible_authority or (child.responsible_authority if child else None),
        )
        for episode, child in episodes
        if episode.other_authority and (missing_at(episode, as_of) or _reported_between(episode, since, as_of))
    ]


def _episode_line(episode: Episode, child: Child | None, as_of: datetime) -> dict[str, object]:
    """The fields a reported episode's line shows, as they stood at ``as_of`` (a later return is not yet known)."""
    return {
        "child": child_view(child, as_of),
        "episode_ref": episode.ref,
        "kind": episode.kind,
        "still_missing": missing_at(episode, as_of),
        "started_at": episode.started_at,
        "reported_at": episode.reported_at,
        "found_at": episode.found_at if episode.found_at and episode.found_at <= as_of else None,
        "risk_level": episode.risk_level,
        "last_seen_location": episode.last_seen_location,
    }


def _briefed_actions(as_of: datetime) -> tuple[ColumnElement[bool], ...]:
    """The actions the briefing speaks of: every kind, fired by ``as_of``, still to do then, and ours.

    The SQL twin of ``worklist.status_as_of``: not withdrawn, and not closed by ``as_of`` (open in the store, or
    closed only later), so a past day's pack is rebuilt as it stood. Every status but ``withdrawn`` is named, so
    the queries read the (status, due_at) index over a range of due times: the listed rows' range is the
    window, not the history.
    """
    return (
        Action.status.in_(("open", *CLOSED_STATUSES)),
        or_(Action.status == "open", Action.done_at.is_(None), Action.done_at > as_of),
        Action.trigger_at <= as_of,
        _ours(),
    )


def _still_open() -> ColumnElement[bool]:
    """``status = 'open'``, said as none of the other statuses, for a query bounded by its trigger times.

    Said plainly, SQLite reads it through the (status, due_at) index: every open action of the history (half of
    a million-episode region's 3.6 million), each looked up in the table for its trigger time, 12 s of a
    briefing. Said so, no index serves the status and the trigger time's index reads the day's window only.
    """
    return Action.status.not_in(("withdrawn", *CLOSED_STATUSES))


def _ours() -> ColumnElement[bool]:
    return or_(Episode.other_authority.is_(None), Episode.other_authority.is_(False))


def _due_actions(session: Session, as_of: datetime, overdue_since: datetime, policy: Policy,
                 next_as_of: datetime | None = None) -> list[DueAction]:
    """Every kind of action to do at ``as_of`` and due after ``overdue_since``, then the clocks still running that
    fire before ``next_as_of`` (the next briefing), so a meeting due at 21:40 tonight is on this morning's pack.

    That is every open one and the recently overdue, by due time, with the child and the rule's title.
    """
    query = (
        select(Action, Child, Episode.ref, Episode.found_at)
        .join(Child, Action.child_id == Child.id)
        .outerjoin(Episode, Action.episode_id == Episode.id)
        .where(*_briefed_actions(as_of), Action.due_at > overdue_since)
        .order_by(Action.due_at, Action.key)
    )
    rows = list(session.execute(query))
    if next_as_of is not None:
        later = (
            select(Action, Child, Episode.ref, Episode.found_at)
            .join(Child, Action.child_id == Child.id)
            .outerjoin(Episode, Action.episode_id == Episode.id)
            .where(_still_open(), Action.trigger_at > as_of, Action.trigger_at <= next_as_of, _ours())
            .order_by(Action.trigger_at, Action.key)
        )
        rows.extend(session.execute(later))
    rules = {rule.id: rule for rule in policy.rules}
    titles = {rule.id: rule.title for rule in policy.rules}
    return [
        DueAction(
            child=child_view(child, as_of),
            episode_ref=episode_ref,
            kind=action.kind,
            rule=action.rule_id,
            title=titles.get(action.rule_id, action.rule_id),
            due_at=action.due_at,
            status=status_as_of(action, as_of),
            hours_to_due=hours_between(as_of, action.due_at) or 0.0,
            actor=action.actor,
            assigned_to=action.assigned_to,
            recipients=action.recipients,
            found_at=found_at,
            protocol=protocol_of(rules.get(action.rule_id)),
            fires_at=action.trigger_at if action.trigger_at > as_of else None,
        )
        for action, child, episode_ref, found_at in rows
    ]


def _overdue_backlog(session: Session, as_of: datetime, overdue_since: datetime, policy: Policy
                     ) -> list[OverdueBacklog]:
    """Per protocol and kind, how many actions fell due by ``overdue_since`` and are still overdue, and the oldest.

    One aggregate row per rule (never the rows themselves), folded into its protocol and kind, so the pack says
    what the backlog is without listing a region's years of it. The count still reads the index entries due
    before the window, which grow with the history (about 0.1 s on 50,000 episodes); nothing is loaded into memory.
    """
    query = (
        select(Action.kind, Action.rule_id, func.count(), func.min(Action.due_at))
        .outerjoin(Episode, Action.episode_id == Episode.id)
        .where(*_briefed_actions(as_of), Action.due_at <= overdue_since)
        .group_by(Action.kind, Action.rule_id)
    )
    rules = {rule.id: rule for rule in policy.rules}
    found: dict[tuple[str, str], OverdueBacklog] = {}
    for kind, rule_id, count, oldest in session.execute(query):
        key = (protocol_of(rules.get(rule_id)), kind)
        before = found.get(key)
        found[key] = OverdueBacklog(kind, count + (before.count if before else 0),
                                    min(oldest, before.oldest_due_at) if before else oldest, key[0])
    return [found[key] for key in sorted(found, key=lambda key: (list(PROTOCOLS).index(key[0]), _kind_order(key[1])))]


def _kind_order(kind: str) -> tuple[int, str]:
    return (ACTION_KINDS.index(kind) if kind in ACTION_KINDS else len(ACTION_KINDS), kind)


def _window_start(as_of: datetime, window: Offset) -> datetime:
    start = add_hours(as_of, -window.hours) if window.hours else as_of
    start = add_days(start, -window.days) if window.days else start
    return add_months(start, -window.months) if window.months else start


def _repeat_children(session: Session, as_of: datetime, policy: Policy) -> list[RepeatChild]:
    """Children with 3+ missing episodes in 28 days, or meeting a policy repeat threshold (4 in 28 d, 6 in 2 m).

    The thresholds come from the policy's ``repeat_episodes`` rules, so an authority that changes a threshold
    sees its briefing change with it. Absent episodes are not counted unless the rule says so (Wakefield s8).
    """
    thresholds = [
        (rule.title, threshold, _window_start(as_of, threshold.window))
        for rule in policy.active_rules
        if (threshold := rule.trigger.briefing_threshold()) is not None
    ]
    base_start = _window_start(as_of, REPEAT_WINDOW)
    earliest = min([base_start, *(start for _, _, start in thresholds)])
    query = select(Episode.child_id, Episode.kind, Episode.started_at).where(
        Episode.child_id.is_not(None),
        Episode.other_authority.is_(False),
        Episode.kind.is_not(None),
        Episode.started_at > earliest,
        Episode.started_at <= as_of,
        or_(Episode.reported_at.is_(None), Episode.reported_at <= as_of),
    )
    by_child: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    for child_id, kind, started_at in session.execute(query):
        by_child[child_id].append((kind, started_at))
    found: dict[int, tuple[int, list[str], datetime]] = {}
    for child_id, starts in by_child.items():
        in_28 = sum(1 for kind, start in starts if kind == "missing" and start > base_start)
        met = [
            title
            for title, trigger, start in thresholds
            if sum(1 for kind, when in starts if kind in trigger.count_kinds and when > start) >= trigger.count
        ]
        if in_28 >= REPEAT_COUNT or met:
            found[child_id] = (in_28, met, max(start for _, start in starts))
    if not found:
        return []
    children = {c.id: c for c in session.scalars(select(Child).where(Child.id.in_(found)))}
    rows = [
        RepeatChild(child_view(children[child_id], as_of), count, met, latest)
        for child_id, (count, met, latest) in found.items()
    ]
    return sorted(rows, key=lambda row: (-len(row.thresholds_met), -row.episodes_28_days, row.child.name))
