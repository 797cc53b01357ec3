"""What a command and the desk (``deployments.desk``) share: three files in the output store, and the checks the
desk answers for a command before its flow runs.

The command (``cli.desk``) imports no Prefect and the desk imports no command code (the layers), so both take
the paths and the checks from here:

- ``runs/.doorbell``: touched by a command after it created its run, so the desk polls at once;
- ``runs/<flow run id>.json``: the run's outcome, written by the desk, read once by the command;
- ``runs/.desk.sock``: the desk's checks (a Unix socket, 0600 in a 0700 folder).

**Why the desk checks.** A command checks what it was given before any run is created (one line and exit 2 for a
mistake). With a Prefect server configured the flow runs on the desk, with the desk's database and policy, which
the desk has loaded: there the serious-notification form's check takes a hundredth of a second; in the command it
took a second, nearly all of it importing SQLAlchemy, the models and the document builders. So a command asks the
desk first (``ask``) and checks itself only when no desk answers (none listening on this output store, or one that
failed for a reason that is not the user's). Only the checks named in ``CHECKS`` run there, with refs and ISO times
as arguments; the answer is ``{"ok": true}``, ``{"refused": line}`` or ``{"error": line}``, ids only.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from uuid import UUID

from missing_episodes.config import get_settings

#: How long a command waits for the desk to accept its question, then for the answer (a check reads the database).
CONNECT_SECONDS, ANSWER_SECONDS = 0.5, 60.0
#: The longest question the desk reads (a check's arguments are a few refs).
QUESTION_BYTES = 64 * 1024
#: Unix socket paths are limited to 108 bytes (Linux); a longer output store path means no socket, not a failure.
SOCKET_PATH_BYTES = 100


def runs_folder() -> Path:
    return get_settings().output_dir / "runs"


def doorbell() -> Path:
    """The file a command touches after creating its run (``deployments.desk.answer_doorbell`` watches its time)."""
    return runs_folder() / ".doorbell"


def outcome_path(flow_run_id: UUID | str) -> Path:
    """Where the desk writes a run's outcome and the command reads it."""
    return runs_folder() / f"{flow_run_id}.json"


def check_socket() -> Path:
    """Where the desk answers checks (``deployments.desk.answer_checks``)."""
    return runs_folder() / ".desk.sock"


class Refused(Exception):
    """What the user gave cannot work: the message is the one line they read (the command adds exit status 2)."""


def policy() -> None:
    """The policy file validates: flows would otherwise fail on it much later, in Prefect."""
    from missing_episodes.policy import PolicyError, load_policy

    try:
        load_policy(get_settings().policy_path)
    except PolicyError as exc:
        raise Refused(f"{exc} (fix the file or set MISSING_EPISODES_POLICY)") from None


def serious_notification(episode_ref: str, rule_id: str | None, as_of: str | None) -> None:
    """The form can be written: the episode exists and a serious-notification rule applies (``as_of`` ISO)."""
    from missing_episodes.documents import DocumentError
    from missing_episodes.documents.forms import build_serious_notification
    from missing_episodes.jobs.context import Context

    context = Context.load()
    moment = datetime.fromisoformat(as_of) if as_of else None
    try:
        with context.session() as session:
            build_serious_notification(session, episode_ref, context.policy, rule_id=rule_id, as_of=moment)
    except DocumentError as exc:
        raise Refused(str(exc)) from None


#: The checks a desk answers, by the name a command asks for.
CHECKS: dict[str, Callable[..., None]] = {"policy": policy, "serious-notification": serious_notification}


def answer(question: object) -> dict[str, object]:
    """The desk's side: run the named check with the given arguments (strings or null only)."""
    if not isinstance(question, dict) or question.get("check") not in CHECKS:
        return {"error": "not a check this desk answers"}
    arguments = question.get("args", [])
    if not isinstance(arguments, list) or not all(value is None or isinstance(value, str) for value in arguments):
        return {"error": "a check's arguments are strings"}
    try:
        CHECKS[question["check"]](*arguments)
    except Refused as exc:
        return {"refused": str(exc)}
    except Exception as exc:  # not the user's mistake: the command checks again itself, and says what it finds
        return {"error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"}
    return {"ok": True}


def ask(check: str, *arguments: str | None) -> dict[str, object] | None:
    """The command's side: the desk's answer, or None when no desk answers on this output store."""
    path = check_socket()
    if not path.exists():
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(CONNECT_SECONDS)
            connection.connect(str(path))
            connection.settimeout(ANSWER_SECONDS)
            connection.sendall(json.dumps({"check": check, "args": list(arguments)}).encode("utf-8"))
            connection.shutdown(socket.SHUT_WR)
            reply = b"".join(iter(lambda: connection.recv(65536), b""))
        answered = json.loads(reply)
    except (OSError, ValueError):  # a socket left by a desk that stopped, a desk stopping: check here
        return None
    return answered if isinstance(answered, dict) else None


def checked(check: str, *arguments: str | None) -> None:
    """Run ``check`` on the desk if one answers, else here; ``Refused`` either way when the user must fix something."""
    answered = ask(check, *arguments)
    if answered is not None and "refused" in answered:
        raise Refused(str(answered["refused"]))
    if answered is None or not answered.get("ok"):
        CHECKS[check](*arguments)
