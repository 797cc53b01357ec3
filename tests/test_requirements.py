"""The requirements matrix and the policy's seed quotes are checked against the code, the tests and the seeds.

A row marked done or partial must name only rules, records, documents, reports, feeds and tests that exist, and a
done row at least one test; every rule of the default policy must be named by some row; every quote (a row's and
a rule's ``seed``) must be in the practice documents, when they are present beside the repository.
"""

from __future__ import annotations

import re

import pytest

from missing_episodes.config import DATA_DIR
from missing_episodes.db import models
from missing_episodes.feeds import FEED_KINDS
from missing_episodes.policy import load_policy
from tests import requirements, seeds

POLICY = load_policy(DATA_DIR / "policies" / "default.yaml")
MATRIX = requirements.load()
DUTIES = [(seed, duty) for seed in MATRIX for duty in seed.duties]
ROOT = requirements.ROOT
needs_seeds = pytest.mark.skipif(not seeds.seed_texts(), reason=seeds.skip_reason())


def _exists(item: str) -> bool:
    kind, _, name = item.partition(":")
    checks = {
        "rule": lambda: name in {rule.id for rule in POLICY.rules},
        "record": lambda: isinstance(getattr(models, name, None), type),
        "document": lambda: (ROOT / "templates" / "documents" / f"{name}.html.j2").exists(),
        "report": lambda: (ROOT / "missing_episodes" / "reports" / f"{name}.py").exists(),
        "feed": lambda: name in FEED_KINDS,
        "cli": lambda: bool(re.search(rf'name="{re.escape(name)}"|def {re.escape(name.replace("-", "_"))}\(',
                                      "".join(p.read_text() for p in (ROOT / "cli").glob("*.py")))),
        "flow": lambda: (ROOT / "flows" / f"{name}.py").exists(),
    }
    return kind in checks and checks[kind]()


def _test_exists(reference: str) -> bool:
    path, _, name = reference.partition("::")
    file = ROOT / path
    return file.exists() and re.search(rf"^def {re.escape(name)}\(", file.read_text(encoding="utf-8"), re.M) is not None


def test_rows_are_well_formed_and_ids_unique() -> None:
    ids = [duty.id for _, duty in DUTIES]
    assert len(ids) == len(set(ids)), "a duty id is used twice"
    for _, duty in DUTIES:
        assert duty.status in requirements.STATUSES, duty.id
        assert duty.quote.strip(), duty.id
        if duty.status == "done":
            assert duty.by and duty.tests, f"{duty.id}: a done duty names what implements it and a test"
        if duty.status != "done":
            assert duty.note, f"{duty.id}: a {duty.status} duty says what is left"


@pytest.mark.parametrize(("seed", "duty"), [pytest.param(s, d, id=d.id) for s, d in DUTIES
                                            if d.status != "missing"])
def test_what_a_row_names_exists(seed, duty) -> None:
    assert [item for item in duty.by if not _exists(item)] == []
    assert [test for test in duty.tests if not _test_exists(test)] == []


def test_every_rule_of_the_default_policy_traces_to_a_duty() -> None:
    named = {item.split(":", 1)[1] for _, duty in DUTIES for item in duty.by if item.startswith("rule:")}
    assert [rule.id for rule in POLICY.rules if rule.id not in named] == []


def test_the_rendered_matrix_is_up_to_date() -> None:
    assert requirements.main([]) == 0, "run: python -m tests.requirements --write"


@needs_seeds
@pytest.mark.parametrize(("seed", "duty"), [pytest.param(s, d, id=d.id) for s, d in DUTIES])
def test_a_rows_quote_is_in_its_document(seed, duty) -> None:
    assert seed.file in seeds.seed_texts(), f"no seed file {seed.file}"
    assert seeds.missing_fragments(duty.quote, seed.file) == []


@needs_seeds
@pytest.mark.parametrize("rule", POLICY.rules, ids=lambda rule: rule.id)
def test_a_rules_seed_quote_is_in_the_practice_documents(rule) -> None:
    assert seeds.missing_fragments(seeds.rule_quote(rule.seed)) == []
