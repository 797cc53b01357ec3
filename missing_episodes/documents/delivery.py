"""Deliver rendered documents: file them in the output store and mail them, each exactly once per key.

The ``Delivery`` table is the memory. ``deliver`` inserts the row (unique key) before anything leaves the
building, mails, then stamps ``sent_at``; a retried flow finds the row already sent and sends nothing. If the
process dies between the mail and the stamp the next run sends once more: at-least-once is the safe side for a
safeguarding notice, and the window is one SMTP exchange.

Configuration is environment only (no address ever travels as a flow parameter):

* ``MISSING_EPISODES_SMTP_HOST`` (no host: documents are filed, not mailed), ``_SMTP_PORT`` (587 with STARTTLS,
  465 with implicit TLS), ``_SMTP_FROM``, ``_SMTP_USER`` / ``_SMTP_PASSWORD``;
* ``MISSING_EPISODES_SMTP_TLS``: ``starttls`` (the default), ``implicit`` (TLS from the first byte) or ``off``.
  Documents name children, so the connection is encrypted and the server's certificate verified (against the
  system's trust store, or ``_SMTP_CA_FILE`` for an authority's own CA) unless TLS is turned off, which is
  allowed only for a server on the loopback interface (a test server): any other host with ``off`` is refused.
  A server that does not offer STARTTLS is refused too, never spoken to in clear. (``_SMTP_STARTTLS=1``, the
  older setting, still means ``starttls``.)
* ``MISSING_EPISODES_SMTP_TO_<KIND>``: comma-separated addresses for a document kind (``_TO_BRIEFING``,
  ``_TO_SERIOUS_NOTIFICATION``, ``_TO_WEEKLY_LIST``);
* ``MISSING_EPISODES_SMTP_RECIPIENTS``: optional YAML file ``{kinds: {briefing: [..]}, roles: {"Service
  Director": [..]}}``; ``roles`` turns the roles a policy rule names into addresses.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import smtplib
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from mimetypes import guess_type
from pathlib import Path
from typing import Literal

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from missing_episodes.clock import now
from missing_episodes.db.models import Delivery
from missing_episodes.store import audit

ENV_PREFIX = "MISSING_EPISODES_"
ACTOR = "missing-episodes"

TlsMode = Literal["starttls", "implicit", "off"]
TLS_MODES: tuple[str, ...] = ("starttls", "implicit", "off")
DEFAULT_PORTS: Mapping[str, int] = {"starttls": 587, "implicit": 465, "off": 25}


class MailConfigError(ValueError):
    """SMTP settings that would send children's details unprotected, or cannot be read; names the setting."""


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` resolves to is on the loopback interface (127.0.0.0/8, ::1)."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(ipaddress.ip_address(address.split("%")[0]).is_loopback for address in addresses)


@dataclass(frozen=True)
class MailSettings:
    host: str | None = None
    port: int = 587
    sender: str = "missing-episodes@localhost"
    tls: TlsMode = "starttls"
    ca_file: str | None = None
    username: str | None = None
    password: str | None = None
    kind_recipients: Mapping[str, list[str]] = field(default_factory=dict)
    role_recipients: Mapping[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.tls not in TLS_MODES:
            raise MailConfigError(f"{ENV_PREFIX}SMTP_TLS: {self.tls!r} is not one of {', '.join(TLS_MODES)}")
        if self.host and self.tls == "off" and not is_loopback(self.host):
            raise MailConfigError(
                f"{ENV_PREFIX}SMTP_TLS=off is allowed only for a test server on the loopback interface, "
                f"not {self.host}: mail carries children's details, so use starttls or implicit"
            )

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    def tls_context(self) -> ssl.SSLContext:
        """Certificate and host name verified: the system's trust store, or the authority's CA file."""
        return ssl.create_default_context(cafile=self.ca_file)

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
    tls = (env.get(f"{ENV_PREFIX}SMTP_TLS") or "starttls").strip().lower()
    legacy = (env.get(f"{ENV_PREFIX}SMTP_STARTTLS") or "").strip().lower()
    if legacy in ("0", "false", "no") and not env.get(f"{ENV_PREFIX}SMTP_TLS"):
        raise MailConfigError(f"{ENV_PREFIX}SMTP_STARTTLS=0 no longer turns encryption off: set "
                              f"{ENV_PREFIX}SMTP_TLS=off (loopback test servers only) or remove it")
    port = env.get(f"{ENV_PREFIX}SMTP_PORT")
    try:
        port_number = int(port) if port else DEFAULT_PORTS.get(tls, 587)
    except ValueError:
        raise MailConfigError(f"{ENV_PREFIX}SMTP_PORT: not a port number") from None
    return MailSettings(
        host=env.get(f"{ENV_PREFIX}SMTP_HOST") or None,
        port=port_number,
        sender=env.get(f"{ENV_PREFIX}SMTP_FROM") or "missing-episodes@localhost",
        tls=tls,  # type: ignore[arg-type]  # checked in MailSettings.__post_init__
        ca_file=env.get(f"{ENV_PREFIX}SMTP_CA_FILE") or None,
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


def compose(settings: MailSettings, to: Sequence[str], subject: str, body: str,
            attachments: Sequence[Path] = ()) -> EmailMessage:
    """One message with the documents attached. Subjects carry refs and dates only, never a name."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(body)
    for path in map(Path, attachments):
        mime, _ = guess_type(path.name)
        maintype, subtype = (mime or "application/octet-stream").split("/", 1)
        message.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return message


def open_smtp(settings: MailSettings, timeout: float = 30) -> smtplib.SMTP:
    """A connection that is encrypted before anything is said (``starttls``/``implicit``, certificate verified),
    or, on a loopback test server only, plain (``off``); logged in when a user is set. The caller closes it."""
    if not settings.host:
        raise MailConfigError("no SMTP host configured")
    if settings.tls == "implicit":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout,
                                              context=settings.tls_context())
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    try:
        if settings.tls == "starttls":
            # Raises SMTPNotSupportedError if the server does not offer STARTTLS: never fall back to clear text.
            smtp.starttls(context=settings.tls_context())
        elif settings.tls == "off" and not is_loopback(settings.host):  # settings checked this; checked again here
            raise MailConfigError("SMTP without TLS is allowed only on the loopback interface")
        if settings.username:
            smtp.login(settings.username, settings.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def send_mail(settings: MailSettings, to: Sequence[str], subject: str, body: str, attachments: Sequence[Path]) -> None:
    """One message with the documents attached, over its own protected connection."""
    message = compose(settings, to, subject, body, attachments)
    with open_smtp(settings) as smtp:
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
