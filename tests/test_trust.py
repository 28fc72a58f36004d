"""Trust: key lifecycle, signed trust lists, gate bundles (atomic swap), HC1 interop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.conftest import NOW, reference_claims
from tests.hc1_forge import certificate as _certificate
from tests.hc1_forge import hc1_text as _hc1
from vcsdk import DEFAULT_LIMITS, Code, Ed25519PrivateKey, Issuer, TrustedKey, Verifier, fixed_clock
from vcsdk.codec import cbor, cose, qrtext
from vcsdk.errors import (
    FileError,
    KeyInvalid,
    TrustListExpired,
    TrustListRollback,
    TrustListSignatureInvalid,
    TrustSourceInvalid,
    UsageError,
    VCError,
)
from vcsdk.gate.core import Gate
from vcsdk.keys.files import load_private_key
from vcsdk.keys.keyring import Keyring
from vcsdk.profiles.hc1 import HC1Verifier, certificate_kid, signer_certificates
from vcsdk.revocation import MemoryStatusStore, RegistryConfig, StatusRegistry
from vcsdk.trust.bundle import GatePolicy, build_bundle
from vcsdk.trust.store import KeyState
from vcsdk.trust.trustlist import TrustList, sign_trust_list, verify_trust_list

DAY = 86400
ANCHOR = Ed25519PrivateKey(bytes(range(100, 132)))
ISSUING = Ed25519PrivateKey(bytes(range(200, 232)))


def trust_list(version: int = 1, *, keys: tuple[TrustedKey, ...] | None = None, exp: int = NOW + 30 * DAY) -> TrustList:
    entries = keys or (TrustedKey(ISSUING.public_key, issuer="KR-MOIS", not_before=NOW - 10 * DAY),)
    return TrustList(version, NOW - DAY, exp, entries)


# ------------------------------------------------------------------ key lifecycle


def test_rotation_keeps_old_credentials_and_compromise_rejects(tmp_path: Path) -> None:
    ring = Keyring.create(tmp_path / "ring", "KR-MOIS")
    first = ring.rotate(NOW - 100 * DAY)
    old_credential = Issuer(ring.signing_key(NOW - 50 * DAY), "KR-MOIS", clock=fixed_clock(NOW - 50 * DAY)).issue(
        reference_claims()
    )
    second = ring.rotate(NOW - 10 * DAY)  # the first key retires now
    new_credential = Issuer(ring.signing_key(NOW), "KR-MOIS", clock=fixed_clock(NOW)).issue(reference_claims())
    records = {r.kid: r for r in Keyring.open(tmp_path / "ring").records}
    assert records[first.kid].state is KeyState.RETIRED
    assert records[first.kid].not_after == NOW - 10 * DAY
    assert records[second.kid].state is KeyState.ACTIVE

    def verdict(text: str, ring: Keyring) -> Code:
        listed = TrustList(1, NOW - DAY, NOW + DAY, tuple(ring.trusted_keys()))
        anchors = [ANCHOR.public_key]
        store = verify_trust_list(sign_trust_list(listed, ANCHOR), anchors, now=NOW).store()
        return Verifier(store, clock=fixed_clock(NOW), require_status=False).check(text).code

    assert verdict(old_credential.qr_text, ring) == Code.VALID  # retired key: still valid until exp
    assert verdict(new_credential.qr_text, ring) == Code.VALID
    # the retired key signing after its window ends is refused (a thief back-dating iat into the
    # window is what marking the key compromised, below, is for)
    thief = Issuer(load_private_key(ring.directory / first.file), "KR-MOIS", clock=fixed_clock(NOW))
    assert verdict(thief.issue(reference_claims()).qr_text, ring) == Code.PUBLIC_KEY_EXPIRED
    ring.compromise(first.kid[:6])
    assert verdict(old_credential.qr_text, ring) == Code.PUBLIC_KEY_COMPROMISED
    assert verdict(new_credential.qr_text, ring) == Code.VALID


def test_keyring_errors(tmp_path: Path) -> None:
    ring = Keyring.create(tmp_path / "ring", "KR-MOIS")
    with pytest.raises(KeyInvalid):
        ring.signing_key(NOW)  # no active key yet
    record = ring.rotate(NOW, b"pw")
    assert (ring.directory / record.file).stat().st_mode & 0o777 == 0o600
    with pytest.raises(KeyInvalid):
        ring.find("ffff")
    assert ring.signing_key(NOW, b"pw").kid.hex() == record.kid
    ring.compromise(record.kid)
    with pytest.raises(UsageError):
        ring.retire(record.kid, NOW)
    (ring.directory / "keyring.json").write_text("{broken")
    with pytest.raises(FileError, match="damaged"):
        Keyring.open(ring.directory)


# ------------------------------------------------------------------ signed trust lists


def test_trust_list_round_trips_in_cbor_and_json() -> None:
    listed = trust_list(3)
    signed = sign_trust_list(listed, ANCHOR)
    back = verify_trust_list(signed, [ANCHOR.public_key], now=NOW)
    assert back == listed
    assert TrustList.from_json(json.loads(json.dumps(listed.to_json()))) == listed
    assert back.store().candidates(ISSUING.kid)[0].issuer == "KR-MOIS"


def _signed_by_impostor_with_the_anchor_kid() -> bytes:
    """The anchor's kid in the header, another key's signature: passes the kid lookup, fails
    the signature (unlike an unknown kid, which fails at the lookup)."""
    impostor = Ed25519PrivateKey(bytes(range(1, 33)))
    protected = {1: -8, 4: ANCHOR.kid, 16: "application/vnd.vcsdk.trust-list+cose"}
    return cose.sign1(cbor.dumps(trust_list().to_cbor()), protected, impostor.sign)


@pytest.mark.parametrize(
    ("make", "error", "reason"),
    [
        (
            lambda: sign_trust_list(trust_list(), Ed25519PrivateKey.generate()),
            TrustListSignatureInvalid,
            "no trusted key",
        ),
        (_signed_by_impostor_with_the_anchor_kid, TrustListSignatureInvalid, "signature does not verify"),
        (lambda: sign_trust_list(trust_list(exp=NOW - 1), ANCHOR), TrustListExpired, "expired"),
        (
            lambda: _edited(sign_trust_list(trust_list(), ANCHOR)),
            TrustListSignatureInvalid,
            "signature does not verify",
        ),
        (lambda: b"\x00\x01garbage", TrustListSignatureInvalid, "CBOR"),
        (lambda: _resigned_with_typ("application/statuslist+cwt"), TrustListSignatureInvalid, "typ"),
    ],
    ids=["unknown signer", "impostor with the anchor kid", "expired", "edited", "garbage", "wrong typ"],
)
def test_trust_list_refusals(make: Any, error: type[Exception], reason: str) -> None:
    with pytest.raises(error, match=reason):
        verify_trust_list(make(), [ANCHOR.public_key], now=NOW)


def test_trust_list_rollback_refused() -> None:
    with pytest.raises(TrustListRollback):
        verify_trust_list(sign_trust_list(trust_list(4), ANCHOR), [ANCHOR.public_key], now=NOW, min_version=5)


def _edited(signed: bytes) -> bytes:
    """Flip a bit inside the payload (the version number), keeping the CBOR well formed."""
    message = cose.decode_sign1(signed, DEFAULT_LIMITS)
    payload = cbor2.loads(message.payload)
    payload["version"] += 1
    return cose.encode_sign1(message.protected_bytes, message.unprotected, cbor.dumps(payload), message.signature)


def _resigned_with_typ(typ: str) -> bytes:
    protected = {1: -8, 4: ANCHOR.kid, 16: typ}
    return cose.sign1(cbor.dumps(trust_list().to_cbor()), protected, ANCHOR.sign)


def test_anchor_apart_from_issuing_keys_and_schema_errors() -> None:
    with pytest.raises(UsageError):
        sign_trust_list(trust_list(keys=(TrustedKey(ANCHOR.public_key),)), ANCHOR)
    with pytest.raises(TrustSourceInvalid) as info:
        TrustList.from_json({"version": -1, "iat": "x", "keys": [{"kid": "!"}]})
    assert len(info.value.details) >= 3


# ------------------------------------------------------------------ gate bundles


def _world(now: int = NOW) -> tuple[StatusRegistry, Any, str]:
    registry = StatusRegistry.create(
        MemoryStatusStore(), RegistryConfig("https://id.mois.go.kr/sl/{n}", first=7), clock=fixed_clock(now)
    )
    reference = registry.allocate()
    text = Issuer(ISSUING, "KR-MOIS", clock=fixed_clock(now)).issue(reference_claims(), status=reference).qr_text
    return registry, reference, text


def _bundle(registry: StatusRegistry, uri: str, version: int, *, list_version: int = 1, **kwargs: Any) -> bytes:
    token = registry.publish(uri, ISSUING)
    signed_list = sign_trust_list(trust_list(list_version), ANCHOR)
    options: dict[str, Any] = {"version": version, "issued_at": NOW - 60, "expires_at": NOW + 2 * DAY}
    options.update(kwargs)
    return build_bundle(signed_list, [token], ANCHOR, **options)


def test_gate_loads_a_bundle_and_swaps_atomically() -> None:
    registry, reference, text = _world()
    gate = Gate([ANCHOR.public_key], clock=fixed_clock(NOW))
    with pytest.raises(UsageError):
        gate.check(text)  # nothing loaded yet
    gate.load(_bundle(registry, reference.uri, 1))
    assert gate.check(text).code == Code.VALID
    registry.suspend(reference)
    suspended = _bundle(registry, reference.uri, 2)
    failing = [
        _bundle(registry, reference.uri, 3, expires_at=NOW - 1),  # expired
        _bundle(registry, reference.uri, 0),  # rolled back
        suspended[:-1] + bytes([suspended[-1] ^ 1]),  # edited
        build_bundle(sign_trust_list(trust_list(), ANCHOR), [b"\xd2\x84\x40\xa0\x40\x40"], ANCHOR, version=9,
                     issued_at=NOW, expires_at=NOW + DAY),  # a status token that fails
        sign_trust_list(trust_list(), ANCHOR),  # a trust list is not a bundle
    ]  # fmt: skip
    for bad in failing:
        with pytest.raises(VCError):
            gate.load(bad)
        assert gate.check(text).code == Code.VALID  # the last good bundle stays in force
        assert gate.bundle is not None
        assert gate.bundle.version == 1
    gate.load(suspended)
    assert gate.check(text).code == Code.STATUS_SUSPENDED
    assert gate.bundle is not None
    assert gate.bundle.version == 2


def test_gate_bundle_policy_and_expiry() -> None:
    registry, reference, text = _world()
    bundle = _bundle(registry, reference.uri, 1, policy=GatePolicy(max_status_age=3600, fail_closed=True))
    gate = Gate([ANCHOR.public_key], clock=fixed_clock(NOW))
    gate.load(bundle)
    assert gate.bundle is not None
    assert gate.bundle.policy.max_status_age == 3600
    later = Gate([ANCHOR.public_key], clock=fixed_clock(NOW + 2 * 3600))
    later.load(bundle)
    assert later.check(text).code == Code.STATUS_UNKNOWN  # list older than the policy allows
    expired = Gate([ANCHOR.public_key], clock=fixed_clock(NOW))
    expired.load(bundle)
    assert expired.check(text, NOW + 3 * DAY).code == Code.TRUST_LIST_EXPIRED  # checked on every scan
    with pytest.raises(UsageError):
        Gate([])


# ------------------------------------------------------------------ HC1 interop


@pytest.mark.parametrize("kind", ["es256", "ps256"])
@pytest.mark.parametrize("kid_where", ["protected", "unprotected", "both"])
def test_hc1_verifies_with_x509_signer_certificates(kind: str, kid_where: str) -> None:
    key: Any = ec.generate_private_key(ec.SECP256R1()) if kind == "es256" else rsa.generate_private_key(65537, 2048)
    certificate = _certificate(key)
    trusted = signer_certificates(certificate.public_bytes(serialization.Encoding.PEM))
    verifier = HC1Verifier(trusted, clock=fixed_clock(NOW))
    result = verifier.check(_hc1(key, certificate, kid_where=kid_where))
    assert (result.valid, result.code) == (True, "VALID"), result.message
    assert result.credential is not None
    assert result.credential.dcc["nam"]["fn"] == "Kim"
    der = signer_certificates(certificate.public_bytes(serialization.Encoding.DER))
    assert der[0].kid == trusted[0].kid == certificate_kid(certificate.public_bytes(serialization.Encoding.DER))


def test_hc1_certificate_validity_bounds_iat_and_profiles_bind_their_algorithms() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _certificate(key, days=(-10, 10))
    trusted = signer_certificates(certificate.public_bytes(serialization.Encoding.PEM))
    verifier = HC1Verifier(trusted, clock=fixed_clock(NOW))
    assert verifier.check(_hc1(key, certificate, iat=NOW - 20 * DAY)).code == "PUBLIC_KEY_NOT_YET_VALID"
    # after the certificate's not_after: the key window is checked before the claims' times
    assert verifier.check(_hc1(key, certificate, iat=NOW + 11 * DAY)).code == Code.PUBLIC_KEY_EXPIRED
    # inside the window but in the future: the claims' time check speaks
    assert verifier.check(_hc1(key, certificate, iat=NOW + 5 * DAY)).code == Code.CWT_NOT_YET_VALID
    # the official-ID profile refuses ES256 even from a trusted key
    official = Verifier([t.key for t in trusted], clock=fixed_clock(NOW), require_status=False)
    text = "GID1:" + _hc1(key, certificate)[4:]
    assert official.check(text).code == Code.UNSUPPORTED_ALGORITHM
    # and HC1 refuses EdDSA
    eddsa = qrtext.pack(
        cose.sign1(cbor.dumps({1: "KR", 6: NOW, 4: NOW + DAY, -260: {1: {}}}), {1: -8, 4: ISSUING.kid}, ISSUING.sign),
        "HC1:",
    )
    assert (
        HC1Verifier([TrustedKey(ISSUING.public_key)], clock=fixed_clock(NOW)).check(eddsa).code
        == "UNSUPPORTED_ALGORITHM"
    )
    with pytest.raises(KeyInvalid):
        signer_certificates(b"not a certificate")
