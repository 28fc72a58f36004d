"""#11.6: claims that would spoof a guard's screen, map keys of the wrong type, and a holder key
that lets anyone sign are refused -- by the reference verifier, the fast lane and the issuer."""

from __future__ import annotations

from typing import Any

import pytest

from tests import forge
from tests.conftest import NOW, SEED, lanes_of, reference_claims
from vcsdk import Code, Ed25519PrivateKey, Issuer, StatusPolicy, Verifier, fixed_clock
from vcsdk.codec import cwt
from vcsdk.errors import IssuanceClaimsInvalid
from vcsdk.profiles.official_id import OFFICIAL_ID_CLAIM
from vcsdk.verify import FastVerifier

KEY = Ed25519PrivateKey(SEED)
REFERENCE = Verifier([KEY.public_key], clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN)
FAST = lanes_of(lambda compiled: FastVerifier(REFERENCE, cache_size=0, compiled=compiled))

SPOOFING = {
    "right-to-left override": "\u202e",
    "left-to-right isolate": "\u2066",
    "arabic letter mark": "\u061c",
    "zero-width space": "\u200b",
    "zero-width joiner": "\u200d",
    "word joiner": "\u2060",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "byte order mark": "\ufeff",
    "hangul filler": "\u3164",
    "hangul choseong filler": "\u115f",
    "halfwidth hangul filler": "\uffa0",
    "delete (control)": "\x7f",
}


def verdicts(text: str, lane: bool) -> tuple[Code, Code]:
    """The reference verifier's code and the fast verifier's on ``lane``."""
    return REFERENCE.check(text).code, FAST[lane].check(text).code


def official(**changes: Any) -> dict[Any, Any]:
    value: dict[Any, Any] = forge.official_map()
    value.update(changes)
    return value


@pytest.mark.parametrize("char", SPOOFING.values(), ids=SPOOFING.keys())
def test_spoofing_characters_in_text_claims_are_refused(char: str, lane: bool) -> None:
    name = "김" + char + "민준"
    text = forge.text(forge.claims(official=official() | {1: name}))
    assert verdicts(text, lane) == (Code.CLAIMS_INVALID, Code.CLAIMS_INVALID)
    with pytest.raises(IssuanceClaimsInvalid):
        Issuer(KEY, "KR-MOIS", clock=fixed_clock(NOW)).issue({**reference_claims(), "rank": "행정" + char + "주사"})


def test_ordinary_korean_and_latin_text_still_verifies(lane: bool) -> None:
    text = forge.text(forge.claims(official=official() | {1: "남궁 민수", 2: "NAMGUNG MIN-SU"}))
    assert verdicts(text, lane) == (Code.VALID, Code.VALID)


def _without(mapping: dict[Any, Any], key: Any) -> dict[Any, Any]:
    return {k: v for k, v in mapping.items() if k != key}


@pytest.mark.parametrize(
    "payload",
    [
        # official-ID name under key true instead of 1 (true == 1 in Python)
        lambda: forge.claims(official=_without(forge.official_map(), 1) | {True: "김민준"}),
        # agency code under 4.0 instead of 4
        lambda: forge.claims(official=_without(forge.official_map(), 4) | {4.0: 1741000}),
        # exp under the CWT key 4.0
        lambda: _without(forge.claims(), cwt.EXP) | {4.0: NOW + 3600},
        # the official-ID claim under -65537.0
        lambda: _without(forge.claims(), OFFICIAL_ID_CLAIM) | {float(OFFICIAL_ID_CLAIM): forge.official_map()},
    ],
    ids=["official key true", "official key 4.0", "cwt key 4.0", "cwt key -65537.0"],
)
def test_map_keys_of_the_wrong_type_are_refused(payload: Any, lane: bool) -> None:
    assert verdicts(forge.text(payload()), lane) == (Code.CLAIMS_INVALID, Code.CLAIMS_INVALID)


P = 2**255 - 19
SMALL_ORDER_POINTS = {
    "identity": bytes([1]) + bytes(31),
    "order 2": bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    "order 4": bytes(32),
    "order 4 negated": bytes(31) + b"\x80",
    "order 8": bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    "order 8 other": bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    "order 8 negated": bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),
    "identity as p+1": (P + 1).to_bytes(32, "little"),
    "non-canonical y = p+3": (P + 3).to_bytes(32, "little"),
}


@pytest.mark.parametrize("x", SMALL_ORDER_POINTS.values(), ids=SMALL_ORDER_POINTS.keys())
def test_small_order_holder_key_is_refused(x: bytes, lane: bool) -> None:
    text = forge.text(forge.claims(cnf={1: {1: 1, -1: 6, -2: x}}))
    assert verdicts(text, lane) == (Code.CLAIMS_INVALID, Code.CLAIMS_INVALID)


def test_a_real_holder_key_still_verifies(lane: bool) -> None:
    device = Ed25519PrivateKey(bytes(range(7, 39))).public_key
    text = forge.text(forge.claims(cnf={1: {1: 1, -1: 6, -2: device.raw}}))
    # bare, a bound credential is refused: gates want a fresh presentation from the phone
    assert verdicts(text, lane) == (Code.PRESENTATION_REQUIRED, Code.PRESENTATION_REQUIRED)
    lenient = Verifier(
        [KEY.public_key], clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN, holder_binding="off"
    )
    assert lenient.check(text).code == FastVerifier(lenient, cache_size=0, compiled=lane).check(text).code == Code.VALID
    assert lenient.verify(text).holder_key == device


@pytest.mark.parametrize("x", SMALL_ORDER_POINTS.values(), ids=SMALL_ORDER_POINTS.keys())
def test_each_refused_holder_key_really_is_small_order_or_non_canonical(x: bytes) -> None:
    # the verifier's cheap encoding check must refuse exactly points libsodium calls unusable:
    # each listed point is refused by libsodium's full check and is either non-canonical or
    # becomes the identity after three doublings
    import nacl.bindings

    assert not nacl.bindings.crypto_core_ed25519_is_valid_point(x)
    y = int.from_bytes(x, "little") & ((1 << 255) - 1)
    if y < P:
        point = x
        for _ in range(3):
            point = nacl.bindings.crypto_core_ed25519_add(point, point)
        assert point == bytes([1]) + bytes(31)


def test_a_mixed_order_holder_key_is_refused_at_issuance_and_left_to_the_device_signature_at_gates(lane: bool) -> None:
    # a key with a small-order component: only the subgroup check (about 30 us) finds it, so the
    # issuer runs it once when binding; gates check the encoding and the device signature
    import nacl.bindings

    device = Ed25519PrivateKey(bytes(range(7, 39))).public_key
    mixed = nacl.bindings.crypto_core_ed25519_add(device.raw, SMALL_ORDER_POINTS["order 8"])
    assert not nacl.bindings.crypto_core_ed25519_is_valid_point(mixed)
    from vcsdk.errors import UsageError

    with pytest.raises(UsageError, match="small order"):
        Issuer(KEY, "KR-MOIS", clock=fixed_clock(NOW)).issue(reference_claims(), holder_key=type(device)(mixed))
    # a forged (issuer-signed) credential with that key: shown bare it still needs a presentation
    text = forge.text(forge.claims(cnf={1: {1: 1, -1: 6, -2: mixed}}))
    assert verdicts(text, lane) == (Code.PRESENTATION_REQUIRED, Code.PRESENTATION_REQUIRED)
