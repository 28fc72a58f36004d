"""#11.2-#11.5 and #10.1: sticky compromise across sources, persisted rollback floors, expiry on
every verification, bundle policy bounds, falsy failures, and the one authentication step for
trust lists and bundles (window, compromise, wrong algorithm)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from vcsdk_cli.main import main

from tests.conftest import NOW, reference_claims
from vcsdk import (
    Code,
    CredentialVerifier,
    Ed25519PrivateKey,
    Issuer,
    StatusReference,
    TrustedKey,
    TrustStore,
    Verifier,
    fixed_clock,
)
from vcsdk.codec import cbor, cose
from vcsdk.errors import ClaimsInvalid, TrustListRollback, TrustListSignatureInvalid
from vcsdk.gate import Gate
from vcsdk.profiles.hc1 import HC1Verifier
from vcsdk.revocation import pack, sign_token
from vcsdk.trust.bundle import GatePolicy, build_bundle, open_bundle
from vcsdk.trust.store import KeyState, jwks_for
from vcsdk.trust.trustlist import TrustList, sign_trust_list, verify_trust_list
from vcsdk.verify import FastVerifier, StatusPolicy

DAY = 86400
ANCHOR = Ed25519PrivateKey(bytes(range(100, 132)))
ISSUING = Ed25519PrivateKey(bytes(range(200, 232)))
URI = "https://id.mois.go.kr/sl/7"
TRUST_LIST_TYP = "application/vnd.vcsdk.trust-list+cose"


def credential(iat: int = NOW - 100) -> str:
    issuer = Issuer(ISSUING, "KR-MOIS", clock=fixed_clock(iat))
    return issuer.issue(reference_claims(), status=StatusReference(1, URI)).qr_text


def listed(state: KeyState = KeyState.ACTIVE, version: int = 1, exp: int = NOW + 30 * DAY, **window: Any) -> TrustList:
    return TrustList(
        version, NOW - DAY, exp, (TrustedKey(ISSUING.public_key, issuer="KR-MOIS", state=state, **window),)
    )


def lenient(trust: TrustStore, now: int = NOW) -> Verifier:
    return Verifier(trust, clock=fixed_clock(now), status_policy=StatusPolicy.ALLOW_UNKNOWN)


# ------------------------------------------------------------------ #11.2 sticky compromise and windows


def test_compromise_in_a_trust_list_sticks_when_a_jwks_also_lists_the_key() -> None:
    from_list = verify_trust_list(sign_trust_list(listed(KeyState.COMPROMISED), ANCHOR), [ANCHOR.public_key], now=NOW)
    from_jwks = TrustStore.from_jwks(json.dumps(jwks_for([ISSUING.public_key])))
    for keys in ([*from_list.keys, *from_jwks], [*from_jwks, *from_list.keys]):
        assert lenient(TrustStore(keys)).check(credential()).code == Code.PUBLIC_KEY_COMPROMISED


def test_a_key_window_sticks_when_another_source_has_none() -> None:
    windowed = TrustedKey(ISSUING.public_key, issuer="KR-MOIS", not_after=NOW - DAY)
    trust = TrustStore([windowed, ISSUING.public_key])
    assert lenient(trust).check(credential()).code == Code.PUBLIC_KEY_EXPIRED
    (merged,) = trust.candidates(ISSUING.kid)
    assert (merged.not_after, merged.issuer) == (NOW - DAY, "KR-MOIS")


def test_sticky_compromise_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "list.cose").write_bytes(sign_trust_list(listed(KeyState.COMPROMISED), ANCHOR))
    (tmp_path / "anchor.pem").write_bytes(ANCHOR.public_key.to_pem())
    (tmp_path / "keys.jwks").write_text(json.dumps(jwks_for([ISSUING.public_key])))
    args = ["verify", "--state", str(tmp_path / "state"), "--allow-unknown-status", "--at", str(NOW), "--json"]
    args += ["--trust", str(tmp_path / "list.cose"), "--trust-anchor", str(tmp_path / "anchor.pem")]
    code = main([*args, "--trust", str(tmp_path / "keys.jwks"), credential()])
    assert (code, json.loads(capsys.readouterr().out)["code"]) == (1, "PUBLIC_KEY_COMPROMISED")


# ------------------------------------------------------------------ #11.3 rollback floors and expiry


def _bundle(version: int, list_version: int = 1, **policy: Any) -> bytes:
    token = sign_token(pack([0, 0, 0, 0], 2), URI, ISSUING, issued_at=NOW - 60)
    return build_bundle(
        sign_trust_list(listed(version=list_version), ANCHOR),
        [token],
        ANCHOR,
        version=version,
        issued_at=NOW - 60,
        expires_at=NOW + DAY,
        policy=GatePolicy(**policy),
    )


def test_a_restarted_gate_still_refuses_an_older_bundle(tmp_path: Path) -> None:
    Gate([ANCHOR.public_key], clock=fixed_clock(NOW), state=tmp_path).load(_bundle(5, list_version=3))
    restarted = Gate([ANCHOR.public_key], clock=fixed_clock(NOW), state=tmp_path)
    with pytest.raises(TrustListRollback):
        restarted.load(_bundle(4, list_version=3))  # older bundle
    with pytest.raises(TrustListRollback):
        restarted.load(_bundle(6, list_version=2))  # newer bundle, older trust list inside
    restarted.load(_bundle(5, list_version=3))  # the very same bundle again: fine
    restarted.load(_bundle(6, list_version=4))
    assert json.loads((tmp_path / "floors.json").read_text())["format"] == 1
    assert (tmp_path / "floors.json").stat().st_mode & 0o777 == 0o600


def test_the_same_version_with_other_content_is_refused(tmp_path: Path) -> None:
    gate = Gate([ANCHOR.public_key], clock=fixed_clock(NOW), state=tmp_path)
    gate.load(_bundle(5))
    with pytest.raises(TrustListRollback):
        gate.load(_bundle(5, leeway=30))  # version 5 reused for another policy
    with pytest.raises(TrustListRollback):
        Gate([ANCHOR.public_key], clock=fixed_clock(NOW), state=tmp_path).load(_bundle(5, leeway=30))


def test_cli_runs_share_the_trust_list_floor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "anchor.pem").write_bytes(ANCHOR.public_key.to_pem())
    for version in (1, 2):
        (tmp_path / f"v{version}.cose").write_bytes(sign_trust_list(listed(version=version), ANCHOR))
    base = ["verify", "--state", str(tmp_path / "state"), "--trust-anchor", str(tmp_path / "anchor.pem")]
    base += ["--allow-unknown-status", "--at", str(NOW)]
    assert main([*base, "--trust", str(tmp_path / "v2.cose"), credential()]) == 0
    assert main([*base, "--trust", str(tmp_path / "v1.cose"), credential()]) == 2
    assert "TRUST_LIST_ROLLBACK" in capsys.readouterr().err
    # the default state directory ($XDG_STATE_HOME/vcsdk) is used when --state is not given
    default = ["verify", "--trust-anchor", str(tmp_path / "anchor.pem"), "--allow-unknown-status", "--at", str(NOW)]
    assert main([*default, "--trust", str(tmp_path / "v2.cose"), credential()]) == 0
    assert main([*default, "--trust", str(tmp_path / "v1.cose"), credential()]) == 2


def test_trust_list_expiry_is_checked_on_every_verification(lane: bool) -> None:
    """A long-running verifier stops answering VALID once its trust list expired, cache or not."""
    store = verify_trust_list(sign_trust_list(listed(exp=NOW + 3600), ANCHOR), [ANCHOR.public_key], now=NOW).store()
    verifier = lenient(store)
    fast = FastVerifier(verifier, compiled=lane)
    text = credential()
    assert verifier.check(text, NOW + 3599).code == fast.check(text, NOW + 3599).code == Code.VALID
    assert fast.check(text, NOW + 3599).code == Code.VALID  # now cached
    assert verifier.check(text, NOW + 3600).code == Code.TRUST_LIST_EXPIRED
    assert fast.check(text, NOW + 3600).code == Code.TRUST_LIST_EXPIRED


# ------------------------------------------------------------------ #11.4 bundle policy bounds


@pytest.mark.parametrize(
    "policy",
    [{"leeway": 301}, {"max_status_age": 7 * DAY + 1}, {"fail_closed": False}],
    ids=["leeway", "status age", "fail open"],
)
def test_a_bundle_policy_cannot_loosen_the_gates_bounds(policy: dict[str, Any]) -> None:
    gate = Gate([ANCHOR.public_key], clock=fixed_clock(NOW))
    with pytest.raises(ClaimsInvalid):
        gate.load(_bundle(1, **policy))
    assert gate.bundle is None


def test_a_bundle_with_too_many_status_lists_is_refused() -> None:
    tokens = [sign_token(pack([0], 2), f"{URI}/{n}", ISSUING, issued_at=NOW - 60) for n in range(17)]
    bundle = build_bundle(
        sign_trust_list(listed(), ANCHOR), tokens, ANCHOR, version=1, issued_at=NOW - 60, expires_at=NOW + DAY
    )
    with pytest.raises(ClaimsInvalid):
        Gate([ANCHOR.public_key], clock=fixed_clock(NOW)).load(bundle)


def test_a_gate_may_allow_fail_open_bundles_explicitly() -> None:
    from vcsdk.trust.bundle import GateBounds

    gate = Gate([ANCHOR.public_key], clock=fixed_clock(NOW), bounds=GateBounds(allow_fail_open=True))
    gate.load(_bundle(1, fail_closed=False))
    assert gate.check(credential()).code == Code.VALID


# ------------------------------------------------------------------ #11.5 falsy failures


def test_a_failed_check_is_falsy_for_every_verifier() -> None:
    gate = Gate([ANCHOR.public_key], clock=fixed_clock(NOW))
    gate.load(_bundle(1))
    verifiers: list[CredentialVerifier[Any]] = [
        lenient(TrustStore([ISSUING.public_key])),
        FastVerifier(lenient(TrustStore([ISSUING.public_key]))),
        gate,
        HC1Verifier([], clock=fixed_clock(NOW)),
    ]
    for verifier in verifiers:
        opened = bool(verifier.check("garbage"))
        assert opened is False, verifier
        assert not verifier.check("GID1:" + "A" * 30)
    assert verifiers[0].check(credential())
    assert gate.check(credential())


# ------------------------------------------------------------------ #10.1 one authentication step


def _resigned(payload: bytes, protected: dict[int, Any], key: Ed25519PrivateKey = ANCHOR) -> bytes:
    return cose.sign1(payload, protected, key.sign)


@pytest.mark.parametrize(
    ("anchor", "reason"),
    [
        (TrustedKey(ANCHOR.public_key, state=KeyState.COMPROMISED), "compromised"),
        (TrustedKey(ANCHOR.public_key, not_after=NOW - 2 * DAY), "validity ended"),
        (TrustedKey(ANCHOR.public_key, not_before=NOW), "valid from"),
    ],
    ids=["compromised anchor", "anchor window ended", "anchor window not started"],
)
def test_trust_lists_and_bundles_check_the_anchors_state_and_window(anchor: TrustedKey, reason: str) -> None:
    with pytest.raises(TrustListSignatureInvalid, match=reason):
        verify_trust_list(sign_trust_list(listed(), ANCHOR), [anchor], now=NOW)
    with pytest.raises(TrustListSignatureInvalid, match=reason):
        open_bundle(_bundle(1), [anchor], now=NOW)
    with pytest.raises(TrustListSignatureInvalid, match=reason):
        Gate([anchor], clock=fixed_clock(NOW)).load(_bundle(1))


@pytest.mark.parametrize("typ", [TRUST_LIST_TYP, "application/vnd.vcsdk.gate-bundle+cose"])
def test_trust_lists_and_bundles_refuse_an_algorithm_other_than_the_anchors(typ: str) -> None:
    payload = cbor.dumps(listed().to_cbor())

    def open_(data: bytes) -> object:
        if typ == TRUST_LIST_TYP:
            return verify_trust_list(data, [ANCHOR.public_key], now=NOW)
        return open_bundle(data, [ANCHOR.public_key], now=NOW)

    for protected in ({1: -7, 4: ANCHOR.kid, 16: typ}, {4: ANCHOR.kid, 16: typ}):
        data = _resigned(payload, protected)
        with pytest.raises(TrustListSignatureInvalid, match="alg"):
            open_(data)


def test_a_long_running_cli_gate_mode_stops_answering_valid_after_the_trust_list_expires(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``vcsdk verify -`` reads the clock per line: once the trust list's exp passes, the same
    credential is TRUST_LIST_EXPIRED (the clock is moved between lines, no sleeping)."""
    import io
    import time

    clock = {"now": float(NOW)}
    monkeypatch.setattr(time, "time", lambda: clock["now"])
    (tmp_path / "anchor.pem").write_bytes(ANCHOR.public_key.to_pem())
    (tmp_path / "list.cose").write_bytes(sign_trust_list(listed(exp=NOW + 3600), ANCHOR))
    text = credential()

    class Lines(io.StringIO):
        def __iter__(self) -> Any:
            yield text + "\n"
            clock["now"] = NOW + 3600  # the trust list expires while the gate keeps running
            yield text + "\n"

    monkeypatch.setattr("sys.stdin", Lines())
    args = ["verify", "--state", str(tmp_path / "state"), "--allow-unknown-status"]
    args += ["--trust", str(tmp_path / "list.cose"), "--trust-anchor", str(tmp_path / "anchor.pem"), "-"]
    assert main(args) == 1
    codes = [json.loads(line)["code"] for line in capsys.readouterr().out.splitlines()]
    assert codes == ["VALID", "TRUST_LIST_EXPIRED"]


def test_compromise_sticks_to_the_key_whatever_kid_a_source_gives_it() -> None:
    """EC kids come from the trust source: the same key listed under a second kid is still the
    compromised key."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from vcsdk.keys import ECPublicKey, public_key_from_cryptography

    private = ec.generate_private_key(ec.SECP256R1())
    first = public_key_from_cryptography(private.public_key(), b"kid-one")
    assert isinstance(first, ECPublicKey)
    second = ECPublicKey(first.crv, first.x, first.y, b"kid-two")
    trust = TrustStore([TrustedKey(first, state=KeyState.COMPROMISED), TrustedKey(second)])
    (entry,) = trust.candidates(b"kid-two")
    assert entry.state is KeyState.COMPROMISED
