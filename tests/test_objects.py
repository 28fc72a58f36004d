"""vcsdk._native._objects (Python's C API): the claims' text fields and the slot makers. Each
refuses what it cannot do safely, and agrees with its Python twin (the reference and fallback)."""

from __future__ import annotations

import dataclasses
import gc
import types
import weakref
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vcsdk.verify.native import TEXT_STARTS, python_texts

objects = pytest.importorskip(
    "vcsdk._native._objects", reason="the compiled part is not built (CI builds it: scripts/test.sh)"
)


def outcome(texts: Any, payload: bytes, slots: Any, starts: tuple[int, ...]) -> Any:
    try:
        return texts(payload, slots, starts)
    except (ValueError, UnicodeDecodeError) as exc:
        return type(exc).__name__


@settings(max_examples=400, deadline=None)
@given(
    payload=st.binary(max_size=64) | st.text(max_size=24).map(str.encode),
    slots=st.lists(st.integers(-3, 80), min_size=0, max_size=12),
    starts=st.lists(st.integers(-2, 13), max_size=6).map(tuple),
)
def test_texts_agrees_with_python(payload: bytes, slots: list[int], starts: tuple[int, ...]) -> None:
    for sequence in (slots, tuple(slots)):
        assert outcome(objects.texts, payload, sequence, starts) == outcome(python_texts, payload, slots, starts)


def test_texts_examples() -> None:
    payload = "KR-MOIS 김민준".encode()
    assert objects.texts(payload, (0, 7, -1, 99, 8, 9), (0, 2, 4)) == ("KR-MOIS", None, "김민준")
    assert objects.texts(payload, (8, 0), (0,)) == ("",)  # an empty text at a valid offset
    assert objects.texts(payload, (len(payload), 0), (0,)) == ("",)  # at the very end
    for slots, starts in [((len(payload) + 1, 0), (0,)), ((0, len(payload) + 1), (0,)), ((2, -1), (0,))]:
        with pytest.raises(ValueError, match="outside the payload"):
            objects.texts(payload, slots, starts)
    for starts in [(2,), (-1,), (3,)]:
        with pytest.raises(ValueError, match="not a slot pair"):
            objects.texts(payload, (0, 1, 2), starts)
    with pytest.raises(UnicodeDecodeError):
        objects.texts(payload, (9, 2), (0,))  # half a Hangul syllable
    with pytest.raises(OverflowError):
        objects.texts(payload, (2**64, 1), (0,))
    for bad in [("text", (0, 1), (0,)), (payload, {0: 1}, (0,)), (payload, (0, 1), [0]), (payload, (0, 1))]:
        with pytest.raises(TypeError):
            objects.texts(*bad)
    with pytest.raises(TypeError):
        objects.texts(payload, ("0", 1), (0,))


def test_texts_reads_the_claims_reader_slots() -> None:
    """The verifier's starts are the text fields' slot pairs (fastlane.h)."""
    assert TEXT_STARTS == (0, 7, 9, 11, 17, 19, 21, 23, 25)


@dataclasses.dataclass(frozen=True, slots=True)
class Point:
    x: Any
    y: Any


@dataclasses.dataclass(frozen=True, slots=True)
class Point3(Point):
    z: Any


def test_maker_fills_every_slot_and_keeps_references() -> None:
    value = object()
    before = len(gc.get_referrers(value))
    made = objects.Maker(Point3, ("x", "y", "z"))(value, [1], "z")
    assert made == Point3(value, [1], "z") and type(made) is Point3  # inherited slots too
    assert len(gc.get_referrers(value)) == before + 1
    del made
    assert len(gc.get_referrers(value)) == before
    maker = objects.Maker(Point, ("y", "x"))  # the order of the names given
    assert maker(1, 2) == Point(2, 1)
    assert maker.cls is Point and "Point" in repr(maker)


def test_maker_refuses_what_is_not_a_writable_object_slot() -> None:
    class Plain:
        __slots__ = ("a",)
        b = 1

        @property
        def c(self) -> int:
            return 1

    class Borrower:
        __slots__ = ()
        foreign = Plain.a  # type: ignore[attr-defined]  # a slot descriptor of a class that is not a base

    cases: list[tuple[Any, Any, str]] = [
        (Plain, ("b",), "not a slot"),
        (Plain, ("c",), "not a slot"),
        (Plain, ("missing",), "not a slot"),
        (Borrower, ("foreign",), "not a writable object slot"),
        (complex, ("real",), "not a writable object slot"),  # a C double
        (types.FunctionType, ("__closure__",), "not a writable object slot"),  # read-only
    ]
    for cls, names, match in cases:
        with pytest.raises(TypeError, match=match):
            objects.Maker(cls, names)
    refused: list[tuple[Any, Any]] = [("Point", ("x",)), (Point, ["x"]), (Point, (1,)), (Point, tuple(["x"] * 65))]
    for cls, names in refused:
        with pytest.raises(TypeError):
            objects.Maker(cls, names)


def test_maker_calls_refuse_other_arities_and_keywords() -> None:
    maker = objects.Maker(Point, ("x", "y"))
    for args, kwargs in [((1,), {}), ((1, 2, 3), {}), ((1,), {"y": 2}), ((), {})]:
        with pytest.raises(TypeError):
            maker(*args, **kwargs)
    assert type(maker).__call__(maker, 1, 2) == Point(1, 2)  # through tp_call as well as vectorcall


def test_maker_keeps_its_class_alive_and_lets_it_go() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Temporary:
        a: Any

    maker = objects.Maker(Temporary, ("a",))
    ref = weakref.ref(Temporary)
    del Temporary
    gc.collect()
    assert ref() is not None and maker(1).a == 1
    del maker
    gc.collect()
    assert ref() is None
