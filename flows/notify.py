"""The notifications flow: tell the people who must act (due, overdue, changed hands, escalated), once each.

Scheduled every five minutes (``deployments``) and run at the end of every ingest (``tell_now``, inside the
ingest's run) and daily run, so a clock that fires is told within minutes and an ingest's new actions without
waiting. Its artifact says how many were owed, sent, failed (to be retried next run) and waiting, in counts; who
was told is in the product's ``notice`` table.
"""

from __future__ import annotations

from prefect import get_run_logger
from prefect.artifacts import acreate_markdown_artifact

from tasks.ingest import ensure_schema
from tasks.notifications import send_notifications
from tasks.privacy import private_flow


def notifications_in_words(result: dict[str, object]) -> str:
    """"Notifications: 3 sent, 1 failed (retried next run), 2 waiting": what a coordinator reading the run needs."""
    if not result.get("mail"):
        return "Notifications: no SMTP host is set up, so nobody was told (see MISSING_EPISODES_SMTP_HOST)."
    words = f"Notifications: {result['sent']} sent, {result['failed']} failed (retried next run)"
    if result.get("forms"):
        words += f", {result['forms']} serious notification form(s) to Team Managers"
    waiting = int(result.get("waiting", 0))  # type: ignore[call-overload]
    if waiting:
        words += f"; {waiting} not yet delivered (missing-episodes notices lists them)"
    return words + "."


@private_flow(name="notify", flow_run_name="notify")
async def notify(check_schema: bool = True) -> dict[str, object]:
    """Plan, record and send what the open actions owe as of now; retry what failed before."""
    return await tell_now(check_schema)


async def tell_now(check_schema: bool = True) -> dict[str, object]:
    """The notify flow's work inside the calling run: an ingest ends with it, and a subflow of its own would add
    0.3-0.5 s of start and finish to a one-file ingest a person waits for, around one task and one artifact."""
    if check_schema:
        ensure_schema()
    result = await send_notifications()
    words = notifications_in_words(result)
    await acreate_markdown_artifact(key="notifications", markdown=f"**{words}**\n\n" + "\n".join(
        f"- {name.replace('_', ' ')}: {value}" for name, value in result.items() if name != "as_of"),
        description="Notifications sent this run")
    get_run_logger().info("%s", words)
    return result
