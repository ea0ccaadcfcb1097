"""Model instances from rows read with Core statements, built as SQLAlchemy's own loading builds them.

``Model(**values)`` on a SQLModel table model runs every value through the ORM's attribute events and pydantic's
field defaults (a ``default_factory`` left unset costs an ``inspect.signature`` each time): about 30 µs a row. A
row read with a Core statement already has every column, converted by the column types, so the instance is made
as the ORM makes a loaded one (an empty instance with its state, the values put in its ``__dict__``): about 2 µs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import ClassManager, configure_mappers

M = TypeVar("M")
_MANAGERS: dict[type, ClassManager[Any]] = {}


def _manager(model: type) -> ClassManager[Any]:
    manager = _MANAGERS.get(model)
    if manager is None:
        configure_mappers()  # what a model's first construction would do: its attributes get their behaviour
        manager = _MANAGERS[model] = inspect(model).class_manager
    return manager


def as_read(model: type[M], values: Mapping[str, Any]) -> M:
    """A ``model`` holding ``values`` (every column of the table, by attribute name), transient, with no pending
    changes; the same type and attributes ``model(**values)`` would give."""
    obj = _manager(model).new_instance()
    obj.__dict__.update(values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    return obj  # type: ignore[no-any-return]


__all__ = ["as_read"]
