"""Positional constructors for frozen, slotted dataclasses on the verify hot path.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``; under the
interpreter that costs more than the whole C claims reader. :func:`slot_constructor` builds, once
per class, a function that creates the instance and fills its slots through their member
descriptors directly: the same object (same class, equality, hash, immutability), made at about
half the cost. It runs no ``__post_init__``: use it only where the values are already checked.

When the compiled module ``vcsdk._native._objects`` (Python's C API, built with the fast lane)
loads, the constructor is its ``Maker``: the same stores in C, one call per object instead of one
per field (about a fifth of the cost). :func:`python_slot_constructor` is the reference and the
fallback; ``VCSDK_PURE`` does not change which one runs (both build the same object).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, is_dataclass
from typing import Any, TypeVar

T = TypeVar("T")


try:
    from ._native._objects import Maker as _Maker  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # not built: the Python constructor below
    _Maker = None

COMPILED = _Maker is not None
"""Whether :func:`slot_constructor` returns the compiled maker."""


def slot_constructor(cls: type[T]) -> Callable[..., T]:
    """``make(*values)`` for the frozen, slotted dataclass ``cls``: every field, in field order."""
    names = _field_names(cls)
    if _Maker is not None:
        made: Callable[..., T] = _Maker(cls, tuple(names))
        return made
    return _python_maker(cls, names)


def python_slot_constructor(cls: type[T]) -> Callable[..., T]:
    """:func:`slot_constructor` in Python: each slot set through its member descriptor."""
    return _python_maker(cls, _field_names(cls))


def _field_names(cls: type) -> list[str]:
    if not (is_dataclass(cls) and cls.__dataclass_params__.frozen and "__slots__" in cls.__dict__):  # type: ignore[attr-defined]
        raise TypeError(f"{cls.__name__} is not a frozen dataclass with slots")
    return [f.name for f in fields(cls)]


def _python_maker(cls: type[T], names: list[str]) -> Callable[..., T]:
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
