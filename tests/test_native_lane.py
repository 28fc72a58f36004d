"""The compiled fast lane's C part on its own: Wycheproof Ed25519 with libsodium's verdicts, the
byte-level split agreeing with the pure lane's, and every bound of untrusted input."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from tests import forge
from tests.conftest import lane_flag, load_conformance_json
from vcsdk import Ed25519PrivateKey, Ed25519PublicKey
from vcsdk.codec import base45
from vcsdk.errors import KeyInvalid, SignatureInvalid
from vcsdk.limits import DEFAULT_LIMITS
from vcsdk.trust.store import TrustStore
from vcsdk.verify.fast import split_sign1


@pytest.fixture(scope="module")
def native() -> Any:
    """:mod:`vcsdk.verify.native`, skipped loudly (or failed under VCSDK_REQUIRE_NATIVE=1) when the
    compiled module is not built."""
    lane_flag("compiled")
    from vcsdk.verify import native as module

    return module


def _wycheproof_cases() -> list[tuple[int, bytes, bytes, bytes, bool]]:
    data = load_conformance_json("wycheproof", "ed25519_test.json")
    cases = [
        (t["tcId"], bytes.fromhex(g["publicKey"]["pk"]), bytes.fromhex(t["msg"]), bytes.fromhex(t["sig"]),
         t["result"] == "valid")
        for g in data["testGroups"]
        for t in g["tests"]
    ]  # fmt: skip
    assert len(cases) == data["numberOfTests"] == 151
    return cases


def _accepts(verify: Callable[[bytes, bytes], None], message: bytes, signature: bytes) -> bool:
    try:
        verify(message, signature)
    except SignatureInvalid:
        return False
    return True


def test_wycheproof_ed25519_same_verdicts_on_both_lanes(native: Any) -> None:
    """All 151 cases: libsodium's detached verify (the compiled lane), the compiled lane's key check
    and the pure lane's key (PyNaCl) accept exactly the valid ones (non-canonical S, small-order
    and non-canonical A and R rejected alike)."""
    lib = native.LIB
    agreed = 0
    for tc_id, pk, msg, sig, valid in _wycheproof_cases():
        assert (lib.vl_verify(sig, len(sig), msg, len(msg), pk, len(pk)) == lib.VL_OK) is valid, tc_id
        try:
            key = Ed25519PublicKey(pk)
        except KeyInvalid:  # the pure lane refuses the key itself: never a valid case
            assert not valid, tc_id
            agreed += 1
            continue
        assert [_accepts(key.verify, msg, sig), _accepts(partial(native.verify_key, key), msg, sig)] == [valid] * 2, (
            tc_id
        )
        agreed += 1
    assert agreed == 151


def test_verify_candidates_picks_the_key_that_verifies(native: Any) -> None:
    first, second = Ed25519PrivateKey(bytes(range(1, 33))), Ed25519PrivateKey(bytes(range(2, 34)))
    store = TrustStore([first.public_key, second.public_key])
    message = b"to be signed"
    (one,) = store.candidates(first.public_key.kid)
    (two,) = store.candidates(second.public_key.kid)
    assert native.verify_candidates((one, two), message, second.sign(message)) is two
    with pytest.raises(SignatureInvalid):
        native.verify_candidates((one,), message, second.sign(message))
    with pytest.raises(SignatureInvalid):
        native.verify_candidates((one,), message, first.sign(message)[:63])  # wrong length: never read past it


def test_the_split_equals_the_pure_lanes(native: Any) -> None:
    data = forge.sign1_bytes()
    lane = native.NativeLane(DEFAULT_LIMITS, "GID1:")
    parts = lane.open_text(forge.text_from_cose(data))
    assert parts == lane.open_sign1(data)
    protected, payload, signature = split_sign1(data)  # type: ignore[misc]
    assert (parts.kid, parts.payload, parts.signature) == (protected[5:], payload, signature)
    from vcsdk.codec.cose import sig_structure

    assert parts.to_be_signed == sig_structure(protected, payload)


def _texts_refused() -> dict[str, str]:
    good = forge.text()
    body = good[len("GID1:") :]
    cose = forge.sign1_bytes()
    return {
        "empty": "",
        "prefix only": "GID1:",
        "wrong prefix": "GID2:" + body,
        "lower-case Base45": "GID1:" + body.lower(),
        "Base45 length 3k+1": good + "0",
        "Base45 triple over 65535": "GID1:" + "ZZZ",
        "Base45 pair over 255": "GID1:" + "ZZ",
        "non-ASCII": good[:-1] + "가",
        "truncated zlib": "GID1:" + base45.b45encode(zlib.compress(cose)[:-3]),
        "bytes after the zlib stream": "GID1:" + base45.b45encode(zlib.compress(cose) + b"\x00"),
        "raw DEFLATE": "GID1:" + base45.b45encode(zlib.compress(cose, wbits=-15)),
        "gzip": "GID1:" + base45.b45encode(zlib.compress(cose, wbits=31)),
        "over the inflate cap": "GID1:" + base45.b45encode(zlib.compress(bytes(DEFAULT_LIMITS.max_inflated_bytes + 1))),
        "over the text limit": "GID1:" + "0" * (DEFAULT_LIMITS.max_text_chars + 1),
        "COSE with a trailer": forge.text_from_cose(cose + b"\x40"),
        "COSE cut short": forge.text_from_cose(cose[:-1]),
        "COSE untagged": forge.text_from_cose(cose[1:]),
        "unprotected header not empty": forge.text_from_cose(cose.replace(b"\xa0", b"\xa1\x04\x40", 1)),
    }


@pytest.mark.parametrize(("name", "text"), _texts_refused().items(), ids=_texts_refused().keys())
def test_the_c_part_hands_every_odd_input_back(native: Any, name: str, text: str) -> None:
    """None means "the reference path decides": the C part accepts only the canonical shape."""
    assert native.NativeLane(DEFAULT_LIMITS, "GID1:").open_text(text) is None, name


@pytest.mark.parametrize("cut", range(0, 120, 7))
def test_every_truncation_of_the_cose_bytes_is_handed_back(native: Any, cut: int) -> None:
    data = forge.sign1_bytes()
    lane = native.NativeLane(DEFAULT_LIMITS, "GID1:")
    assert lane.open_sign1(data[:cut]) is None
    assert lane.open_sign1(data) is not None  # the context is reusable after a refusal
