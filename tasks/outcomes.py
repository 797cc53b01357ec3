"""Tasks of the coordinators' forms: the checks of ``missing_episodes.forms`` and the jobs of
``missing_episodes.jobs.outcomes``.

A ``FormRefused`` carries a message written for a coordinator that repeats nothing typed; it leaves the task as
a ``PipelineError`` with those words (which ``private_task`` passes through unchanged), so the run's state
message tells the coordinator what to fix. Any other failure is reduced to refs by ``private_task``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from missing_episodes import forms
from missing_episodes.forms import FormRefused, OutcomeForm
from missing_episodes.jobs import outcomes
from tasks.privacy import PipelineError, private_task

F = TypeVar("F", bound=Callable[..., Any])


def plain_refusals(function: F) -> F:
    """Turn a ``FormRefused`` into a ``PipelineError`` with the same (coordinator's) words."""

    @wraps(function)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except FormRefused as exc:
            raise PipelineError(str(exc)) from None

    return wrapped  # type: ignore[return-value]


@private_task(name="check-outcome", task_run_name="check-outcome")
@plain_refusals
def check_outcome(child: str, event: str, day: str, incident_ref: str, at: str, risk_level: str, reason: str,
                  current: datetime | None = None, findings: dict[str, Any] | None = None) -> OutcomeForm:
    """The form's values against the policy's vocabulary, formats and lists (``findings``: the interview's
    structured fields, by the form's parameter names)."""
    from missing_episodes.jobs import Context

    return forms.check_outcome(child, event, day, incident_ref, at, risk_level, reason,
                               policy=Context.load().policy, current=current, **(findings or {}))


@private_task(name="find-child", task_run_name="find-child")
@plain_refusals
def find_child(form: OutcomeForm) -> tuple[str, str]:
    """(person id, CH- ref); the incident, if named, must be one of the child's; something must be open to close."""
    person_id, child_ref = outcomes.resolve_child(form.child)
    outcomes.check_incident_belongs(child_ref, form.incident_ref)
    if not outcomes.closes_anything(child_ref, form):
        raise FormRefused(f"Nothing open for this child is closed by '{form.label}'"
                          f"{' for that incident' if form.incident_ref else ''}, so nothing was stored. Check the "
                          "child, the incident and the outcome on the worklist.")
    return person_id, child_ref


@private_task(name="already-recorded", task_run_name="already-recorded-{event_id}")
def already_recorded(event_id: str) -> bool:
    return outcomes.already_recorded(event_id)


@private_task(name="store-outcome", task_run_name="store-outcome-{event_id}", retries=2, retry_delay_seconds=5)
@plain_refusals
def store_outcome(form: OutcomeForm, person_id: str, event_id: str) -> dict[str, int]:
    """One outcome row through the ordinary ingest; keyed on ``event_id``, so a retry stores nothing twice."""
    return outcomes.store_outcome(form, person_id, event_id)


@private_task(name="count-closed", task_run_name="count-closed")
def actions_closed(child_ref: str, form: OutcomeForm) -> int:
    return outcomes.actions_closed(child_ref, form)


@private_task(name="resolve-episode", task_run_name="resolve-episode")
@plain_refusals
def resolve_episode(ref: str) -> str:
    """An EP- ref on record, or the one episode of a police incident reference."""
    return outcomes.resolve_episode(ref)
