"""The Corporate Parenting Board's figures (Wolverhampton's report to its board, sections 3.1 to 3.9).

Each figure is computed twice, for children in care (the board's business) and for every child of ours, from the
same frames the worklist is built from (see ``records``):

* an episode is in the period when its London start date is; missing and absent episodes are never added up;
* a return interview is the ``return_home_interview`` action of a missing episode in the period: completed
  (status done), declined (declined) or not done (anything else, including open and overdue), as percentages of
  the interviews due; on time when it was done by its due time (72 hours after the return was notified);
* strategy meetings are the ``strategy_meeting`` actions triggered in the period: held (done) against required
  (every one not recorded as not required; those are counted apart);
* the average per month for a calendar year divides that year's missing episodes inside the period by the
  calendar months of that year the period touches (a part month counts as a month, as "so far during 2022").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from missing_episodes.reports.periods import Period
from missing_episodes.reports.records import HIDDEN_MISSING, LOOKED_AFTER, RHI, STRATEGY, Records

POPULATIONS = {"children_in_care": "Children in care", "all_children": "All children"}

#: (key, label) in the order the board reads them; ``*_pct`` rows are percentages of the row named in PCT_OF.
MEASURES: list[tuple[str, str]] = [
    ("missing_episodes", "Missing episodes"),
    ("children_missing", "Children who went missing"),
    ("missing_per_child", "Average missing episodes per child who went missing"),
    ("children_3plus", "Children with 3 or more missing episodes"),
    ("missing_episodes_3plus", "Missing episodes of children with 3 or more"),
    ("absent_episodes", "Absent episodes (away from placement without authorisation)"),
    ("children_absent", "Children recorded absent"),
    ("curfew_episodes", "Missing from curfew (kept apart from missing and absent)"),
    ("hidden_missing", "Hidden missing: recorded missing, not reported to the police"),
    ("children_hidden_missing", "Children recorded hidden missing"),
    ("rhi_due", "Return interviews due (returns from missing episodes)"),
    ("rhi_completed", "Return interviews completed"),
    ("rhi_completed_pct", "Return interviews completed (%)"),
    ("rhi_declined", "Return interviews declined"),
    ("rhi_declined_pct", "Return interviews declined (%)"),
    ("rhi_not_done", "Return interviews not done"),
    ("rhi_not_done_pct", "Return interviews not done (%)"),
    ("rhi_due_3plus", "Return interviews due, children with 3 or more"),
    ("rhi_completed_3plus", "Completed, children with 3 or more"),
    ("rhi_completed_3plus_pct", "Completed, children with 3 or more (%)"),
    ("rhi_declined_3plus", "Declined, children with 3 or more"),
    ("rhi_declined_3plus_pct", "Declined, children with 3 or more (%)"),
    ("rhi_not_done_3plus", "Not done, children with 3 or more"),
    ("rhi_not_done_3plus_pct", "Not done, children with 3 or more (%)"),
    ("children_declined", "Children who declined a return interview"),
    ("children_declined_3plus", "Of them, children with 3 or more missing episodes"),
    ("rhi_in_time", "Return interviews completed within 72 hours of the return being notified"),
    ("rhi_in_time_pct", "Completed within 72 hours (% of completed)"),
    ("strategy_required", "Strategy meetings required"),
    ("strategy_held", "Strategy meetings held"),
    ("strategy_held_pct", "Strategy meetings held (% of required)"),
    ("strategy_not_required", "Strategy meetings recorded as not required"),
]
PCT_OF = {
    "rhi_completed_pct": ("rhi_completed", "rhi_due"),
    "rhi_declined_pct": ("rhi_declined", "rhi_due"),
    "rhi_not_done_pct": ("rhi_not_done", "rhi_due"),
    "rhi_completed_3plus_pct": ("rhi_completed_3plus", "rhi_due_3plus"),
    "rhi_declined_3plus_pct": ("rhi_declined_3plus", "rhi_due_3plus"),
    "rhi_not_done_3plus_pct": ("rhi_not_done_3plus", "rhi_due_3plus"),
    "rhi_in_time_pct": ("rhi_in_time", "rhi_completed"),
    "strategy_held_pct": ("strategy_held", "strategy_required"),
}


#: Measures that are a ratio of two counts (not a percentage): printed to one decimal place, like every rate.
RATES = {"missing_per_child"}


def measure_kind(key: str) -> str:
    """How a summary measure is printed: ``percent`` (one decimal and %), ``rate`` (one decimal) or ``count``."""
    if key in PCT_OF:
        return "percent"
    return "rate" if key in RATES else "count"


@dataclass(frozen=True)
class BoardFigures:
    """Every table of the board report; no table names a child."""

    period: Period
    summary: pd.DataFrame  # index: measure key; columns: label, children_in_care, all_children
    monthly: pd.DataFrame  # month, missing_in_care, absent_in_care, missing_all
    yearly: pd.DataFrame  # year, months, missing_in_care, per_month_in_care, missing_all, per_month_all

    def value(self, measure: str, population: str = "children_in_care") -> float | int | None:
        return self.summary.at[measure, population]

    def counts(self) -> dict[str, int]:
        """The few headline counts safe to show in Prefect (no names, no ids)."""
        return {
            "missing_episodes_in_care": int(self.value("missing_episodes") or 0),
            "children_in_care_missing": int(self.value("children_missing") or 0),
            "missing_episodes_all": int(self.value("missing_episodes", "all_children") or 0),
        }


def percentage(part: float, whole: float) -> float | None:
    """One decimal place, as a board paper prints it; no percentage of nothing."""
    return None if not whole else round(100 * part / whole, 1)


def _in_period(days: pd.Series, period: Period) -> pd.Series:
    return days.map(lambda day: day in period).astype(bool)


def _rhi_counts(rhi: pd.DataFrame, suffix: str = "") -> dict[str, float | int | None]:
    done = rhi[rhi["status"] == "done"]
    declined = int((rhi["status"] == "declined").sum())
    return {
        f"rhi_due{suffix}": len(rhi),
        f"rhi_completed{suffix}": len(done),
        f"rhi_declined{suffix}": declined,
        f"rhi_not_done{suffix}": len(rhi) - len(done) - declined,
    }


def _population_figures(records: Records, period: Period, in_population: pd.Series) -> dict[str, float | int | None]:
    episodes = records.episodes
    episodes = episodes[in_population & _in_period(episodes["start_date"], period)]
    missing = episodes[episodes["kind"] == "missing"]
    absent = episodes[episodes["kind"] == "absent"]
    per_child = missing.groupby("child_id").size()
    repeat_children = set(per_child[per_child >= 3].index)
    actions = records.actions
    rhi = actions[(actions["kind"] == RHI) & actions["episode_id"].isin(set(missing["episode_id"]))]
    rhi_3plus = rhi[rhi["child_id"].isin(repeat_children)]
    done = rhi[rhi["status"] == "done"]
    strategy = actions[
        (actions["kind"] == STRATEGY)
        & actions["episode_id"].isin(set(records.episodes.loc[in_population, "episode_id"]))
        & _in_period(actions["trigger_date"], period)
    ]
    not_required = int((strategy["status"] == "not_required").sum())
    out: dict[str, float | int | None] = {
        "missing_episodes": len(missing),
        "children_missing": missing["child_id"].nunique(),
        "missing_per_child": round(len(missing) / missing["child_id"].nunique(), 1) if len(missing) else None,
        "children_3plus": len(repeat_children),
        "missing_episodes_3plus": int(missing["child_id"].isin(repeat_children).sum()),
        "absent_episodes": len(absent),
        "children_absent": absent["child_id"].nunique(),
        **_rhi_counts(rhi),
        **_rhi_counts(rhi_3plus, "_3plus"),
        # Wolverhampton 3.2: "Of the 19 young people who declined Missing Return interviews, 11 of these had three
        # or more missing episodes."
        "children_declined": rhi.loc[rhi["status"] == "declined", "child_id"].nunique(),
        "children_declined_3plus": rhi_3plus.loc[rhi_3plus["status"] == "declined", "child_id"].nunique(),
        "rhi_in_time": int((done["done_at"] <= done["due_at"]).sum()) if len(done) else 0,
        "strategy_required": len(strategy) - not_required,
        "strategy_held": int((strategy["status"] == "done").sum()),
        "strategy_not_required": not_required,
    }
    for key, (part, whole) in PCT_OF.items():
        out[key] = percentage(out[part] or 0, out[whole] or 0)
    return out


def _apart_figures(records: Records, period: Period, population: str) -> dict[str, int]:
    """What is counted apart from the missing and absent figures: missing from curfew (Wolverhampton 3.13) and
    hidden missing children, recorded by the service and never reported to the police (Wakefield s2). For the
    children in care, by the legal status on the day the episode began or the hidden missing was recorded."""
    curfew = records.curfew
    curfew = curfew[_in_period(curfew["start_date"], period)]
    outcomes = records.outcomes
    hidden = outcomes[(outcomes["event"] == HIDDEN_MISSING) & _in_period(outcomes["recorded_date"], period)]
    if population == "children_in_care":
        curfew = curfew[curfew["legal_status"] == LOOKED_AFTER]
        hidden = hidden[hidden["legal_status"] == LOOKED_AFTER]
    return {"curfew_episodes": len(curfew), "hidden_missing": len(hidden),
            "children_hidden_missing": hidden["child_id"].nunique()}


def _populations(records: Records) -> dict[str, pd.Series]:
    """Each population's episodes (a mask over ``records.episodes``): in care by the status on the start date."""
    return {"children_in_care": records.in_care_episodes(),
            "all_children": pd.Series(True, index=records.episodes.index)}


def _summary(records: Records, period: Period) -> pd.DataFrame:
    columns = {name: {**_population_figures(records, period, mask), **_apart_figures(records, period, name)}
               for name, mask in _populations(records).items()}
    rows = [
        {"measure": key, "label": label, **{pop: columns[pop][key] for pop in POPULATIONS}} for key, label in MEASURES
    ]
    frame = pd.DataFrame(rows).set_index("measure")
    return frame.astype(object).where(frame.notna(), None)


def _missing_by_month(records: Records, period: Period, in_population: pd.Series, kind: str) -> pd.Series:
    episodes = records.episodes
    chosen = episodes[in_population & (episodes["kind"] == kind) & _in_period(episodes["start_date"], period)]
    months = chosen["start_date"].map(lambda day: day.replace(day=1))
    return months.value_counts().reindex(period.months(), fill_value=0)


def _monthly(records: Records, period: Period) -> pd.DataFrame:
    pops = _populations(records)
    frame = pd.DataFrame(
        {
            "month": period.months(),
            "missing_in_care": _missing_by_month(records, period, pops["children_in_care"], "missing").to_numpy(),
            "absent_in_care": _missing_by_month(records, period, pops["children_in_care"], "absent").to_numpy(),
            "missing_all": _missing_by_month(records, period, pops["all_children"], "missing").to_numpy(),
        }
    )
    return frame.astype({"missing_in_care": int, "absent_in_care": int, "missing_all": int})


def _yearly(monthly: pd.DataFrame) -> pd.DataFrame:
    by_year = monthly.assign(year=monthly["month"].map(lambda day: day.year)).groupby("year")
    frame = pd.DataFrame(
        {
            "months": by_year.size(),
            "missing_in_care": by_year["missing_in_care"].sum(),
            "missing_all": by_year["missing_all"].sum(),
        }
    ).reset_index()
    frame["per_month_in_care"] = (frame["missing_in_care"] / frame["months"]).round(1)
    frame["per_month_all"] = (frame["missing_all"] / frame["months"]).round(1)
    return frame[["year", "months", "missing_in_care", "per_month_in_care", "missing_all", "per_month_all"]]


def board_figures(records: Records, period: Period) -> BoardFigures:
    """All the board's tables for ``period`` from one read of the store."""
    monthly = _monthly(records, period)
    return BoardFigures(period=period, summary=_summary(records, period), monthly=monthly, yearly=_yearly(monthly))


def month_label(day: date) -> str:
    return f"{day:%b %Y}"
