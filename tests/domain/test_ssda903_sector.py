"""The sector's own check: ``csc-validator-be-903`` reports no Missing-table error on our export.

The package pins pandas<2, which this project cannot share, so it runs in its own virtual environment, made
once in a cache directory (``~/.cache/missing-episodes/csc-validator-be-903-<version>``) with ``python3 -m venv``
and pip. The export and minimal matching Header and Episodes files are handed to it as CSVs, exactly as an
authority uploads them to the DfE's tool, and every Missing-table rule it has is run (collection year 2025).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from missing_episodes.config import DATA_DIR
from missing_episodes.jobs.ingest import ingest_path
from missing_episodes.reports.ssda903 import produce_ssda903
from tests.builders.reports import EXPECTED, authority_files, build_with_open_period

PACKAGE, VERSION = "csc-validator-be-903", "0.1.17"
VENV = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "missing-episodes" / f"{PACKAGE}-{VERSION}"

DRIVER = r"""
import json, sys
from pathlib import Path
from lac_validator.lac_validator import LacValidator
from lac_validator.rules.lac2024_25 import registry

year, scope, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
files = [{"name": p.name, "description": "This year", "file_content": p.read_bytes()} for p in map(Path, paths)]
# The rules that flag Missing rows: those naming the table (one spells it "MIssing") and 1012.
missing_rules = sorted(
    code for code, rule in registry.items() if code == "1012" or any(t.lower() == "missing" for t in rule.tables)
)
v = LacValidator(metadata={"collectionYear": year, "localAuthority": "E09000027"}, files=files, registry=registry,
                 selected_rules=missing_rules if scope == "missing" else None)
result = v.ds_results["Missing"]
errors = {}
for column in [c for c in result.columns if str(c).startswith("ERR_")]:
    rows = result.index[result[column].fillna(False).astype(bool)].tolist()
    if rows:
        errors[column[4:]] = rows
print(json.dumps({"rows": len(result), "errors": errors, "crashed": v.fails, "skipped": v.skips,
                  "missing_rules": missing_rules}))
"""


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def _sector_python() -> Path:
    """The validator's own interpreter, made on first use; skip (fail in CI) when it cannot be made here.

    Made under a file lock: two test workers (pytest-xdist) reaching here at once on a fresh machine would
    otherwise each delete and rebuild the other's half-made environment.
    """
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV.parent / f"{VENV.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _make_sector_python()


def _make_sector_python() -> Path:
    python = VENV / "bin" / "python"
    if python.exists() and (VENV / ".complete").exists():
        return python
    try:
        shutil.rmtree(VENV, ignore_errors=True)
        VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["python3", "-m", "venv", str(VENV)], check=True, capture_output=True, timeout=300)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", f"{PACKAGE}=={VERSION}"],
            check=True,
            capture_output=True,
            text=True,
            timeout=900,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        message = f"cannot create the {PACKAGE} {VERSION} virtual environment at {VENV}: {str(detail)[-500:]}"
        if _in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    (VENV / ".complete").touch()
    return python


def _run(python: Path, driver: Path, scope: str, *files: Path, year: int = 2025) -> dict:
    run = subprocess.run(
        [str(python), str(driver), str(year), scope, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=driver.parent,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_sector_validator_finds_no_missing_table_error(sqlite_url: str, tmp_path: Path) -> None:
    python = _sector_python()
    build_with_open_period(sqlite_url)
    header, episodes = authority_files(tmp_path / "in")
    outputs = produce_ssda903(sqlite_url, 2025, tmp_path / "out", header_path=header, episodes_path=episodes)
    assert outputs.counts["failures"] == 0  # our own check agrees before the sector's runs
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    files = (outputs.paths["csv"], header, episodes)

    report = _run(python, driver, "missing", *files)
    assert report["rows"] == len(EXPECTED)
    assert report["errors"] == {}, report
    # Every Missing-table rule of the sector tool ran: none crashed, none skipped for want of a table.
    assert not report["crashed"], report["crashed"]
    assert not set(report["skipped"]) & {"575", "577", "578", "581", "1012", "INT04", "INT13"}, report["skipped"]

    # A full run (every rule, in the tool's order) flags our one open period (row 7: P4, missing since 30 March)
    # under 575 and 577, and only that. The cause is in the tool: its rule 365 fills blank Episodes DEC with the
    # collection end *in place* on a shallow copy, so the later rules see a child still in care as having left
    # care on 31 March. Asserted exactly, so that a fixed release of the tool shows up here.
    full = _run(python, driver, "all", *files)
    assert full["errors"] == {"575": [7], "577": [7]}, full

    # And it does see a real error: the same export against a later start of care for P2.
    header, episodes = authority_files(tmp_path / "in2", {"P2": "01/02/2025"})
    report = _run(python, driver, "missing", outputs.paths["csv"], header, episodes)
    assert report["errors"] == {"577": [4], "578": [4], "581": [4]}  # P2's E5: the three rules ours reports


def _sample_authority_files(directory: Path) -> tuple[Path, Path]:
    """Header and Episodes files for the bundled sample's children in care: in care since before the year."""
    register = pd.read_csv(DATA_DIR / "sample" / "children.csv", dtype=str, keep_default_na=False)
    ours = register[(register["legal_status"] == "looked_after") & (register["responsible_authority"] == "Kingsbridge")]
    children = ours["child_id"].tolist()
    dobs = [date.fromisoformat(d).strftime("%d/%m/%Y") for d in ours["date_of_birth"]]
    count = len(children)
    header = pd.DataFrame(
        {
            "CHILD": children,
            "SEX": ["1", "2"] * (count // 2) + ["1"] * (count % 2),
            "DOB": dobs,
            "ETHNIC": ["WBRI"] * count,
            "UPN": ["UN1"] * count,
            "MOTHER": [""] * count,
            "MC_DOB": [""] * count,
        }
    )
    episodes = pd.DataFrame(
        {
            "CHILD": children,
            "DECOM": ["01/01/2024"] * count,
            "RNE": ["S"] * count,
            "LS": ["C2"] * count,
            "CIN": ["N1"] * count,
            "PLACE": ["U1"] * count,
            "PLACE_PROVIDER": ["PR1"] * count,
            "DEC": [""] * count,
            "REC": [""] * count,
            "REASON_PLACE_CHANGE": [""] * count,
            "HOME_POST": [""] * count,
            "PL_POST": [""] * count,
            "URN": ["XXXXXXX"] * count,
        }
    )
    directory.mkdir(parents=True, exist_ok=True)
    header.to_csv(directory / "header.csv", index=False)
    episodes.to_csv(directory / "episodes.csv", index=False)
    return directory / "header.csv", directory / "episodes.csv"


@pytest.mark.slow
def test_sector_validator_finds_no_missing_table_error_on_the_bundled_sample(sqlite_url, tmp_path, monkeypatch):
    """The export of the bundled feed for the year to 31 March 2026, with matching Header and Episodes files."""
    python = _sector_python()
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    for kind in ("children", "notifications", "outcomes"):
        ingest_path(kind, DATA_DIR / "sample" / f"{kind}.csv", kind)
    header, episodes = _sample_authority_files(tmp_path / "in")
    outputs = produce_ssda903(sqlite_url, 2026, tmp_path / "out", header_path=header, episodes_path=episodes)
    assert outputs.counts["failures"] == 0
    exported = pd.read_csv(outputs.paths["csv"], dtype=str)
    assert len(exported) > 50  # January to March 2026 of a busy year
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    report = _run(python, driver, "missing", outputs.paths["csv"], header, episodes, year=2026)
    assert report["rows"] == len(exported)
    assert report["errors"] == {}, report
    assert not report["crashed"], report["crashed"]
