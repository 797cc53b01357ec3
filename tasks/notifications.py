"""The task of the notifications job (``missing_episodes.jobs.notifications``).

Retried: a database blip or a crashed worker leaves claimed notices whose claim expires, and the keyed ``notice``
table makes a retry send only what was not sent. SMTP failures do not fail the task: each is recorded on its
notice and retried by the next run, so one unreachable mail server does not turn every ingest run red.
"""

from __future__ import annotations

import asyncio

from missing_episodes.jobs import notifications as jobs
from tasks.privacy import private_task


@private_task(name="send-notifications", retries=2, retry_delay_seconds=10)
async def send_notifications() -> dict[str, object]:
    """Counts only (owed, recorded, sent, failed, forms, waiting): never an address or a name."""
    result = await asyncio.to_thread(jobs.send_notifications)
    return result.as_dict()
