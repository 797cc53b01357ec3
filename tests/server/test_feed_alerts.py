"""A feed that loops reaches the on-call webhook while the run carries on (issue 16, item 9).

The five-minute ingest deployment polls an HTTP feed on loopback whose ``next`` cursor loops back; the real
worker runs it on the shared stack. The poll stores what it read and stops at the loop, the run completes (the
other feeds and the rules are not held up), and the ``missing-episodes: feed alert`` automation posts one line
naming the source and the page, and nothing of the rows, to the webhook.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deployments.local import wait_for
from tests.builders.feed_server import FeedPlan, feed_server
from tests.builders.feeds import message
from tests.server.stack import stack

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect-server")]

ROWS = [message(f"LOOP{n:02d}", "2026-04-01T10:00:00", "missing", f"INC-LOOP{n:02d}", first_name="Ada",
                last_name="Quill", date_of_birth="2011-02-03") for n in range(30)]


def test_a_looping_feed_alerts_on_call_and_the_run_completes(tmp_path: Path) -> None:
    current = stack()
    plan = FeedPlan(ROWS, page_size=10, loop_at="p20", loop_to="p10")
    with feed_server(plan) as url:
        sources = tmp_path / "sources.yaml"
        sources.write_text(f"sources:\n  - {{name: loop-api, feed: notifications, type: http, url: '{url}', "
                           "backoff_seconds: 0}\n", encoding="utf-8")
        # ``sources_file`` is an engineer's setting, off the form: sent as the JSON editor would send it. A product
        # database of its own, so the shared stack's other tests never see these rows.
        flow_run = current.run_unchecked(
            "ingest-sources/every-5-minutes", {"sources_file": str(sources), "run_rules": False},
            job_variables={"env": {"MISSING_EPISODES_DATABASE_URL": f"sqlite:///{tmp_path / 'product.db'}"}})
    assert flow_run.state.is_completed(), flow_run.state.message
    assert plan.asked == ["", "p10", "p20"]  # three pages, then the loop was refused: no fourth request

    def alerted():
        return [a for a in current.alerts if "loop-api" in a.get("subject", "") + a.get("body", "")]

    (alert,) = wait_for(alerted, 120, "feed alert")  # type: ignore[misc]
    assert "needs attention" in alert["subject"]
    assert "loop" in alert["body"] and "page 3" in alert["body"]
    text = json.dumps(alert).lower()
    assert "ada" not in text and "quill" not in text and "2011" not in text
