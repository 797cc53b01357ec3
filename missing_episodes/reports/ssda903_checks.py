"""The checks behind the DfE's SSDA903 Missing-table rules: one pure function per rule over a return's tables.

Each takes the tables of a return (``Tables``: the Missing table as it would be submitted, with its dates as
DD/MM/YYYY text, plus the authority's Header and Episodes tables and last year's Missing table when known) and
returns the labels of the Missing rows that break it. The logic follows the sector's validator
(``csc-validator-be-903``) so that our check and the sector's agree, with one deliberate difference: 581 is not
raised for a row without a start date (564 and 1004 already report it). The rule catalogue (codes, the DfE's
messages, which tables each needs) and the validation run are in ``ssda903_rules``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd

DATE_FORMAT = "%d/%m/%Y"
MISSING_COLUMNS = ["CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"]


@dataclass(frozen=True)
class Tables:
    """A return's tables as text frames (blank cells may be ``""``, ``None`` or NaN)."""

    missing: pd.DataFrame
    collection_start: date
    collection_end: date
    header: pd.DataFrame | None = None
    episodes: pd.DataFrame | None = None
    missing_last: pd.DataFrame | None = None


# -- helpers ----------------------------------------------------------------------------------------------------


def blank(values: pd.Series) -> pd.Series:
    """True where a cell is empty: NaN, None, or only spaces."""
    return values.isna() | values.astype(str).str.strip().eq("")


def as_date(values: pd.Series) -> pd.Series:
    """DD/MM/YYYY text as timestamps; anything else (blank, 2024-05-01, 31/02/2024) becomes NaT."""
    text = values.where(~blank(values), None)
    return pd.to_datetime(text, format=DATE_FORMAT, errors="coerce")


def code(values: pd.Series) -> pd.Series:
    """Codes compared as the DfE reads them: trimmed, upper case."""
    return values.where(blank(values), values.astype(str).str.strip().str.upper())


def _rows(mask: pd.Series) -> list:
    return list(mask[mask.fillna(False).astype(bool)].index)


def _periods_of_care(episodes: pd.DataFrame) -> pd.DataFrame:
    """Each child's periods of care: consecutive episodes joined while each starts by the day the last ended.

    A period ends with the DEC of its last episode (blank while the child is still looked after).
    """
    frame = pd.DataFrame(
        {"CHILD": episodes["CHILD"], "DECOM": as_date(episodes["DECOM"]), "DEC": as_date(episodes["DEC"])}
    )
    frame = frame.dropna(subset=["DECOM"]).sort_values(["CHILD", "DECOM"], kind="stable").reset_index(drop=True)
    previous_end = frame.groupby("CHILD")["DEC"].shift()
    first = frame.groupby("CHILD").cumcount() == 0
    frame["period"] = (first | (frame["DECOM"] > previous_end)).cumsum()
    grouped = frame.groupby("period")
    return pd.DataFrame(
        {"CHILD": grouped["CHILD"].first(), "POC_START": grouped["DECOM"].first(), "POC_END": grouped["DEC"].last()}
    )


def _outside_every_period(tables: Tables, outside: Callable[[pd.DataFrame], pd.Series]) -> list:
    """Rows of Missing for which ``outside`` holds against every period of care of their child.

    A child with no period of care at all is left to rule 1012, as the sector validator does.
    """
    assert tables.episodes is not None
    missing = tables.missing
    rows = pd.DataFrame(
        {
            "row": missing.index,
            "CHILD": missing["CHILD"].to_numpy(),
            "START": as_date(missing["MIS_START"]).to_numpy(),
            "END": as_date(missing["MIS_END"]).to_numpy(),
            "OPEN": blank(missing["MIS_END"]).to_numpy(),
        }
    )
    rows = rows[rows["START"].notna()]
    paired = rows.merge(_periods_of_care(tables.episodes), on="CHILD", how="inner")
    if paired.empty:
        return []
    paired["outside"] = outside(paired).fillna(False).astype(bool)
    everywhere = paired.groupby("row")["outside"].all()
    return list(everywhere[everywhere].index)


# -- the rules --------------------------------------------------------------------------------------------------


def rule_564(t: Tables) -> list:
    m = t.missing
    return _rows(code(m["MISSING"]).isin(["M", "A"]) & blank(m["MIS_START"]))


def rule_565(t: Tables) -> list:
    m = t.missing
    return _rows(~blank(m["MIS_START"]) & blank(m["MISSING"]))


def rule_566(t: Tables) -> list:
    m = t.missing
    return _rows(~blank(m["MIS_END"]) & blank(m["MISSING"]))


def rule_567(t: Tables) -> list:
    m = t.missing
    return _rows(as_date(m["MIS_START"]) > as_date(m["MIS_END"]))


def rule_570(t: Tables) -> list:
    return _rows(as_date(t.missing["MIS_START"]) > pd.Timestamp(t.collection_end))


def rule_571(t: Tables) -> list:
    end = as_date(t.missing["MIS_END"])
    return _rows((end < pd.Timestamp(t.collection_start)) | (end > pd.Timestamp(t.collection_end)))


def rule_574(t: Tables) -> list:
    """Per child, in order of end (an open period ordered by its start): each period must start after the last
    one ended, and none may follow a period still open."""
    m = t.missing
    frame = pd.DataFrame({"CHILD": m["CHILD"], "START": as_date(m["MIS_START"]), "END": as_date(m["MIS_END"])})
    frame["KEY"] = frame["END"].fillna(frame["START"])
    frame = frame.sort_values(["CHILD", "KEY", "START"], kind="stable")
    previous_end = frame.groupby("CHILD")["END"].shift()
    has_previous = frame.groupby("CHILD").cumcount() > 0
    return sorted(_rows(has_previous & (previous_end.isna() | (frame["START"] < previous_end))))


def rule_575(t: Tables) -> list:
    """Open missing period although the placement episode it started in has ended."""
    assert t.episodes is not None
    m, e = t.missing, t.episodes
    rows = pd.DataFrame({"row": m.index, "CHILD": m["CHILD"].to_numpy(), "START": as_date(m["MIS_START"]).to_numpy()})
    rows = rows[blank(m["MIS_END"]).to_numpy()]
    eps = pd.DataFrame({"CHILD": e["CHILD"], "DECOM": as_date(e["DECOM"]), "DEC": as_date(e["DEC"])})
    paired = rows.merge(eps, on="CHILD")
    hit = paired["DEC"].notna() & (paired["START"] >= paired["DECOM"]) & (paired["START"] <= paired["DEC"])
    return sorted(set(paired.loc[hit, "row"]))


def rule_576(t: Tables) -> list:
    """A period open at the end of last year's return must be this year's first period for that child."""
    assert t.missing_last is not None
    m, last = t.missing, t.missing_last
    if m.empty or last.empty:
        return []
    starts = as_date(m["MIS_START"]).fillna(pd.Timestamp.max)
    first_rows = starts.groupby(m["CHILD"]).idxmin()
    first = pd.DataFrame(
        {"row": first_rows.to_numpy(), "CHILD": first_rows.index, "START": starts[first_rows].to_numpy()}
    )
    open_last = last[blank(last["MIS_END"])]
    open_last = pd.DataFrame({"CHILD": open_last["CHILD"], "LAST_START": as_date(open_last["MIS_START"])})
    paired = first.merge(open_last, on="CHILD")
    hit = paired["LAST_START"].notna() & (paired["START"] != paired["LAST_START"])
    return sorted(set(paired.loc[hit, "row"]))


def rule_577(t: Tables) -> list:
    def outside(p: pd.DataFrame) -> pd.Series:
        return (
            (p["OPEN"] & p["POC_END"].notna())
            | (p["OPEN"] & (p["START"] < p["POC_START"]))
            | (p["END"] > p["POC_END"])
            | (p["END"] < p["POC_START"])
        )

    return _outside_every_period(t, outside)


def rule_578(t: Tables) -> list:
    def outside(p: pd.DataFrame) -> pd.Series:
        return (p["START"] < p["POC_START"]) | (p["POC_END"].notna() & (p["START"] > p["POC_END"]))

    return _outside_every_period(t, outside)


def rule_581(t: Tables) -> list:
    """The start must fall inside one of the child's episodes of care (DECOM to DEC, or open)."""
    assert t.episodes is not None
    m, e = t.missing, t.episodes
    rows = pd.DataFrame({"row": m.index, "CHILD": m["CHILD"].to_numpy(), "START": as_date(m["MIS_START"]).to_numpy()})
    rows = rows[rows["START"].notna()]
    eps = pd.DataFrame({"CHILD": e["CHILD"], "DECOM": as_date(e["DECOM"]), "DEC": as_date(e["DEC"])})
    paired = rows.merge(eps, on="CHILD")
    paired["inside"] = (paired["START"] >= paired["DECOM"]) & (
        paired["DEC"].isna() | (paired["START"] <= paired["DEC"])
    )
    inside_any = paired.groupby("row")["inside"].any()
    return sorted(inside_any[~inside_any].index)


def rule_586(t: Tables) -> list:
    m = t.missing
    start = as_date(m["MIS_START"])
    return _rows(start.notna() & (start <= as_date(m["DOB"])))


def rule_1004(t: Tables) -> list:
    return _rows(as_date(t.missing["MIS_START"]).isna())


def rule_1005(t: Tables) -> list:
    m = t.missing
    return _rows(~blank(m["MIS_END"]) & as_date(m["MIS_END"]).isna())


def rule_1006(t: Tables) -> list:
    m = t.missing
    return _rows(~blank(m["MISSING"]) & ~code(m["MISSING"]).isin(["M", "A"]))


def rule_1012(t: Tables) -> list:
    assert t.episodes is not None
    return _rows(~t.missing["CHILD"].isin(set(t.episodes["CHILD"])))


def rule_int04(t: Tables) -> list:
    assert t.header is not None
    return _rows(~t.missing["CHILD"].isin(set(t.header["CHILD"])))


def rule_int13(t: Tables) -> list:
    assert t.header is not None
    header_dob = pd.Series(as_date(t.header["DOB"]).to_numpy(), index=t.header["CHILD"])
    header_dob = header_dob[~header_dob.index.duplicated()]
    ours = as_date(t.missing["DOB"])
    theirs = t.missing["CHILD"].map(header_dob)
    return _rows(ours.notna() & theirs.notna() & (ours != theirs))
