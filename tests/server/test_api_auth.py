"""The production recipe's Prefect API is behind basic authentication (issue 16, item 15).

A real ``prefect server start`` with the project's settings and a credential (``deployments.local``, what
``scripts/prefect-server`` runs): a request without it is refused (401) on writes and on the admin settings, with
a wrong one too; Prefect's own client given ``PREFECT_API_AUTH_STRING`` works, and a process worker started with
the credential in its environment comes ONLINE (it heartbeats through the API). The UI is off to save the start
cost; only ``/api/health`` stays open (for probes).
"""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from deployments.local import api_credential, basic_auth_headers, running_server

pytestmark = [pytest.mark.slow]

CREDENTIAL = "missing-episodes:correct-horse-battery-staple"


def test_the_api_refuses_every_call_without_the_credential_and_clients_with_it_work(tmp_path: Path) -> None:
    with running_server(tmp_path / "prefect", ui=False, auth_string=CREDENTIAL) as server:
        api = server.api_url
        assert httpx.get(f"{api}/health", timeout=10).status_code == 200  # probes stay open
        assert httpx.post(f"{api}/flows/", json={"name": "intruder"}, timeout=10).status_code == 401
        assert httpx.get(f"{api}/admin/settings", timeout=10).status_code == 401
        wrong = {"Authorization": "Basic " + "bWlzc2luZy1lcGlzb2Rlczp3cm9uZw=="}  # missing-episodes:wrong
        assert httpx.post(f"{api}/flows/", json={"name": "intruder"}, headers=wrong, timeout=10).status_code == 401

        headers = basic_auth_headers(server.env)
        created = httpx.post(f"{api}/flows/", json={"name": "with-credential"}, headers=headers, timeout=10)
        assert created.status_code in (200, 201)

        async def through_prefects_client() -> str:
            from prefect import get_client

            async with get_client() as client:
                flow_id = await client.create_flow_from_name("through-the-client")
                return (await client.read_flow(flow_id)).name

        with server.client_settings():
            assert asyncio.run(through_prefects_client()) == "through-the-client"

        # A worker, as docs/operations.md starts it: the credential in its environment (server.env has it).
        assert server.env["PREFECT_API_AUTH_STRING"] == CREDENTIAL
        pool = httpx.post(f"{api}/work_pools/", json={"name": "auth-pool", "type": "process"}, headers=headers,
                          timeout=10)
        assert pool.status_code in (200, 201)
        server.start_worker("auth-pool", "auth-worker", limit=1)  # returns once the server lists it ONLINE

        # Without the credential a client is refused: Prefect's CLI, as an operator without it would run it.
        env = {k: v for k, v in server.env.items() if k != "PREFECT_API_AUTH_STRING"}
        refused = subprocess.run([str(Path(sys.executable).with_name("prefect")), "flow", "ls"], env=env,
                                 capture_output=True, text=True, timeout=120)
        assert refused.returncode != 0 and "401" in refused.stdout + refused.stderr


def test_the_recipe_makes_a_private_credential_file_once_and_prefers_the_environment(tmp_path: Path,
                                                                                      monkeypatch) -> None:
    monkeypatch.delenv("PREFECT_SERVER_API_AUTH_STRING", raising=False)
    credential, path = api_credential(tmp_path / "home")
    assert path == tmp_path / "home" / "api-auth"
    user, password = credential.split(":", 1)
    assert user == "missing-episodes" and len(password) >= 24
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert api_credential(tmp_path / "home") == (credential, path)  # kept, not regenerated
    monkeypatch.setenv("PREFECT_SERVER_API_AUTH_STRING", CREDENTIAL)
    assert api_credential(tmp_path / "home") == (CREDENTIAL, None)
