"""The layering the README promises, checked on the code as it is rather than by review.

The layers point one way: ``cli`` and ``deployments`` start flows; ``flows`` compose tasks; ``tasks`` each call
one job of ``missing_episodes.jobs``; ``missing_episodes`` is the domain and never imports Prefect nor any layer
above it. Three further promises are checked here because nothing else would notice them break:

* flows compose tasks only: no module of ``flows/`` imports ``sqlalchemy``, the models (``missing_episodes.db``)
  or the jobs, so no flow runs a query or a unit of work behind its tasks' back;
* every task and flow of the product is declared with ``tasks.privacy.private_task`` / ``private_flow`` (errors
  name ids only, no input-hashing cache, no persisted result);
* every job is called by exactly one task, so a job's Prefect name, retries and privacy live in one place.

Import checks run in a fresh interpreter, because this test process has long since imported whatever other tests
needed (Prefect included), so ``sys.modules`` here proves nothing. Source checks read every module with ``ast``,
so an import inside a function (the CLI's, made so read-only commands start without Prefect) counts too.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
#: The product's top-level packages, lowest layer first.
LAYERS = ["missing_episodes", "tasks", "flows", "deployments", "cli"]
#: What each layer may not import (anything from a layer above it; the CLI and deployments are peers at the top).
FORBIDDEN = {
    "missing_episodes": ["prefect", "tasks", "flows", "deployments", "cli"],
    "tasks": ["flows", "deployments", "cli"],
    "flows": ["deployments", "cli"],  # nor SQL and the models: see below
    "deployments": ["cli"],
    "cli": ["deployments"],
}

# Imports every module under the given top-level packages and reports, for each watched package, the first module
# whose import brought it in. walk_packages imports packages to look inside them, which is what we want here.
_PROBE = textwrap.dedent(
    """
    import importlib, importlib.util, json, pkgutil, sys

    packages, watched = (json.loads(arg) for arg in sys.argv[1:3])
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
        load(top)
        package = sys.modules[top]
        for info in pkgutil.walk_packages(package.__path__, top + ".", onerror=unwalkable.append):
            load(info.name)

    print(json.dumps({"imported": imported, "unwalkable": unwalkable, "culprits": culprits}))
    """
)


def _probe(packages: list[str], watched: list[str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(packages), json.dumps(watched)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"importing every module of {packages} failed:\n{result.stderr}"
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["unwalkable"] == [], f"packages that could not be imported: {report['unwalkable']}"
    return report


def _sources(package: str) -> Iterator[tuple[str, ast.Module]]:
    """(module name, parsed source) of every ``.py`` file under a top-level package, without importing it."""
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).with_suffix("")
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        yield ".".join(parts), ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every import anywhere in the module, ``from a import b`` giving ``a.b``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _walk_modules(package: str) -> list[ModuleType]:
    """Import every module of a package (in this process: Prefect is loaded here anyway). A ``__main__`` is a
    script that runs when imported (``python -m deployments`` applies the deployments), so it is read as source
    by the checks below rather than imported."""
    top = importlib.import_module(package)
    modules = [top]
    for info in pkgutil.walk_packages(top.__path__, package + "."):
        if not info.name.endswith(".__main__"):
            modules.append(importlib.import_module(info.name))
    return modules


# -- the import direction ---------------------------------------------------------------------------------------


def test_domain_package_never_imports_prefect_nor_a_layer_above_it() -> None:
    report = _probe(["missing_episodes"], watched=FORBIDDEN["missing_episodes"])
    assert "missing_episodes.db.models" in report["imported"]  # the walk really walked
    assert "missing_episodes.jobs.documents" in report["imported"]
    assert report["culprits"] == {}, f"imported by the domain (package: first module that pulled it in): {report}"


def test_tasks_and_flows_never_import_deployments_nor_the_cli() -> None:
    report = _probe(["tasks", "flows"], watched=["deployments", "cli"])
    assert "flows.daily" in report["imported"] and "tasks.rules" in report["imported"]
    assert report["culprits"] == {}, f"imported by the Prefect layer: {report['culprits']}"


def test_no_module_imports_from_a_layer_above_its_own_not_even_inside_a_function() -> None:
    """The source of every module of every layer, imports inside functions included (the import probe above sees
    only what importing a module runs)."""
    failures = []
    for layer in LAYERS:
        for module, tree in _sources(layer):
            failures += [f"{module}:{line} imports {name}" for line, name in _imports(tree)
                         if any(_under(name, banned) for banned in FORBIDDEN[layer])]
    assert failures == [], "imports against the layering:\n" + "\n".join(failures)


def test_flows_run_no_sql_they_compose_tasks() -> None:
    failures = []
    for module, tree in _sources("flows"):
        failures += [f"{module}:{line} imports {name}" for line, name in _imports(tree)
                     if any(_under(name, banned) for banned in ("sqlalchemy", "missing_episodes.db"))]
        failures += [f"{module}:{node.lineno} calls {node.func.id}()" for node in ast.walk(tree)
                     if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                     and node.func.id in ("select", "update", "delete", "insert", "text", "session_scope")]
    assert failures == [], "flows doing a task's work:\n" + "\n".join(failures)


def test_conftest_does_not_import_prefect() -> None:
    """Domain tests stay fast only while the shared fixtures leave Prefect alone until a test asks for it."""
    code = "import sys, tests.conftest; print('prefect' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_domain_tests_and_the_builders_never_import_prefect_nor_the_pipeline() -> None:
    """``pytest tests/domain`` must never pay for Prefect's start-up: its tests and the builders they share import
    the domain (and the read-only CLI commands, which are themselves checked to leave Prefect alone), nothing of
    Prefect, ``tasks``, ``flows`` or ``deployments``; a test that needs those belongs in tests/pipeline/."""
    banned = ["prefect", "tasks", "flows", "deployments"]
    failures, modules = [], []
    for folder in ("tests/domain", "tests/builders"):
        for module, tree in _sources(folder):
            modules.append(module)
            failures += [f"{module}:{line} imports {name}" for line, name in _imports(tree)
                         if any(_under(name, package) for package in banned)]
    assert "tests.domain.test_rules" in modules and "tests.builders.feeds" in modules  # the walk really walked
    assert failures == [], "Prefect or the pipeline in the domain tests:\n" + "\n".join(failures)


def test_no_test_module_imports_another_test_module() -> None:
    """What several test modules share lives in a support module (tests/builders/, tests/server/stack.py, ...): a
    test module imported by another is collected twice over and breaks when it moves."""
    failures, modules = [], []
    for module, tree in _sources("tests"):
        modules.append(module)
        failures += [f"{module}:{line} imports {name}" for line, name in _imports(tree)
                     if _under(name, "tests") and any(part.startswith("test_") for part in name.split(".")[1:])]
    assert "tests.server.test_privacy" in modules  # the walk really walked
    assert failures == [], "test modules importing test modules:\n" + "\n".join(failures)


# -- one privacy idiom -------------------------------------------------------------------------------------------


def test_every_task_and_flow_is_declared_private() -> None:
    """Every ``prefect.Task`` and ``prefect.Flow`` object the product's modules hold is wrapped by ``private_task``
    or ``private_flow``; and no module but ``tasks.privacy`` names Prefect's own decorators, so no task or flow
    can be made inside a function where walking the modules would not find it."""
    from prefect import Flow, Task

    from tasks.privacy import is_private

    found: dict[int, tuple[str, str]] = {}
    failures = []
    for layer in LAYERS:
        for module in _walk_modules(layer):
            for name, value in vars(module).items():
                if isinstance(value, Task | Flow) and id(value) not in found:
                    found[id(value)] = (module.__name__, name)
                    if not is_private(value):
                        failures.append(f"{module.__name__}.{name} ({type(value).__name__} {value.name!r})")
    for layer in LAYERS:
        for module, tree in _sources(layer):
            if module == "tasks.privacy":
                continue
            failures += [f"{module}:{line} imports {name}" for line, name in _imports(tree)
                         if name in ("prefect.task", "prefect.flow")]
            failures += [f"{module}:{node.lineno} uses prefect.{node.attr}" for node in ast.walk(tree)
                         if isinstance(node, ast.Attribute) and node.attr in ("task", "flow")
                         and isinstance(node.value, ast.Name) and node.value.id == "prefect"]
    assert len(found) >= 20, f"the walk found only {sorted(found.values())}"  # it really walked
    assert failures == [], "tasks and flows not declared with private_task / private_flow:\n" + "\n".join(failures)


# -- one seam: each job is called by one task ----------------------------------------------------------------


def _jobs() -> dict[str, Callable]:
    """``module.function`` -> function for every public function defined in a public module of
    ``missing_episodes.jobs`` (``_shared`` holds steps several jobs share, not jobs)."""
    found = {}
    for module in _walk_modules("missing_episodes.jobs"):
        if module.__name__.rpartition(".")[2].startswith("_"):
            continue
        for name, value in vars(module).items():
            if inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("_"):
                found[f"{module.__name__}.{name}"] = value
    return found


def _jobs_named_by_each_task(jobs: set[str]) -> dict[str, set[str]]:
    """``tasks.module.task`` -> the jobs its body names (called, or handed to ``asyncio.to_thread``)."""
    named: dict[str, set[str]] = {}
    for module, tree in _sources("tasks"):
        aliases: dict[str, str] = {}  # local name -> dotted name it stands for
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        aliases[alias.asname] = alias.name
        for function in tree.body:
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) or not function.decorator_list:
                continue
            refs = set()
            for node in ast.walk(function):
                dotted = _dotted(node)
                if dotted is None:
                    continue
                head, _, rest = dotted.partition(".")
                resolved = aliases.get(head, head) + (f".{rest}" if rest else "")
                if resolved in jobs:
                    refs.add(resolved)
            named[f"{module}.{function.name}"] = refs
    return named


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a Name or a chain of Attributes on a Name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def test_every_job_is_called_by_exactly_one_task() -> None:
    jobs = _jobs()
    assert {"missing_episodes.jobs.ingest.ingest_path", "missing_episodes.jobs.documents.produce_briefing",
            "missing_episodes.jobs.reports.board_report"} <= set(jobs)  # the walk really walked
    by_task = _jobs_named_by_each_task(set(jobs))
    callers = {job: sorted(task for task, named in by_task.items() if job in named) for job in jobs}
    failures = [f"{job} is called by {len(tasks)} tasks: {', '.join(tasks) or 'none'}"
                for job, tasks in sorted(callers.items()) if len(tasks) != 1]
    assert failures == [], "jobs without exactly one task:\n" + "\n".join(failures)
