"""One test per DfE Missing-table rule: a row that breaks it is reported, a clean row is not.

Collection year 2025: 1 April 2024 to 31 March 2025. Rows are (CHILD, DOB, MISSING, MIS_START, MIS_END); row
labels are positions, so ``[1]`` means the second row failed.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from missing_episodes.reports.ssda903_rules import MISSING_COLUMNS, RULES, RULES_BY_CODE, Tables, validate

CLEAN = ("C1", "01/01/2010", "M", "01/05/2024", "02/05/2024")
HEADER = pd.DataFrame({"CHILD": ["C1", "C2"], "DOB": ["01/01/2010", "01/01/2011"]})
EPISODES = pd.DataFrame({"CHILD": ["C1", "C2"], "DECOM": ["01/01/2024", "01/01/2024"], "DEC": ["", ""]})


def tables(*rows: tuple, header=None, episodes=None, missing_last=None) -> Tables:
    return Tables(
        missing=pd.DataFrame(list(rows), columns=MISSING_COLUMNS),
        collection_start=date(2024, 4, 1),
        collection_end=date(2025, 3, 31),
        header=header,
        episodes=episodes,
        missing_last=missing_last,
    )


def fails(code: str, t: Tables) -> list:
    return list(RULES_BY_CODE[code].check(t))


def test_every_rule_listed_in_the_brief_is_implemented() -> None:
    assert [r.code for r in RULES] == [
        "564", "565", "566", "567", "570", "571", "574", "575", "576", "577", "578", "581", "586",
        "1004", "1005", "1006", "1012", "INT04", "INT13",
    ]  # fmt: skip


def test_564_start_blank() -> None:
    assert fails("564", tables(CLEAN, ("C1", "01/01/2010", "A", "", ""))) == [1]


def test_565_start_without_type() -> None:
    assert fails("565", tables(CLEAN, ("C1", "01/01/2010", "", "01/06/2024", ""))) == [1]


def test_566_end_without_type() -> None:
    assert fails("566", tables(CLEAN, ("C1", "01/01/2010", None, "", "02/06/2024"))) == [1]


def test_567_end_before_start() -> None:
    assert fails("567", tables(CLEAN, ("C1", "01/01/2010", "M", "05/06/2024", "04/06/2024"))) == [1]


def test_570_start_after_collection_year() -> None:
    assert fails("570", tables(CLEAN, ("C1", "01/01/2010", "M", "01/04/2025", ""))) == [1]


def test_571_end_outside_collection_year() -> None:
    before = ("C1", "01/01/2010", "M", "01/03/2024", "31/03/2024")
    after = ("C1", "01/01/2010", "M", "30/03/2025", "01/04/2025")
    assert fails("571", tables(CLEAN, before, after)) == [1, 2]


def test_574_overlap_or_new_period_while_open() -> None:
    overlapping = (
        ("C1", "01/01/2010", "M", "01/05/2024", "03/05/2024"),
        ("C1", "01/01/2010", "M", "02/05/2024", "04/05/2024"),
    )
    assert fails("574", tables(*overlapping)) == [1]
    still_open = ("C2", "01/01/2011", "M", "01/06/2024", ""), ("C2", "01/01/2011", "A", "10/06/2024", "11/06/2024")
    # Ordered by end (the open one by its start), the open period comes first and another follows it.
    assert fails("574", tables(*still_open)) == [1]
    back_to_back = CLEAN, ("C1", "01/01/2010", "A", "02/05/2024", "03/05/2024")  # starts the day the last ended
    assert fails("574", tables(*back_to_back)) == []


def test_575_placement_ended_but_missing_open() -> None:
    episodes = pd.DataFrame({"CHILD": ["C1"], "DECOM": ["01/01/2024"], "DEC": ["01/07/2024"]})
    open_row = ("C1", "01/01/2010", "M", "01/06/2024", "")
    assert fails("575", tables(CLEAN, open_row, episodes=episodes)) == [1]
    assert fails("575", tables(open_row, episodes=EPISODES)) == []  # placement still open


def test_576_open_period_last_year_not_carried_forward() -> None:
    last = pd.DataFrame([("C1", "01/01/2010", "M", "20/03/2024", "")], columns=MISSING_COLUMNS)
    carried = ("C1", "01/01/2010", "M", "20/03/2024", "02/04/2024")
    assert fails("576", tables(carried, CLEAN, missing_last=last)) == []
    assert fails("576", tables(("C2", "01/01/2011", "M", "01/05/2024", ""), CLEAN, missing_last=last)) == [1]


def test_577_open_missing_period_after_care_ended() -> None:
    episodes = pd.DataFrame({"CHILD": ["C1", "C2"], "DECOM": ["01/01/2024", "01/01/2024"], "DEC": ["01/09/2024", ""]})
    assert fails("577", tables(("C1", "01/01/2010", "M", "01/06/2024", ""), episodes=episodes)) == [0]
    assert fails("577", tables(CLEAN, ("C2", "01/01/2011", "M", "01/06/2024", ""), episodes=episodes)) == []


def test_578_missing_after_care_ended() -> None:
    episodes = pd.DataFrame({"CHILD": ["C1"], "DECOM": ["01/01/2024"], "DEC": ["01/09/2024"]})
    late = ("C1", "01/01/2010", "M", "02/09/2024", "03/09/2024")
    assert fails("578", tables(CLEAN, late, episodes=episodes)) == [1]


def test_581_missing_before_care_started() -> None:
    early = ("C2", "01/01/2011", "M", "01/12/2023", "02/12/2023")
    assert fails("581", tables(CLEAN, early, episodes=EPISODES)) == [1]


def test_586_start_on_or_before_birth() -> None:
    assert fails("586", tables(CLEAN, ("C1", "01/05/2024", "M", "01/05/2024", ""))) == [1]


def test_1004_start_not_a_date() -> None:
    assert fails("1004", tables(CLEAN, ("C1", "01/01/2010", "M", "2024-05-01", ""))) == [1]
    assert fails("1004", tables(("C1", "01/01/2010", "M", "31/02/2024", ""))) == [0]


def test_1005_end_not_a_date() -> None:
    assert fails(
        "1005", tables(CLEAN, ("C1", "01/01/2010", "M", "01/06/2024", "soon"), ("C2", "", "M", "01/06/2024", ""))
    ) == [1]


def test_1006_type_invalid() -> None:
    assert fails(
        "1006", tables(CLEAN, ("C1", "01/01/2010", "X", "01/06/2024", ""), ("C2", "", "a", "01/06/2024", ""))
    ) == [1]


def test_1012_child_without_episodes() -> None:
    assert fails("1012", tables(CLEAN, ("C9", "01/01/2010", "M", "01/06/2024", ""), episodes=EPISODES)) == [1]


def test_int04_child_not_in_header() -> None:
    assert fails("INT04", tables(CLEAN, ("C9", "01/01/2010", "M", "01/06/2024", ""), header=HEADER)) == [1]


def test_int13_dob_differs_from_header() -> None:
    assert fails("INT13", tables(CLEAN, ("C2", "02/01/2011", "M", "01/06/2024", ""), header=HEADER)) == [1]


def test_validate_lists_failures_per_child_and_rules_not_checked() -> None:
    result = validate(tables(CLEAN, ("C1", "01/01/2010", "M", "05/06/2024", "04/06/2024")))
    failed = result[result["status"] == "fail"]
    assert failed[["rule", "row", "CHILD", "MIS_START"]].values.tolist() == [["567", 2, "C1", "05/06/2024"]]
    not_checked = set(result.loc[result["status"] == "not_checked", "rule"])
    assert not_checked == {"575", "576", "577", "578", "581", "1012", "INT04", "INT13"}
    assert set(result.loc[result["status"] == "passed", "rule"]) == {
        "564", "565", "566", "570", "571", "574", "586", "1004", "1005", "1006",
    }  # fmt: skip


def test_clean_return_passes_every_rule() -> None:
    last = pd.DataFrame(columns=MISSING_COLUMNS)
    result = validate(
        tables(CLEAN, ("C2", "01/01/2011", "A", "01/06/2024", ""), header=HEADER, episodes=EPISODES, missing_last=last)
    )
    assert set(result["status"]) == {"passed"}
    assert len(result) == len(RULES)
