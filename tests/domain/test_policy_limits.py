"""A policy accepts no nonsense (issue 16, item 10): every due, trigger delay, repeat and window is a finite number
from zero to a year, repeats and windows are longer than zero, and the load error is one line naming the file,
the key, the rule's id and the allowed range.

Each case is the default policy with one value changed, as an authority editing its file would change it.
"""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path

import pytest
import yaml

from missing_episodes.config import DATA_DIR
from missing_episodes.offsets import Offset
from missing_episodes.policy import PolicyError, load_policy

DEFAULT = yaml.safe_load((DATA_DIR / "policies" / "default.yaml").read_text(encoding="utf-8"))


def changed(rule_id: str, edit) -> dict:
    data = copy.deepcopy(DEFAULT)
    [rule] = [rule for rule in data["rules"] if rule["id"] == rule_id]
    edit(rule)
    return data


def load_error(tmp_path: Path, data: dict) -> str:
    path = tmp_path / "authority.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: invalid policy: ")
    return message


@pytest.mark.parametrize(("rule_id", "edit", "expected"), [
    ("rhi.within_72h_of_return", lambda r: r.update(due={"hours": -72}),
     r"rules\.\d+\.due\.hours \(rule rhi\.within_72h_of_return\): -72 is out of range: give a number of hours "
     r"from 0 to 8784"),
    ("strategy.missing_24h", lambda r: r["trigger"].update(after={"hours": -24}),
     r"rules\.\d+\.trigger\.missing_for\.after\.hours \(rule strategy\.missing_24h\): -24 is out of range: "
     r"give a number of hours from 0 to 8784"),
    ("strategy.four_in_28_days", lambda r: r["trigger"].update(window={"days": -28}),
     r"rules\.\d+\.trigger\.repeat_episodes\.window\.days \(rule strategy\.four_in_28_days\): -28 is out of "
     r"range: give a number of days from 0 to 366"),
    ("rhi.within_72h_of_return", lambda r: r.update(due={"hours": math.nan}),
     r"due\.hours \(rule rhi\.within_72h_of_return\): nan is out of range: give a number of hours from 0 to 8784"),
    ("rhi.within_72h_of_return", lambda r: r.update(due={"hours": math.inf}),
     r"due\.hours \(rule rhi\.within_72h_of_return\): inf is out of range"),
    ("strategy.missing_24h", lambda r: r["trigger"].update(after={"hours": 1e12}),
     r"after\.hours \(rule strategy\.missing_24h\): 1000000000000\.0 is out of range: give a number of hours "
     r"from 0 to 8784"),
    ("strategy.missing_24h", lambda r: r.update(due={"days": 1e12}),
     r"due\.days \(rule strategy\.missing_24h\): 1000000000000\.0 is out of range: give a number of days "
     r"from 0 to 366"),
    ("strategy.six_in_2_months", lambda r: r["trigger"].update(window={"months": 13}),
     r"window\.months \(rule strategy\.six_in_2_months\): 13 is out of range: give a number of months from 0 to 12"),
    ("care_leaver.team_manager_3wd", lambda r: r.update(due={"working_days": -3}),
     r"due\.working_days \(rule care_leaver\.team_manager_3wd\): -3 is out of range"),
    ("strategy.four_in_28_days", lambda r: r["trigger"].update(window={"days": 0}),
     r"rules\.\d+ \(rule strategy\.four_in_28_days\): trigger\.window must be longer than zero"),
    ("strategy.missing_24h", lambda r: r.update(due={"months": 12, "days": 200}),
     r"due \(rule strategy\.missing_24h\): the offset spans more than a year"),
], ids=["due -72 h", "trigger after -24 h", "window -28 days", "NaN hours", "infinite hours", "1e12 hours",
        "1e12 days", "window 13 months", "due -3 working days", "window of zero", "more than a year in all"])
def test_a_nonsense_span_is_refused_in_one_line_naming_the_rule_field_and_range(tmp_path, rule_id, edit, expected):
    message = load_error(tmp_path, changed(rule_id, edit))
    assert re.search(expected, message), message


def test_a_repeat_every_zero_is_refused_it_would_never_advance(tmp_path):
    every = [r["id"] for r in DEFAULT["rules"] if isinstance(r.get("trigger"), dict) and "every" in r["trigger"]]
    assert every, "the default policy has repeating rules"
    message = load_error(tmp_path, changed(every[0], lambda r: r["trigger"].update(every={"hours": 0})))
    assert f"(rule {every[0]}): trigger.every must be longer than zero" in message


def test_other_numbers_of_the_policy_are_bounded_too(tmp_path):
    for section, key, value in [("briefing", "overdue_window_days", 10**6), ("allocation", "distant_placement_miles",
                                                                           math.nan)]:
        data = copy.deepcopy(DEFAULT)
        data.setdefault(section, {})[key] = value
        assert f"{section}.{key}" in load_error(tmp_path, data)
    data = copy.deepcopy(DEFAULT)
    data["schedule_horizon_days"] = -1
    assert "schedule_horizon_days" in load_error(tmp_path, data)
    aged = [r["id"] for r in DEFAULT["rules"] if "until_age" in r]
    message = load_error(tmp_path, changed(aged[0], lambda r: r.update(until_age=-18)))
    assert f"until_age (rule {aged[0]})" in message


def test_the_default_policy_and_a_year_long_offset_still_load():
    assert load_policy(DATA_DIR / "policies" / "default.yaml").rules
    assert Offset(hours=8784).hours == 8784 and Offset(months=12).months == 12
    assert Offset(days=28).backwards().days == -28  # the product's own arithmetic is not a policy value


def test_an_authority_s_edit_is_read_by_the_next_load_in_a_running_process(tmp_path: Path) -> None:
    """A worker or the desk loads the policy for every run and keeps the parsed file while it is unchanged; the
    authority's change of the RHI timescale from 72 to 48 hours reaches the very next load."""
    path = tmp_path / "authority.yaml"
    path.write_text(yaml.safe_dump(DEFAULT, allow_unicode=True), encoding="utf-8")
    first = load_policy(path)
    assert load_policy(path) is first  # unchanged: not parsed again
    assert first.rule("rhi.within_72h_of_return").due.hours == 72

    path.write_text(yaml.safe_dump(changed("rhi.within_72h_of_return", lambda rule: rule["due"].update(hours=48)),
                                   allow_unicode=True), encoding="utf-8")
    assert load_policy(path).rule("rhi.within_72h_of_return").due.hours == 48
