"""#11.6: claims that would spoof a guard's screen, map keys of the wrong type, and a holder key
that lets anyone sign are refused -- by the reference verifier, the fast lane and the issuer."""

from __future__ import annotations

from typing import Any

import pytest

from tests import forge
from tests.conftest import NOW, SEED, reference_claims
from vcsdk import Code, Ed25519PrivateKey, Issuer, StatusPolicy, Verifier, fixed_clock
from vcsdk.codec import cwt
from vcsdk.errors import IssuanceClaimsInvalid
from vcsdk.profiles.official_id import OFFICIAL_ID_CLAIM
from vcsdk.verify import FastVerifier

KEY = Ed25519PrivateKey(SEED)
REFERENCE = Verifier([KEY.public_key], clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN)
FAST = FastVerifier(REFERENCE, cache_size=0)

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


def verdicts(text: str) -> tuple[Code, Code]:
    return REFERENCE.check(text).code, FAST.check(text).code


def official(**changes: Any) -> dict[Any, Any]:
    value: dict[Any, Any] = forge.official_map()
    value.update(changes)
    return value


@pytest.mark.parametrize("char", SPOOFING.values(), ids=SPOOFING.keys())
def test_spoofing_characters_in_text_claims_are_refused(char: str) -> None:
    name = "김" + char + "민준"
    text = forge.text(forge.claims(official=official() | {1: name}))
    assert verdicts(text) == (Code.CLAIMS_INVALID, Code.CLAIMS_INVALID)
    with pytest.raises(IssuanceClaimsInvalid):
        Issuer(KEY, "KR-MOIS", clock=fixed_clock(NOW)).issue({**reference_claims(), "rank": "행정" + char + "주사"})


def test_ordinary_korean_and_latin_text_still_verifies() -> None:
    text = forge.text(forge.claims(official=official() | {1: "남궁 민수", 2: "NAMGUNG MIN-SU"}))
    assert verdicts(text) == (Code.VALID, Code.VALID)


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
def test_map_keys_of_the_wrong_type_are_refused(payload: Any) -> None:
    assert verdicts(forge.text(payload())) == (Code.CLAIMS_INVALID, Code.CLAIMS_INVALID)


SMALL_ORDER_POINTS = {
    "identity": bytes([1]) + bytes(31),
    "order 2": bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    "order 8": bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
}


@pytest.mark.parametrize("x", SMALL_ORDER_POINTS.values(), ids=SMALL_ORDER_POINTS.keys())
def test_small_order_holder_key_is_refused(x: bytes) -> None:
    text = forge.text(forge.claims(cnf={1: {1: 1, -1: 6, -2: x}}))
    assert verdicts(text) == (Code.CLAIMS_INVALID, Code.CLAIMS_INVALID)


def test_a_real_holder_key_still_verifies() -> None:
    device = Ed25519PrivateKey(bytes(range(7, 39))).public_key
    text = forge.text(forge.claims(cnf={1: {1: 1, -1: 6, -2: device.raw}}))
    # bare, a bound credential is refused: gates want a fresh presentation from the phone
    assert verdicts(text) == (Code.PRESENTATION_REQUIRED, Code.PRESENTATION_REQUIRED)
    lenient = Verifier(
        [KEY.public_key], clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN, holder_binding="off"
    )
    assert lenient.check(text).code == FastVerifier(lenient, cache_size=0).check(text).code == Code.VALID
    assert lenient.verify(text).holder_key == device
