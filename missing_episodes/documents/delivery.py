"""Deliver rendered documents: file them in the output store and mail them, each exactly once per key.

The ``Delivery`` table is the memory. ``deliver`` inserts the row (unique key) before anything leaves the
building, mails, then stamps ``sent_at``; a retried flow finds the row already sent and sends nothing. If the
process dies between the mail and the stamp the next run sends once more: at-least-once is the safe side for a
safeguarding notice, and the window is one SMTP exchange.

Configuration is environment only (no address ever travels as a flow parameter):

* ``MISSING_EPISODES_SMTP_HOST`` (no host: documents are filed, not mailed), ``_SMTP_PORT`` (25),
  ``_SMTP_FROM``, ``_SMTP_STARTTLS`` (``1`` to upgrade), ``_SMTP_USER`` / ``_SMTP_PASSWORD``;
* ``MISSING_EPISODES_SMTP_TO_<KIND>``: comma-separated addresses for a document kind (``_TO_BRIEFING``,
  ``_TO_SERIOUS_NOTIFICATION``, ``_TO_WEEKLY_LIST``);
* ``MISSING_EPISODES_SMTP_RECIPIENTS``: optional YAML file ``{kinds: {briefing: [..]}, roles: {"Service
  Director": [..]}}``; ``roles`` turns the roles a policy rule names into addresses.
"""

from __future__ import annotations

import json
import os
import shutil
import smtplib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from mimetypes import guess_type
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from missing_episodes.clock import now
from missing_episodes.db.models import Delivery
from missing_episodes.store import audit

ENV_PREFIX = "MISSING_EPISODES_"
ACTOR = "missing-episodes"


@dataclass(frozen=True)
class MailSettings:
    host: str | None = None
    port: int = 25
    sender: str = "missing-episodes@localhost"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    kind_recipients: Mapping[str, list[str]] = field(default_factory=dict)
    role_recipients: Mapping[str, list[str]] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    def addresses(self, kind: str, roles: Sequence[str] = ()) -> list[str]:
        """Addresses for a document kind plus those of the roles it is addressed to, without duplicates."""
        found = list(self.kind_recipients.get(kind, []))
        for role in roles:
            found.extend(self.role_recipients.get(role, []))
        return list(dict.fromkeys(address for address in found if address))


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def mail_settings_from_env(environ: Mapping[str, str] | None = None) -> MailSettings:
    """Read the SMTP settings now (tests and workers set the environment first)."""
    env = os.environ if environ is None else environ
    kinds: dict[str, list[str]] = {}
    roles: dict[str, list[str]] = {}
    config_path = env.get(f"{ENV_PREFIX}SMTP_RECIPIENTS")
    if config_path:
        data = yaml.safe_load(Path(config_path).read_text(encoding="utf-8")) or {}
        kinds = {str(k): [str(a) for a in v or []] for k, v in (data.get("kinds") or {}).items()}
        roles = {str(k): [str(a) for a in v or []] for k, v in (data.get("roles") or {}).items()}
    prefix = f"{ENV_PREFIX}SMTP_TO_"
    for name, value in env.items():
        if name.startswith(prefix):
            kinds[name[len(prefix) :].lower()] = _split(value)
    return MailSettings(
        host=env.get(f"{ENV_PREFIX}SMTP_HOST") or None,
        port=int(env.get(f"{ENV_PREFIX}SMTP_PORT") or 25),
        sender=env.get(f"{ENV_PREFIX}SMTP_FROM") or "missing-episodes@localhost",
        starttls=(env.get(f"{ENV_PREFIX}SMTP_STARTTLS") or "").lower() in ("1", "true", "yes"),
        username=env.get(f"{ENV_PREFIX}SMTP_USER") or None,
        password=env.get(f"{ENV_PREFIX}SMTP_PASSWORD") or None,
        kind_recipients=kinds,
        role_recipients=roles,
    )


class OutputStore:
    """A folder per document kind under the output directory; the default store, and the one auditors read."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put(self, kind: str, files: Sequence[Path]) -> list[Path]:
        """Copy the files into ``root/kind/`` (already there: left alone) and return where they are."""
        folder = self.root / kind
        folder.mkdir(parents=True, exist_ok=True)
        stored = []
        for source in map(Path, files):
            target = folder / source.name
            if source.resolve() != target.resolve():
                shutil.copy2(source, target)
            stored.append(target)
        return stored


def send_mail(settings: MailSettings, to: Sequence[str], subject: str, body: str, attachments: Sequence[Path]) -> None:
    """One message with the documents attached. Subjects carry refs and dates only, never a name."""
    if not settings.host:
        raise ValueError("no SMTP host configured")
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(body)
    for path in map(Path, attachments):
        mime, _ = guess_type(path.name)
        maintype, subtype = (mime or "application/octet-stream").split("/", 1)
        message.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    with smtplib.SMTP(settings.host, settings.port, timeout=30) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(message)


@dataclass(frozen=True)
class DeliveryOutcome:
    """What happened to one keyed document; pseudonymous, so a flow may return and publish it."""

    key: str
    kind: str
    status: str  # sent | stored | already_sent | already_stored
    recipients: int
    location: list[str]


def deliver(
    session: Session,
    *,
    key: str,
    kind: str,
    files: Sequence[Path],
    store: OutputStore,
    mail: MailSettings,
    subject: str,
    body: str,
    subject_ref: str | None = None,
    roles: Sequence[str] = (),
) -> DeliveryOutcome:
    """File and (if SMTP is configured and someone is to receive it) mail a document, once for its key.

    Records a ``Delivery`` row and an ``AuditEvent`` for each first (filing, sending) and commits twice: the row
    before the mail leaves, so a concurrent or retried run finds it, and the ``sent_at`` stamp after.
    """
    delivery = session.scalar(select(Delivery).where(Delivery.key == key))
    addresses = mail.addresses(kind, roles)
    entity_ref = subject_ref or key
    if delivery is None:
        stored = store.put(kind, files)
        delivery = Delivery(
            key=key,
            kind=kind,
            subject_ref=subject_ref,
            recipients=json.dumps({"roles": list(roles), "addresses": addresses}),
            location=json.dumps([str(path) for path in stored]),
        )
        session.add(delivery)
        audit(session, ACTOR, "document_stored", kind[:32], entity_ref, key=key, files=[p.name for p in stored])
        try:
            session.commit()
        except IntegrityError:  # a concurrent run filed it first: theirs is the delivery
            session.rollback()
            return deliver(
                session,
                key=key,
                kind=kind,
                files=files,
                store=store,
                mail=mail,
                subject=subject,
                body=body,
                subject_ref=subject_ref,
                roles=roles,
            )
        first = True
    else:
        first = False
    location = json.loads(delivery.location or "[]")
    if delivery.sent_at is not None:
        return DeliveryOutcome(key, kind, "already_sent", 0, location)
    if not mail.enabled or not addresses:
        return DeliveryOutcome(key, kind, "stored" if first else "already_stored", 0, location)
    send_mail(mail, addresses, subject, body, [Path(path) for path in location])
    delivery.sent_at = now()
    delivery.recipients = json.dumps({"roles": list(roles), "addresses": addresses})
    audit(session, ACTOR, "document_sent", kind[:32], entity_ref, key=key, roles=list(roles), to=len(addresses))
    session.commit()
    return DeliveryOutcome(key, kind, "sent", len(addresses), location)
