"""Every deployment definition loads, offline: its flow imports, its schedule is valid, its form has a schema.

No Prefect server and no test harness: building a ``RunnerDeployment`` only inspects the flow. This is the
check that a typo in ``deployments/__init__.py`` fails CI rather than the 08:30 run.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from prefect.server.schemas.schedules import CronSchedule as ServerCronSchedule

from deployments import DEPLOYMENTS, DESK_POOL, LONDON, TAG, WORK_POOL, build
from flows.operations import board_period
from missing_episodes.config import get_settings
from missing_episodes.findings import CONCERNS
from missing_episodes.forms import all_reasons
from missing_episodes.policy import load_policy
from missing_episodes.reports.periods import last_month_end, two_months_to

SPEC_IDS = [spec.full_name for spec in DEPLOYMENTS]


def _run(value):
    """``get_dates`` is a coroutine in some Prefect 3 releases and plain in others."""
    return asyncio.run(value) if inspect.isawaitable(value) else value


def test_names_are_unique_and_declared_once() -> None:
    assert len(SPEC_IDS) == len(set(SPEC_IDS))


@pytest.mark.parametrize("spec", DEPLOYMENTS, ids=SPEC_IDS)
def test_deployment_builds(spec) -> None:
    deployment = build(spec)
    # On-demand runs go to the desk (one warm process, answers in seconds); scheduled ones to the process workers,
    # and so do the fan-out's batches, whose point is to spread over every process worker of the pool.
    assert deployment.work_pool_name == (DESK_POOL if spec.desk else WORK_POOL)
    if spec.cron is not None:
        assert not spec.desk
    else:  # the command line's deployments on the desk; the UI's forms and the operators' ingest on the process
        # workers (several operators' ingests at once spread over the pool: tests/server/test_scale_out.py)
        assert spec.desk == ("command-line" in spec.tags)
    assert TAG in deployment.tags
    # The entrypoint is a module path the worker imports; it must name this very flow object.
    module_name, _, attribute = deployment.entrypoint.rpartition(".")
    assert getattr(importlib.import_module(module_name), attribute) is spec.flow
    # The parameter form: the parameters the spec shows (all, unless it lists some), each with a schema entry.
    schema = deployment._parameter_openapi_schema
    shown = set(spec.flow.parameters.properties) if spec.form is None else set(spec.form)
    assert set(schema.properties) == shown and shown <= set(spec.flow.parameters.properties)
    hidden_required = set(spec.flow.parameters.required or []) - shown - set(spec.parameters)
    if "command-line" not in spec.tags:  # the command gives every value; the UI has no form for these
        assert not hidden_required, f"a hidden parameter has no default: {hidden_required}"
    # The server checks every form's values; only the command line's deployments (no form) are checked by the
    # command and the flow instead.
    assert deployment.enforce_parameter_schema == ("command-line" not in spec.tags)
    if spec.desk:  # the desk runs in its own process: no job to configure
        assert not deployment.job_variables
    else:
        assert deployment.job_variables["working_dir"]
    assert "env" not in (deployment.job_variables or {})  # settings (passwords) stay in the worker's environment


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
    assert {"brief-for-date/Briefing for a chosen day", "regenerate-serious-notification/Serious notification for an "
            "episode", "record-outcome/Record an outcome"} <= set(crons)
    reviews = next(s for s in DEPLOYMENTS if s.flow.name == "recompute-actions")
    assert reviews.parameters["everyone"] is False
    # Wolverhampton 4.3: "a bimonthly report to evidence management oversight is on file".
    assert crons["bimonthly-oversight-report/every-second-month"] == ("0 7 1 */2 *", LONDON)


def _form(spec) -> dict:
    return build(spec)._parameter_openapi_schema.model_dump()


@pytest.mark.parametrize("spec", DEPLOYMENTS, ids=SPEC_IDS)
def test_forms_are_written_for_a_coordinator(spec) -> None:
    """Named by what it does, a time zone said for a schedule, no engineers' settings, no "X / None" toggles."""
    assert spec.name != "on-demand" and len(spec.description) > 60
    if spec.cron:
        assert ("London" in spec.description) if spec.timezone == LONDON else ("UTC" in spec.description)
    form = _form(spec)
    assert not {"sample", "out_dir", "sources_file"} & set(form["properties"])
    for name, field in form["properties"].items():
        assert not any(option.get("type") == "null" for option in field.get("anyOf", [])), name
        assert field.get("type") != "null"
        assert field["title"] != name or "operators" in spec.name, f"{name} has no title for a coordinator"
    if not spec.parameters:
        assert form["additionalProperties"] is False  # the JSON editor cannot add a field either


CODERS = [s for s in DEPLOYMENTS if "coordinators" in s.tags]
#: Every deployment whose form shows at least one field (``form=None`` shows every parameter).
WITH_A_FORM = [s for s in DEPLOYMENTS if s.form is None or s.form]


def test_fields_are_titled_without_the_projects_own_optional() -> None:
    """Prefect adds "(Optional)" to every field that is not required; a title saying so too reads twice."""
    for spec in DEPLOYMENTS:
        for name, field in _form(spec)["properties"].items():
            assert "optional" not in field["title"].lower(), (spec.full_name, name, field["title"])


@pytest.mark.parametrize("spec", WITH_A_FORM, ids=lambda s: s.full_name)
def test_every_form_forgets_what_failed_its_check_in_every_end_state(spec) -> None:
    """A form's checks can be switched off in the UI, so every flow a form starts scrubs its stored parameters when
    it ends, however it ends: its hooks are declared, and its checks cover every field the form shows."""
    from missing_episodes.forms import FIELD_CHECKS

    flow = spec.flow
    shown = set(_form(spec)["properties"])
    unchecked = shown - set(FIELD_CHECKS[flow.name])
    assert shown and not unchecked, f"fields without a check: {unchecked}"
    hook = f"forget-what-failed-its-check-{flow.name}"
    for end in ("on_completion_hooks", "on_failure_hooks", "on_crashed_hooks", "on_cancellation_hooks"):
        assert hook in [h.__name__ for h in getattr(flow, end)], f"{flow.name} has no {hook} in {end}"


def test_the_scheduled_and_operators_forms_are_among_those_scrubbed() -> None:
    """The walk above covers the forms it should (the parametrisation itself would pass on an empty list)."""
    assert {"daily-run", "weekly-list", "ingest-files", "record-outcome", "brief-for-date",
            "regenerate-serious-notification", "monthly-board-report"} == {s.flow.name for s in WITH_A_FORM}


@pytest.mark.parametrize("spec", CODERS, ids=lambda s: s.full_name)
def test_coordinator_forms_take_no_free_text(spec) -> None:
    """Every text field is a pattern without spaces or a fixed list: no field can hold a name or a note."""
    for name, field in _form(spec)["properties"].items():
        if field.get("type") == "string" and field.get("format") != "date":
            assert "enum" in field or "pattern" in field, name
            if "pattern" in field:
                for typed in ("Tesfaye", "Zoe OBrien 17/04/2010", "Zoë O'Brien", "17/04/2010"):
                    assert not re.search(field["pattern"], typed), (name, typed)
        assert field.get("description") and field.get("title"), name


def test_outcome_form_uses_the_policys_formats_and_reasons() -> None:
    policy = load_policy(get_settings().policy_path)
    fields = _form(next(s for s in DEPLOYMENTS if s.flow.name == "record-outcome"))["properties"]
    assert {"by", "notes", "rationale", "child_views"}.isdisjoint(fields)  # free text comes by the feed or the CLI
    assert fields["reason"]["enum"] == ["", *all_reasons(policy)]
    assert set(policy.forms.not_required_reasons) <= set(fields["reason"]["enum"])
    assert fields["concerns"]["items"]["enum"] == list(CONCERNS.values())
    assert "Return home interview completed" in fields["event"]["enum"]
    for good in ("P000101", "CH-0123456789AB"):
        assert re.search(fields["child"]["pattern"], good)
    assert re.search(fields["incident_ref"]["pattern"], "KBP-2026-000318")
    assert re.search(fields["incident_ref"]["pattern"], "")
    assert not re.search(fields["incident_ref"]["pattern"], "KBP-2026-318 ")
    assert fields["day"]["format"] == "date" and "YYYY-MM-DD" in fields["day"]["title"]


@pytest.mark.parametrize(
    ("months", "last_month", "today", "expected"),
    [
        (1, "", date(2026, 12, 1), (date(2026, 11, 1), date(2026, 11, 30))),
        (1, "", date(2026, 3, 15), (date(2026, 2, 1), date(2026, 2, 28))),
        (6, "", date(2026, 7, 1), (date(2026, 1, 1), date(2026, 6, 30))),
        (1, "2026-12", date(2027, 3, 1), (date(2026, 12, 1), date(2026, 12, 31))),
        (3, "2026-02", date(2027, 3, 1), (date(2025, 12, 1), date(2026, 2, 28))),
    ],
)
def test_board_report_covers_whole_months(months, last_month, today, expected) -> None:
    assert board_period(months, last_month, today) == expected


@pytest.mark.parametrize(
    ("today", "period"),
    [
        (date(2027, 1, 1), (date(2026, 11, 1), date(2026, 12, 31))),
        (date(2027, 3, 1), (date(2027, 1, 1), date(2027, 2, 28))),  # to the end of February: from 1 January
        (date(2028, 3, 1), (date(2028, 1, 1), date(2028, 2, 29))),
        (date(2026, 5, 1), (date(2026, 3, 1), date(2026, 4, 30))),
    ],
)
def test_the_bimonthly_oversight_list_covers_the_two_whole_months_just_ended(today, period) -> None:
    window = two_months_to(last_month_end(today))
    assert (window.start, window.end) == period


@pytest.mark.parametrize("given", ["postgresql://prefect:pw@127.0.0.1:5432/prefect",
                                   "postgresql+psycopg://prefect:pw@127.0.0.1:5432/prefect",
                                   "postgresql+asyncpg://prefect:pw@127.0.0.1:5432/prefect"])
def test_prefect_s_server_gets_its_async_driver_whatever_url_it_is_given(given: str, tmp_path) -> None:
    """The product's (and tests.pg's) URLs name psycopg or no driver; Prefect's server opens asyncpg only."""
    from deployments.local import server_settings

    url = server_settings(tmp_path, 4200, given)["PREFECT_API_DATABASE_CONNECTION_URL"]
    assert url == "postgresql+asyncpg://prefect:pw@127.0.0.1:5432/prefect"
    assert "PREFECT_API_DATABASE_CONNECTION_URL" not in server_settings(tmp_path, 4200)  # SQLite in its home
