"""Running a Prefect flow from a command, so that a failure inside it says its cause in one line and where the
whole story is.

A flow that fails raises its exception into the command. A user then saw Prefect's log lines and a long
traceback ending "rerun the CLI command for the detail". Here the command prints one line, ``error: <what> failed:
<ExceptionType>: <message>`` (the product's errors name refs and fields, never a child's details), writes the
traceback to a log file it names (``<output dir>/log/cli-errors.log``, readable by its owner only), and exits 1:
not a user mistake (that is exit 2, caught before the flow starts), but something an operator looks at.
"""

from __future__ import annotations

import inspect
import os
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from cli._app import one_line
from missing_episodes.config import get_settings


def prefect_server_configured() -> bool:
    """``PREFECT_API_URL`` in the environment (read without importing Prefect, which costs a second or more).

    Without a server, a command that only renders, files and mails calls its jobs directly: running its flow would
    start a temporary Prefect server (15-20 s) only to record the run in this machine's local Prefect database,
    which no running server shows. With one, the flow runs there and the run is recorded as a scheduled one is.
    """
    return bool(os.environ.get("PREFECT_API_URL"))


def produce_and_deliver(what: str, produce: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, object]:
    """A document's jobs without Prefect: render (``missing_episodes.jobs.documents.produce_*``), then file and mail
    it once per key; the same result a document flow returns (key, counts, files, delivery, store)."""
    from missing_episodes.jobs.documents import deliver_produced

    def both() -> dict[str, object]:
        produced = produce(*args, **kwargs)
        outcome = deliver_produced(produced)
        return {"key": produced.key, "counts": produced.counts, "files": produced.files,
                "delivery": outcome.status, "store": outcome.location}

    return run_flow(what, both)


def error_log() -> Path:
    return get_settings().output_dir / "log" / "cli-errors.log"


def run_flow(what: str, flow: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``flow`` (sync or async) and return its result; a failure is one line, a log entry and exit 1."""
    try:
        result = flow(*args, **kwargs)
        if inspect.isawaitable(result):
            import asyncio

            return asyncio.run(result)
        return result
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:
        where = _log_failure(what, exc)
        cause = one_line(f"{type(exc).__name__}: {exc}", limit=300)
        typer.echo(f"error: {what} failed: {cause}{_hint(exc)} (traceback in {where})", err=True)
        raise typer.Exit(1) from None


def _hint(exc: BaseException) -> str:
    """What to do about the one failure a busy machine causes by itself: Prefect's server starting too slowly."""
    if "ephemeral Prefect API server" in str(exc):
        return ("; Prefect's temporary server started too slowly: set PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
                "=180, or start a server once (scripts/prefect-server) and set PREFECT_API_URL")
    return ""


def _log_failure(what: str, exc: BaseException) -> Path:
    path = error_log()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as log:
        log.write(f"--- {datetime.now(UTC).isoformat(timespec='seconds')} {what} failed\n")
        log.write("".join(traceback.format_exception(exc)))
    return path
