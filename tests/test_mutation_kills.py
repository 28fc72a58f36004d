"""Tests written to kill mutants that survived the mutation run over ``vcsdk/codec/`` (docs/mutation.md).

Each test names the mutant it kills; each pins a rule that no other test held.
"""

from __future__ import annotations

from typing import Any

import cbor2
import pytest

from tests.conftest import SEED
from vcsdk import DEFAULT_LIMITS, Ed25519PrivateKey
from vcsdk.codec import cbor, cose, cwt
from vcsdk.errors import ClaimsInvalid, LimitExceeded, SignatureInvalid
from vcsdk.limits import Limits

KEY = Ed25519PrivateKey(SEED)


def test_sign1_untagged_on_request() -> None:
    """Kills cose.sign1 mutant 14 (``tagged`` not passed on) and encode_sign1 mutant 6 (always tagged)."""
    untagged = cose.sign1(b"payload", {1: -8}, KEY.sign, tagged=False)
    assert untagged[0] == 0x84  # a bare 4-element array, no tag 18
    message = cose.decode_sign1(untagged, DEFAULT_LIMITS, require_tag=False)
    assert message.tagged is False
    KEY.public_key.verify(message.to_be_signed(), message.signature)
    assert cose.encode_sign1(b"", {}, b"p", b"s", tagged=False) == cbor2.dumps([b"", {}, b"p", b"s"])
    assert cose.sign1(b"payload", {1: -8}, KEY.sign)[0] == 0xD2  # tag 18 by default


def test_sign1_signs_over_the_external_aad() -> None:
    """Kills cose.sign1 mutant 23 (external AAD dropped from the Sig_structure)."""
    message = cose.decode_sign1(cose.sign1(b"p", {1: -8}, KEY.sign, external_aad=b"gate-7"), DEFAULT_LIMITS)
    KEY.public_key.verify(message.to_be_signed(b"gate-7"), message.signature)
    with pytest.raises(SignatureInvalid):
        KEY.public_key.verify(message.to_be_signed(), message.signature)


def test_item_cap_counts_what_sits_inside_map_keys() -> None:
    """Kills cbor._count_items mutants 8-15 (map keys not walked): array keys count their items."""
    limits = Limits(max_cbor_items=64)
    key = tuple(range(40))  # an array used as a map key: 41 items
    data = cbor2.dumps({key: 1, tuple(range(40, 80)): 2})  # 1 map + 2 * (41 + 1) = 85 items > 64
    assert len(data) > limits.max_cbor_items  # long enough for the count to run
    with pytest.raises(LimitExceeded):
        cbor.loads_strict(data, limits)
    small = cbor2.dumps({tuple(range(10)): 1, tuple(range(10, 20)): 2} | {i: i for i in range(100, 110)})
    assert len(cbor.loads_strict(small, Limits(max_cbor_items=64))) == 12  # 1 + 2*12 + 20 = 45 items


@pytest.mark.parametrize(
    "value",
    [
        {"status_list": {"idx": 1, "uri": "u"}, "extra": 1},  # two members, status_list among them
        {"other": {"idx": 1, "uri": "u"}},  # one member, not status_list
    ],
)
def test_status_claim_holds_exactly_status_list(value: Any) -> None:
    """Kills cwt.StatusReference.from_cbor mutant 1 (``or`` turned into ``and``)."""
    with pytest.raises(ClaimsInvalid, match="exactly"):
        cwt.StatusReference.from_cbor(value)


def test_empty_protected_map_is_signed_as_an_empty_bstr() -> None:
    """Kills Sign1.to_be_signed mutants 9-10: an empty protected map (even sent as ``a0``) is signed
    as a zero-length byte string (RFC 9052 section 3), not as the received ``a0`` byte."""
    message = cose.decode_sign1(cbor2.dumps(cbor2.CBORTag(18, [b"\xa0", {}, b"p", b"s"])), DEFAULT_LIMITS)
    assert message.protected == {}
    assert message.to_be_signed() == cose.sig_structure(b"", b"p")
    kept = cose.decode_sign1(cbor2.dumps(cbor2.CBORTag(18, [b"\xa1\x01\x27", {}, b"p", b"s"])), DEFAULT_LIMITS)
    assert kept.to_be_signed() == cose.sig_structure(b"\xa1\x01\x27", b"p")


def test_from_cbor_value_requires_the_tag_by_default() -> None:
    """Kills from_cbor_value mutant 1 (``require_tag`` defaulting to False)."""
    from vcsdk.errors import COSEMalformed

    with pytest.raises(COSEMalformed, match="tag 18 is missing"):
        cose.from_cbor_value([b"", {}, b"p", b"s"], DEFAULT_LIMITS)


def test_encode_sign1_tags_by_default() -> None:
    """Kills encode_sign1 mutant 1 (``tagged`` defaulting to False)."""
    assert cose.encode_sign1(b"", {}, b"p", b"s") == cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b"p", b"s"]))


@pytest.mark.parametrize(
    "head",
    [b"\xd8\x12", b"\xd9\x00\x12", b"\xda\x00\x00\x00\x12", b"\xdb" + (18).to_bytes(8, "big")],
    ids=["1-byte", "2-byte", "4-byte", "8-byte"],
)
def test_tag_18_in_a_long_head_is_read_as_18(head: bytes) -> None:
    """Kills _leading_tag mutants 12-23 and 35-37: the tag number is read from the right bytes for
    every argument size (the CBOR decoder then applies its own rules)."""
    body = cbor2.dumps([b"\xa1\x01\x27", {}, b"p", b"s"])
    assert cose.decode_sign1(head + body, DEFAULT_LIMITS).tagged
    wrong = head[:-1] + bytes([head[-1] + 1])  # tag 19 in the same head size
    from vcsdk.errors import COSEMalformed

    with pytest.raises(COSEMalformed, match="tag 19"):
        cose.decode_sign1(wrong + body, DEFAULT_LIMITS)


def test_shared_labels_are_passed_through() -> None:
    """Kills decode_sign1 mutant 24 (``shared_labels`` dropped): HC1 allows kid in both buckets."""
    data = cbor2.dumps(cbor2.CBORTag(18, [cbor2.dumps({1: -7, 4: b"k"}), {4: b"other"}, b"p", b"s"]))
    from vcsdk.errors import COSEMalformed

    with pytest.raises(COSEMalformed):
        cose.decode_sign1(data, DEFAULT_LIMITS)
    assert cose.decode_sign1(data, DEFAULT_LIMITS, shared_labels=frozenset({4})).kid == b"k"


def test_every_edge_triplet_is_checked_not_only_the_last() -> None:
    """Kills base45._decode_triplets mutant 19 (``rfind``): "GGW" (65,536) before a valid "00W"."""
    from vcsdk.codec.base45 import b45decode
    from vcsdk.errors import Base45DecodingFailed

    assert b45decode("00W") == (32 * 2025).to_bytes(2, "big")
    with pytest.raises(Base45DecodingFailed):
        b45decode("GGW00W")
    with pytest.raises(Base45DecodingFailed):
        b45decode("00WGGW00W")


def test_item_cap_counts_map_values_and_tag_contents() -> None:
    """Kills cbor._count_items mutants 14-15 (map values and tag contents not walked)."""
    limits = Limits(max_cbor_items=64)
    values = cbor2.dumps({1: list(range(40)), 2: list(range(40))})  # 1 + 2 * (1 + 41) = 85 items
    with pytest.raises(LimitExceeded):
        cbor.loads_strict(values, limits)
    tagged = cbor2.dumps(cbor2.CBORTag(18, list(range(70))))  # 1 tag + 1 array + 70 = 72 items
    with pytest.raises(LimitExceeded):
        cbor.loads_strict(tagged, limits, frozenset({18}))


def test_a_text_of_exactly_the_cap_is_accepted() -> None:
    """Kills qrtext.unpack mutant 1 (``>=``): the cap is inclusive."""
    from vcsdk.codec import qrtext

    text = qrtext.pack(b"\xa0", "GID1:")
    assert qrtext.unpack(text, "GID1:", Limits(max_text_chars=len(text))) == b"\xa0"
    with pytest.raises(LimitExceeded):
        qrtext.unpack(text, "GID1:", Limits(max_text_chars=len(text) - 1))


@pytest.mark.parametrize("uri", ["", 5, None, b"uri"])
def test_status_uri_must_be_non_empty_text(uri: Any) -> None:
    """Kills StatusReference.__post_init__ mutant 9 (``or`` turned into ``and``)."""
    with pytest.raises(ClaimsInvalid, match="uri"):
        cwt.StatusReference(1, uri)


def test_status_reference_cbor_form() -> None:
    """Kills StatusReference.to_cbor mutants 1-6 (no codec test covered the encoder)."""
    reference = cwt.StatusReference(100_000, "https://id.mois.go.kr/sl/7")
    assert reference.to_cbor() == {"status_list": {"idx": 100_000, "uri": "https://id.mois.go.kr/sl/7"}}
    assert cwt.StatusReference.from_cbor(reference.to_cbor()) == reference
