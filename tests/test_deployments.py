"""Every deployment definition loads, offline: its flow imports, its schedule is valid, its form has a schema.

No Prefect server and no test harness: building a ``RunnerDeployment`` only inspects the flow. This is the
check that a typo in ``deployments/__init__.py`` fails CI rather than the 08:30 run.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from prefect.server.schemas.schedules import CronSchedule as ServerCronSchedule
from pydantic import SecretStr

from deployments import DEPLOYMENTS, LONDON, TAG, WORK_POOL, build
from flows.operations import BoardReportRequest, OutcomeRequest, board_period

SPEC_IDS = [spec.full_name for spec in DEPLOYMENTS]


def _run(value):
    """``get_dates`` is a coroutine in some Prefect 3 releases and plain in others."""
    return asyncio.run(value) if inspect.isawaitable(value) else value


def test_names_are_unique_and_declared_once() -> None:
    assert len(SPEC_IDS) == len(set(SPEC_IDS))


@pytest.mark.parametrize("spec", DEPLOYMENTS, ids=SPEC_IDS)
def test_deployment_builds(spec) -> None:
    deployment = build(spec)
    assert deployment.work_pool_name == WORK_POOL
    assert TAG in deployment.tags
    # The entrypoint is a module path the worker imports; it must name this very flow object.
    module_name, _, attribute = deployment.entrypoint.rpartition(".")
    assert getattr(importlib.import_module(module_name), attribute) is spec.flow
    # The parameter form: every parameter of the flow has a schema entry, so the UI can render it.
    schema = deployment._parameter_openapi_schema
    assert set(schema.properties) == set(spec.flow.parameters.properties)
    assert deployment.enforce_parameter_schema
    assert deployment.job_variables["working_dir"]
    assert "env" not in deployment.job_variables  # settings (passwords) stay in the worker's environment


@pytest.mark.parametrize("spec", [s for s in DEPLOYMENTS if s.cron], ids=lambda s: s.full_name)
def test_schedules_are_cron_in_a_zone_and_avoid_the_clock_change(spec) -> None:
    deployment = build(spec)
    (schedule,) = deployment.schedules
    assert schedule.schedule.cron == spec.cron
    zone = ZoneInfo(schedule.schedule.timezone)
    # The server's own schedule arithmetic (what the scheduler service will create), over the autumn change.
    server_schedule = ServerCronSchedule(cron=spec.cron, timezone=spec.timezone)
    runs = _run(server_schedule.get_dates(n=400, start=datetime(2026, 10, 20, tzinfo=zone)))
    assert len(runs) == 400
    if spec.timezone == LONDON:
        # Local-time jobs never fall in 01:00-02:59, where Prefect's cron mishandles the change of clocks.
        for moment in runs:
            assert not 1 <= moment.astimezone(zone).hour <= 2, f"{spec.full_name} runs at {moment}"
    else:
        assert spec.timezone == "UTC", "a job without a clock-time meaning runs on UTC, which has no clock change"


def test_the_main_schedules_are_the_ones_asked_for() -> None:
    crons = {spec.full_name: (spec.cron, spec.timezone) for spec in DEPLOYMENTS}
    assert crons["daily-run/working-days-0830"] == ("30 8 * * 1-5", LONDON)
    assert crons["recompute-actions/long-term-missing-reviews"][1] == LONDON
    assert crons["ingest-sources/every-5-minutes"][0].endswith("/5 * * * *")
    assert {"brief-for-date/on-demand", "regenerate-serious-notification/on-demand",
            "record-outcome/on-demand"} <= set(crons)
    reviews = next(s for s in DEPLOYMENTS if s.flow.name == "recompute-actions")
    assert reviews.parameters["everyone"] is False


def test_outcome_form_masks_free_text_and_names_no_child() -> None:
    deployment = build(next(s for s in DEPLOYMENTS if s.flow.name == "record-outcome"))
    schema = deployment._parameter_openapi_schema.model_dump()
    fields = schema["definitions"]["OutcomeRequest"]["properties"]
    for name in ("notes", "rationale", "by"):
        secret = next(option for option in fields[name]["anyOf"] if option.get("type") == "string")
        assert secret.get("format") == "password" and secret.get("writeOnly"), name  # a password field in the UI
    assert "CH-" in fields["child"]["description"]
    assert fields["event"]["enum"] if "enum" in fields["event"] else fields["event"]["anyOf"]
    # A model holding free text dumps (as Prefect serialises parameters) to the mask, never the text.
    request = OutcomeRequest(child="P000101", event="rhi_completed", notes=SecretStr("Saw Jane Example"))
    assert "Jane" not in request.model_dump_json()


@pytest.mark.parametrize(
    ("months", "today", "expected"),
    [
        (1, date(2026, 12, 1), (date(2026, 11, 1), date(2026, 11, 30))),
        (1, date(2026, 3, 15), (date(2026, 2, 1), date(2026, 2, 28))),
        (6, date(2026, 7, 1), (date(2026, 1, 1), date(2026, 6, 30))),
    ],
)
def test_board_report_covers_whole_previous_months(months, today, expected) -> None:
    assert board_period(BoardReportRequest(months=months), today) == expected
    assert expected[1] - expected[0] < timedelta(days=31 * months)
