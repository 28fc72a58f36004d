"""IETF status list codec against draft 20's vectors, and the W3C codec kept apart."""

from __future__ import annotations

import tracemalloc
import zlib
from typing import Any

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import load_conformance_json
from vcsdk.errors import ClaimsInvalid, DecompressionFailed, LimitExceeded, UsageError
from vcsdk.limits import Limits
from vcsdk.revocation import StatusList, StatusListBuilder, pack


def vectors() -> dict[str, Any]:
    data: dict[str, Any] = load_conformance_json("ietf-status-list", "vectors.json")
    return data


def test_small_vectors_every_status_every_form() -> None:
    for vector in vectors()["small"]:
        bits, statuses = vector["bits"], vector["statuses"]
        forms = [
            StatusList.from_compressed(bits, bytes.fromhex(vector["compressed_hex"])),
            StatusList.from_cbor(cbor2.loads(bytes.fromhex(vector["cbor_hex"]))),
            StatusList.from_json({"bits": bits, "lst": vector["json_lst"]}),
        ]
        for status_list in forms:
            assert status_list.data.hex() == vector["uncompressed_hex"]
            assert [status_list.get(i) for i in range(vector["num_entries"])] == statuses
        ours = pack(statuses, bits)
        assert ours.data.hex() == vector["uncompressed_hex"]
        assert zlib.decompress(ours.compressed()).hex() == vector["uncompressed_hex"]  # compare decoded bytes
        assert StatusList.from_cbor(ours.to_cbor()).data == ours.data
        assert StatusList.from_json(ours.to_json()).data == ours.data


@pytest.mark.parametrize(
    "name", ["bits1-2^20-entries", "bits2-2^20-entries", "bits4-2^20-entries", "bits8-2^20-entries"]
)
def test_long_vectors_decode_to_the_expected_status_per_index(name: str) -> None:
    vector = next(v for v in vectors()["long"] if v["name"] == name)
    listed = {int(k): v for k, v in vector["listed"].items()}
    for status_list in (
        StatusList.from_cbor(cbor2.loads(bytes.fromhex(vector["cbor_hex"]))),
        StatusList.from_json({"bits": vector["bits"], "lst": vector["json_lst"]}),
    ):
        assert status_list.size == vector["num_entries"] == 2**20
        for idx, value in listed.items():
            assert status_list.get(idx) == value, idx
        nonzero = {v: 0 for v in listed.values() if v}
        for value in listed.values():
            if value:
                nonzero[value] += 1
        assert status_list.counts() == nonzero  # every unlisted index holds the unlisted value 0
        builder = StatusListBuilder(vector["num_entries"], vector["bits"])
        builder.update(listed.items())
        assert builder.freeze().data == status_list.data


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
