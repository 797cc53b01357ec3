"""The one privacy idiom of the Prefect layer: declare every task with ``private_task`` and every flow with
``private_flow``; errors that reach Prefect then name ids, never people.

Prefect stores a failed task's or flow's exception message (and logs its traceback) in its database in clear
text. A database error's message includes the SQL parameters, a validation error the offending value: either
can be a child's name. ``ids_only_errors`` re-raises any failure as ``PipelineError`` naming the function, the
pseudonymous refs (``CH-``, ``EP-``) it was given and the exception type, with the original chain dropped; the
full error goes to the product's own log (``missing_episodes`` logger, on the worker's stderr), which is not
sent to Prefect.

The two decorators also switch off Prefect's input-hashing cache (``NO_CACHE``) and result persistence:
a cache key is a hash of the inputs and a persisted result is a file of them, and both could hold case notes.
``tests/test_layers.py`` walks every task and flow in the project and proves each was declared this way.
"""

from __future__ import annotations

import functools
import inspect
import logging
import types
from collections.abc import Callable
from typing import Any, TypeVar

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("missing_episodes")

#: The attribute ``ids_only_errors`` sets on what it wraps; the layer test looks for it on every task and flow.
MARK = "__ids_only_errors__"


class PipelineError(RuntimeError):
    """A failure described without personal data."""


def _describe(name: str, args: tuple, kwargs: dict, exc: BaseException) -> str:
    refs = [str(a) for a in (*args, *kwargs.values()) if isinstance(a, str) and a[:3] in ("CH-", "EP-")]
    where = f" for {', '.join(refs)}" if refs else ""
    return f"{name} failed{where}: {type(exc).__name__} (details in the missing_episodes log)"


def _reraise(name: str, args: tuple, kwargs: dict, exc: Exception) -> PipelineError:
    if isinstance(exc, PipelineError):  # already scrubbed by an inner task: keep its words
        return exc
    log.error("%s failed", name, exc_info=exc)
    return PipelineError(_describe(name, args, kwargs, exc))


def ids_only_errors(function: F) -> F:
    """Wrap ``function`` so that any exception leaves it as a ``PipelineError`` naming refs only.

    The wrapper runs with ``function``'s module globals: Prefect resolves a flow's string annotations (``from
    __future__ import annotations``) in the globals of the function it was given, and ``date`` or ``Path`` are
    names in the flow's module, not in this one. So the wrapper's body names nothing global of its own: what it
    needs is closed over.
    """
    reraise = _reraise
    if inspect.iscoroutinefunction(function):

        async def wrapped_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await function(*args, **kwargs)
            except Exception as exc:
                raise reraise(function.__name__, args, kwargs, exc) from None

        return _in_globals_of(function, wrapped_async)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except Exception as exc:
            raise reraise(function.__name__, args, kwargs, exc) from None

    return _in_globals_of(function, wrapped)


def _in_globals_of(function: Callable, wrapper: Callable) -> Any:
    """``wrapper`` rebuilt to run in ``function``'s module globals, with its name, signature and docstring, marked."""
    rebuilt = types.FunctionType(wrapper.__code__, function.__globals__, wrapper.__name__, wrapper.__defaults__,
                                 wrapper.__closure__)
    functools.update_wrapper(rebuilt, function)
    setattr(rebuilt, MARK, True)
    return rebuilt


def private_task(function: Callable | None = None, /, **options: Any) -> Any:
    """``@task`` with ids-only errors, no input-hashing cache and no persisted result. Use as ``@private_task``
    or ``@private_task(name=..., retries=...)`` with any of ``prefect.task``'s options."""
    options = {"cache_policy": NO_CACHE, "persist_result": False, **options}

    def decorate(fn: Callable) -> Any:
        return task(ids_only_errors(fn), **options)

    return decorate(function) if function is not None else decorate


def private_flow(function: Callable | None = None, /, **options: Any) -> Any:
    """``@flow`` with ids-only errors and no persisted result. Use as ``@private_flow(name=..., ...)``."""
    options = {"persist_result": False, **options}

    def decorate(fn: Callable) -> Any:
        return flow(ids_only_errors(fn), **options)

    return decorate(function) if function is not None else decorate


def is_private(prefect_object: Any) -> bool:
    """True for a task or flow declared with ``private_task`` / ``private_flow``."""
    return bool(getattr(getattr(prefect_object, "fn", None), MARK, False))
