"""The DfE's validation rules for the SSDA903 Missing table: the catalogue (code, message, tables needed, check)
and the run that applies it to a return.

Rule codes and messages are the DfE's, as implemented by the sector's validator (``csc-validator-be-903``,
ruleset lac2022_23, unchanged through lac2026_27); the checks (``ssda903_checks``) are our own code. A rule whose
tables are not supplied is *not checked*, never assumed to pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from missing_episodes.reports.ssda903_checks import (
    MISSING_COLUMNS,
    Tables,
    rule_564,
    rule_565,
    rule_566,
    rule_567,
    rule_570,
    rule_571,
    rule_574,
    rule_575,
    rule_576,
    rule_577,
    rule_578,
    rule_581,
    rule_586,
    rule_1004,
    rule_1005,
    rule_1006,
    rule_1012,
    rule_int04,
    rule_int13,
)

__all__ = ["MISSING_COLUMNS", "RULES", "RULES_BY_CODE", "VALIDATION_COLUMNS", "Rule", "Tables", "failures", "validate"]


@dataclass(frozen=True)
class Rule:
    code: str
    message: str
    needs: tuple[str, ...]  # tables beyond Missing: "header", "episodes", "missing_last"
    check: Callable[[Tables], list]


_WHAT = "missing or away from placement without authorisation"
RULES: list[Rule] = [
    Rule("564", f"Child was {_WHAT} and the date started is blank.", (), rule_564),
    Rule(
        "565",
        f"The date that the child started to be {_WHAT} has been completed but whether the child was missing or "
        "away from placement without authorisation has not been completed.",
        (),
        rule_565,
    ),
    Rule(
        "566",
        "The date that the child's episode of being missing or away from placement without authorisation ended has "
        "been completed but whether the child was missing or away without authorisation has not been completed.",
        (),
        rule_566,
    ),
    Rule(
        "567",
        "The date that the missing episode or episode that the child was away from placement without authorisation "
        "ended is before the date that it started.",
        (),
        rule_567,
    ),
    Rule(
        "570",
        f"The date that the child started to be {_WHAT} is after the end of the collection year.",
        (),
        rule_570,
    ),
    Rule(
        "571",
        f"The date that the child ceased to be {_WHAT} is before the start or after the end of the collection year.",
        (),
        rule_571,
    ),
    Rule(
        "574",
        "A new missing/away from placement without authorisation period cannot start when the previous "
        "missing/away from placement without authorisation period is still open. Missing/away from placement "
        "without authorisation periods should also not overlap.",
        (),
        rule_574,
    ),
    Rule(
        "575",
        "If the placement from which the child goes missing/away from placement without authorisation ends, the "
        "missing/away from placement without authorisation period in the missing module must also have an end date.",
        ("episodes",),
        rule_575,
    ),
    Rule(
        "576",
        "There is an open missing/away from placement without authorisation period in last year's return and "
        "there is no corresponding period recorded at the start of this year.",
        ("missing_last",),
        rule_576,
    ),
    Rule(
        "577",
        "Child ceased to be looked after but there is a missing/away from placement without authorisation period "
        "without an end date.",
        ("episodes",),
        rule_577,
    ),
    Rule(
        "578",
        "The date that the child started to be missing is after the child ceased to be looked after.",
        ("episodes",),
        rule_578,
    ),
    Rule("581", "Child is missing but has not yet started to be looked after.", ("episodes",), rule_581),
    Rule("586", "Dates of missing periods are before child's date of birth.", (), rule_586),
    Rule(
        "1004",
        "The start date of the missing episode or episode that the child was away from placement without "
        "authorisation is not a valid date.",
        (),
        rule_1004,
    ),
    Rule(
        "1005",
        "The end date of the missing episode or episode that the child was away from placement without "
        "authorisation is not a valid date.",
        (),
        rule_1005,
    ),
    Rule("1006", "Missing type invalid.", (), rule_1006),
    Rule(
        "1012",
        "No other data should be returned for OC3 children who had no episodes in the current year",
        ("episodes",),
        rule_1012,
    ),
    Rule("INT04", "Internal Check: Child in Missing does not exist in Header.", ("header",), rule_int04),
    Rule("INT13", "Internal Check: DOB in Missing is different to DOB in Header.", ("header",), rule_int13),
]
RULES_BY_CODE = {rule.code: rule for rule in RULES}
NEEDS_OPTION = {"header": "--header", "episodes": "--episodes", "missing_last": "last year's Missing table"}
VALIDATION_COLUMNS = ["rule", "status", "row", "CHILD", "MIS_START", "message"]


def validate(tables: Tables, rules: list[Rule] | None = None) -> pd.DataFrame:
    """Run every rule; one row per failing Missing row and rule, plus one row per rule that passed or was not
    checked, so ``validation.csv`` is a complete record of what was and was not tested.

    ``row`` is the 1-based data row of ``missing.csv`` (the header line not counted).
    """
    missing = tables.missing.reset_index(drop=True)
    tables = Tables(
        missing=missing,
        collection_start=tables.collection_start,
        collection_end=tables.collection_end,
        header=tables.header,
        episodes=tables.episodes,
        missing_last=tables.missing_last,
    )
    out = []
    for rule in rules or RULES:
        absent = [need for need in rule.needs if getattr(tables, need) is None]
        if absent:
            reason = ", ".join(NEEDS_OPTION[need] for need in absent)
            out.append({"rule": rule.code, "status": "not_checked", "message": f"{rule.message} (needs {reason})"})
            continue
        failing = rule.check(tables)
        if not failing:
            out.append({"rule": rule.code, "status": "passed", "message": rule.message})
        for row in failing:
            out.append(
                {
                    "rule": rule.code,
                    "status": "fail",
                    "row": int(row) + 1,
                    "CHILD": missing.at[row, "CHILD"],
                    "MIS_START": missing.at[row, "MIS_START"],
                    "message": rule.message,
                }
            )
    return pd.DataFrame(out, columns=VALIDATION_COLUMNS)


def failures(result: pd.DataFrame) -> pd.DataFrame:
    return result[result["status"] == "fail"]
