"""Failures that reach Prefect name ids and types, never the personal data in the original error."""

from __future__ import annotations

import asyncio

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
