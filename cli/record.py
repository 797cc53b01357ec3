"""``missing-episodes record EVENT --child REF``: record what was done, from the same vocabulary as the feed and
the Prefect form (``missing_episodes.vocabulary``), and close the actions it completes.

Written through the jobs directly, not through Prefect: the command line carries free text (who recorded it,
the rationale, the child's views from a return home interview), and free text never enters Prefect's metadata
(issue 13). Passing only ids through a flow would not help, since the text must still reach the database, and
running the one child's rules is the same job the per-child subflow runs (``jobs.rules.review_children``), so
the result is the same actions, in about a second, without starting a Prefect server.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

import typer

from cli import checks
from cli._app import app


@app.command()
def record(
    event: Annotated[str, typer.Argument(help="what happened: an outcome event of the policy, e.g. rhi_completed, "
                                              "intervention_meeting_held, nrm_not_referred")],
    child: Annotated[str, typer.Option("--child", help="person id from the case system, or the child's CH- ref")],
    incident: Annotated[str | None, typer.Option("--incident", help="police incident reference (else the child's "
                                                                     "most recent matching episode)")] = None,
    at: Annotated[str | None, typer.Option("--at", help="when: ISO 8601, London time if no offset (default: now)")
                  ] = None,
    by: Annotated[str | None, typer.Option("--by", help="who did it")] = None,
    rationale: Annotated[str | None, typer.Option("--rationale", help="why; required for a decline or a decision "
                                                                       "not to act")] = None,
    risk: Annotated[str | None, typer.Option("--risk", help="risk grading given: high, medium, low, "
                                                             "no_apparent_risk")] = None,
    who: Annotated[str | None, typer.Option("--who", help="who was spoken to, updated or informed (name and "
                                                         "role)")] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="their contact number or other details")] = None,
    reason: Annotated[list[str] | None, typer.Option("--reason", help="RHI finding: a reason for going missing "
                                                                       "(code; repeat for several)")] = None,
    harm: Annotated[bool, typer.Option("--harm", help="RHI finding: harm suffered or at risk of")] = False,
    concern: Annotated[list[str] | None, typer.Option("--concern", help="RHI finding: cse, cce or trafficking "
                                                                         "(repeat for several)")] = None,
    views: Annotated[str | None, typer.Option("--views", help="RHI finding: the child's views, in their words")
                     ] = None,
    referral_made: Annotated[bool, typer.Option("--referral-made", help="RHI finding: a referral was made")] = False,
    find_me_update: Annotated[bool, typer.Option("--find-me-update", help="RHI finding: the Find Me plan needs "
                                                                           "what was learnt")] = False,
) -> None:
    """Record an outcome for a child; prints what it closed. Exit 2 when it is refused (nothing stored)."""
    checks.migrated_database()
    checks.policy()
    from missing_episodes.findings import findings_problem, parse_findings
    from missing_episodes.forms import CLI_SOURCE, FormRefused, check_recorded
    from missing_episodes.jobs import Context
    from missing_episodes.jobs import outcomes as jobs
    from missing_episodes.jobs.rules import review_children

    columns = {"reasons": ";".join(reason or []), "concerns": ";".join(concern or []), "child_views": views or "",
               "harm": "yes" if harm else "", "referral_made": "yes" if referral_made else "",
               "find_me_plan_update": "yes" if find_me_update else ""}
    context = Context.load()
    try:
        problem = findings_problem(event, columns)
        if problem:
            raise FormRefused(f"findings: {problem[1]}")
        form = check_recorded(event, child, policy=context.policy, incident_ref=incident, at=at, by=by,
                              rationale=rationale, findings=parse_findings(event, columns), risk_level=risk,
                              who=who, contact=contact)
        person_id, child_ref = jobs.resolve_child(form.child, context)
        jobs.check_incident_belongs(child_ref, form.incident_ref, context)
        if not jobs.closes_anything(child_ref, form, context):
            raise FormRefused(f"nothing open for this child{' and incident' if form.incident_ref else ''} is "
                              f"closed by {event} at that time; nothing stored (see: missing-episodes actions)")
        key = "|".join((person_id, event, form.recorded_at.isoformat(), form.incident_ref or ""))
        event_id = f"CLI-{hashlib.sha256(key.encode()).hexdigest()[:16].upper()}"
        stored = jobs.store_outcome(form, person_id, event_id, context, source=CLI_SOURCE)
    except FormRefused as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from None
    review_children([child_ref], context, actor="record")
    closed = jobs.actions_closed(child_ref, form, context)
    follow_ups = form.findings.follow_up_events() if form.findings else ()
    typer.echo(f"{event} for {child_ref}{' ' + form.incident_ref if form.incident_ref else ''}: "
               f"{'recorded as ' + event_id if stored['new'] else 'already recorded as ' + event_id}; "
               f"{closed} action{'s' if closed != 1 else ''} {form.marked.removeprefix('marked ')}"
               + (f"; follow-ups raised: {', '.join(follow_ups)}" if follow_ups else ""))
