"""Errors that reach Prefect name ids, never people.

Prefect stores a failed task's exception message (and logs its traceback) in its database in clear text. A
database error's message includes the SQL parameters, a validation error the offending value: either can be a
child's name. ``ids_only_errors`` re-raises any failure as ``PipelineError`` naming the task, the refs it was
given and the exception type, with the original chain dropped; the full error goes to the product's own log
(``missing_episodes`` logger, on the worker's stderr), which is not sent to Prefect.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("missing_episodes")


class PipelineError(RuntimeError):
    """A failure described without personal data."""


def _describe(name: str, args: tuple, kwargs: dict, exc: BaseException) -> str:
    refs = [str(a) for a in (*args, *kwargs.values()) if isinstance(a, str) and a[:3] in ("CH-", "EP-")]
    where = f" for {', '.join(refs)}" if refs else ""
    return f"{name} failed{where}: {type(exc).__name__} (details in the missing_episodes log)"


def ids_only_errors(function: F) -> F:
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def wrapped_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await function(*args, **kwargs)
            except Exception as exc:
                log.exception("%s failed", function.__name__)
                raise PipelineError(_describe(function.__name__, args, kwargs, exc)) from None

        return wrapped_async  # type: ignore[return-value]

    @functools.wraps(function)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except Exception as exc:
            log.exception("%s failed", function.__name__)
            raise PipelineError(_describe(function.__name__, args, kwargs, exc)) from None

    return wrapped  # type: ignore[return-value]
