"""Base45 (RFC 9285): the RFC's vectors, every section 6 reject, and agreement with the
``base45`` package on valid input."""

from __future__ import annotations

import base45 as reference
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vcsdk.codec.base45 import ALPHABET, b45decode, b45encode
from vcsdk.errors import Base45DecodingFailed


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("GGW", "triplet 65536"),
        (":::", "triplet 91124"),
        ("QED8WEX", "length 1 mod 3"),
        ("A", "length 1"),
        ("qed8wex0", "lowercase"),
        ("QED8WEX0\n", "trailing newline is not stripped"),
        (" QED8WEX0"[1:] + "\r", "carriage return"),
        ("QED8 WEX0"[:8] + "\t", "tab"),
        ("QED8WEX=", "padding character"),
        ("QED8WEXé", "non-ASCII"),
        ("QED8WE:\x00", "NUL"),
        ("U:", "final pair 44 + 44*45 > 255"),
        ("%6", "final pair 38 + 6*45 = 308 > 255"),
    ],
)
def test_rejects(text: str, why: str) -> None:
    with pytest.raises(Base45DecodingFailed):
        b45decode(text)


def test_space_is_part_of_the_alphabet() -> None:
    assert " " in ALPHABET
    assert b45decode("%69 VD92EX0") == b"Hello!!"


def test_largest_values() -> None:
    assert b45decode("FGW") == b"\xff\xff"
    assert b45decode("U5") == b"\xff"
    assert b45decode("") == b""


@given(st.binary(max_size=300))
def test_round_trip_and_agreement_with_base45_package(data: bytes) -> None:
    text = b45encode(data)
    assert text == reference.b45encode(data).decode("ascii")
    assert b45decode(text) == data


@given(st.text(alphabet=ALPHABET + "abc=\n\x00é", max_size=40))
def test_arbitrary_text_decodes_or_raises_base45_error(text: str) -> None:
    try:
        decoded = b45decode(text)
    except Base45DecodingFailed:
        return
    assert b45encode(decoded) == text  # anything accepted is canonical


def test_every_triplet_and_pair_exhaustively() -> None:
    """All 91,125 triplets and 2,025 pairs: accepted exactly when RFC 9285 allows, bytes right."""
    accepted = 0
    for e, c3 in enumerate(ALPHABET):
        for d, c2 in enumerate(ALPHABET):
            for c, c1 in enumerate(ALPHABET):
                value = c + 45 * d + 2025 * e
                text = c1 + c2 + c3
                if value > 0xFFFF:
                    with pytest.raises(Base45DecodingFailed):
                        b45decode(text)
                    with pytest.raises(Base45DecodingFailed):
                        b45decode("000" + text + "000")  # also when surrounded by valid triplets
                else:
                    assert b45decode(text) == value.to_bytes(2, "big")
                    accepted += 1
    assert accepted == 65536
    for d, c2 in enumerate(ALPHABET):
        for c, c1 in enumerate(ALPHABET):
            value = c + 45 * d
            if value > 0xFF:
                with pytest.raises(Base45DecodingFailed):
                    b45decode("FGW" + c1 + c2)
            else:
                assert b45decode("FGW" + c1 + c2) == b"\xff\xff" + bytes((value,))


@pytest.mark.parametrize(
    ("data", "text"),
    [(b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"), (b"base-45", "UJCLQE7W581"), (b"ietf!", "QED8WEX0"), (b"", "")],
)
def test_encoder_rfc_9285_vectors(data: bytes, text: str) -> None:
    assert b45encode(data) == text
    assert b45encode(bytearray(data)) == text
    assert b45encode(memoryview(data)) == text


def test_encoder_agrees_with_base45_package_on_every_word_and_every_final_byte() -> None:
    every_word = b"".join(word.to_bytes(2, "big") for word in range(0x10000))
    assert b45encode(every_word) == reference.b45encode(every_word).decode("ascii")
    for last in range(256):
        assert b45encode(bytes((7, last, last))) == reference.b45encode(bytes((7, last, last))).decode("ascii")
    assert b45decode(b45encode(every_word)) == every_word


@given(st.binary(min_size=300, max_size=3000))
def test_round_trip_of_credential_sized_inputs(data: bytes) -> None:
    text = b45encode(data)
    assert text == reference.b45encode(data).decode("ascii")
    assert b45decode(text) == data
