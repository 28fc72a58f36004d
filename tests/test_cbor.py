"""Strict CBOR: every rule, and the fuzz invariant (parsed, or one VCError, nothing else)."""

from __future__ import annotations

import contextlib
import datetime

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vcsdk.codec.cbor import dumps, loads_strict
from vcsdk.errors import CBORMalformed, LimitExceeded, VCError
from vcsdk.limits import Limits

LIMITS = Limits()
CBOR_INTS = st.integers(-(2**64), 2**64 - 1)  # larger ones are bignums (tag 2/3)


def test_plain_values() -> None:
    assert loads_strict(bytes.fromhex("a20102036361626 3".replace(" ", "")), LIMITS) == {1: 2, 3: "abc"}
    assert loads_strict(b"\x82\x01\x02", LIMITS) == [1, 2]


@pytest.mark.parametrize(
    ("hex_data", "why"),
    [
        ("a2010101 02", "duplicate key"),
        ("9f01ff", "indefinite array"),
        ("bf0101ff", "indefinite map"),
        ("5f4101ff", "indefinite byte string"),
        ("7f6161ff", "indefinite text string"),
        ("0102", "trailing bytes"),
        ("", "empty"),
        ("62fffe", "invalid UTF-8"),
        ("1c", "reserved additional info"),
        ("ff", "lone break"),
        ("9b0000000100000000", "array length larger than the input"),
        ("5b0000000100000000", "byte string length larger than the input"),
        ("c101", "tag 1 (epoch datetime) not allowed"),
        ("c249010000000000000000", "tag 2 (bignum) not allowed"),
        ("d8190a", "tag 25 (string ref) not allowed"),
        ("d81c8101", "tag 28 (shareable) not allowed"),
        ("d9d9f701", "tag 55799 (self-describe) not allowed"),
        ("d8641901", "tag 100 where not allowed"),
        ("d82a01", "unknown tag 42"),
        ("d2 84 40 a0 40 40", "tag 18 where not allowed"),
    ],
)
def test_rejects(hex_data: str, why: str) -> None:
    with pytest.raises(CBORMalformed):
        loads_strict(bytes.fromhex(hex_data.replace(" ", "")), LIMITS)


def test_allowed_tags_pass() -> None:
    assert loads_strict(bytes.fromhex("d86419018f"), LIMITS, frozenset({100})) == datetime.date(
        1970, 1, 1
    ) + datetime.timedelta(days=399)
    value = loads_strict(bytes.fromhex("d28440a04040"), LIMITS, frozenset({18}))
    assert isinstance(value, cbor2.CBORTag) and value.tag == 18


def test_depth_limit() -> None:
    ok = b"\x81" * 15 + b"\x00"
    loads_strict(ok, LIMITS)
    with pytest.raises(LimitExceeded):
        loads_strict(b"\x81" * 17 + b"\x00", LIMITS)


def test_deep_nesting_never_recursion_error() -> None:
    for opener in (b"\x81", b"\xa1\x00", b"\xd8\x64"):
        with pytest.raises(VCError):
            loads_strict(opener * 200_000 + b"\x00", LIMITS, frozenset({100}))


def test_item_limit() -> None:
    limits = Limits(max_cbor_items=100)
    loads_strict(dumps(list(range(99))), limits)
    with pytest.raises(LimitExceeded):
        loads_strict(dumps(list(range(100))), limits)
    with pytest.raises(LimitExceeded):
        loads_strict(dumps({i: [i] for i in range(60)}), limits)


def test_dumps_is_deterministic_and_writes_dates_as_tag_100() -> None:
    assert dumps({2: 1, 1: 2}) == bytes.fromhex("a201020201")
    assert dumps(datetime.date(1970, 1, 2)) == bytes.fromhex("d86401")
    assert dumps(datetime.date(1969, 12, 31)) == bytes.fromhex("d86420")


@settings(max_examples=400)
@given(st.binary(max_size=64))
def test_fuzz_random_bytes_parse_or_raise_vcerror(data: bytes) -> None:
    """h11's fuzz invariant: any input is parsed, or raises the library's own error."""
    with contextlib.suppress(VCError):
        loads_strict(data, LIMITS, frozenset({18, 100}))


@given(
    st.recursive(
        st.none() | st.booleans() | CBOR_INTS | st.text(max_size=5) | st.binary(max_size=5),
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(CBOR_INTS | st.text(max_size=3), children, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_round_trip_of_strict_values(value: object) -> None:
    assert loads_strict(dumps(value), LIMITS) == value
