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
