"""Was a return interview offered, and accepted? Read from the RHI action, as the worklist records it.

Ofsted's Annex A and the Standard Safeguarding Dataset both ask this of an episode. The answer comes from the
``return_home_interview`` action of the episode (status as of the report's moment): done means offered and
accepted; declined means offered and refused; not required means not offered; an interview still open, or no
action at all for an ended missing episode, is not yet known. An absent episode has no interview to offer.
"""

from __future__ import annotations

import pandas as pd

from missing_episodes.reports.records import RHI, Records

YES, NO, UNKNOWN = "Yes", "No", "Unknown"
NOT_APPLICABLE = "NA"


def rhi_status_by_episode(records: Records) -> pd.Series:
    """The status of each episode's RHI action (the latest one, should there ever be two)."""
    actions = records.actions
    rhi = actions[(actions["kind"] == RHI) & actions["episode_id"].notna()]
    return rhi.groupby("episode_id")["status"].last()


def offered_accepted(kind: str, status: str | None) -> tuple[str, str]:
    """(offered, accepted) as Yes / No / Unknown, or NA for an absent episode."""
    if kind != "missing":
        return NOT_APPLICABLE, NOT_APPLICABLE
    if status == "done":
        return YES, YES
    if status == "declined":
        return YES, NO
    if status == "not_required":
        return NO, NO
    return UNKNOWN, UNKNOWN
