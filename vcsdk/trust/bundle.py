"""Offline gate bundles: one anchor-signed file with the trust list, the current Status List
Tokens and the gate's policy, so a gate with no network is provisioned in one step.

COSE_Sign1 (tag 18) by the trust anchor, protected typ
``application/vnd.vcsdk.gate-bundle+cose``; payload, a CBOR map::

    {"version": uint, "iat": int, "exp": int,
     "trust_list": bstr (a signed trust list, verified on its own),
     "status_lists": [bstr, ...] (Status List Tokens, verified against the listed issuer keys),
     "policy": {"max_status_age": uint, "leeway": uint, "fail_closed": bool, "honour_ttl": bool,
                "holder_binding": "off" | "if-bound" | "required" (optional, default "if-bound")}}

A bundle's policy can only tighten a gate: :class:`GateBounds` (leeway at most 300 s, status
lists at most 7 days old, at most 16 lists, fail-open only where the gate allows it) are hard
limits, and a bundle asking for more is refused (``CLAIMS_INVALID``) rather than obeyed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..codec import cbor, cose
from ..codec.cbor import ARRAY_TYPES, MAP_TYPES
from ..codec.cwt import is_int
from ..errors import ClaimsInvalid, LimitExceeded, TrustListExpired, TrustListRollback, UsageError
from ..holder.binding import HolderBinding
from ..keys import Ed25519PrivateKey, PublicKey
from ..limits import DEFAULT_LIMITS, Limits
from ..revocation.checker import DEFAULT_MAX_AGE_SECONDS
from .floors import KIND_BUNDLE, KIND_TRUST_LIST, VersionFloors
from .store import TrustedKey, TrustStore
from .trustlist import TrustList, anchor_store, open_signed_document, open_trust_list

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
    holder_binding: HolderBinding = HolderBinding.IF_BOUND
    """Which bare credentials the gate refuses (a gate's own setting can only tighten it)."""

    def to_cbor(self) -> dict[str, Any]:
        """The bundle's ``policy`` map."""
        return {
            "max_status_age": self.max_status_age,
            "leeway": self.leeway,
            "fail_closed": self.fail_closed,
            "honour_ttl": self.honour_ttl,
            "holder_binding": str(self.holder_binding),
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
        binding = value.get("holder_binding", str(HolderBinding.IF_BOUND))
        try:
            holder_binding = HolderBinding.parse(binding)
        except UsageError:
            raise ClaimsInvalid("bundle policy holder_binding must be off, if-bound or required") from None
        return cls(age, leeway, closed, ttl, holder_binding)


@dataclass(frozen=True, slots=True)
class GateBounds:
    """A gate's hard limits, which no bundle policy can loosen."""

    max_leeway: int = 300
    max_status_age: int = 7 * 24 * 3600
    max_status_lists: int = 16
    allow_fail_open: bool = False
    """Accept a bundle whose policy says ``fail_closed: false`` (unknown status accepted)."""

    def __post_init__(self) -> None:
        for name in ("max_leeway", "max_status_age", "max_status_lists"):
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                raise UsageError(f"GateBounds.{name} must be a non-negative integer")
        if self.max_leeway > 300 or self.max_status_age > 7 * 24 * 3600:
            raise UsageError("GateBounds cannot exceed 300 s of leeway or 7 days of status age")

    def admit(self, policy: GatePolicy, status_lists: int) -> None:
        """Refuse (``CLAIMS_INVALID``) a bundle whose policy or size exceeds these bounds."""
        if policy.leeway > self.max_leeway:
            raise ClaimsInvalid(f"bundle leeway {policy.leeway} s exceeds the gate's bound of {self.max_leeway} s")
        if policy.max_status_age > self.max_status_age:
            raise ClaimsInvalid(
                f"bundle max_status_age {policy.max_status_age} s exceeds the gate's bound of {self.max_status_age} s"
            )
        if status_lists > self.max_status_lists:
            raise ClaimsInvalid(
                f"bundle holds {status_lists} status lists; the gate accepts at most {self.max_status_lists}"
            )
        if not policy.fail_closed and not self.allow_fail_open:
            raise ClaimsInvalid("bundle policy asks to accept unknown status; this gate is fail-closed")


DEFAULT_BOUNDS = GateBounds()


@dataclass(frozen=True, slots=True)
class GateBundle:
    """An authenticated bundle (its status tokens still to be verified by the gate)."""

    version: int
    issued_at: int
    expires_at: int
    trust_list: TrustList
    policy: GatePolicy
    status_tokens: tuple[bytes, ...] = field(repr=False)
    anchor_kid: bytes = field(default=b"", repr=False)
    """The kid of the anchor that signed the bundle (its rollback floors are per anchor)."""
    trust_list_anchor_kid: bytes = field(default=b"", repr=False)
    raw_trust_list: bytes = field(default=b"", repr=False)

    def store(self) -> TrustStore:
        """The listed keys, expiring with the earlier of the bundle and its trust list."""
        keys = self.trust_list.store()
        return TrustStore(keys, source=keys.source, expires_at=min(self.expires_at, self.trust_list.expires_at))


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


MAX_STATUS_LISTS_PER_BUNDLE = DEFAULT_BOUNDS.max_status_lists


def open_bundle(
    data: bytes,
    anchors: Iterable[PublicKey | TrustedKey],
    *,
    now: int,
    min_version: int | None = None,
    min_trust_list_version: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    bounds: GateBounds = DEFAULT_BOUNDS,
    floors: VersionFloors | None = None,
) -> GateBundle:
    """Authenticate a bundle and its trust list; check validity, versions and bounds.

    ``floors`` are checked (not raised: the caller records them once it accepted the bundle).
    ``TRUST_LIST_SIGNATURE_INVALID`` (bundle or list not authentic), ``TRUST_LIST_EXPIRED``,
    ``TRUST_LIST_ROLLBACK`` (bundle or list older than held, or a reused version),
    ``CLAIMS_INVALID`` (content, or a policy beyond ``bounds``), ``LIMIT_EXCEEDED`` (size).
    """
    store = anchor_store(anchors)
    if len(data) > bounds.max_status_lists * limits.max_status_list_bytes + limits.max_status_list_bytes:
        raise LimitExceeded(f"gate bundle of {len(data)} bytes is too large")
    auth = open_signed_document(data, store, BUNDLE_TYP, limits)
    payload = auth.payload
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
    if floors is not None:
        floors.check(auth.kid, KIND_BUNDLE, version, data)
    policy = GatePolicy.from_cbor(payload.get("policy"))
    bounds.admit(policy, len(tokens))
    trust_list, list_auth_kid = open_trust_list(
        raw_list, store, now=now, min_version=min_trust_list_version, limits=limits
    )
    if floors is not None:
        floors.check(list_auth_kid, KIND_TRUST_LIST, trust_list.version, raw_list)
    return GateBundle(version, iat, exp, trust_list, policy, tuple(tokens), auth.kid, list_auth_kid, raw_list)


def record_floors(bundle: GateBundle, floors: VersionFloors, data: bytes) -> None:
    """Raise the rollback floors to an accepted bundle (``data``) and its trust list."""
    floors.record(bundle.anchor_kid, KIND_BUNDLE, bundle.version, data)
    floors.record(bundle.trust_list_anchor_kid, KIND_TRUST_LIST, bundle.trust_list.version, bundle.raw_trust_list)
