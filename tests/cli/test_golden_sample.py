"""The bundled sample's output is byte-identical to the golden record (tests/golden.py says what and why).

A failure names each artefact that changed and shows the first lines of its diff against the reference copy in
``tests/golden/sample/``. If the change is deliberate, ``bash scripts/golden --update`` and say so in the commit
message; if not, the change altered behaviour it meant to keep.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from tests import golden


def test_the_record_and_its_reference_texts_agree() -> None:
    """The texts kept for diffs are the ones the digests describe, and the record covers what the brief asks."""
    record = golden.load_golden()
    artefacts: dict[str, dict[str, object]] = record["artefacts"]  # type: ignore[assignment]
    assert record["as_of"] == golden.SampleMoments.from_manifest().as_of
    for name, digest in artefacts.items():
        data = (golden.GOLDEN_TEXTS / name).read_bytes()
        assert {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)} == digest, name
    kept = {p.relative_to(golden.GOLDEN_TEXTS).as_posix() for p in golden.GOLDEN_TEXTS.rglob("*") if p.is_file()}
    assert kept == set(artefacts)
    names = set(artefacts)
    for wanted in ("worklist.json", "stored/actions.json", "commands.txt"):
        assert wanted in names
    for pattern in (r"out/briefing/briefing-.*\.html", r"out/weekly_list/.*\.html", r"returns/ssda903/missing\.csv",
                    r"returns/ssda903/missing\.xml", r"returns/annex-a/.*\.csv", r"returns/ssd/.*\.csv"):
        assert any(re.fullmatch(pattern, name) for name in names), pattern
    assert any(name.endswith(".pdf") for name in record["present"])  # type: ignore[union-attr]


def test_the_moments_come_from_the_manifest() -> None:
    moments = golden.SampleMoments.from_manifest()
    assert moments.as_of == "2026-11-02T08:30:00+00:00"
    assert str(moments.briefing_day) == "2026-11-02"
    assert str(moments.week_ending) == "2026-11-01"  # the Sunday before that Monday
    assert moments.ssda903_year == 2027  # April 2026 to March 2027
    assert str(moments.annex_a_date) == "2026-10-31"


def test_a_difference_is_named_and_shown_as_a_diff(tmp_path: Path) -> None:
    """The reporting itself, without running the product: one changed, one missing, one new artefact."""
    texts = tmp_path / "texts"
    texts.mkdir()
    before = "".join(f"line {n}\n" for n in range(200)).encode()
    (texts / "a.txt").write_bytes(before)
    reference = golden.Run(tmp_path, artefacts={"a.txt": before, "b.txt": b"kept\n"})
    record = {"artefacts": reference.digests(), "present": ["x.pdf"]}
    after = before.replace(b"line 100\n", b"line one hundred\n")
    now = golden.Run(tmp_path, artefacts={"a.txt": after, "c.txt": b"new\n"}, present=["x.pdf"])
    reports = golden.differences(now, record, texts)
    assert len(reports) == 3
    changed = next(r for r in reports if r.startswith("a.txt: differs"))
    assert "-line 100" in changed and "+line one hundred" in changed
    assert any(r.startswith("b.txt: missing") for r in reports)
    assert any(r.startswith("c.txt: new artefact") for r in reports)
    assert golden.differences(reference, record, texts) == ["x.pdf: not written (presence expected)"]
    long_change = golden.Run(tmp_path, artefacts={"a.txt": before.replace(b"line", b"LINE"), "b.txt": b"kept\n"},
                             present=["x.pdf"])
    (report,) = golden.differences(long_change, record, texts)
    assert len(report.splitlines()) == 1 + golden.DIFF_LINES + 1  # heading, the first 40 diff lines, "… more"


@pytest.mark.slow
def test_the_sample_is_byte_identical_to_the_golden_record(tmp_path: Path) -> None:
    """The whole product through its command line (two Prefect server starts, about two minutes)."""
    run = golden.produce(tmp_path / "run")
    reports = golden.differences(run)
    assert not reports, "\n\n".join(reports) + f"\n\nthis run's files: {run.work}"


@pytest.mark.slow
def test_a_different_policy_gives_different_actions(tmp_path: Path) -> None:
    """The golden comparison can fail: RHIs due at 48 hours instead of 72 change the worklist and stored actions."""
    default = golden.ROOT / "data" / "policies" / "default.yaml"
    text = default.read_text(encoding="utf-8")
    rhi = text.index("id: rhi.within_72h_of_return")
    due = text.index("due: {hours: 72}", rhi)
    changed = tmp_path / "policy-rhi-48h.yaml"
    changed.write_text(text[:due] + "due: {hours: 48}" + text[due + len("due: {hours: 72}"):], encoding="utf-8")
    run = golden.produce(tmp_path / "run", {"MISSING_EPISODES_POLICY": str(changed)}, worklist_only=True)
    reports = golden.differences(run, only=golden.WORKLIST_ARTEFACTS)
    assert [r.split(":")[0] for r in reports] == ["stored/actions.json", "worklist.json"]
    assert all(": differs" in r for r in reports)
    assert any(re.search(r'^\s+[-+].*"due_at"', r, re.MULTILINE) for r in reports), reports[0][:2000]
