"""The requirements matrix: every duty the five practice documents ask of the product, what implements it and the
test that proves it (issue 15). The data is ``docs/requirements/*.yaml``, one file per seed so the people working
on different documents do not collide; ``docs/requirements.md`` is rendered from it.

    python -m tests.requirements           # exit 1 if docs/requirements.md is not the rendering of the data
    python -m tests.requirements --write   # render it

A row: ``id`` (stable), ``quote`` (the seed's words; parts separated by ``...``), ``status`` (done, partial,
missing), ``by`` (what implements it: ``rule:<id>``, ``record:<table class>``, ``document:<template>``,
``report:<module>``, ``feed:<kind>``, ``cli:<command>``, ``flow:<module>``), ``tests`` (``path::test_name``) and an
optional ``note`` (what is left, for a partial or missing row). ``tests/test_requirements.py`` checks every row.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "docs" / "requirements"
RENDERED = ROOT / "docs" / "requirements.md"
STATUSES = ("done", "partial", "missing")


@dataclass(frozen=True)
class Duty:
    id: str
    quote: str
    status: str
    by: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class Seed:
    file: str  # the seed's file name in shared/seeds
    title: str
    duties: list[Duty]


def load() -> list[Seed]:
    seeds = []
    for path in sorted(DATA.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        seeds.append(Seed(data["seed_file"], data["title"], [Duty(**row) for row in data["duties"]]))
    return seeds


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render(seeds: list[Seed]) -> str:
    duties = [duty for seed in seeds for duty in seed.duties]
    counts = {status: sum(duty.status == status for duty in duties) for status in STATUSES}
    lines = [
        "# Requirements matrix",
        "",
        "<!-- Rendered from docs/requirements/*.yaml by `python -m tests.requirements --write`; edit the YAML. -->",
        "",
        "Every duty the five practice documents (not part of this repository) ask of the product: the",
        "document's words, what implements the duty (a policy rule, a stored record, a document, a report, a feed, a",
        "command) and the test that proves it. `tests/test_requirements.py` fails when a row marked done or partial",
        "names a rule or test that does not exist, and when a quote is not in its document.",
        "",
        f"{len(duties)} duties: {counts['done']} done, {counts['partial']} partial, {counts['missing']} missing.",
        "",
    ]
    for seed in seeds:
        lines += [f"## {seed.title}", "", f"`{seed.file}`", "",
                  "| id | the document says | status | implemented by | proved by |", "| --- | --- | --- | --- | --- |"]
        for duty in seed.duties:
            status = duty.status + (f": {duty.note}" if duty.note else "")
            tests = "<br>".join(f"`{test.split('::')[-1]}`" for test in duty.tests)
            by = "<br>".join(f"`{item}`" for item in duty.by)
            lines.append(f"| {duty.id} | {_cell(duty.quote)} | {_cell(status)} | {by} | {tests} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    text = render(load())
    if "--write" in argv:
        RENDERED.write_text(text, encoding="utf-8")
        return 0
    if not RENDERED.exists() or RENDERED.read_text(encoding="utf-8") != text:
        print("docs/requirements.md is out of date: run python -m tests.requirements --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
