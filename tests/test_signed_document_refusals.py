"""Every refusal of the signed documents' content, one case each: trust-list entries, bundle
payloads and policies, Status List Token claims and signing arguments, the rollback state file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import NOW
from vcsdk import Ed25519PrivateKey, TrustedKey, TrustStore
from vcsdk.codec import cbor, cose
from vcsdk.errors import (
    ClaimsInvalid,
    CWTNotYetValid,
    LimitExceeded,
    TrustListExpired,
    TrustListRollback,
    TrustSourceInvalid,
    UsageError,
)
from vcsdk.revocation import pack, sign_token, verify_token
from vcsdk.revocation.token import TYP, read_token_unverified
from vcsdk.trust.bundle import BUNDLE_TYP, GateBounds, GatePolicy, build_bundle, open_bundle
from vcsdk.trust.floors import KIND_BUNDLE, VersionFloors
from vcsdk.trust.store import merge_entries
from vcsdk.trust.trustlist import TRUST_LIST_TYP, TrustList, sign_trust_list, verify_trust_list

DAY = 86400
ANCHOR = Ed25519PrivateKey(bytes(range(100, 132)))
ISSUING = Ed25519PrivateKey(bytes(range(200, 232)))
ENTRY = TrustedKey(ISSUING.public_key, issuer="KR-MOIS")
URI = "https://id.mois.go.kr/sl/7"


def _signed(payload: Any, typ: str) -> bytes:
    return cose.sign1(cbor.dumps(payload), {1: -8, 4: ANCHOR.kid, 16: typ}, ANCHOR.sign)


def _list_payload(**entry_changes: Any) -> dict[str, Any]:
    entry = TrustList(1, NOW - DAY, NOW + DAY, (ENTRY,)).to_cbor()["keys"][0]
    entry.update(entry_changes)
    return {"version": 1, "iat": NOW - DAY, "exp": NOW + DAY, "keys": [entry]}


OTHER_KEY = Ed25519PrivateKey(bytes(range(1, 33))).public_key


@pytest.mark.parametrize(
    "payload",
    [
        [1, 2],
        {"version": "1", "iat": NOW - DAY, "exp": NOW + DAY, "keys": []},
        {"version": 1, "iat": NOW - DAY, "exp": NOW + DAY, "keys": {}},
        {"version": 1, "iat": NOW - DAY, "exp": NOW + DAY, "keys": ["not a map"]},
        _list_payload(kid=b""),
        _list_payload(alg="EdDSA"),
        _list_payload(iss=7),
        _list_payload(nbf="yesterday"),
        _list_payload(state="lost"),
        _list_payload(key={1: 99}),
        _list_payload(alg=-7),
        _list_payload(kid=OTHER_KEY.kid),
    ],
    ids=[
        "payload not a map",
        "version not an integer",
        "keys not an array",
        "entry not a map",
        "empty kid",
        "alg not an integer",
        "iss not text",
        "nbf not an integer",
        "unknown state",
        "unusable COSE_Key",
        "alg not the key's",
        "kid not derived from the key",
    ],
)
def test_trust_list_content_refusals(payload: Any) -> None:
    with pytest.raises(ClaimsInvalid):
        verify_trust_list(_signed(payload, TRUST_LIST_TYP), [ANCHOR.public_key], now=NOW)


def test_trust_list_json_refusals() -> None:
    good = TrustList(1, NOW - DAY, NOW + DAY, (ENTRY,)).to_json()
    bad_jwk = json.loads(json.dumps(good))
    bad_jwk["keys"][0]["jwk"]["x"] = "!!"
    with pytest.raises(TrustSourceInvalid, match=r"keys\[0\]"):
        TrustList.from_json(bad_jwk)
    wrong_kid = json.loads(json.dumps(good))
    wrong_kid["keys"][0]["kid"] = "AAAAAAAAAAA"
    with pytest.raises(TrustSourceInvalid, match="SHA-256"):
        TrustList.from_json(wrong_kid)
    with pytest.raises(UsageError):
        sign_trust_list(TrustList(1, NOW, NOW, (ENTRY,)), ANCHOR)


def _bundle_payload(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "version": 1,
        "iat": NOW - 60,
        "exp": NOW + DAY,
        "trust_list": sign_trust_list(TrustList(1, NOW - DAY, NOW + DAY, (ENTRY,)), ANCHOR),
        "status_lists": [],
        "policy": GatePolicy().to_cbor(),
    }
    payload.update(changes)
    return payload


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ([1], ClaimsInvalid),
        (_bundle_payload(version="1"), ClaimsInvalid),
        (_bundle_payload(trust_list="not bytes"), ClaimsInvalid),
        (_bundle_payload(status_lists=["text"]), ClaimsInvalid),
        (_bundle_payload(exp=NOW - 1), TrustListExpired),
        (_bundle_payload(policy=[1]), ClaimsInvalid),
        (_bundle_payload(policy={**GatePolicy().to_cbor(), "max_status_age": 0}), ClaimsInvalid),
        (_bundle_payload(policy={**GatePolicy().to_cbor(), "fail_closed": 1}), ClaimsInvalid),
    ],
    ids=[
        "payload not a map",
        "version not an integer",
        "trust list not bytes",
        "status list not bytes",
        "expired",
        "policy not a map",
        "max status age zero",
        "fail_closed not a bool",
    ],
)
def test_bundle_content_refusals(payload: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        open_bundle(_signed(payload, BUNDLE_TYP), [ANCHOR.public_key], now=NOW)


def test_bundle_version_floors_and_usage() -> None:
    data = _signed(_bundle_payload(version=3), BUNDLE_TYP)
    with pytest.raises(TrustListRollback):
        open_bundle(data, [ANCHOR.public_key], now=NOW, min_version=4)
    with pytest.raises(LimitExceeded):
        open_bundle(b"\x00" * (18 * 4 * 1024 * 1024), [ANCHOR.public_key], now=NOW)
    with pytest.raises(UsageError):
        build_bundle(b"", [], ANCHOR, version=1, issued_at=NOW, expires_at=NOW)
    with pytest.raises(UsageError):
        GateBounds(max_leeway=301)
    with pytest.raises(UsageError):
        GateBounds(max_status_lists=-1)


def _token_claims(**changes: Any) -> dict[int, Any]:
    claims: dict[int, Any] = {2: URI, 6: NOW - 100, 65533: pack([1], 2).to_cbor()}
    for key, value in changes.items():
        claims[int(key[1:])] = value
    return claims


@pytest.mark.parametrize(
    "claims",
    [[1], _token_claims(k4="tomorrow"), _token_claims(k2="")],
    ids=["claims not a map", "exp not an integer", "empty sub"],
)
def test_token_claim_refusals(claims: Any) -> None:
    data = cose.sign1(cbor.dumps(claims), {1: -8, 4: ISSUING.kid, 16: TYP}, ISSUING.sign)
    with pytest.raises(ClaimsInvalid):
        verify_token(data, TrustStore([ISSUING.public_key]), now=NOW)


def test_token_signing_arguments_and_times() -> None:
    status_list = pack([0], 2)
    with pytest.raises(UsageError):
        sign_token(status_list, URI, ISSUING, issued_at=NOW, expires_at=NOW)
    with pytest.raises(UsageError):
        sign_token(status_list, URI, ISSUING, issued_at=NOW, ttl=0)
    with pytest.raises(UsageError):
        sign_token(status_list, "", ISSUING, issued_at=NOW)
    future = sign_token(status_list, URI, ISSUING, issued_at=NOW + 3600)
    with pytest.raises(CWTNotYetValid):
        verify_token(future, TrustStore([ISSUING.public_key]), now=NOW)
    assert read_token_unverified(future).issued_at == NOW + 3600
    with pytest.raises(LimitExceeded):
        read_token_unverified(b"\x00" * (5 * 1024 * 1024))


def test_rollback_state_file(tmp_path: Path) -> None:
    floors = VersionFloors(tmp_path)
    assert floors.get(ANCHOR.kid, KIND_BUNDLE) is None
    floors.record(ANCHOR.kid, KIND_BUNDLE, 2, b"doc")
    floors.record(ANCHOR.kid, KIND_BUNDLE, 2, b"doc")  # the same document again: nothing changes
    assert VersionFloors(tmp_path).get(ANCHOR.kid, KIND_BUNDLE) is not None
    with pytest.raises(UsageError):
        floors.check(ANCHOR.kid, "other-kind", 1, b"")
    for damaged in ("{broken", '{"format": 2, "floors": {}}', '{"format": 1, "floors": {"x": {"version": -1}}}'):
        (tmp_path / "floors.json").write_text(damaged)
        with pytest.raises(TrustSourceInvalid):
            VersionFloors(tmp_path)
    (tmp_path / "floors.json").write_bytes(b"\xff\xfe")
    with pytest.raises(TrustSourceInvalid):
        VersionFloors(tmp_path)


def test_merging_a_key_bound_to_two_issuers_is_refused() -> None:
    with pytest.raises(TrustSourceInvalid):
        merge_entries(ENTRY, TrustedKey(ISSUING.public_key, issuer="KR-OTHER"))
    with pytest.raises(TrustSourceInvalid):
        TrustStore([ENTRY, TrustedKey(ISSUING.public_key, issuer="KR-OTHER")])
    combined = TrustStore.combine(
        [TrustStore([ENTRY], expires_at=NOW + 5), TrustStore([OTHER_KEY], expires_at=NOW + 9), TrustStore([])]
    )
    assert (len(combined), combined.expires_at) == (2, NOW + 5)


def test_a_concurrent_writer_never_lowers_a_floor(tmp_path: Path) -> None:
    first, second = VersionFloors(tmp_path), VersionFloors(tmp_path)  # two processes, same file
    first.record(ANCHOR.kid, KIND_BUNDLE, 7, b"v7")
    second.record(ANCHOR.kid, "trust-list", 2, b"list v2")  # read before v7 was written
    floors = VersionFloors(tmp_path)
    bundle, listed = floors.get(ANCHOR.kid, KIND_BUNDLE), floors.get(ANCHOR.kid, "trust-list")
    assert bundle is not None and bundle.version == 7
    assert listed is not None and listed.version == 2
