"""Review rv5 of vcsdk._native._objects (objects.c): regressions for what crashed the interpreter.

Broke (fixed in objects.c):

- ``texts`` read its ``slots`` list's items with ``PyLong_AsLongLong``, which runs a non-int
  item's ``__index__``; an ``__index__`` that empties the list left the loop reading the freed
  item array (SIGSEGV). Slots must now be ints, as :func:`~vcsdk.verify.native.python_texts`
  effectively requires (its comparisons refuse other objects with ``TypeError``).
- ``Maker`` called ``object.__new__``'s C function directly, without the safety check that
  ``object.__new__(cls)`` makes in Python: for a slotted subclass of ``dict`` or of
  ``BaseException`` (a frozen, slotted dataclass deriving from ``Exception`` passes
  :func:`~vcsdk._slots.slot_constructor`'s own check), the instance's C fields stayed unset and
  the first use crashed (SIGSEGV). The Maker now refuses such classes, as the Python maker's
  ``object.__new__`` does.
- ``Maker`` dropped its reference to a slot's member descriptor before reading the member table
  through it: a descriptor that only that reference kept alive (a metaclass ``__getattr__``
  returning one it took out of a base's namespace) was read after being freed (a crash under
  ``python -X dev``, whose debug allocator fills freed memory).

Each case runs in a child interpreter (``-X dev``): a crash there fails the test instead of
ending the test run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT

pytest.importorskip("vcsdk._native._objects", reason="the compiled part is not built (CI builds it: scripts/test.sh)")


def _child(code: str) -> str:
    """Run ``code`` under ``python -X dev``; its stdout, or a failure naming how it ended."""
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"child ended with {done.returncode}: {done.stderr[-2000:]}"
    return done.stdout


def test_texts_refuses_slots_whose_index_mutates_the_list() -> None:
    out = _child(
        """
        from vcsdk._native._objects import texts
        from vcsdk.verify.native import python_texts

        slots = []

        class Shrinking:
            def __index__(self):
                slots.clear()  # the list texts is reading
                return 0

        for implementation in (texts, python_texts):
            slots[:] = [Shrinking(), 1, 2, 3]
            try:
                implementation(b"abcd", slots, (0,))
            except TypeError:
                print("TypeError")
        """
    )
    assert out.split() == ["TypeError", "TypeError"]


def test_maker_refuses_classes_object_new_cannot_make() -> None:
    out = _child(
        """
        import dataclasses, datetime
        from vcsdk._native._objects import Maker
        from vcsdk._slots import python_slot_constructor, slot_constructor

        @dataclasses.dataclass(frozen=True, slots=True)
        class Failure(Exception):  # passes slot_constructor's frozen-slotted-dataclass check
            detail: object

        class Table(dict):
            __slots__ = ("x",)

        class Day(datetime.date):
            __slots__ = ("x",)

        class Meta(type):
            __slots__ = ()

        def made(make, *values):
            try:
                value = make(*values)
            except TypeError:
                return "TypeError"
            return repr(value)  # the crash: BaseException's args, dict's table unset

        print(made(python_slot_constructor(Failure), 1), made(slot_constructor, Failure))
        for cls, names in ((Table, ("x",)), (Day, ("x",)), (Meta, ())):
            print(made(Maker, cls, names))
        """
    )
    assert out.split() == ["TypeError"] * 5


def test_maker_still_makes_classes_whose_new_is_written_in_python() -> None:
    """The refusal above follows ``object.__new__``: a ``__new__`` written in Python is bypassed,
    in the compiled maker as in the Python one."""
    out = _child(
        """
        import dataclasses
        from vcsdk._native._objects import Maker

        @dataclasses.dataclass(frozen=True, slots=True)
        class Guarded:
            a: object

            def __new__(cls, *args):
                raise RuntimeError("not called by the makers")

        print(Maker(Guarded, ("a",))(5).a)
        """
    )
    assert out.split() == ["5"]


def test_maker_reads_a_descriptor_only_it_holds_before_letting_it_go() -> None:
    out = _child(
        """
        from vcsdk._native._objects import Maker

        class Base:
            __slots__ = ("x",)

        class Meta(type):
            def __getattr__(cls, name):  # hands over the only reference to Base's descriptor
                descriptor = Base.__dict__["x"]
                del Base.x
                return descriptor

        class Sub(Base, metaclass=Meta):
            __slots__ = ()

        made = Maker(Sub, ("alias",))(7)
        print(type(made).__name__)
        """
    )
    assert out.split() == ["Sub"]
