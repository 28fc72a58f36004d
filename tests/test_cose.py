"""COSE_Sign1: the COSE WG examples and sign1 pass/fail suite, RFC 8392's signed CWT,
and the header rules of RFC 9052."""

from __future__ import annotations

import json
from typing import Any

import cbor2
import pytest

from tests.conftest import conformance_file
from vcsdk import DEFAULT_LIMITS, Ed25519PrivateKey
from vcsdk.codec import cose
from vcsdk.errors import COSEMalformed


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sign-fail-01.json", "COSE_MALFORMED"),  # tag 998
        ("sign-fail-03.json", "UNSUPPORTED_ALGORITHM"),  # alg -999
        ("sign-fail-04.json", "UNSUPPORTED_ALGORITHM"),  # alg "unknown"
        ("sign-pass-01.json", "UNSUPPORTED_ALGORITHM"),  # alg only unprotected: profile refuses
        ("sign-pass-03.json", "COSE_MALFORMED"),  # untagged: profile refuses
        ("sign-fail-02.json", "UNSUPPORTED_ALGORITHM"),  # ES256 is not the profile's alg
        ("sign-fail-06.json", "UNSUPPORTED_ALGORITHM"),
        ("sign-fail-07.json", "UNSUPPORTED_ALGORITHM"),
        ("sign-pass-02.json", "UNSUPPORTED_ALGORITHM"),
    ],
)
def test_sign1_suite_through_the_official_profile(name: str, expected: str) -> None:
    """The official-ID verifier reaches these verdicts from structure and alg alone."""
    from tests.forge import text_from_cose
    from vcsdk import Verifier

    case = json.loads(conformance_file("cose-wg", "sign1-tests", name).read_text())
    result = Verifier([Ed25519PrivateKey.generate().public_key]).check(
        text_from_cose(bytes.fromhex(case["output"]["cbor"]))
    )
    assert not result.valid
    assert result.code == expected


# ------------------------------------------------------------------------ header rules


def _msg(protected: bytes, unprotected: dict[Any, Any], payload: Any = b"p", sig: Any = b"s", tag: int = 18) -> bytes:
    return cbor2.dumps(cbor2.CBORTag(tag, [protected, unprotected, payload, sig]))


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (cbor2.dumps([b"", {}, b"", b""]), "untagged"),
        (cbor2.dumps(cbor2.CBORTag(998, [b"", {}, b"", b""])), "tag 998"),
        (cbor2.dumps(cbor2.CBORTag(98, [b"", {}, b"", b""])), "COSE_Sign tag"),
        (cbor2.dumps(cbor2.CBORTag(17, [b"", {}, b"", b""])), "COSE_Mac0 tag"),
        (cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b""])), "3 elements"),
        (cbor2.dumps(cbor2.CBORTag(18, {})), "not an array"),
        (_msg(b"", {}, payload=None), "detached payload"),
        (_msg(b"", {}, payload="text"), "payload not bstr"),
        (_msg(b"", {}, sig=None), "signature not bstr"),
        (_msg(cbor2.dumps([1]), {}), "protected not a map"),
        (_msg(cbor2.dumps({1: -8}), {1: -8}), "alg in both buckets"),
        (_msg(cbor2.dumps({4: b"a"}), {4: b"b"}), "kid in both buckets"),
        (_msg(cbor2.dumps({1: -8, 2: [99], 99: 1}), {}), "crit names an unknown label"),
        (_msg(cbor2.dumps({1: -8, 2: [4]}), {}), "crit names an absent label"),
        (_msg(cbor2.dumps({1: -8, 2: []}), {}), "empty crit"),
        (_msg(cbor2.dumps({1: -8}), {2: [1]}), "crit unprotected"),
        (_msg(cbor2.dumps({1: 1.5}), {}), "alg is a float"),
        (_msg(cbor2.dumps({4: "text"}), {}), "kid is text"),
        (_msg(cbor2.dumps({3: -1}), {}), "negative content type"),
        (_msg(cbor2.dumps({1.5: 1}), {}), "float label"),
    ],
)
def test_header_rules(data: bytes, why: str) -> None:
    with pytest.raises(COSEMalformed):
        cose.decode_sign1(data, DEFAULT_LIMITS)


def test_understood_crit_is_accepted_and_empty_protected_is_empty_bstr() -> None:
    message = cose.decode_sign1(_msg(cbor2.dumps({1: -8, 2: [1]}), {}), DEFAULT_LIMITS)
    assert message.alg == -8
    assert cose.encode_protected({}) == b""
    assert cose.decode_sign1(_msg(b"", {4: b"k"}), DEFAULT_LIMITS).kid == b"k"


def test_protected_bytes_kept_exactly_as_received() -> None:
    # {1: -8} encoded non-canonically (int in a 1-byte argument): must be signed as received.
    odd = bytes.fromhex("a10138" + "07")
    message = cose.decode_sign1(_msg(odd, {}), DEFAULT_LIMITS)
    assert message.protected_bytes == odd
    assert message.alg == -8
    assert odd in message.to_be_signed()
