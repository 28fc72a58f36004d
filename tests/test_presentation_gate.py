"""Holder binding at a bundle-provisioned gate: the bundle's holder_binding policy (the gate can
only tighten it), challenges, a replay cache that survives bundle swaps, and the lost-phone
timeline (report -> suspended -> the gate refuses after its next bundle)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import NOW, reference_claims
from vcsdk import Code, Ed25519PrivateKey, Issuer, fixed_clock
from vcsdk.errors import ClaimsInvalid
from vcsdk.gate.core import Gate
from vcsdk.holder import decode_challenge, make_key_proof, present, verify_key_proof
from vcsdk.revocation import MemoryStatusStore, RegistryConfig, StatusRegistry
from vcsdk.trust.bundle import GatePolicy, build_bundle
from vcsdk.trust.store import TrustedKey
from vcsdk.trust.trustlist import TrustList, sign_trust_list
from vcsdk.verify.presentation import HolderBinding, PresentationGuard

DAY = 86400
ANCHOR = Ed25519PrivateKey(bytes(range(100, 132)))
ISSUING = Ed25519PrivateKey(bytes(range(200, 232)))
PHONE = Ed25519PrivateKey(bytes(range(50, 82)))


def _world() -> tuple[StatusRegistry, Any, str, str]:
    registry = StatusRegistry.create(
        MemoryStatusStore(), RegistryConfig("https://id.mois.go.kr/sl/{n}", first=7), clock=fixed_clock(NOW)
    )
    reference = registry.allocate()
    proof = verify_key_proof(make_key_proof(PHONE, audience="a", nonce="n", issued_at=NOW), audience="a", now=NOW)
    issuer = Issuer(ISSUING, "KR-MOIS", clock=fixed_clock(NOW))
    bound = issuer.issue(reference_claims(), status=reference, holder=proof).qr_text
    unbound = issuer.issue(reference_claims(), status=registry.allocate()).qr_text
    return registry, reference, bound, unbound


DEFAULT_POLICY = GatePolicy()


def _bundle(registry: StatusRegistry, uri: str, version: int, policy: GatePolicy = DEFAULT_POLICY) -> bytes:
    listed = TrustList(1, NOW - DAY, NOW + 30 * DAY, (TrustedKey(ISSUING.public_key, issuer="KR-MOIS"),))
    return build_bundle(
        sign_trust_list(listed, ANCHOR),
        [registry.publish(uri, ISSUING)],
        ANCHOR,
        version=version,
        issued_at=NOW - 60,
        expires_at=NOW + 2 * DAY,
        policy=policy,
    )


def test_bundle_policy_and_the_gate_floor() -> None:
    registry, reference, bound, unbound = _world()
    loose = _bundle(registry, reference.uri, 1, GatePolicy(holder_binding=HolderBinding.OFF))
    gate = Gate([ANCHOR.public_key], clock=fixed_clock(NOW))
    gate.load(loose)
    assert gate.bundle is not None and gate.bundle.policy.holder_binding is HolderBinding.OFF
    assert gate.check(bound).code == Code.VALID  # the bundle allows bare credentials
    strict_gate = Gate([ANCHOR.public_key], clock=fixed_clock(NOW), holder_binding="if-bound")
    strict_gate.load(loose)
    assert strict_gate.check(bound).code == Code.PRESENTATION_REQUIRED  # the gate tightened it
    assert strict_gate.check(unbound).code == Code.VALID
    required = _bundle(registry, reference.uri, 2, GatePolicy(holder_binding=HolderBinding.REQUIRED))
    lax_gate = Gate([ANCHOR.public_key], clock=fixed_clock(NOW), holder_binding="off")
    lax_gate.load(required)
    assert lax_gate.check(unbound).code == Code.PRESENTATION_REQUIRED  # the gate cannot loosen it
    assert lax_gate.check(present(bound, PHONE, now=NOW)).code == Code.VALID


def test_policy_encoding() -> None:
    policy = GatePolicy(holder_binding=HolderBinding.REQUIRED)
    assert GatePolicy.from_cbor(policy.to_cbor()) == policy
    older = {k: v for k, v in policy.to_cbor().items() if k != "holder_binding"}
    assert GatePolicy.from_cbor(older).holder_binding is HolderBinding.IF_BOUND  # bundles made before binding
    with pytest.raises(ClaimsInvalid):
        GatePolicy.from_cbor({**policy.to_cbor(), "holder_binding": "sometimes"})
    with pytest.raises(ClaimsInvalid):
        GatePolicy.from_cbor({**policy.to_cbor(), "holder_binding": 1})


def test_challenge_at_the_gate_and_replays_across_bundle_swaps() -> None:
    registry, reference, bound, _ = _world()
    gate = Gate([ANCHOR.public_key], clock=fixed_clock(NOW), presentations=PresentationGuard("east-3"))
    gate.load(_bundle(registry, reference.uri, 1))
    challenge = decode_challenge(gate.challenge().to_text())
    answer = present(bound, PHONE, now=NOW, challenge=challenge)
    assert gate.check(answer).code == Code.VALID
    gate.load(_bundle(registry, reference.uri, 2))  # a new bundle, the same memory
    assert gate.check(answer).code == Code.PRESENTATION_REPLAYED


def test_lost_phone_timeline() -> None:
    registry, reference, bound, _ = _world()
    gate = Gate([ANCHOR.public_key], clock=fixed_clock(NOW))
    gate.load(_bundle(registry, reference.uri, 1))
    assert gate.check(present(bound, PHONE, now=NOW)).code == Code.VALID
    registry.suspend(reference)  # the holder reports the phone lost
    # until the gate's next bundle it still holds the old list: the finder with the unlocked phone passes
    assert gate.check(present(bound, PHONE, now=NOW + 1)).code == Code.VALID
    gate.load(_bundle(registry, reference.uri, 2))
    assert gate.check(present(bound, PHONE, now=NOW + 2)).code == Code.STATUS_SUSPENDED
    # an old screenshot fails too: the inner credential (status included) is checked first
    assert gate.check(present(bound, PHONE, now=NOW - 3600)).code == Code.STATUS_SUSPENDED
