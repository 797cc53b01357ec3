"""The coordinators' forms, filled in Prefect's UI in headless Chromium, leave nothing personal in Prefect.

Each test opens a coordinator deployment's "Run ▸ Custom run" form on the shared real-server stack
(tests/test_prefect_server.py), fills it as a coordinator would, or as one might by mistake (a child's name,
date of birth or a note typed into a ref field; "Validate parameters" unticked and the JSON editor used), submits
it, waits for the run's final state, and then searches every table of Prefect's database, and the worker's
console log, for every name, date of birth and note typed and for every child of the bundled feed
(tests/test_privacy.py's search). Playwright drives the system's Chromium (tests/prefect_ui.py); skipped without
Chromium or Playwright unless CI is set.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deployments.local import wait_for
from deployments.stack import deployment_of, load_sample_feed
from tests.pg import in_ci
from tests.server.leaks import dump_prefect_database, leaks, personal_strings, spellings
from tests.server.prefect_ui import PrefectUI, browser_page, chromium_path
from tests.server.stack import stack

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect-server")]

#: The morning the bundled feed ends on (its manifest's as_of): the briefing and outcomes are for that day.
SAMPLE_DAY = "2026-11-02"
#: What a coordinator might type by mistake: names (a child's, a colleague's, a friend's), a date of birth, notes.
TYPED = {
    "child_name": "Zoë O'Brien",
    "surname": "Tesfaye",
    "incident_with_name": "Zoe OBrien 17/04/2010",
    "colleague": "Quentin Marchbanks",
    "note": "Spoke with Xanthe Quillfeather at the bus station",
    "date_of_birth": "17/04/2010",
}


#: How a run refused in the flow ends: Failed (a value failed its check) or Crashed (the engine refused the
#: parameters before the flow started, e.g. a field the flow does not have).
NOT_DONE = frozenset({"FAILED", "CRASHED"})
#: How long a refused run's hook may take, after its final state, to forget what it was given.
HOOK_GRACE_S = 15.0


def typed_strings() -> set[str]:
    return spellings({*TYPED.values(), "Zoe OBrien", "Xanthe Quillfeather"})


@pytest.fixture
def ui(tmp_path: Path):
    """A fresh browser page on the shared stack's UI, the bundled feed loaded once per process."""
    executable = chromium_path()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        executable = None
    if executable is None:
        if in_ci():
            pytest.fail("CI is set and Chromium or Playwright is missing", pytrace=False)
        pytest.skip("chromium or playwright not installed (apt-get install -y chromium; pip install -e '.[test]')")
    _sample_loaded()
    with browser_page(executable) as page:
        yield PrefectUI(page, stack().server.ui_url)


@pytest.fixture
def before(ui: PrefectUI) -> _Baseline:
    """Prefect's database and the worker's console as they were before this test's form was filled."""
    return _baseline()


@functools.cache
def _sample_loaded() -> None:
    for flow_run in load_sample_feed(stack()):
        assert flow_run.state.is_completed(), f"{flow_run.name}: {flow_run.state.message}"


def _product(sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(stack().product_db.removeprefix("sqlite:///")) as connection:
        return connection.execute(sql, args).fetchall()


def _open_rhi() -> tuple[str, str]:
    """(person id, police incident ref) of a child with an open return home interview in the product database."""
    rows = _product(
        "SELECT c.person_id, e.incident_ref FROM action a JOIN episode e ON e.id = a.episode_id "
        "JOIN child c ON c.id = e.child_id WHERE a.kind = 'return_home_interview' AND a.status = 'open' "
        "AND c.person_id IS NOT NULL ORDER BY a.due_at DESC LIMIT 1")
    assert rows, "the bundled feed leaves an open return home interview"
    return rows[0]


def _serious_episode() -> str:
    """The police incident ref of an episode with a serious notification action."""
    rows = _product(
        "SELECT e.incident_ref FROM action a JOIN episode e ON e.id = a.episode_id "
        "WHERE a.kind = 'serious_notification' ORDER BY e.incident_ref LIMIT 1")
    assert rows, "the bundled feed has a serious notification"
    return rows[0][0]


def _runs_of(ui: PrefectUI, full_name: str) -> int:
    deployment = ui.deployment(full_name)
    response = ui.page.request.post(f"{ui.api}/flow_runs/count",
                                    data={"deployments": {"id": {"any_": [deployment["id"]]}}})
    return int(response.json())


@dataclass
class _Baseline:
    """What was already in Prefect's database and on the worker's console when a test began: each test answers
    for what its own form put there (an earlier test's leak fails that test, not every later one)."""

    leaks: dict[str, list[str]]
    #: Each console (the process worker's, the desk's, which runs the forms' flows) and its size then.
    console_offsets: dict[Path, int]


def _needles() -> set[str]:
    return personal_strings() | typed_strings()


def _baseline() -> _Baseline:
    return _Baseline(leaks(dump_prefect_database(stack().prefect_db()), _needles()),
                     {log: log.stat().st_size if log.exists() else 0 for log in stack().console_logs})


def _assert_nothing_personal_kept(before: _Baseline) -> None:
    """Every table of Prefect's database and the worker's console: no name, DOB or note of the feed or typed.

    A refused run's end-state hook forgets its parameters just after the Failed state is stored (Prefect runs a
    flow's hooks once the state is set), so the database is read again for up to ``HOOK_GRACE_S`` seconds."""
    deadline = time.monotonic() + HOOK_GRACE_S
    while True:
        now = leaks(dump_prefect_database(stack().prefect_db()), _needles())
        new = {table: [n for n in found if n not in before.leaks.get(table, [])] for table, found in now.items()}
        if not any(new.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert {table: found for table, found in new.items() if found} == {}, "in Prefect's database"
    for log, offset in before.console_offsets.items():
        with open(log, encoding="utf-8", errors="replace") as handle:
            handle.seek(offset)
            console = handle.read().lower()
        assert sorted(n for n in _needles() if n in console) == [], f"on the console {log.name}"


def _stored_parameters(ui: PrefectUI, run_id: str) -> str:
    return json.dumps(ui.flow_run(run_id)["parameters"], ensure_ascii=False).lower()


def _scrubbed_parameters(ui: PrefectUI, run_id: str) -> str:
    """The run's stored parameters once nothing typed is left in them, or its last ones after 30 s. A run with fields
    its flow does not have crashes before the flow starts; the worker reports the crash and then runs the
    on_crashed hook, so the final state is seen a moment before the scrub."""
    last: list[str] = []

    def clean() -> bool:
        last[:] = [_stored_parameters(ui, run_id)]
        return not [n for n in typed_strings() if n in last[0]]

    with contextlib.suppress(TimeoutError):
        wait_for(clean, 30, "stored parameters scrubbed", interval=0.5)
    return last[0]


def _submit_json_without_validation(ui: PrefectUI, full_name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Untick "Validate parameters", type ``parameters`` into the JSON editor, submit, wait for the final state."""
    ui.open_custom_run(full_name)
    ui.validate_parameters(False)
    ui.use_json(parameters)
    run_id = ui.submit()
    assert run_id, f"with validation off the UI creates the run ({ui.refusal})"
    return ui.wait_final(run_id)


def _refused_by_the_form(ui: PrefectUI, full_name: str, values: dict[str, Any]) -> None:
    """Fill the form (validation on) with a name in every ref field: the form must refuse, no run is created."""
    before = _runs_of(ui, full_name)
    ui.open_custom_run(full_name)
    ui.fill(values)
    assert ui.submit() is None, "a name in a ref field is refused by the form"
    assert ui.refusal, "and the refusal is seen (in the form or in the server's answer)"
    assert _runs_of(ui, full_name) == before


# -- Record an outcome -----------------------------------------------------------------------------------------


def test_record_outcome_filled_as_a_coordinator_completes(ui: PrefectUI, before: _Baseline) -> None:
    person_id, incident_ref = _open_rhi()
    name = deployment_of("record-outcome")
    ui.open_custom_run(name)
    ui.fill({"child": person_id, "incident_ref": incident_ref, "event": "Return home interview completed",
             "day": SAMPLE_DAY})
    run_id = ui.submit()
    assert run_id, ui.refusal
    run = ui.wait_final(run_id)
    assert run["state"]["type"] == "COMPLETED", run["state"].get("message")
    assert incident_ref in run["name"] and "RHI completed" in run["name"], "the run name says what it was for"
    _assert_nothing_personal_kept(before)


def test_record_outcome_refuses_names_in_its_ref_fields(ui: PrefectUI, before: _Baseline) -> None:
    _refused_by_the_form(ui, deployment_of("record-outcome"), {
        "child": TYPED["child_name"], "incident_ref": TYPED["incident_with_name"],
        "event": "Return home interview completed", "day": SAMPLE_DAY})
    _assert_nothing_personal_kept(before)


def test_record_outcome_without_validation_fails_and_forgets_what_was_typed(ui: PrefectUI, before: _Baseline) -> None:
    """JSON input, checks off, names in the refs and free text the form does not even have: a failed run, and
    none of it stays in the run's parameters, its state message, logs, events or the worker's console."""
    run = _submit_json_without_validation(ui, deployment_of("record-outcome"), {
        "child": TYPED["surname"], "incident_ref": TYPED["incident_with_name"],
        "event": "Return home interview completed", "day": SAMPLE_DAY,
        "by": TYPED["colleague"], "notes": TYPED["note"], "date_of_birth": TYPED["date_of_birth"],
    })
    assert run["state"]["type"] in NOT_DONE, "nothing is recorded from a form full of names"
    stored = _scrubbed_parameters(ui, run["id"])
    assert not [n for n in typed_strings() if n in stored], stored
    _assert_nothing_personal_kept(before)


def test_record_outcome_without_validation_with_a_name_as_the_child_only(ui: PrefectUI, before: _Baseline) -> None:
    """Everything else well-formed: the run must still refuse, and forget the name."""
    _person_id, incident_ref = _open_rhi()
    run = _submit_json_without_validation(ui, deployment_of("record-outcome"), {
        "child": TYPED["child_name"], "incident_ref": incident_ref,
        "event": "Return home interview completed", "day": SAMPLE_DAY})
    assert run["state"]["type"] in NOT_DONE
    _assert_nothing_personal_kept(before)


# -- Briefing for a chosen day ---------------------------------------------------------------------------------


def test_briefing_picked_in_the_calendar_completes_with_its_artifact(ui: PrefectUI, before: _Baseline) -> None:
    ui.open_custom_run(deployment_of("brief-for-date"))
    ui.fill({"day": SAMPLE_DAY})
    run_id = ui.submit()
    assert run_id, ui.refusal
    run = ui.wait_final(run_id)
    assert run["state"]["type"] == "COMPLETED", run["state"].get("message")
    assert SAMPLE_DAY in run["name"]
    artifacts = ui.page.request.post(f"{ui.api}/artifacts/filter",
                                     data={"artifacts": {"flow_run_id": {"any_": [run_id]}}}).json()
    assert artifacts, "the result is on the run the coordinator started"
    _assert_nothing_personal_kept(before)


def test_briefing_without_validation_fails_and_forgets_what_was_typed(ui: PrefectUI, before: _Baseline) -> None:
    run = _submit_json_without_validation(ui, deployment_of("brief-for-date"), {
        "day": f"{TYPED['child_name']} {TYPED['date_of_birth']}", "notes": TYPED["note"]})
    assert run["state"]["type"] in NOT_DONE
    stored = _scrubbed_parameters(ui, run["id"])
    assert not [n for n in typed_strings() if n in stored], stored
    _assert_nothing_personal_kept(before)


# -- Serious notification for an episode -----------------------------------------------------------------------


def test_serious_notification_by_incident_ref_completes(ui: PrefectUI, before: _Baseline) -> None:
    incident_ref = _serious_episode()
    ui.open_custom_run(deployment_of("regenerate-serious-notification"))
    ui.fill({"episode": incident_ref})
    run_id = ui.submit()
    assert run_id, ui.refusal
    run = ui.wait_final(run_id)
    assert run["state"]["type"] == "COMPLETED", run["state"].get("message")
    _assert_nothing_personal_kept(before)


def test_a_busy_server_s_503_on_submit_is_answered_by_pressing_submit_again(ui: PrefectUI) -> None:
    """A SQLite-backed server that is busy answers Submit with 503 and creates nothing; the UI only shows a toast
    (over the Submit button). Pressing Submit again, as a coordinator would, creates exactly one run."""
    incident_ref = _serious_episode()
    name = deployment_of("regenerate-serious-notification")
    runs_before = _runs_of(ui, name)
    busy: list[str] = []

    def busy_once(route: Any) -> None:
        if busy:
            route.continue_()
            return
        busy.append(route.request.url)
        route.fulfill(status=503, content_type="application/json", body='{"exception_message":"Service Unavailable"}')

    ui.page.route("**/create_flow_run", busy_once)
    ui.open_custom_run(name)
    ui.fill({"episode": incident_ref})
    run_id = ui.submit()
    assert busy and run_id, ui.refusal
    assert ui.wait_final(run_id)["state"]["type"] == "COMPLETED"
    assert _runs_of(ui, name) == runs_before + 1


def test_serious_notification_refuses_a_name_as_the_episode(ui: PrefectUI, before: _Baseline) -> None:
    _refused_by_the_form(ui, deployment_of("regenerate-serious-notification"), {"episode": TYPED["surname"]})
    _assert_nothing_personal_kept(before)


def test_serious_notification_without_validation_forgets_what_was_typed(ui: PrefectUI, before: _Baseline) -> None:
    run = _submit_json_without_validation(ui, deployment_of("regenerate-serious-notification"), {
        "episode": TYPED["surname"], "rule": TYPED["child_name"], "notes": TYPED["note"]})
    assert run["state"]["type"] in NOT_DONE
    message = (run["state"].get("message") or "").lower()
    assert not [n for n in typed_strings() if n in message], "the error does not repeat what was typed"
    stored = _scrubbed_parameters(ui, run["id"])
    assert not [n for n in typed_strings() if n in stored], stored
    _assert_nothing_personal_kept(before)
