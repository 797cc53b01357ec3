"""The notifications job: tell the people who must act, once each, and draft the serious-notification form when
it falls due; called by one task in ``tasks/notifications.py`` (the scheduled ``notify`` flow, and at the end of
every ingest and daily run).

One run, as of ``clock.now()`` (so ``MISSING_EPISODES_NOW`` replays a moment): plan what the open actions owe
(``notifications.plan``), insert what is not yet in the ``notice`` table, claim every pending or failed notice, send
each, stamp it. It returns counts only: no address, no name reaches Prefect. Without an SMTP host it does nothing
(and records nothing), so an installation that has not set up mail is not left with a backlog of stale notices.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from missing_episodes.clock import as_london, as_utc, is_working_day, london_instant, now, parse_time
from missing_episodes.db.models import Action, Child, Delivery, Episode, FeedCursor, Notice
from missing_episodes.documents.delivery import MailSettings, OutputStore, mail_settings_from_env, send_mail
from missing_episodes.documents.forms import build_serious_notification
from missing_episodes.documents.render import render_serious_notification
from missing_episodes.jobs.context import Context
from missing_episodes.notifications import messages, outbox
from missing_episodes.notifications.directory import Rota, Staff
from missing_episodes.notifications.plan import Owed, Planner, open_actions, plan
from missing_episodes.offsets import apply_offset
from missing_episodes.store import audit

#: The ``feed_cursor`` row that remembers when notifications began in this database (nothing before is told).
CURSOR = "notifications"
ACTOR = "notifications"
#: The drafted form goes to the Team Manager as PDF and Word (the HTML stays in the store).
FORM_ATTACHMENTS = (".pdf", ".docx")


@dataclass(frozen=True)
class NotifyResult:
    """What one run did, in counts (Prefect may see this)."""

    as_of: str
    mail: bool
    actions: int = 0
    owed: int = 0
    recorded: int = 0
    sent: int = 0
    failed: int = 0
    closed: int = 0
    forms: int = 0
    waiting: int = 0  # pending, failed or unroutable after this run: shown by ``missing-episodes notices``
    digests: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _floor(session: Session, at: datetime, context: Context) -> datetime:
    """Events after this are told: when notifications began here, but no further back than the lookback."""
    cursor = session.get(FeedCursor, CURSOR)
    if cursor is None:
        try:
            with session.begin_nested():
                session.add(FeedCursor(source=CURSOR, cursor=at.isoformat()))
            session.commit()
            started = at
        except IntegrityError:  # two first runs at once: the other's start stands
            session.rollback()
            started = as_utc(parse_time(str(session.get(FeedCursor, CURSOR).cursor)))  # type: ignore[union-attr]
    else:
        started = as_utc(parse_time(str(cursor.cursor)))
    return max(started, apply_offset(at, context.policy.escalation.lookback.backwards()))


def _texts(session: Session, policy_titles: dict[str, str],
           action_ids: set[int]) -> dict[int, tuple[str, messages.ActionText]]:
    """Action id -> (its status, what a message may say of it)."""
    rows = session.execute(
        select(Action, Child.ref, Child.first_name, Child.last_name, Episode.ref, Episode.incident_ref)
        .join(Child, Action.child_id == Child.id).outerjoin(Episode, Action.episode_id == Episode.id)
        .where(Action.id.in_(action_ids))
    )
    texts = {}
    for action, child_ref, first, last, episode_ref, incident_ref in rows:
        name = " ".join(part for part in (first, last) if part) or None
        texts[action.id] = (action.status, messages.ActionText(
            action.key, action.kind, policy_titles.get(action.rule_id, action.rule_id), action.rule_id, action.actor,
            action.assigned_to, child_ref, episode_ref, incident_ref, action.trigger_at, action.due_at, name))
    return texts


class _Sender:
    """Sends one claimed notice: composes it, renders and files the form for a ``form`` notice, records delivery."""

    def __init__(self, session: Session, context: Context, mail: MailSettings,
                 texts: dict[int, tuple[str, messages.ActionText]], titles: dict[str, str]) -> None:
        self.session, self.context, self.mail, self.texts, self.titles = session, context, mail, texts, titles
        self.forms = 0
        self.digests = 0

    def __call__(self, notice: Notice) -> None:
        if notice.reason == "digest":
            self._digest(notice)
            return
        _, text = self.texts[notice.action_id or 0]
        secure = self.context.policy.mail.secure
        attachments: list[Path] = []
        filed: list[str] = []
        if notice.reason == "form":
            stored = self._draft_form(text)
            filed = [path.name for path in stored]
            attachments = [path for path in stored if path.suffix in FORM_ATTACHMENTS] if secure else []
        body = messages.body(text, notice.reason, notice.recipient_role or "", now=now(), secure=secure, filed=filed)
        send_mail(self.mail, [notice.recipient], messages.subject(text, notice.reason), body, attachments)
        if notice.reason == "form":
            self._record_form(notice, text, filed)

    def _digest(self, notice: Notice) -> None:
        """One message for everything held for this person; the held notices are stamped with it (same commit)."""
        rows = outbox.held(self.session, notice.recipient)
        texts = _texts(self.session, self.titles, {n.action_id for n in rows if n.action_id is not None})
        items = [n for n in rows if texts.get(n.action_id or 0, ("gone",))[0] == "open"]
        if items:
            body = messages.digest_body([(n.reason, n.recipient_role or "", texts[n.action_id or 0][1]) for n in items],
                                        now=now(), secure=self.context.policy.mail.secure)
            send_mail(self.mail, [notice.recipient], messages.digest_subject(notice.action_key.split(":", 1)[1],
                                                                             len(items)), body, [])
        stamp = now()
        for row in rows:
            row.status, row.sent_at = ("sent", stamp) if row in items else ("closed", None)
        self.digests += 1

    def _draft_form(self, text: messages.ActionText) -> list[Path]:
        form = build_serious_notification(self.session, text.episode_ref or "", self.context.policy,
                                          rule_id=text.rule_id)
        files = render_serious_notification(form, self.context.output_dir("serious_notification"))
        return OutputStore(self.context.settings.output_dir).put("serious_notification", files)

    def _record_form(self, notice: Notice, text: messages.ActionText, filed: list[str]) -> None:
        """Delivery on the action: a ``delivery`` row keyed by the action and an audit event naming the action."""
        key = f"serious_notification_draft:{text.action_key}"
        if self.session.scalar(select(Delivery.id).where(Delivery.key == key)) is None:
            self.session.add(Delivery(key=key, kind="serious_notification_draft", subject_ref=text.episode_ref,
                                      recipients=json.dumps({"roles": ["Team Manager"],
                                                             "addresses": [notice.recipient]}),
                                      location=json.dumps(filed), sent_at=now()))
        audit(self.session, ACTOR, "form_sent", "action", text.action_key, reason="form", to="Team Manager",
              files=filed, attached=self.context.policy.mail.secure)
        self.forms += 1


def _digests_due(session: Session, context: Context, at: datetime) -> list[Owed]:
    """From ``mail.digest_at`` on a working day: a digest notice for each person with held notices, keyed by the day
    (so each person has at most one a day, whatever the number of runs); later held ones wait for the next."""
    local = as_london(at)
    if not is_working_day(local.date()) or f"{local:%H:%M}" < context.policy.mail.digest_at:
        return []
    day = local.date().isoformat()
    hour, minute = map(int, context.policy.mail.digest_at.split(":"))
    due_at = london_instant(local.date(), time(hour, minute))
    return [Owed(None, f"digest:{day}", recipient, "digest", "digest", due_at)
            for recipient in sorted({n.recipient for n in outbox.held(session) if n.event_at <= due_at})]


def send_notifications(context: Context | None = None) -> NotifyResult:
    """Tell whoever the open actions owe a message as of now, exactly once each; retry what failed before."""
    context = context or Context.load()
    at = now()
    mail = mail_settings_from_env()
    if not mail.enabled:
        return NotifyResult(at.isoformat(), mail=False)
    planner = Planner(context.policy, Staff.load(context.settings.staff_path), Rota.load(context.settings.rota_path))
    with context.session() as session:
        floor = _floor(session, at, context)
        actions = open_actions(session, context.policy, at, floor)
        owed = plan(actions, planner, at, floor, outbox.told(session, [a.key for a in actions]))
        recorded = outbox.record(session, owed, planner.staff.digest_addresses())
        recorded += outbox.record(session, _digests_due(session, context, at))
        session.commit()
        token, claimed = outbox.claim(session, at)
        titles = {rule.id: rule.title for rule in context.policy.rules}
        texts = _texts(session, titles, {n.action_id for n in claimed if n.action_id is not None})
        still_open = [n for n in claimed
                      if n.reason == "digest" or texts.get(n.action_id or 0, ("gone",))[0] == "open"]
        for notice in claimed:
            if notice not in still_open:  # closed (or withdrawn) before it could be sent: nothing to tell now
                outbox.finish(session, notice.id, token, status="closed")
        sender = _Sender(session, context, mail, texts, titles)
        counts = outbox.send(session, token, still_open, sender, now)
        waiting = session.scalar(select(func.count(Notice.id)).where(Notice.status.in_(
            ("pending", "failed", "unroutable")))) or 0
    return NotifyResult(at.isoformat(), True, len(actions), len(owed), recorded, counts.sent, counts.failed,
                        len(claimed) - len(still_open), sender.forms, waiting, sender.digests)

