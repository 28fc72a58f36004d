"""IETF status list codec against draft 20's vectors, and the W3C codec kept apart."""

from __future__ import annotations

import tracemalloc
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vcsdk.errors import ClaimsInvalid, DecompressionFailed, LimitExceeded, UsageError
from vcsdk.limits import Limits
from vcsdk.revocation import StatusList, StatusListBuilder, pack


@pytest.mark.parametrize("bits", [0, 3, 5, 16, -1, True, "2"])
def test_bits_outside_1_2_4_8_are_refused(bits: object) -> None:
    with pytest.raises(ClaimsInvalid):
        StatusList.from_cbor({"bits": bits, "lst": zlib.compress(b"\x00")})


@pytest.mark.parametrize(
    "value",
    [{"bits": 1}, {"lst": b"x"}, {"bits": 1, "lst": "text"}, [1], {"bits": 1, "lst": b"", "aggregation_uri": 5}],
)
def test_malformed_status_list_maps(value: object) -> None:
    with pytest.raises((ClaimsInvalid, DecompressionFailed)):
        StatusList.from_cbor(value)


def test_lst_bomb_refused_without_allocating_it() -> None:
    bomb = zlib.compress(b"\x00" * 64_000_000, 9)
    tracemalloc.start()
    try:
        with pytest.raises(LimitExceeded):
            StatusList.from_compressed(2, bomb, Limits(max_status_list_bytes=1_000_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3_000_000


def test_default_cap_holds_ten_million_two_bit_entries() -> None:
    assert Limits().max_status_list_bytes >= 10_000_000 * 2 // 8


@given(st.sampled_from([1, 2, 4, 8]), st.lists(st.integers(0, 255), min_size=1, max_size=300))
def test_builder_matches_a_naive_model(bits: int, raw: list[int]) -> None:
    values = [v % (1 << bits) for v in raw]
    status_list = pack(values, bits)
    assert [status_list.get(i) for i in range(len(values))] == values
    # the LSB-first rule, spelled out
    for i, value in enumerate(values):
        position = i * bits
        assert (status_list.data[position // 8] >> (position % 8)) & ((1 << bits) - 1) == value


def test_builder_range_checks() -> None:
    builder = StatusListBuilder(16, 2)
    with pytest.raises(UsageError):
        builder.set(16, 1)
    with pytest.raises(UsageError):
        builder.set(0, 4)
    with pytest.raises(IndexError):
        builder.freeze().get(16)
