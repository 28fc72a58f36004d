"""#11.1: a status list counts only for credentials of its own issuer, signed by a key of that
issuer valid at the list's iat; lists are held per (issuer, uri). Through the API, inside an
anchor-signed bundle and through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from vcsdk_cli.main import main

from tests.conftest import NOW, reference_claims
from vcsdk import Code, Ed25519PrivateKey, Issuer, StatusReference, TrustedKey, TrustStore, Verifier, fixed_clock
from vcsdk.errors import PublicKeyExpired
from vcsdk.gate import Gate
from vcsdk.revocation import StatusListChecker, pack, sign_token
from vcsdk.trust.bundle import build_bundle
from vcsdk.trust.store import jwks_for
from vcsdk.trust.trustlist import TrustList, sign_trust_list

A = Ed25519PrivateKey(bytes(range(40, 72)))  # agency A (KR-A)
B = Ed25519PrivateKey(bytes(range(80, 112)))  # agency B (KR-B), trusted for its own credentials
ANCHOR = Ed25519PrivateKey(bytes(range(120, 152)))
URI = "https://id.a.go.kr/sl/1"
REVOKED_IDX = 3


def a_credential() -> str:
    issuer = Issuer(A, "KR-A", clock=fixed_clock(NOW - 1000))
    return issuer.issue(reference_claims(), status=StatusReference(REVOKED_IDX, URI)).qr_text


def a_list() -> bytes:
    """A's own list: index 3 revoked."""
    return sign_token(pack([0, 0, 0, 1], 2), URI, A, issued_at=NOW - 300)


def b_forgery() -> bytes:
    """B signs an all-zero list for A's uri, newer than A's."""
    return sign_token(pack([0, 0, 0, 0], 2), URI, B, issued_at=NOW - 100)


def bound_keys() -> list[TrustedKey]:
    return [TrustedKey(A.public_key, issuer="KR-A"), TrustedKey(B.public_key, issuer="KR-B")]


@pytest.mark.parametrize("keys", [bound_keys(), [A.public_key, B.public_key]], ids=["issuer-bound", "plain keys"])
def test_another_issuers_list_never_answers_for_a_credential(keys: list[TrustedKey]) -> None:
    trust = TrustStore(keys)
    checker = StatusListChecker(trust)
    checker.load(a_list(), NOW)
    checker.load(b_forgery(), NOW)  # accepted as B's list, held apart from A's
    verifier = Verifier(trust, clock=fixed_clock(NOW), status=checker)
    assert verifier.check(a_credential()).code == Code.STATUS_REVOKED

    only_b = StatusListChecker(trust)
    only_b.load(b_forgery(), NOW)
    assert Verifier(trust, clock=fixed_clock(NOW), status=only_b).check(a_credential()).code == Code.STATUS_UNKNOWN


def test_a_list_from_an_issuer_key_outside_its_window_is_refused() -> None:
    """A's key stopped issuing before the list's iat: the list does not count."""
    trust = TrustStore([TrustedKey(A.public_key, issuer="KR-A", not_after=NOW - 500)])
    checker = StatusListChecker(trust)
    with pytest.raises(PublicKeyExpired):
        checker.load(sign_token(pack([0, 0, 0, 0], 2), URI, A, issued_at=NOW - 100), NOW)
    assert Verifier(trust, clock=fixed_clock(NOW), status=checker).check(a_credential()).code == Code.STATUS_UNKNOWN


def test_inside_an_anchor_signed_bundle() -> None:
    listed = TrustList(1, NOW - 5000, NOW + 86400, tuple(bound_keys()))

    def gate_with(tokens: list[bytes]) -> Gate:
        bundle = build_bundle(
            sign_trust_list(listed, ANCHOR), tokens, ANCHOR, version=1, issued_at=NOW - 50, expires_at=NOW + 3600
        )
        gate = Gate([ANCHOR.public_key], clock=fixed_clock(NOW))
        gate.load(bundle)
        return gate

    assert gate_with([a_list(), b_forgery()]).check(a_credential()).code == Code.STATUS_REVOKED
    assert gate_with([b_forgery()]).check(a_credential()).code == Code.STATUS_UNKNOWN


def test_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = {}
    for name, data in {
        "a.jwks": json.dumps(jwks_for([A.public_key])).encode(),
        "b.jwks": json.dumps(jwks_for([B.public_key])).encode(),
        "a.cwt": a_list(),
        "b.cwt": b_forgery(),
    }.items():
        (tmp_path / name).write_bytes(data)
        paths[name] = str(tmp_path / name)
    base = ["verify", "--trust", paths["a.jwks"], "--trust", paths["b.jwks"], "--at", str(NOW), "--json"]
    code = main([*base, "--status-list", paths["a.cwt"], "--status-list", paths["b.cwt"], a_credential()])
    out = json.loads(capsys.readouterr().out)
    assert (code, out["code"]) == (1, "STATUS_REVOKED")
    code = main([*base, "--status-list", paths["b.cwt"], a_credential()])
    out = json.loads(capsys.readouterr().out)
    assert (code, out["code"]) == (1, "STATUS_UNKNOWN")
