"""A whole Prefect stack on this machine: server, deployments applied, one process worker, the desk (the on-demand
runs' worker, ``deployments.desk``), an alert receiver.

The real-server tests, the browser tests and ``scripts/screenshots`` all need the same thing: the project exactly
as an authority would run it (``python -m deployments``'s apply step, a worker on the pool with the product's
settings in its environment), but throwaway, on loopback, in one temporary folder. ``start_stack`` builds it and
``LocalStack.stop`` removes it; every wait is bounded (see ``deployments.local``).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, TypeVar

from deployments import DEPLOYMENTS, WORK_POOL
from deployments.local import PrefectServer, start_server, wait_for
from missing_episodes.config import DATA_DIR

#: How long ``LocalStack.run`` waits for a run to reach a final state.
RUN_TIMEOUT_S = 420.0

T = TypeVar("T")


class AlertReceiver(BaseHTTPRequestHandler):
    """Stands in for the on-call webhook: keeps every alert POSTed to it (the automation's message)."""

    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append(json.loads(body or b"{}"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class LocalStack:
    """A running stack: its server, its folder, the product database the worker writes, the alerts received."""

    server: PrefectServer
    root: Path
    product_db: str
    alerts: list[dict[str, Any]]
    alert_server: HTTPServer
    timings: dict[str, float] = field(default_factory=dict)
    #: SCHEDULED runs the scheduler service created for each cron deployment, when the caller counted them.
    scheduled: dict[str, int] = field(default_factory=dict)

    @property
    def output_dir(self) -> Path:
        """Where the worker's runs write documents (``MISSING_EPISODES_OUTPUT_DIR``)."""
        return self.root / "out"

    @property
    def worker_log(self) -> Path:
        """The process worker's console (what an operator watching it would see)."""
        return self.server.home / "worker-worker-1.log"

    @property
    def desk_log(self) -> Path:
        """The desk's console: the on-demand runs' logs (``deployments.desk``)."""
        return self.server.home / "desk-desk-1.log"

    @property
    def console_logs(self) -> tuple[Path, ...]:
        return self.worker_log, self.desk_log

    def console(self) -> str:
        """Everything both workers printed."""
        return "".join(log.read_text(encoding="utf-8", errors="replace") for log in self.console_logs
                       if log.exists())

    def run_unchecked(self, name: str, parameters: dict[str, Any], **kwargs: Any):
        """A run created as the UI creates it with "Validate parameters" unticked (the server's schema check off),
        then waited for (bounded) until it is final. Returns the flow run."""
        import httpx

        flow_name, deployment_name = name.split("/", 1)
        with httpx.Client(base_url=self.server.api_url, timeout=30) as http:
            deployment = http.get(f"/deployments/name/{flow_name}/{deployment_name}").raise_for_status().json()
            for attempt in range(5):  # a busy SQLite answers 503 now and then; Prefect's own client retries too
                response = http.post(f"/deployments/{deployment['id']}/create_flow_run", json={
                    "parameters": parameters, "enforce_parameter_schema": False, **kwargs})
                if response.status_code != 503:
                    break
                time.sleep(1 + 2 * attempt)
            created = response.raise_for_status().json()
        return self.wait_final(created["id"])

    def wait_final(self, flow_run_id: Any, after: float = 0.0):
        """The flow run once it is in a final state (and, with ``after``, has ended after that moment, given in
        epoch seconds)."""

        async def read(client, run_id):
            return await client.read_flow_run(run_id)

        def final():
            flow_run = self.call(read, flow_run_id)
            ended = flow_run.end_time.timestamp() if flow_run.end_time else 0
            return flow_run if flow_run.state.is_final() and ended >= after else None

        return wait_for(final, RUN_TIMEOUT_S, f"flow run {flow_run_id} final", interval=1)

    def run(self, name: str, parameters: dict[str, Any] | None = None, **kwargs: Any):
        """Start a run of deployment ``name`` and wait (bounded) for a final state; returns the flow run."""
        from prefect.deployments import run_deployment

        with self.server.client_settings():
            return run_deployment(name, parameters=parameters or {}, timeout=RUN_TIMEOUT_S, poll_interval=1,
                                  **kwargs)

    def call(self, coroutine_function: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``coroutine_function(client, *args)`` against this server."""
        from prefect import get_client

        async def go() -> T:
            async with get_client() as client:
                return await coroutine_function(client, *args)

        with self.server.client_settings():
            return asyncio.run(go())

    def prefect_db(self) -> Path:
        """Prefect's own SQLite database (everything the server keeps: runs, parameters, logs, events, …)."""
        return self.server.home / "prefect.db"

    def stop(self) -> None:
        """Stop the worker, the server and the alert receiver, and delete the folder; safe to call twice."""
        self.server.stop()
        self.alert_server.shutdown()
        shutil.rmtree(self.root, ignore_errors=True)


def start_stack(root: Path, *, worker_env: dict[str, str] | None = None, server_env: dict[str, str] | None = None,
                before_worker: Callable[[LocalStack], None] | None = None) -> LocalStack:
    """Server in ``root/prefect-home``, product database ``root/product.db``, deployments applied, one process
    worker and the desk.

    The worker gets the product's settings in its environment (never in job variables, which Prefect stores in
    clear) plus ``worker_env``; the server gets ``server_env`` on top of ``deployments.local.server_settings``.
    ``before_worker`` runs after the apply step and before the worker starts (the real-server tests count the
    scheduled runs there, then pause the schedules). The caller owns the stack: call ``stop()``.
    """
    from deployments.apply import apply
    from missing_episodes.db.engine import make_engine, upgrade

    root.mkdir(parents=True, exist_ok=True)
    alert_server = HTTPServer(("127.0.0.1", 0), AlertReceiver)
    threading.Thread(target=alert_server.serve_forever, daemon=True).start()
    product_db = f"sqlite:///{root / 'product.db'}"
    upgrade(product_db)
    make_engine(product_db).dispose()
    try:
        server = start_server(root / "prefect-home", extra_env=server_env)
    except BaseException:
        alert_server.shutdown()
        raise
    stack = LocalStack(server, root, product_db, AlertReceiver.received, alert_server)
    try:
        stack.timings = {"server_start_s": server.start_seconds, "server_rss_mb": server.rss_mb()}
        started = time.monotonic()
        with server.client_settings():
            asyncio.run(apply(alert_webhook=f"http://127.0.0.1:{alert_server.server_port}/alert"))
        stack.timings["apply_s"] = time.monotonic() - started
        if before_worker is not None:
            before_worker(stack)
        started = time.monotonic()
        product = {"MISSING_EPISODES_DATABASE_URL": product_db, "MISSING_EPISODES_OUTPUT_DIR": str(stack.output_dir)}
        # The worker asks for work every 10 s by default; 2 s keeps waits for a run short.
        server.start_worker(WORK_POOL, "worker-1", limit=2,
                            env={**product, "PREFECT_WORKER_QUERY_SECONDS": "2", **(worker_env or {})})
        stack.timings["worker_online_s"] = time.monotonic() - started
        started = time.monotonic()
        server.start_desk("desk-1", env={**product, **(worker_env or {})})
        stack.timings["desk_online_s"] = time.monotonic() - started
    except BaseException:
        stack.stop()
        raise
    return stack


def deployment_of(flow_name: str) -> str:
    """``flow-name/deployment-name`` of the (first) deployment of a flow: names are the forms' to choose."""
    return next(spec.full_name for spec in DEPLOYMENTS if spec.flow.name == flow_name)


def load_sample_feed(stack: LocalStack) -> list[Any]:
    """The bundled synthetic feed through the operators' "ingest named files" deployment, as on a new server:
    register, police notifications (with the damaged rows that go to quarantine), outcomes, then the rules once.
    Returns the three flow runs (each final; the caller checks them)."""
    sample = DATA_DIR / "sample"
    files = {"children": ["children.csv"], "notifications": ["notifications.csv", "damaged.csv"],
             "outcomes": ["outcomes.csv"]}
    name = deployment_of("ingest-files")
    return [stack.run(name, {"kind": kind, "paths": [str(sample / f) for f in names if (sample / f).exists()],
                             "run_rules": kind == "outcomes"})
            for kind, names in files.items()]
