"""Positional constructors for frozen, slotted dataclasses on the verify hot path.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``; under the
interpreter that costs more than the whole C claims reader. :func:`slot_constructor` builds, once
per class, a function that creates the instance and fills its slots through their member
descriptors directly: the same object (same class, equality, hash, immutability), made at about
half the cost. It runs no ``__post_init__``: use it only where the values are already checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, is_dataclass
from typing import Any, TypeVar

T = TypeVar("T")


def slot_constructor(cls: type[T]) -> Callable[..., T]:
    """``make(*values)`` for the frozen, slotted dataclass ``cls``: every field, in field order."""
    if not (is_dataclass(cls) and cls.__dataclass_params__.frozen and "__slots__" in cls.__dict__):  # type: ignore[attr-defined]
        raise TypeError(f"{cls.__name__} is not a frozen dataclass with slots")
    names = [f.name for f in fields(cls)]
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    lines = [f"def make({', '.join(f'v{i}' for i in range(len(names)))}):", "    made = _new(_cls)"]
    for number, name in enumerate(names):
        scope[f"_set{number}"] = getattr(cls, name).__set__  # the slot's member descriptor
        lines.append(f"    _set{number}(made, v{number})")
    lines.append("    return made")
    exec("\n".join(lines), scope)  # noqa: S102 - the source is built above from field positions only
    made: Callable[..., T] = scope["make"]
    made.__qualname__ = made.__name__ = f"make_{cls.__name__}"
    return made
