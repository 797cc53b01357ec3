"""Personal data stays out of Prefect: search ALL of Prefect's database after real runs for every child's name and DOB.

Every text/JSON/blob column of every table of the real server's database is dumped (flow and task runs and their
parameters, states and their messages, logs, events and their resources, artifacts, blocks, …) and searched for
each full name (first + last: a short first name alone matches unrelated words) and each date of birth in the
forms it could take (2011-05-01, 01/05/2011, 1 May 2011), in clear and JSON-escaped ("Zo\\u00eb").
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from deployments import BRIEFING_FOR_A_DAY, INGEST_NAMED_FILES, RECORD_AN_OUTCOME, SERIOUS_NOTIFICATION
from deployments.local import wait_for
from missing_episodes.config import DATA_DIR
from missing_episodes.db.engine import make_engine, upgrade
from missing_episodes.forms import REMOVED
from tests.server.leaks import dump_prefect_database, leaks, personal_strings
from tests.server.stack import sample_daily_run, stack

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect-server")]

SAMPLE = DATA_DIR / "sample"


def test_personal_strings_are_found_when_present(tmp_path: Path) -> None:
    """The search itself works: a database holding one name and one DOB is caught (no vacuous pass)."""
    needles = personal_strings()
    assert "zoë o'brien" in needles and "2010-04-17" in needles and "17/04/2010" in needles
    database = tmp_path / "probe.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE log (message TEXT, data JSON)")
        connection.execute("INSERT INTO log VALUES ('child Zoë O''Brien seen', ?)",
                           (json.dumps({"dob": "17/04/2010"}),))
    found = leaks(dump_prefect_database(database), needles)
    assert set(found["log"]) >= {"zoë o'brien", "17/04/2010"}


def test_no_name_or_date_of_birth_in_prefect_after_the_daily_run() -> None:
    flow_run = sample_daily_run()
    assert flow_run.state.is_completed(), flow_run.state.message
    dumped = dump_prefect_database(stack().prefect_db())
    assert {"flow_run", "task_run", "log", "events", "artifact", "flow_run_state"} <= set(dumped)
    assert "daily-briefing" in dumped["artifact"]  # the runs really are in there
    assert leaks(dumped, personal_strings()) == {}


def test_a_failed_ingest_names_ids_not_people(tmp_path: Path) -> None:
    """A broken input path: the stored failure says which file, and nothing about anyone."""
    current = stack()
    missing = tmp_path / "inbox" / "notifications-2026-11-02.csv"
    flow_run = current.run(f"ingest-files/{INGEST_NAMED_FILES}", {"kind": "notifications", "paths": [str(missing)]})
    # A file that cannot be read is refused with an alert and the run carries on (one bad file never stops the
    # rest): the run ends, and what it stored about the refusal names the file, nobody in it.
    assert flow_run.state.is_completed() or flow_run.state.is_failed()
    assert leaks(dump_prefect_database(current.prefect_db()), personal_strings()) == {}


def test_a_database_failure_names_ids_not_people(tmp_path: Path) -> None:
    """A product database that refuses every new child: the exception carries the INSERT's parameters."""
    current = stack()
    broken = tmp_path / "broken.db"
    url = f"sqlite:///{broken}"
    upgrade(url)
    make_engine(url).dispose()
    with sqlite3.connect(broken) as connection:
        connection.execute("CREATE TRIGGER refuse BEFORE INSERT ON child BEGIN SELECT RAISE(ABORT, 'refused'); END")
    flow_run = current.run(
        f"ingest-files/{INGEST_NAMED_FILES}",
        {"kind": "children", "paths": [str(SAMPLE / "children.csv")], "run_rules": False},
        job_variables={"env": {"MISSING_EPISODES_DATABASE_URL": url}},
    )
    # The refusal (the file refused with the database's reason, or the run failed) is stored either way.
    assert flow_run.state.is_completed() or flow_run.state.is_failed()
    assert leaks(dump_prefect_database(current.prefect_db()), personal_strings()) == {}


#: What a coordinator might type into every field of the forms with "Validate parameters" unticked: names, dates
#: of birth and notes from the sample (so ``personal_strings`` knows them), and fields the forms do not have.
TYPED_NAME = "Zoë O'Brien"
TYPED_DOB = "17/04/2010"
UNCHECKED_RUNS = {
    # Fails the engine's own check of the parameters, before the flow's body runs.
    "before the body": (f"record-outcome/{RECORD_AN_OUTCOME}", {
        "child": TYPED_NAME, "event": f"{TYPED_NAME} seen", "day": TYPED_DOB,
        "incident_ref": f"{TYPED_NAME} {TYPED_DOB}",
        "time": TYPED_NAME, "risk_level": TYPED_DOB, "reason": f"Spoke with {TYPED_NAME} at the bus station"}),
    # Passes the engine's loose shapes (no spaces), refused by the body against the policy's formats.
    "in the body": (f"record-outcome/{RECORD_AN_OUTCOME}", {
        "child": "Tesfaye", "event": "Return home interview completed", "day": "2026-11-02",
        "reason": f"{TYPED_NAME} {TYPED_DOB}"}),
    "episode": (f"regenerate-serious-notification/{SERIOUS_NOTIFICATION}", {"episode": "Tesfaye", "rule": ""}),
    # Fields the form does not have: the engine cannot even bind them, the run's process exits and the worker
    # reports it Crashed (and runs the on_crashed hook itself).
    "unknown fields": (f"brief-for-date/{BRIEFING_FOR_A_DAY}", {
        "day": TYPED_DOB, "date_of_birth": "2010-04-17", "notes": f"{TYPED_NAME} was with Tesfaye"}),
}


def test_names_typed_with_validation_off_leave_no_trace_in_prefect_or_on_the_worker() -> None:
    """Issue 13: the form's checks switched off, a name in every field. Each run fails with a plain message that
    repeats nothing typed; the hook replaces every stored value that fails its check; then no name or date of
    birth is in any table of Prefect's database, nor in the worker's console output."""
    current = stack()
    runs = {what: current.run_unchecked(name, parameters) for what, (name, parameters) in UNCHECKED_RUNS.items()}
    for what, flow_run in runs.items():
        assert flow_run.state.is_crashed() if what == "unknown fields" else flow_run.state.is_failed(), (
            what, flow_run.state.name)
        message = (flow_run.state.message or "").lower()
        assert "tesfaye" not in message and "o'brien" not in message and "17/04" not in message, what
    assert "child: give the person id" in (runs["in the body"].state.message or "").lower()
    assert "episode: give the ep- ref" in (runs["episode"].state.message or "").lower()

    async def stored(client, run_id):
        return (await client.read_flow_run(run_id)).parameters

    def scrubbed(what: str):
        parameters = current.call(stored, runs[what].id)
        return parameters if "tesfaye" not in json.dumps(parameters).lower() and TYPED_DOB not in json.dumps(
            parameters) and "o'brien" not in json.dumps(parameters, ensure_ascii=False).lower() else None

    for what in runs:
        wait_for(lambda what=what: scrubbed(what), 30, f"stored parameters scrubbed ({what})")
    before = current.call(stored, runs["before the body"].id)
    assert before["child"] == REMOVED and before["reason"] == REMOVED and before["risk_level"] == REMOVED
    unknown = current.call(stored, runs["unknown fields"].id)
    assert unknown == {"day": REMOVED, "unknown_fields": "2 removed"}
    in_body = current.call(stored, runs["in the body"].id)
    assert in_body["child"] == REMOVED and in_body["event"] == "Return home interview completed"
    assert runs["in the body"].name == "outcome 2026-11-02 RHI completed"  # built from checked values only

    needles = personal_strings() | {"tesfaye"}
    assert leaks(dump_prefect_database(current.prefect_db()), needles) == {}
    console = current.console().lower()  # the process worker's and the desk's
    printed = [line[:160] for line in console.splitlines() if any(n in line for n in needles)]
    assert printed == []
