"""Failures that reach Prefect name ids and types, never the personal data in the original error."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from tasks.privacy import PipelineError, ids_only_errors


def test_a_failure_is_re_raised_naming_the_refs_and_the_type_only():
    @ids_only_errors
    def store(child_ref: str) -> None:
        raise ValueError("duplicate key: first_name='Zoë', last_name='O'Brien', date_of_birth='2010-04-17'")

    with pytest.raises(PipelineError) as caught:
        store("CH-0123456789AB")
    message = str(caught.value)
    assert message == "store failed for CH-0123456789AB: ValueError (details in the missing_episodes log)"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_async_tasks_are_covered_too():
    @ids_only_errors
    async def run(child_ref: str) -> None:
        raise RuntimeError("Amy Stone 2011-05-01")

    with pytest.raises(PipelineError, match=r"^run failed for CH-X1: RuntimeError") as caught:
        asyncio.run(run("CH-X1"))
    assert "Amy" not in str(caught.value)


def test_a_wrapped_flow_still_reads_its_parameter_types_from_its_own_module():
    """Prefect resolves a flow's string annotations in the globals of the function it was given: the wrapper must
    carry the flow module's (``date``, ``Path``), or every run fails validating its parameters."""
    from datetime import date
    from pathlib import Path

    from flows.documents import daily_briefing
    from flows.ingest import ingest_files

    assert daily_briefing.validate_parameters({"day": "2026-11-02"}) == {"day": date(2026, 11, 2), "out_dir": None}
    assert ingest_files.validate_parameters({"kind": "children", "paths": ["a.csv"]})["paths"] == [Path("a.csv")]


def test_the_wrapper_keeps_the_name_signature_and_mark():
    from tasks.privacy import MARK, is_private, private_task

    @private_task(name="probe")
    def probe(child_ref: str, count: int = 2) -> int:
        """Doc."""
        return count

    assert is_private(probe) and getattr(probe.fn, MARK)
    assert probe.fn.__name__ == "probe" and probe.fn.__doc__ == "Doc."
    assert list(inspect.signature(probe.fn).parameters) == ["child_ref", "count"]
    assert probe.fn("CH-1") == 2
