"""A real SMTP server on loopback for the notification and delivery tests: aiosmtpd, with STARTTLS (required) or
implicit TLS on a certificate from a certificate authority made in the test (trustme), or plain for the
loopback-only ``off`` setting. It keeps every message it accepted, across restarts on the same port, and can be
told to go down mid-run: the next message is refused (421, as a server shutting down answers) and the server
stops, so later connections are refused until ``start`` is called again.
"""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

import trustme
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"
#: Seconds the server may take to start: generous, for a CI machine whose two cores are busy.
READY = 30.0


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=email_policy.default)  # type: ignore[return-value]


class _Inbox:
    """aiosmtpd handler: keeps accepted messages; after ``stop_after`` of them, refuses the next and stops."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, server, session, envelope) -> str:
        stop_after = self.server.stop_after
        if stop_after is not None and len(self.server.received) >= stop_after:
            self.server.stop_after = None
            threading.Thread(target=self.server.stop, daemon=True).start()
            return "421 4.3.2 Service shutting down"
        self.server.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK queued"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class SmtpServer:
    """``tls``: "starttls" (STARTTLS offered and required), "implicit" (TLS from the first byte), or "off"."""

    def __init__(self, tmp_path: Path, tls: str = "starttls") -> None:
        self.tls = tls
        self.port = free_port()
        self.received: list[Received] = []
        self.stop_after: int | None = None
        self.ca = trustme.CA()
        self.ca_file = tmp_path / "smtp-test-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self._controller: Controller | None = None
        self._lock = threading.Lock()

    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(HOST, "localhost").configure_cert(context)
        return context

    def start(self) -> SmtpServer:
        handler = _Inbox(self)
        if self.tls == "starttls":
            controller = Controller(handler, hostname=HOST, port=self.port, ready_timeout=READY,
                                    tls_context=self._context(), require_starttls=True)
        elif self.tls == "implicit":
            controller = Controller(handler, hostname=HOST, port=self.port, ready_timeout=READY,
                                    ssl_context=self._context())
        else:
            controller = Controller(handler, hostname=HOST, port=self.port, ready_timeout=READY)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        with self._lock:
            if self._controller is not None:
                self._controller.stop()
                self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def environment(self) -> dict[str, str]:
        """The product's settings for this server."""
        return {"MISSING_EPISODES_SMTP_HOST": HOST, "MISSING_EPISODES_SMTP_PORT": str(self.port),
                "MISSING_EPISODES_SMTP_TLS": self.tls, "MISSING_EPISODES_SMTP_CA_FILE": str(self.ca_file),
                "MISSING_EPISODES_SMTP_FROM": "missing@kingsbridge.example"}
