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

from prefect import flow, get_client, task
from prefect.cache_policies import NO_CACHE

from missing_episodes.forms import FIELD_CHECKS, sanitised_parameters
from missing_episodes.jobs.context import Context
from missing_episodes.permissions import restrict_process

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


# -- what a form sends: never printed, never kept unchecked --------------------------------------------------


class NoParameterValues(logging.Filter):
    """Prefect 3.8's ``Flow.validate_parameters`` logs a failed check with pydantic's errors (each with the value
    typed) and every parameter, on the ``prefect.flows`` logger, which prints on the worker's console. The record
    keeps its first words; the values go. Installed when this module is imported, which every flow module does
    (to declare its flows), so every process that runs a flow has it."""

    PREFIX = "Parameter validation failed for flow"

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith(self.PREFIX):
            record.msg = record.msg.split(":", 1)[0] + " (the values are not logged: they may be personal data)"
            record.args = ()
        return True


def _install_no_parameter_values() -> None:
    flows_logger = logging.getLogger("prefect.flows")
    if not any(isinstance(f, NoParameterValues) for f in flows_logger.filters):
        flows_logger.addFilter(NoParameterValues())


_install_no_parameter_values()

# Every process that runs a flow imports this module (to declare its flows): the documents, archived feed files
# and SQLite database it writes are then private to the service account (files 0600, folders 0700).
restrict_process()


def forget_what_failed_its_check(form: str) -> Callable[..., Any]:
    """A state hook: overwrite this run's stored parameters that fail their field's check
    (``missing_episodes.forms.sanitised_parameters``), whatever state the run ended in. The form's checks can be
    switched off in the UI, and a run whose parameters fail validation ends before its body could refuse them."""

    async def hook(flow: Any, flow_run: Any, state: Any) -> None:
        stored = dict(flow_run.parameters or {})
        cleaned = sanitised_parameters(form, stored, Context.load().policy)
        if cleaned != stored:
            async with get_client() as client:
                await client.update_flow_run(flow_run.id, parameters=cleaned)

    hook.__name__ = f"forget-what-failed-its-check-{form}"
    return hook


def scrub_hooks(form: str) -> dict[str, list[Callable[..., Any]]]:
    """The state hooks of every flow a deployment shows a form for, on every end state (Completed, Failed, which
    includes a failed check of the parameters, Crashed, Cancelled): ``@private_flow(..., **scrub_hooks(name))``
    with the flow's name, which keys its checks in ``missing_episodes.forms.FIELD_CHECKS``."""
    if form not in FIELD_CHECKS:
        raise KeyError(f"no field checks for the form {form!r} (missing_episodes.forms.FIELD_CHECKS)")
    hook = forget_what_failed_its_check(form)
    return {"on_completion": [hook], "on_failure": [hook], "on_crashed": [hook], "on_cancellation": [hook]}
