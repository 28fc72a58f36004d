"""Proof of possession of a device key (issuance of bound credentials)."""

from __future__ import annotations

import cbor2
import pytest

from vcsdk import Ed25519PrivateKey
from vcsdk.codec import cbor, cose
from vcsdk.errors import Code, KeyProofInvalid
from vcsdk.holder import make_key_proof, verify_key_proof
from vcsdk.holder.proof import PROOF_CONTENT_TYPE, check_device_key
from vcsdk.keys import Ed25519PublicKey

AUD = "https://id.mois.go.kr"
NOW = 1_800_000_000


def test_round_trip_gives_the_device_key_and_nonce() -> None:
    device = Ed25519PrivateKey.generate()
    proof = make_key_proof(device, audience=AUD, nonce="n-1", issued_at=NOW)
    verified = verify_key_proof(proof, audience=AUD, now=NOW + 10)
    assert verified.device_key == device.public_key
    assert (verified.nonce, verified.issued_at, verified.audience) == ("n-1", NOW, AUD)


@pytest.mark.parametrize(
    ("audience", "now"),
    [("https://other.example", NOW), (AUD, NOW + 361), (AUD, NOW - 361)],
    ids=["other-audience", "stale", "future"],
)
def test_wrong_audience_or_time_is_refused(audience: str, now: int) -> None:
    proof = make_key_proof(Ed25519PrivateKey.generate(), audience=AUD, nonce="n", issued_at=NOW)
    with pytest.raises(KeyProofInvalid) as caught:
        verify_key_proof(proof, audience=audience, now=now)
    assert caught.value.code is Code.KEY_PROOF_INVALID


def _resign(header_key: Ed25519PublicKey, signer: Ed25519PrivateKey, claims: dict[int, object]) -> bytes:
    protected = {1: -8, 3: PROOF_CONTENT_TYPE, "COSE_Key": {1: 1, -1: 6, -2: header_key.raw}}
    return cose.sign1(cbor.dumps(claims), protected, signer.sign)


def test_a_proof_signed_by_another_key_than_it_carries_is_refused() -> None:
    holder, thief = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    proof = _resign(holder.public_key, thief, {3: AUD, 6: NOW, 10: "n"})
    with pytest.raises(KeyProofInvalid, match="not signed"):
        verify_key_proof(proof, audience=AUD, now=NOW)


def test_extra_claims_garbage_and_small_order_keys_are_refused() -> None:
    device = Ed25519PrivateKey.generate()
    for claims in ({3: AUD, 6: NOW, 10: "n", 99: 1}, {3: AUD, 6: float(NOW), 10: "n"}, {3: AUD, 6: NOW, 10: b"n"}):
        with pytest.raises(KeyProofInvalid):
            verify_key_proof(_resign(device.public_key, device, claims), audience=AUD, now=NOW)
    for garbage in (b"", b"\xff" * 10, cbor2.dumps([1, 2]), b"\x00" * 2000):
        with pytest.raises(KeyProofInvalid):
            verify_key_proof(garbage, audience=AUD, now=NOW)
    identity_point = bytes([1]) + bytes(31)  # small order: verifies "signatures" by anyone
    with pytest.raises(KeyProofInvalid, match="small order"):
        check_device_key(Ed25519PublicKey(identity_point))
