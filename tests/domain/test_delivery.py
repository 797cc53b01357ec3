"""Keyed delivery: documents are filed and mailed once per key, whatever the number of runs; SMTP over TLS.

Delivery is tested against a tiny SMTP server on 127.0.0.1 started by the test (socketserver, TLS turned off for
it, which only a loopback host allows); TLS against aiosmtpd with STARTTLS or implicit TLS (``tests/builders/smtp``).
"""

from __future__ import annotations

import json
import smtplib
import socketserver
import ssl
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from missing_episodes.db.engine import session_scope
from missing_episodes.db.models import AuditEvent, Delivery
from missing_episodes.documents.delivery import (
    MailConfigError,
    MailSettings,
    is_loopback,
    mail_settings_from_env,
    send_mail,
)
from missing_episodes.jobs.documents import deliver_produced, produce_serious_notification
from tests.builders.documents import seed_briefing
from tests.builders.smtp import SmtpServer


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def _reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self._reply("220 localhost test SMTP")
        sender, recipients = None, []
        while raw := self.rfile.readline():
            command = raw.decode("utf-8", "replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self._reply("250 localhost")
            elif verb == "MAIL":
                sender, recipients = command[10:].strip("<>"), []
                self._reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command[8:].strip("<>"))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(line[1:] if line.startswith(b"..") else line)
                self.server.messages.append((sender, recipients, b"".join(lines)))  # type: ignore[attr-defined]
                self._reply("250 OK queued")
            elif verb == "QUIT":
                self._reply("221 Bye")
                return
            else:
                self._reply("250 OK")


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.messages: list[tuple[str | None, list[str], bytes]] = []


@pytest.fixture
def smtp_server() -> Iterator[_SmtpServer]:
    server = _SmtpServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def configured(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", db_url)
    monkeypatch.setenv("MISSING_EPISODES_OUTPUT_DIR", str(tmp_path / "store"))
    with session_scope(db_url) as session:
        seed_briefing(session)
    return db_url


def test_serious_notification_is_sent_once(
    configured: str, smtp_server: _SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipients = tmp_path / "recipients.yaml"
    recipients.write_text(
        "roles:\n  Service Director: [sd@council.example]\n  Director of Children's Services: [dcs@council.example]\n"
        "kinds:\n  serious_notification: [mash@council.example]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("MISSING_EPISODES_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MISSING_EPISODES_SMTP_PORT", str(smtp_server.server_address[1]))
    monkeypatch.setenv("MISSING_EPISODES_SMTP_TLS", "off")  # this plain test server is on loopback
    monkeypatch.setenv("MISSING_EPISODES_SMTP_FROM", "missing@council.example")
    monkeypatch.setenv("MISSING_EPISODES_SMTP_RECIPIENTS", str(recipients))

    produced = produce_serious_notification("EP-TOM", out_dir=tmp_path / "render")
    first = deliver_produced(produced)
    assert (first.status, first.recipients) == ("sent", 3)
    assert len(smtp_server.messages) == 1
    sender, to, raw = smtp_server.messages[0]
    assert sender == "missing@council.example"
    assert sorted(to) == ["dcs@council.example", "mash@council.example", "sd@council.example"]
    message = message_from_bytes(raw, policy=email_policy.default)
    assert (
        message["Subject"]
        == "OFFICIAL-SENSITIVE: Serious notification EP-TOM: Serious notification form, missing 72 hours"
    )
    names = sorted(part.get_filename() for part in message.iter_attachments())
    assert names == [f"serious-notification-EP-TOM-serious-missing_72h.{ext}" for ext in ("docx", "html", "pdf")]
    assert "Tom" not in message.get_body(("plain",)).get_content()  # names travel only inside the attachments

    # A retried flow renders again but sends nothing.
    again = deliver_produced(produce_serious_notification("EP-TOM", out_dir=tmp_path / "render"))
    assert again.status == "already_sent" and len(smtp_server.messages) == 1

    with session_scope(configured) as session:
        delivery = session.scalar(
            select(Delivery).where(Delivery.key == "serious_notification:EP-TOM:serious.missing_72h")
        )
        assert delivery is not None and delivery.sent_at is not None and delivery.subject_ref == "EP-TOM"
        assert json.loads(delivery.recipients or "{}")["roles"][1] == "Service Director"
        stored = [Path(p) for p in json.loads(delivery.location or "[]")]
        assert all(p.exists() and p.parent == tmp_path / "store" / "serious_notification" for p in stored)
        events = session.scalars(select(AuditEvent.event).where(AuditEvent.entity_ref == "EP-TOM")).all()
        assert sorted(events) == ["document_sent", "document_stored"]
        assert session.scalar(select(func.count(Delivery.id))) == 1


def test_without_smtp_host_documents_are_filed_not_mailed(configured: str, tmp_path: Path) -> None:
    produced = produce_serious_notification("EP-TOM")  # rendered straight into the output store
    assert Path(produced.files[0]).parent == tmp_path / "store" / "serious_notification"
    assert deliver_produced(produced).status == "stored"
    assert deliver_produced(produced).status == "already_stored"
    with session_scope(configured) as session:
        delivery = session.scalar(select(Delivery))
        assert delivery is not None and delivery.sent_at is None


def test_mail_settings_from_environment() -> None:
    settings = mail_settings_from_env(
        {
            "MISSING_EPISODES_SMTP_HOST": "smtp.example",
            "MISSING_EPISODES_SMTP_PORT": "2525",
            "MISSING_EPISODES_SMTP_TO_BRIEFING": "a@example, b@example,,",
        }
    )
    assert (settings.host, settings.port, settings.enabled) == ("smtp.example", 2525, True)
    assert settings.addresses("briefing", ["Service Director"]) == ["a@example", "b@example"]
    assert not mail_settings_from_env({}).enabled


# -- SMTP over TLS (issue 16 item 16): encrypted and verified by default; plain only on loopback ---------------


def _settings(server: SmtpServer, **overrides: str) -> MailSettings:
    return mail_settings_from_env({**server.environment(), **overrides})


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_mail_goes_over_tls_with_the_certificate_verified(tmp_path: Path, tls: str) -> None:
    server = SmtpServer(tmp_path, tls).start()
    try:
        send_mail(_settings(server), ["tm@kingsbridge.example"], "OFFICIAL-SENSITIVE: test", "EP-TOM\n", [])
        assert [r.recipients for r in server.received] == [["tm@kingsbridge.example"]]
        # A certificate the client does not trust (the system store, no CA file): refused before anything is sent.
        unverified = _settings(server, MISSING_EPISODES_SMTP_CA_FILE="")
        with pytest.raises(ssl.SSLCertVerificationError):
            send_mail(unverified, ["tm@kingsbridge.example"], "OFFICIAL-SENSITIVE: test", "EP-TOM\n", [])
        assert len(server.received) == 1
    finally:
        server.stop()


def test_a_server_without_starttls_is_refused_not_spoken_to_in_clear(tmp_path: Path) -> None:
    server = SmtpServer(tmp_path, "off").start()
    try:
        with pytest.raises(smtplib.SMTPNotSupportedError):
            send_mail(_settings(server, MISSING_EPISODES_SMTP_TLS="starttls"), ["tm@kingsbridge.example"], "s", "b", [])
        assert server.received == []
        # Turned off explicitly, for this loopback test server: allowed.
        send_mail(_settings(server), ["tm@kingsbridge.example"], "s", "b", [])
        assert len(server.received) == 1
    finally:
        server.stop()


def test_tls_is_the_default_and_off_is_refused_for_any_host_not_on_loopback() -> None:
    default = mail_settings_from_env({"MISSING_EPISODES_SMTP_HOST": "smtp.kingsbridge.example"})
    assert (default.tls, default.port) == ("starttls", 587)
    implicit = mail_settings_from_env({"MISSING_EPISODES_SMTP_HOST": "smtp.kingsbridge.example",
                                       "MISSING_EPISODES_SMTP_TLS": "implicit"})
    assert (implicit.tls, implicit.port) == ("implicit", 465)
    # An address literal, so the check itself asks no name server (nothing is ever sent to it).
    with pytest.raises(MailConfigError, match="loopback"):
        mail_settings_from_env({"MISSING_EPISODES_SMTP_HOST": "192.0.2.10", "MISSING_EPISODES_SMTP_TLS": "off"})
    with pytest.raises(MailConfigError, match="loopback"):
        MailSettings(host="192.0.2.10", tls="off")
    assert mail_settings_from_env({"MISSING_EPISODES_SMTP_HOST": "127.0.0.1", "MISSING_EPISODES_SMTP_TLS": "off"}).tls \
        == "off"
    with pytest.raises(MailConfigError, match="SMTP_TLS"):
        mail_settings_from_env({"MISSING_EPISODES_SMTP_HOST": "127.0.0.1", "MISSING_EPISODES_SMTP_TLS": "maybe"})
    with pytest.raises(MailConfigError, match="no longer turns encryption off"):
        mail_settings_from_env({"MISSING_EPISODES_SMTP_HOST": "127.0.0.1", "MISSING_EPISODES_SMTP_STARTTLS": "0"})
    assert not is_loopback("192.0.2.10") and is_loopback("127.0.0.1")
