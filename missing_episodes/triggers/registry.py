"""Every trigger type, found by itself: each module of this package is imported and its classes register.

A concrete ``TriggerType`` subclass registers itself when it is defined (``TriggerType.__pydantic_init_subclass__``),
and this module imports every module of the package, so adding a type is adding a module: no list to edit. The
policy schema takes its discriminated union from ``trigger_union()``.

``snapshot``/``restore`` exist for tests that define a type of their own and must not leave it registered.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Field

if TYPE_CHECKING:
    from missing_episodes.triggers.base import TriggerType

_TYPES: dict[str, type[TriggerType]] = {}


def register(cls: type[TriggerType]) -> None:
    """Add a trigger type under its ``type`` tag; two types with one tag is a programming error."""
    existing = _TYPES.get(cls.name)
    # The same class defined again (its module reloaded) replaces itself; another class with the tag is refused.
    if existing is not None and (existing.__module__, existing.__qualname__) != (cls.__module__, cls.__qualname__):
        raise TypeError(f"trigger type {cls.name!r} is defined twice: {existing.__module__} and {cls.__module__}")
    _TYPES[cls.name] = cls


def trigger_types() -> tuple[type[TriggerType], ...]:
    """The registered types, in the order they were defined (module name order for the package's own)."""
    return tuple(_TYPES.values())


def lookup(name: str) -> type[TriggerType]:
    """The type registered under a YAML ``type`` tag (KeyError if none)."""
    return _TYPES[name]


def trigger_union() -> Any:
    """The discriminated union (on ``type``) of every registered type: what a rule's ``trigger`` validates as."""
    return Annotated[Union[trigger_types()], Field(discriminator="type")]  # noqa: UP007 (a tuple of types)


def snapshot() -> dict[str, type[TriggerType]]:
    """The registry as it is, for ``restore`` (a test that defines a type of its own)."""
    return dict(_TYPES)


def restore(saved: dict[str, type[TriggerType]]) -> None:
    _TYPES.clear()
    _TYPES.update(saved)


def _discover() -> None:
    """Import every module of this package but the two that define no type: their classes register."""
    package = importlib.import_module("missing_episodes.triggers")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda info: info.name):
        if info.name not in {"base", "registry"}:
            importlib.import_module(f"missing_episodes.triggers.{info.name}")


_discover()
