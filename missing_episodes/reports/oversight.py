"""The bi-monthly management-oversight report (Wolverhampton 3.12 and 4.3).

Wolverhampton found that only one repeat-missing young person had a risk assessment and a safety plan on file,
and asked for a report every two months "to evidence management oversight is on file for all repeated missing
young people". This is that list: every child of ours with three or more missing episodes in the two months to
the report date, and whether each record is there, from the outcome feed's events:

* ``management_oversight_recorded``: counts only when recorded inside the two months (oversight of *this*
  pattern of episodes, not of an old one);
* ``risk_assessment_recorded`` and ``safety_plan_recorded``: count when on file by the report date;
* the National Referral Mechanism (Wolverhampton 4.8: "an NRM audit ... to ensure all young people who need an
  NRM have one"): where a rule asked for a referral, whether it was made, decided against with the rationale
  recorded, or is still outstanding at the report date; an outstanding referral means not all is on record.

The list names children, so it is written to the output store only; Prefect sees counts and paths.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from missing_episodes.db.engine import session_scope
from missing_episodes.reports.outputs import ReportOutputs
from missing_episodes.reports.periods import Period, two_months_to
from missing_episodes.reports.records import Records, load_records

OVERSIGHT = "management_oversight_recorded"
RISK_ASSESSMENT = "risk_assessment_recorded"
SAFETY_PLAN = "safety_plan_recorded"
REPEAT_THRESHOLD = 3

COLUMNS = [
    "child_ref",
    "person_id",
    "name",
    "legal_status",
    "team",
    "allocated_worker",
    "missing_episodes",
    "last_missing_start",
    "management_oversight",
    "management_oversight_last",
    "risk_assessment",
    "risk_assessment_last",
    "safety_plan",
    "safety_plan_last",
    "nrm_referral",
    "all_on_record",
]
NRM = "nrm_referral"
NRM_STATES = {"done": "Referred", "not_required": "Not referred, rationale recorded"}


def _latest(records: Records, event: str, until: date) -> pd.Series:
    """The London date of each child's latest ``event`` on or before ``until``."""
    outcomes = records.outcomes
    chosen = outcomes[(outcomes["event"] == event) & (outcomes["recorded_date"] <= until)]
    return chosen.groupby("child_id")["recorded_date"].max()


def nrm_by_child(records: Records) -> dict[int, str]:
    """Each child's NRM position at the report date, for the children a rule asked a referral for: referred, not
    referred with the rationale recorded, or outstanding (any referral still open or overdue)."""
    actions = records.actions[records.actions["kind"] == NRM]
    positions: dict[int, str] = {}
    for child_id, group in actions.groupby("child_id"):
        open_ = group["status"].isin(["open", "overdue"]).any()
        positions[int(child_id)] = "Outstanding" if open_ else NRM_STATES.get(group["status"].iloc[-1], "Outstanding")
    return positions


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


def oversight_table(records: Records, period: Period) -> pd.DataFrame:
    """One row per repeat-missing child, most episodes first."""
    episodes = records.episodes
    in_period = episodes["start_date"].map(lambda day: day in period).astype(bool)
    missing = episodes[(episodes["kind"] == "missing") & in_period]
    counts = missing.groupby("child_id").agg(missing_episodes=("episode_id", "size"), last=("start_date", "max"))
    counts = counts[counts["missing_episodes"] >= REPEAT_THRESHOLD]
    oversight = _latest(records, OVERSIGHT, period.end)
    risk = _latest(records, RISK_ASSESSMENT, period.end)
    plan = _latest(records, SAFETY_PLAN, period.end)
    nrm = nrm_by_child(records)
    children = records.children.set_index("child_id")
    rows = []
    for child_id, row in counts.iterrows():
        child = children.loc[child_id]
        seen = oversight.get(child_id)
        has_oversight = seen is not None and seen in period
        has_risk, has_plan = child_id in risk.index, child_id in plan.index
        rows.append(
            {
                "child_ref": child["child_ref"],
                "person_id": child["person_id"],
                "name": " ".join(part for part in (child["first_name"], child["last_name"]) if part),
                "legal_status": child["legal_status"],
                "team": child["team"],
                "allocated_worker": child["allocated_worker"],
                "missing_episodes": int(row["missing_episodes"]),
                "last_missing_start": row["last"],
                "management_oversight": _yes(has_oversight),
                "management_oversight_last": seen,
                "risk_assessment": _yes(has_risk),
                "risk_assessment_last": risk.get(child_id),
                "safety_plan": _yes(has_plan),
                "safety_plan_last": plan.get(child_id),
                "nrm_referral": nrm.get(child_id, "Not asked"),
                "all_on_record": _yes(has_oversight and has_risk and has_plan and nrm.get(child_id) != "Outstanding"),
            }
        )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.sort_values(["missing_episodes", "child_ref"], ascending=[False, True], ignore_index=True)


def oversight_counts(table: pd.DataFrame, nrm_outstanding: int = 0) -> dict[str, int]:
    return {
        "nrm_outstanding": nrm_outstanding,
        "repeat_missing_children": len(table),
        "with_management_oversight": int((table["management_oversight"] == "Yes").sum()),
        "with_risk_assessment": int((table["risk_assessment"] == "Yes").sum()),
        "with_safety_plan": int((table["safety_plan"] == "Yes").sum()),
        "with_all_three": int((table["all_on_record"] == "Yes").sum()),
    }


def produce_oversight_report(database_url: str, day: date, out_dir: Path) -> ReportOutputs:
    """Write ``oversight-<date>.csv`` and ``.xlsx``; statuses read at the end of ``day``."""
    period = two_months_to(day)
    with session_scope(database_url) as session:
        records = load_records(session, period.end_instant)
    table = oversight_table(records, period)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv = out_dir / f"oversight-{day:%Y%m%d}.csv"
    table.to_csv(csv, index=False)
    xlsx = out_dir / f"oversight-{day:%Y%m%d}.xlsx"
    outstanding = sum(position == "Outstanding" for position in nrm_by_child(records).values())
    counts = oversight_counts(table, outstanding)
    with pd.ExcelWriter(xlsx, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name="Repeat missing", index=False)
        pd.DataFrame({"period": [period.label()], **{key: [value] for key, value in counts.items()}}).to_excel(
            writer, sheet_name="Summary", index=False
        )
    return ReportOutputs(paths={"csv": csv, "xlsx": xlsx}, counts=counts)
