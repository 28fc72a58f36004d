"""Offline gate bundles: one anchor-signed file with the trust list, the current Status List
Tokens and the gate's policy, so a gate with no network is provisioned in one step.

COSE_Sign1 (tag 18) by the trust anchor, protected typ
``application/vnd.vcsdk.gate-bundle+cose``; payload, a CBOR map::

    {"version": uint, "iat": int, "exp": int,
     "trust_list": bstr (a signed trust list, verified on its own),
     "status_lists": [bstr, ...] (Status List Tokens, verified against the listed issuer keys),
     "policy": {"max_status_age": uint, "leeway": uint, "fail_closed": bool, "honour_ttl": bool}}
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..codec import cbor, cose
from ..codec.cbor import ARRAY_TYPES, MAP_TYPES
from ..codec.cwt import is_int
from ..errors import ClaimsInvalid, LimitExceeded, TrustListExpired, TrustListRollback, UsageError
from ..keys import Ed25519PrivateKey, PublicKey
from ..limits import DEFAULT_LIMITS, Limits
from ..revocation.checker import DEFAULT_MAX_AGE_SECONDS
from .trustlist import TrustList, open_signed, verify_trust_list

BUNDLE_TYP = "application/vnd.vcsdk.gate-bundle+cose"


@dataclass(frozen=True, slots=True)
class GatePolicy:
    """How a gate treats time and unknown status."""

    max_status_age: int = DEFAULT_MAX_AGE_SECONDS
    """Refuse status lists older than this (seconds): ``STATUS_UNKNOWN``."""
    leeway: int = 60
    """Clock-skew leeway for credentials and lists (seconds)."""
    fail_closed: bool = True
    """Reject credentials whose status cannot be established."""
    honour_ttl: bool = False
    """Also treat a status list as stale after its ``ttl``."""

    def to_cbor(self) -> dict[str, Any]:
        """The bundle's ``policy`` map."""
        return {
            "max_status_age": self.max_status_age,
            "leeway": self.leeway,
            "fail_closed": self.fail_closed,
            "honour_ttl": self.honour_ttl,
        }

    @classmethod
    def from_cbor(cls, value: Any) -> GatePolicy:
        """Parse the ``policy`` map."""
        if not isinstance(value, MAP_TYPES):
            raise ClaimsInvalid("bundle policy must be a map")
        age, leeway = value.get("max_status_age"), value.get("leeway")
        closed, ttl = value.get("fail_closed"), value.get("honour_ttl")
        if not (is_int(age) and age > 0 and is_int(leeway) and leeway >= 0):
            raise ClaimsInvalid("bundle policy max_status_age and leeway must be non-negative integers")
        if not isinstance(closed, bool) or not isinstance(ttl, bool):
            raise ClaimsInvalid("bundle policy fail_closed and honour_ttl must be booleans")
        return cls(age, leeway, closed, ttl)


@dataclass(frozen=True, slots=True)
class GateBundle:
    """An authenticated bundle (its status tokens still to be verified by the gate)."""

    version: int
    issued_at: int
    expires_at: int
    trust_list: TrustList
    policy: GatePolicy
    status_tokens: tuple[bytes, ...] = field(repr=False)


def build_bundle(
    trust_list: bytes,
    status_tokens: Sequence[bytes],
    anchor: Ed25519PrivateKey,
    *,
    version: int,
    issued_at: int,
    expires_at: int,
    policy: GatePolicy = GatePolicy(),
) -> bytes:
    """Sign a gate bundle with the trust-anchor key."""
    if expires_at <= issued_at:
        raise UsageError("a bundle must expire after it is issued")
    payload = {
        "version": version,
        "iat": issued_at,
        "exp": expires_at,
        "trust_list": trust_list,
        "status_lists": list(status_tokens),
        "policy": policy.to_cbor(),
    }
    protected = {cose.HEADER_ALG: anchor.alg, cose.HEADER_KID: anchor.kid, cose.HEADER_TYP: BUNDLE_TYP}
    return cose.sign1(cbor.dumps(payload), protected, anchor.sign)


MAX_STATUS_LISTS_PER_BUNDLE = 16


def open_bundle(
    data: bytes,
    anchors: Iterable[PublicKey],
    *,
    now: int,
    min_version: int | None = None,
    min_trust_list_version: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> GateBundle:
    """Authenticate a bundle and its trust list; check validity and versions.

    ``TRUST_LIST_SIGNATURE_INVALID`` (bundle or list not authentic), ``TRUST_LIST_EXPIRED``,
    ``TRUST_LIST_ROLLBACK`` (bundle or list older than held), ``CLAIMS_INVALID`` (content).
    """
    anchors = tuple(anchors)
    if len(data) > MAX_STATUS_LISTS_PER_BUNDLE * limits.max_status_list_bytes:
        raise LimitExceeded(f"gate bundle of {len(data)} bytes is too large")
    payload = open_signed(data, anchors, BUNDLE_TYP, limits)
    if not isinstance(payload, MAP_TYPES):
        raise ClaimsInvalid("bundle payload must be a map")
    version, iat, exp = payload.get("version"), payload.get("iat"), payload.get("exp")
    raw_list, tokens = payload.get("trust_list"), payload.get("status_lists")
    if not (is_int(version) and is_int(iat) and is_int(exp)):
        raise ClaimsInvalid("bundle version, iat and exp must be integers")
    if type(raw_list) is not bytes or not isinstance(tokens, ARRAY_TYPES) or any(type(t) is not bytes for t in tokens):
        raise ClaimsInvalid("bundle trust_list must be a bstr and status_lists an array of bstr")
    if now >= exp:
        raise TrustListExpired(f"gate bundle v{version} expired at {exp}")
    if min_version is not None and version < min_version:
        raise TrustListRollback(f"gate bundle v{version} is older than v{min_version} already held")
    policy = GatePolicy.from_cbor(payload.get("policy"))
    trust_list = verify_trust_list(raw_list, anchors, now=now, min_version=min_trust_list_version, limits=limits)
    return GateBundle(version, iat, exp, trust_list, policy, tuple(tokens))
