"""What a notification says. Subjects carry refs only; bodies carry refs and the action, and the child's name only
where the policy says the mail channel is secure (``mail.secure``); documents are attached only then.

Worker and manager names are staff names (they say who acts); they are not the child's personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from missing_episodes.clock import as_london

REASON_WORDS = {
    "due": "Due now",
    "overdue": "Overdue",
    "reassigned": "Now yours",
    "form": "Serious notification form to send",
}


@dataclass(frozen=True)
class ActionText:
    """What a message may say about an action: refs, the rule's title, times; ``child_name`` only if secure."""

    action_key: str
    kind: str
    title: str
    rule_id: str
    actor: str | None
    assigned_to: str | None
    child_ref: str
    episode_ref: str | None
    incident_ref: str | None
    trigger_at: datetime
    due_at: datetime
    child_name: str | None = None


def _when(moment: datetime) -> str:
    return f"{as_london(moment):%a %-d %b %Y %H:%M} (London)"


def reason_words(reason: str) -> str:
    if reason.startswith("escalation:"):
        return f"Escalated to {reason.split(':', 1)[1]}"
    return REASON_WORDS.get(reason, reason.replace("_", " ").capitalize())


def subject(text: ActionText, reason: str) -> str:
    """``OFFICIAL-SENSITIVE: Overdue: strategy meeting EP-…``: refs only, whatever the channel."""
    ref = text.episode_ref or text.child_ref
    return f"OFFICIAL-SENSITIVE: {reason_words(reason)}: {text.kind.replace('_', ' ')} {ref}"


def body(text: ActionText, reason: str, recipient_role: str, *, now: datetime, secure: bool,
         filed: list[str] | None = None) -> str:
    """The message: why you are told, the action, who acts, when it is due, where to record what was done."""
    why = {
        "assignee": "You are the person who acts on this.",
        "on_call": "You are on call: this happened out of office hours; the day staff are told in office hours "
                   "if it is still open.",
    }.get(recipient_role, f"You are told as {recipient_role}.")
    overdue = now > text.due_at
    lines = [
        f"{reason_words(reason)}: {text.title}",
        "",
        why,
        "",
        f"Action:    {text.title} (rule {text.rule_id})",
        f"Child:     {text.child_ref}" + (f" ({text.child_name})" if secure and text.child_name else ""),
    ]
    if text.episode_ref:
        lines.append(f"Episode:   {text.episode_ref}" + (f", police ref {text.incident_ref}" if text.incident_ref
                                                        else ""))
    lines += [
        f"Due:       {_when(text.due_at)}" + (" - OVERDUE" if overdue else ""),
        f"Who acts:  {text.actor or 'not stated'}" + (f"; assigned to {text.assigned_to}" if text.assigned_to
                                                      else ""),
        f"Reference: {text.action_key}",
    ]
    if reason == "form":
        lines += ["", "The serious notification form is drafted with its recipients filled in: check it and send it "
                      "to them, then record serious_notification_sent."]
        if secure:
            lines.append("The form is attached (PDF and Word).")
        else:
            lines.append("This mail route is not approved for personal data, so the form is not attached: it is in "
                         "the output store" + (f" ({', '.join(filed)})." if filed else "."))
    lines += ["", "Record what was done in the case-management system (or `missing-episodes` on the command line); "
                  f"the worklist: missing-episodes actions --open. Names are {'included' if secure else 'left out'} "
                  "because the policy says this mail channel is " + ("secure." if secure else "not secure.")]
    return "\n".join(lines) + "\n"


def digest_subject(day: str, count: int) -> str:
    return f"OFFICIAL-SENSITIVE: Morning digest {day}: {count} action(s) for you"


def digest_body(items: list[tuple[str, str, ActionText]], *, now: datetime, secure: bool) -> str:
    """One line block per held notice: (reason, recipient role, action), oldest first."""
    lines = ["Your morning digest: what fell due, went overdue, was escalated to you or became yours since the last "
             "one (you asked for one message a day instead of single ones).", ""]
    for number, (reason, role, text) in enumerate(items, start=1):
        who = "" if role in ("assignee", "") else f" (as {role})"
        child = text.child_ref + (f" ({text.child_name})" if secure and text.child_name else "")
        episode = f", {text.episode_ref}" if text.episode_ref else ""
        late = " - OVERDUE" if now > text.due_at else ""
        lines += [f"{number}. {reason_words(reason)}{who}: {text.title}",
                  f"   {child}{episode}; due {_when(text.due_at)}{late}; ref {text.action_key}"]
    lines += ["", "Record what was done in the case-management system; the worklist: missing-episodes actions --open."]
    return "\n".join(lines) + "\n"
