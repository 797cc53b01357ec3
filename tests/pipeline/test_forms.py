"""The coordinators' forms without Prefect: the checks of every field, what may stay stored, and the outcome jobs.

A name typed into any field is refused with a message that does not repeat it, and ``sanitised_parameters``
replaces it; the outcome jobs find the child, refuse an incident of another child and an outcome that closes
nothing, and count what a stored outcome closed.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest

from missing_episodes.config import get_settings
from missing_episodes.forms import REMOVED, FormRefused, check_outcome, sanitised_parameters
from missing_episodes.jobs import Context
from missing_episodes.jobs import outcomes as jobs
from missing_episodes.jobs._shared import ingest_records
from missing_episodes.jobs.rules import review_next_batch
from missing_episodes.policy import load_policy, parse_policy
from missing_episodes.sources import RawRow

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # 10:00 GMT, Monday 2 November 2026
TYPED = ("Tesfaye", "Zoe OBrien 17/04/2010", "Zoë O'Brien", "17/04/2010", "Spoke with Xanthe at the station")
GOOD = {"child": "P000101", "event": "Return home interview completed", "day": "2026-11-02",
        "incident_ref": "KBP-2026-000318", "time": "09:15", "risk_level": "not graded", "reason": ""}


@pytest.fixture(scope="module")
def policy():
    return load_policy(get_settings().policy_path)


def _check(policy, **changes):
    values = {**GOOD, **changes}
    return check_outcome(values["child"], values["event"], values["day"], values["incident_ref"], values["time"],
                         values["risk_level"], values["reason"], policy=policy, current=NOW)


def test_a_good_form_gives_the_event_code_and_the_instant(policy) -> None:
    form = _check(policy)
    assert (form.child, form.event, form.incident_ref) == ("P000101", "rhi_completed", "KBP-2026-000318")
    assert form.recorded_at == datetime(2026, 11, 2, 9, 15, tzinfo=UTC)  # GMT in November
    assert form.label == "RHI completed" and form.risk_level is None and form.reason is None
    assert _check(policy, time="").recorded_at == NOW  # today without a time: now
    assert _check(policy, day="2026-10-30", time="").recorded_at == datetime(2026, 10, 30, 23, 59, tzinfo=UTC)
    assert _check(policy, child="CH-0123456789AB", incident_ref="").incident_ref is None
    assert _check(policy, risk_level="no apparent risk").risk_level == "no_apparent_risk"


@pytest.mark.parametrize("field", ["child", "event", "incident_ref", "day", "time", "risk_level", "reason"])
@pytest.mark.parametrize("typed", TYPED)
def test_a_name_in_any_field_is_refused_without_repeating_it(policy, field, typed) -> None:
    with pytest.raises(FormRefused) as refused:
        _check(policy, **{field: typed})
    message = str(refused.value)
    assert typed.lower() not in message.lower() and "tesfaye" not in message.lower()
    assert message.split(":")[0] in {"Child", "What happened", "Police incident", "Day", "Time", "Risk", "Reason"}


def test_strategy_meeting_not_required_needs_a_reason_from_the_policy(policy) -> None:
    event = "Strategy meeting not required (choose the reason)"
    with pytest.raises(FormRefused, match="needs its reason"):
        _check(policy, event=event)
    reason = policy.forms.not_required_reasons[0]
    form = _check(policy, event=event, reason=reason)
    assert (form.event, form.reason) == ("strategy_meeting_not_required", reason)


def test_a_day_or_time_in_the_future_is_refused(policy) -> None:
    with pytest.raises(FormRefused, match="in the future"):
        _check(policy, day="2026-11-03")
    with pytest.raises(FormRefused, match="not come yet"):
        _check(policy, time="11:00")
    with pytest.raises(FormRefused, match="YYYY-MM-DD"):
        _check(policy, day="2026-02-30")


def test_sanitised_parameters_keep_checked_values_and_remove_the_rest(policy) -> None:
    stored = {**GOOD, "child": "Tesfaye", "reason": "Spoke with Xanthe", "date_of_birth": "2010-04-17"}
    cleaned = sanitised_parameters("record-outcome", stored, policy)
    assert cleaned["child"] == REMOVED and cleaned["reason"] == REMOVED
    assert cleaned["incident_ref"] == "KBP-2026-000318" and cleaned["event"] == GOOD["event"]
    assert "date_of_birth" not in cleaned and cleaned["unknown_fields"] == "1 removed"
    assert sanitised_parameters("record-outcome", GOOD, policy) == GOOD
    assert sanitised_parameters("brief-for-date", {"day": "02/11/2026"}, policy) == {"day": REMOVED}
    assert sanitised_parameters("brief-for-date", {"day": date(2026, 11, 2)}, policy) == {"day": "2026-11-02"}
    episode = sanitised_parameters("regenerate-serious-notification", {"episode": "Tesfaye", "rule": ""}, policy)
    assert episode == {"episode": REMOVED, "rule": ""}


def test_the_policy_refuses_a_form_pattern_that_accepts_a_name(policy) -> None:
    data = policy.model_dump()
    data["forms"]["person_id_pattern"] = "^[A-Za-z' ]+$"
    with pytest.raises(ValueError, match="must not accept a name"):
        parse_policy(data)
    data["forms"]["person_id_pattern"] = "P[0-9]+"
    with pytest.raises(ValueError, match="anchored"):
        parse_policy(data)


# -- the jobs, on a database -----------------------------------------------------------------------------------


def _row(number: int, **data: str) -> RawRow:
    return RawRow("test", number, data)


@pytest.fixture
def two_children(sqlite_url, monkeypatch):
    """P000901 missing and found (an RHI open on KBP-2026-000901); P000902 with an episode of its own."""
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    ingest_records("children", [
        _row(1, child_id="P000901", first_name="Amaru", last_name="Quispe", date_of_birth="2011-03-04",
             legal_status="looked_after", responsible_authority="Kingsbridge"),
        _row(2, child_id="P000902", first_name="Bryony", last_name="Tate", date_of_birth="2012-05-06",
             legal_status="looked_after", responsible_authority="Kingsbridge"),
    ], source="register")
    notes = []
    for number, (child, incident) in enumerate((("P000901", "KBP-2026-000901"), ("P000902", "KBP-2026-000902"))):
        notes.append(_row(10 + number, notification_id=f"M-{number}", sent_at="2026-10-30T20:00:00", event="missing",
                          incident_ref=incident, child_id=child, last_seen_at="2026-10-30T19:00:00",
                          risk_level="medium", responsible_authority="Kingsbridge"))
        notes.append(_row(20 + number, notification_id=f"F-{number}", sent_at="2026-10-31T10:00:00", event="found",
                          incident_ref=incident, child_id=child, last_seen_at="2026-10-30T19:00:00",
                          found_at="2026-10-31T09:00:00", responsible_authority="Kingsbridge"))
    ingest_records("notifications", notes, source="police")
    review_next_batch(100)
    return Context.load()


def test_outcome_jobs_find_close_and_count(two_children, policy) -> None:
    context = two_children
    person_id, child_ref = jobs.resolve_child("P000901", context)
    assert person_id == "P000901" and child_ref.startswith("CH-")
    assert jobs.resolve_child(child_ref, context) == (person_id, child_ref)
    with pytest.raises(FormRefused, match="not on the register"):
        jobs.resolve_child("P999999", context)
    jobs.check_incident_belongs(child_ref, "KBP-2026-000901", context)
    with pytest.raises(FormRefused, match="not one of this child's episodes"):
        jobs.check_incident_belongs(child_ref, "KBP-2026-000902", context)

    form = check_outcome("P000901", "Return home interview completed", "2026-11-01", "KBP-2026-000901", "12:00",
                         policy=policy, current=NOW)
    assert jobs.closes_anything(child_ref, form, context)
    held = check_outcome("P000901", "Strategy meeting held", "2026-11-01", "KBP-2026-000901", "12:00",
                         policy=policy, current=NOW)
    assert not jobs.closes_anything(child_ref, held, context)  # no meeting was due: nothing for it to close

    event_id = "COORD-test-1"
    assert not jobs.already_recorded(event_id, context)
    assert jobs.store_outcome(form, person_id, event_id, context) == {"new": 1, "duplicate": 0}
    assert jobs.already_recorded(event_id, context)
    assert jobs.store_outcome(form, person_id, event_id, context) == {"new": 0, "duplicate": 1}
    review_next_batch(100)
    assert jobs.actions_closed(child_ref, form, context) == 1
    assert not jobs.closes_anything(child_ref, form, context)  # the interview is done now


def test_an_episode_is_found_by_its_ref_or_police_reference(two_children) -> None:
    episode_ref = jobs.resolve_episode("KBP-2026-000901", two_children)
    assert episode_ref.startswith("EP-") and jobs.resolve_episode(episode_ref, two_children) == episode_ref
    with pytest.raises(FormRefused, match="no episode"):
        jobs.resolve_episode("KBP-2026-999999", two_children)
    with pytest.raises(FormRefused, match="not a name") as refused:
        jobs.resolve_episode("Tesfaye", two_children)
    assert "Tesfaye" not in str(refused.value)


def test_the_engine_can_check_each_forms_parameters_without_a_server() -> None:
    """What the worker does before the body runs: the flows' own parameter check on good values and on a name.

    (``private_flow`` wraps the function: with postponed annotations, the engine could not resolve the types.)
    """
    from prefect.exceptions import ParameterTypeError

    from flows.operations import brief_for_date, monthly_board_report, record_outcome, regenerate_serious_notification

    assert record_outcome.validate_parameters(GOOD)["day"] == date(2026, 11, 2)
    assert brief_for_date.validate_parameters({"day": "2026-11-02"}) == {"day": date(2026, 11, 2)}
    assert regenerate_serious_notification.validate_parameters({"episode": "EP-0123456789AB"})["rule"] == ""
    assert monthly_board_report.validate_parameters({"months": 2}) == {"months": 2, "last_month": ""}
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    prefect_flows = logging.getLogger("prefect.flows")
    prefect_flows.addHandler(handler)
    try:
        with pytest.raises(ParameterTypeError) as refused:
            record_outcome.validate_parameters({**GOOD, "child": "Zoe OBrien", "day": "17/04/2010"})
    finally:
        prefect_flows.removeHandler(handler)
    assert "Zoe" not in str(refused.value) and "17/04" not in str(refused.value)
    # Prefect logs the failed check with every value typed (console only); the filter keeps the values out.
    logged = " ".join(record.getMessage() for record in records)
    assert "Parameter validation failed" in logged and "Zoe" not in logged and "17/04" not in logged



def test_the_scheduled_and_operators_forms_keep_only_well_formed_values(policy) -> None:
    """The daily run's, weekly list's and operators' ingest forms are scrubbed by the same checks."""
    assert sanitised_parameters("daily-run", {"day": "2026-11-02"}, policy) == {"day": "2026-11-02"}
    assert sanitised_parameters("daily-run", {"day": "Tesfaye"}, policy) == {"day": REMOVED}
    assert sanitised_parameters("weekly-list", {"week_ending": None, "notes": "Zoe"}, policy) == {
        "week_ending": None, "unknown_fields": "1 removed"}
    good = {"kind": "outcomes", "paths": ["/srv/inbox/outcomes-2026-11-02.csv"], "source": None, "run_rules": True}
    assert sanitised_parameters("ingest-files", good, policy) == good
    typed = {"kind": ["Zoe"], "paths": ["/srv/inbox/Zoe OBrien.csv"], "source": "Zoe OBrien", "run_rules": "yes"}
    assert sanitised_parameters("ingest-files", typed, policy) == dict.fromkeys(typed, REMOVED)

_LOG_OF_A_FAILED_CHECK = """
import importlib, logging, sys
module, flow_name, field = sys.argv[1:4]
flow = getattr(importlib.import_module(module), flow_name)  # Prefect sets its logging up on import
records = []
handler = logging.Handler()
handler.emit = records.append
logging.getLogger("prefect.flows").addHandler(handler)
try:
    flow.validate_parameters({field: "Zoe OBrien 17/04/2010"})
except Exception:
    pass
print("|".join(record.getMessage() for record in records))
"""


@pytest.mark.parametrize("module, flow_name, field", [
    ("flows.daily", "daily_run", "day"), ("flows.documents", "weekly_list", "week_ending"),
    ("flows.ingest", "ingest_files", "kind"), ("flows.operations", "brief_for_date", "day"),
])
def test_a_flow_process_never_prints_the_values_of_a_failed_check(module: str, flow_name: str, field: str) -> None:
    """In a fresh interpreter that imports only the flow's own module, as a worker's flow-run process does: the
    filter comes with ``tasks.privacy``, which every flow module imports, not with the coordinators' module."""
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run([sys.executable, "-c", _LOG_OF_A_FAILED_CHECK, module, flow_name, field],
                            cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    logged = result.stdout.strip().splitlines()[-1]
    assert "Parameter validation failed" in logged
    assert "Zoe" not in logged and "17/04" not in logged and "Zoe" not in result.stderr
