"""The byte-exact test vector in docs/holder-binding.md: rebuilt from its inputs and verified."""

from __future__ import annotations

import re

from tests.conftest import ROOT, reference_claims
from vcsdk import Code, Ed25519PrivateKey, Issuer, StatusReference, Verifier, fixed_clock
from vcsdk.codec import cbor, cose, qrtext
from vcsdk.holder import Challenge, decode_challenge, make_key_proof, present, verify_key_proof
from vcsdk.limits import DEFAULT_LIMITS
from vcsdk.verify.presentation import PresentationGuard
from vcsdk.verify.status import StatusPolicy

IAT = 1_780_000_000


def vector() -> dict[str, str]:
    text = (ROOT / "docs" / "holder-binding.md").read_text(encoding="utf-8")
    block = text.split("<!-- vector:begin -->", 1)[1].split("<!-- vector:end -->", 1)[0]
    values: dict[str, str] = {}
    name = None
    for line in block.splitlines():
        if line.startswith("```"):
            continue
        match = re.match(r"^([a-z_]+) =(?: (.*))?$", line)
        if match:
            name = match.group(1)
            values[name] = match.group(2) or ""
        elif name is not None and line:
            values[name] += line
    return values


def test_vector_is_reproduced_byte_for_byte() -> None:
    v = vector()
    issuer_key = Ed25519PrivateKey(bytes.fromhex(v["issuer_seed"]))
    device = Ed25519PrivateKey(bytes.fromhex(v["device_seed"]))
    assert device.public_key.raw.hex() == v["device_public_key"]
    proof = verify_key_proof(
        make_key_proof(device, audience="https://id.mois.go.kr", nonce="vector", issued_at=IAT),
        audience="https://id.mois.go.kr",
        now=IAT,
    )
    credential = Issuer(issuer_key, "KR-MOIS", clock=fixed_clock(IAT)).issue(
        reference_claims(),
        status=StatusReference(100_000, "https://id.mois.go.kr/sl/7"),
        holder=proof,
        credential_id=bytes(range(16)),
    )
    assert credential.cose.hex() == v["credential_cose"]
    challenge = Challenge(bytes(range(0xA0, 0xB0)), "gate-1", IAT + 95)
    assert challenge.to_text() == v["challenge"]
    assert cbor.dumps({1: challenge.nonce, 2: "gate-1", 3: IAT + 95}).hex() == v["challenge_cbor"]
    assert decode_challenge(v["challenge"]) == challenge
    text = present(credential.qr_text, device, now=IAT + 100, challenge=challenge)
    message = qrtext.unpack(text, "GIDP1:", DEFAULT_LIMITS)
    assert message.hex() == v["presentation_cose"]
    parsed = cose.decode_sign1(message, DEFAULT_LIMITS)
    assert parsed.protected_bytes.hex() == v["presentation_protected"]
    assert parsed.signature.hex() == v["presentation_signature"]
    assert text == v["presentation_text"]


def test_vector_verifies_once_at_the_gate_that_asked() -> None:
    v = vector()
    issuer_key = Ed25519PrivateKey(bytes.fromhex(v["issuer_seed"]))
    guard = PresentationGuard("gate-1", random=lambda n: bytes(range(0xA0, 0xA0 + n)))
    assert guard.challenge(IAT + 95).to_text() == v["challenge"]
    gate = Verifier(
        [issuer_key.public_key],
        clock=fixed_clock(IAT + 100),
        status_policy=StatusPolicy.ALLOW_UNKNOWN,
        presentations=guard,
    )
    first = gate.check(v["presentation_text"])
    assert first.code == Code.VALID and first.credential is not None and first.credential.claims.name == "김민준"
    assert gate.check(v["presentation_text"]).code == Code.PRESENTATION_REPLAYED
