"""The layering the README promises, checked on the code as it is rather than by review.

``missing_episodes`` is the domain: it never imports Prefect (so its tests take milliseconds and the CLI's read-only
commands start instantly) nor the Prefect layer above it. ``tasks`` and ``flows`` are that layer; they never import
``deployments``, which only wires flows to schedules and work pools.

Each check imports in a fresh interpreter, because this test process has long since imported whatever other tests
needed (Prefect included), so ``sys.modules`` here proves nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Imports every module under the given top-level packages (skipping the excluded prefixes), and reports for each
# watched package the first module whose import brought it in. walk_packages imports packages to look inside them,
# which is what we want here.
_PROBE = textwrap.dedent(
    """
    import importlib, importlib.util, json, pkgutil, sys

    packages, excluded, watched = (json.loads(arg) for arg in sys.argv[1:4])
    imported, unwalkable, culprits = [], [], {}

    def under(name, prefix):
        return name == prefix or name.startswith(prefix + ".")

    def load(name):
        importlib.import_module(name)
        imported.append(name)
        for watch in watched:
            if watch not in culprits and any(under(loaded, watch) for loaded in list(sys.modules)):
                culprits[watch] = name

    for top in packages:
        if importlib.util.find_spec(top) is None:
            continue
        load(top)
        package = sys.modules[top]
        for info in pkgutil.walk_packages(package.__path__, top + ".", onerror=unwalkable.append):
            if not any(under(info.name, prefix) for prefix in excluded):
                load(info.name)

    print(json.dumps({"imported": imported, "unwalkable": unwalkable, "culprits": culprits}))
    """
)


def _probe(packages: list[str], excluded: list[str], watched: list[str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(packages), json.dumps(excluded), json.dumps(watched)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"importing every module of {packages} failed:\n{result.stderr}"
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["unwalkable"] == [], f"packages that could not be imported: {report['unwalkable']}"
    return report


def test_domain_package_never_imports_prefect_nor_the_prefect_layer() -> None:
    # The CLI may use Prefect (to trigger deployments); Alembic's scripts only run inside Alembic.
    report = _probe(
        ["missing_episodes"],
        excluded=["missing_episodes.cli", "missing_episodes.migrations"],
        watched=["prefect", "tasks", "flows", "deployments"],
    )
    assert "missing_episodes.db.models" in report["imported"]  # the walk really walked
    assert report["culprits"] == {}, f"imported by the domain (package: first module that pulled it in): {report}"


def test_tasks_and_flows_never_import_deployments() -> None:
    report = _probe(["tasks", "flows"], excluded=[], watched=["deployments"])
    if not [name for name in report["imported"] if name not in ("tasks", "flows")]:
        pytest.skip("`tasks` and `flows` have no modules yet")
    assert report["culprits"] == {}, f"`deployments` imported by {report['culprits']['deployments']}"


def test_conftest_does_not_import_prefect() -> None:
    """Domain tests stay fast only while the shared fixtures leave Prefect alone until a test asks for it."""
    code = "import sys, tests.conftest; print('prefect' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
