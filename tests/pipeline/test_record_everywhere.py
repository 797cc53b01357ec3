"""One vocabulary, three channels (issue 17): the case-outcomes feed, the Prefect ``record-outcome`` form (as its
deployment shows it) and ``missing-episodes record`` accept exactly the events the policy makes recordable, ask
for the same fields (a rationale or reason wherever an event declines or finds an action not required), and each
closing event of the policy, recorded by each channel, closes its action.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli import app
from deployments import DEPLOYMENTS, build
from missing_episodes.config import DATA_DIR
from missing_episodes.db.engine import make_engine, session_scope
from missing_episodes.db.models import Action, Child, Episode
from missing_episodes.feeds import OUTCOME_EVENTS, RowError, validate_row
from missing_episodes.findings import FOLLOW_UP_EVENTS
from missing_episodes.forms import FormRefused, check_outcome, check_recorded, event_of_label, reasons_for
from missing_episodes.ingest.rows import known_outcome_events
from missing_episodes.jobs._shared import ingest_records
from missing_episodes.jobs.rules import review_next_batch
from missing_episodes.policy import Policy, load_policy, parse_policy
from missing_episodes.vocabulary import closing_events, contact_events, label, rationale_events
from tests.builders.outcomes import NOW, NOW_AT, closing_cases_database, outcome_row, use_closing_case

POLICY = load_policy(DATA_DIR / "policies" / "default.yaml")
CLOSING = sorted(closing_events(POLICY))
#: Events whose record must name who was spoken to and their contact details (Wokingham): the form takes no names.
SPOKEN_TO = contact_events(POLICY)
WHO = {"who": "PC Dana Shaw, Missing Persons Unit", "contact": "01632 960 555"}
SPEC = next(s for s in DEPLOYMENTS if s.flow.name == "record-outcome")


def _form_schema(policy: Policy) -> dict:
    return build(SPEC, policy=policy)._parameter_openapi_schema.model_dump()


def _form_events(policy: Policy) -> set[str]:
    """The events the deployment's form offers, read back from its schema's list of labels."""
    codes = event_of_label(policy)
    return {codes[label] for label in _form_schema(policy)["properties"]["event"]["enum"]}


def _feed_accepts(policy: Policy, event: str, rationale: str = "Recorded reason", spoken_to: bool = True
                  ) -> RowError | object:
    row = {"event_id": "E-1", "recorded_at": NOW, "child_id": "P000801", "event": event, "rationale": rationale,
           **(WHO if spoken_to else {})}
    return validate_row("outcomes", row, known_outcome_events(policy))


def _cli_accepts(policy: Policy, event: str, rationale: str | None = "Recorded reason", spoken_to: bool = True
                 ) -> bool:
    try:
        check_recorded(event, "P000801", policy=policy, rationale=rationale, current=NOW_AT,
                       **(WHO if spoken_to else {}))
    except FormRefused:
        return False
    return True


def _form_accepts(policy: Policy, event: str, with_reason: bool = True) -> bool:
    reasons = reasons_for(event, policy)
    try:
        check_outcome("P000801", label(event), "2026-11-02", "", "", "not graded",
                      reasons[0] if with_reason and reasons else "", policy=policy, current=NOW_AT)
    except FormRefused:
        return False
    return True


# -- the vocabulary ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", [POLICY, parse_policy({
    **POLICY.model_dump(mode="json", exclude_defaults=False),
    "rules": [*POLICY.model_dump(mode="json")["rules"], {
        "id": "panel.local", "action": "long_term_review", "title": "Local panel", "seed": "an authority's own",
        "trigger": {"type": "missing_for", "after": {"days": 40}}, "actor": "Panel", "done_by": ["panel_held"]}],
})], ids=["default", "own-event"])
def test_feed_form_and_cli_accept_exactly_the_policys_events(policy: Policy) -> None:
    expected = OUTCOME_EVENTS | closing_events(policy)
    assert closing_events(policy) <= expected and ("panel_held" in expected) == (policy is not POLICY)
    assert set(known_outcome_events(policy)) == expected  # the feed
    assert _form_events(policy) == expected  # the deployment's form (an enum of labels, regenerated)
    assert {event for event in expected | {"made_up", *FOLLOW_UP_EVENTS} if _cli_accepts(policy, event)} == expected
    for stranger in ("made_up", *FOLLOW_UP_EVENTS):  # follow-ups are raised by findings, never recorded
        assert isinstance(_feed_accepts(policy, stranger), RowError)
        assert not _form_accepts(policy, stranger) and not _cli_accepts(policy, stranger)


def test_every_channel_asks_for_a_reason_exactly_where_the_policy_does() -> None:
    needs = rationale_events(POLICY)
    assert {"rhi_declined", "strategy_meeting_not_required", "nrm_not_referred"} <= needs
    for event in OUTCOME_EVENTS | closing_events(POLICY):
        refused = (isinstance(_feed_accepts(POLICY, event, rationale=""), RowError),
                   not _form_accepts(POLICY, event, with_reason=False),
                   not _cli_accepts(POLICY, event, rationale=None))
        assert refused == ((event in needs), (event in needs or event in SPOKEN_TO), (event in needs)), event
        assert not isinstance(_feed_accepts(POLICY, event), RowError)
        assert _form_accepts(POLICY, event) != (event in SPOKEN_TO) and _cli_accepts(POLICY, event)
    # The form offers a list for each of them, and its schema's list holds every one of those reasons.
    reason_enum = _form_schema(POLICY)["properties"]["reason"]["enum"]
    for event in needs:
        assert reasons_for(event, POLICY) and set(reasons_for(event, POLICY)) <= set(reason_enum)


def test_every_channel_asks_for_who_was_spoken_to_exactly_where_the_policy_does() -> None:
    """Wokingham: "These actions should be recorded clearly with the relevant name and contact number/details of
    those spoken to". The feed quarantines the row naming the field, the command line refuses in one line, and
    the form (which takes no names) sends the coordinator to the case system or the command line."""
    assert contact_events(POLICY) == {"police_reported", "home_office_notified"}
    for event in OUTCOME_EVENTS | closing_events(POLICY):
        problem = _feed_accepts(POLICY, event, spoken_to=False)
        assert isinstance(problem, RowError) == (event in SPOKEN_TO), event
        assert _cli_accepts(POLICY, event, spoken_to=False) == (event not in SPOKEN_TO), event
    row = {"event_id": "E-1", "recorded_at": NOW, "child_id": "P000801", "event": "police_reported",
           "who": "PC Dana Shaw"}
    assert validate_row("outcomes", row, known_outcome_events(POLICY)) == RowError(
        "contact", "police_reported needs the name and contact number/details of who was spoken to (who, contact)")
    with pytest.raises(FormRefused, match="--contact: 'Reported to the police as a missing adult' must name"):
        check_recorded("police_reported", "P000801", policy=POLICY, who="PC Dana Shaw", current=NOW_AT)
    with pytest.raises(FormRefused, match="this form does not take: record it through the case system"):
        check_outcome("P000801", label("home_office_notified"), "2026-11-02", policy=POLICY, current=NOW_AT)


# -- every closing event, by every channel, closes its action ----------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> Path:
    return closing_cases_database(tmp_path_factory.mktemp("closing"), _sqlite_template)


@pytest.fixture
def case(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = use_closing_case(built, tmp_path, monkeypatch.setenv)
    yield url
    make_engine(url).dispose()


def _target(url: str, event: str) -> tuple[str, str, str | None, str]:
    """(action key, person id, incident, the status the event gives it) of an open action the event closes."""
    rules = {r.id: r for r in POLICY.rules if event in (*r.done_by, *r.declined_by, *r.not_required_by)}
    with session_scope(url) as session:
        row = session.execute(
            select(Action.key, Action.rule_id, Child.person_id, Episode.incident_ref)
            .join(Child, Child.id == Action.child_id).outerjoin(Episode, Episode.id == Action.episode_id)
            .where(Action.rule_id.in_(rules), Action.status == "open", Action.trigger_at <= NOW_AT)
            .order_by(Action.key)
        ).first()
    assert row is not None, f"the built case has no open action closed by {event}"
    rule = rules[row.rule_id]
    status = "done" if event in rule.done_by else "declined" if event in rule.declined_by else "not_required"
    return row.key, row.person_id, row.incident_ref, status


def _status(url: str, key: str) -> str:
    with session_scope(url) as session:
        return session.scalar(select(Action.status).where(Action.key == key))


def test_the_built_case_has_an_open_action_for_every_closing_event(case: str) -> None:
    for event in CLOSING:
        _target(case, event)
    with session_scope(case) as session:  # the interview's findings raised their follow-ups, each naming its rule
        rules = set(session.scalars(select(Action.rule_id).where(Action.rule_id.like("rhi_findings.%"))))
    assert rules == {"rhi_findings.strategy_discussion", "rhi_findings.nrm_consideration",
                     "rhi_findings.find_me_plan_update"}


@pytest.mark.parametrize("event", CLOSING)
def test_recorded_by_the_feed_it_closes_its_action(case: str, event: str) -> None:
    key, person, incident, status = _target(case, event)
    reason = {"rationale": "Recorded reason"} if event in rationale_events(POLICY) else {}
    spoken_to = WHO if event in SPOKEN_TO else {}
    summary = ingest_records("outcomes", [outcome_row(1, f"T-{event}", NOW, person, event,
                                                      incident_ref=incident or "", **reason, **spoken_to)],
                             "case-management")
    assert summary.new == 1 and summary.quarantined == 0
    review_next_batch(100)
    assert _status(case, key) == status


@pytest.mark.parametrize("event", CLOSING)
def test_recorded_with_the_command_line_it_closes_its_action(case: str, event: str) -> None:
    key, person, incident, status = _target(case, event)
    args = ["record", event, "--child", person, "--by", "Sam Patel (social worker)"]
    args += ["--incident", incident] if incident else []
    args += ["--rationale", "Discussed with the team manager; see the case note"] if event in rationale_events(
        POLICY) else []
    args += ["--who", WHO["who"], "--contact", WHO["contact"]] if event in SPOKEN_TO else []
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "1 action" in result.output or "actions" in result.output
    assert _status(case, key) == status
    # The same record again stores nothing: refused when nothing else is open, else known by its key (a repeating
    # review's next occurrence stays open for its own record).
    again = CliRunner().invoke(app, args)
    assert (again.exit_code, "nothing open" in again.output) == (2, True) or (
        again.exit_code == 0 and "already recorded" in again.output), again.output


def test_the_command_line_refuses_a_decline_without_its_reason_and_stores_nothing(case: str) -> None:
    key, person, incident, _ = _target(case, "rhi_declined")
    result = CliRunner().invoke(app, ["record", "rhi_declined", "--child", person, "--incident", incident or ""])
    assert result.exit_code == 2 and "--rationale" in result.output
    assert _status(case, key) == "open"


@pytest.mark.prefect
@pytest.mark.slow  # a flow run per event on the test harness: about 20 s each on two busy cores
@pytest.mark.parametrize("event", [e for e in CLOSING if e not in SPOKEN_TO])  # those need a name: not the form's
def test_recorded_with_the_prefect_form_it_closes_its_action(case: str, event: str, prefect_harness) -> None:
    from flows.operations import record_outcome

    key, person, incident, status = _target(case, event)
    schema = _form_schema(POLICY)
    reasons = reasons_for(event, POLICY)
    parameters = {"child": person, "event": label(event), "day": "2026-11-02", "incident_ref": incident or "",
                  "reason": reasons[0] if event in rationale_events(POLICY) else ""}
    jsonschema.validate(parameters, schema)  # what the deployment (enforce_parameter_schema) lets through
    result = asyncio.run(record_outcome(**record_outcome.validate_parameters(parameters)))
    assert result["closed"] >= 1
    assert _status(case, key) == status
