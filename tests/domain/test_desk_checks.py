"""The checks a desk answers for a command (``missing_episodes.desk``), without Prefect: what each answer says,
what a desk may be asked, and a command's fallback to checking for itself when no desk answers."""

from __future__ import annotations

import json
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from missing_episodes import desk

BAD_YAML = "rules: [unclosed\n"


@pytest.fixture
def short_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An output store with a path short enough for a Unix socket (pytest's own can be over 100 bytes)."""
    with tempfile.TemporaryDirectory(prefix="me-") as folder:
        monkeypatch.setenv("MISSING_EPISODES_OUTPUT_DIR", folder)
        yield Path(folder)


def _bad_policy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(BAD_YAML, encoding="utf-8")
    monkeypatch.setenv("MISSING_EPISODES_POLICY", str(tmp_path / "policy.yaml"))


def test_the_answers_say_ok_refused_or_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                             sqlite_url: str) -> None:
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    assert desk.answer({"check": "policy", "args": []}) == {"ok": True}
    refused = desk.answer({"check": "serious-notification", "args": ["EP-NOPE", None, "2026-11-02T08:30:00+00:00"]})
    assert "no episode EP-NOPE" in str(refused["refused"])
    _bad_policy(monkeypatch, tmp_path)
    assert "not valid YAML" in str(desk.answer({"check": "policy", "args": []})["refused"])


@pytest.mark.parametrize("question", [
    {"check": "os.system", "args": ["true"]},
    {"check": "policy", "args": [1]},
    {"check": "policy", "args": "x"},
    ["policy"],
], ids=["not-a-check", "a-number", "not-a-list", "not-an-object"])
def test_a_desk_answers_only_the_named_checks_with_string_arguments(question: object) -> None:
    assert set(desk.answer(question)) == {"error"}


def _desk_answering(path: Path, reply: dict[str, object], asked: list[object]) -> threading.Thread:
    """A stand-in desk that answers one question with ``reply``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def serve() -> None:
        with server:
            connection, _ = server.accept()
            with connection:
                asked.append(json.loads(b"".join(iter(lambda: connection.recv(4096), b""))))
                connection.sendall(json.dumps(reply).encode())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_a_command_takes_the_desk_s_answer_and_checks_for_itself_when_none_comes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, short_store: Path
) -> None:
    """The command's own policy file is broken here: an "ok" from the desk passes (the desk checked the one its
    flows use), the desk's refusal is what the command says, and with no desk (or a socket a stopped desk left
    behind, or a desk that failed) the command finds its own file's fault."""
    _bad_policy(monkeypatch, tmp_path)
    asked: list[object] = []

    stand_in = _desk_answering(desk.check_socket(), {"ok": True}, asked)
    desk.checked("policy")
    assert asked == [{"check": "policy", "args": []}]

    stand_in.join()
    desk.check_socket().unlink()
    stand_in = _desk_answering(desk.check_socket(), {"refused": "no episode EP-NOPE"}, asked)
    with pytest.raises(desk.Refused, match=r"^no episode EP-NOPE$"):
        desk.checked("serious-notification", "EP-NOPE", None, None)
    assert asked[-1] == {"check": "serious-notification", "args": ["EP-NOPE", None, None]}

    stand_in.join()
    desk.check_socket().unlink()
    stand_in = _desk_answering(desk.check_socket(), {"error": "OperationalError: database is locked"}, asked)
    with pytest.raises(desk.Refused, match="not valid YAML"):
        desk.checked("policy")

    stand_in.join()  # it has stopped listening: its socket file is left, as a killed desk's would be
    with pytest.raises(desk.Refused, match="not valid YAML"):
        desk.checked("policy")
    desk.check_socket().unlink()
    with pytest.raises(desk.Refused, match="not valid YAML"):
        desk.checked("policy")
