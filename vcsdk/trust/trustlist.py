"""Signed trust lists: which issuer keys a gate trusts, until when, signed by a trust anchor.

A trust list is a COSE_Sign1 (tag 18) signed by a trust-anchor key that verifiers pin; the
anchor is kept apart from issuing keys. Protected header: ``1`` alg, ``4`` kid (the anchor's),
``16`` typ = ``application/vnd.vcsdk.trust-list+cose``. Payload, a CBOR map with text keys::

    {"version": uint, "iat": int, "exp": int,
     "keys": [{"kid": bstr, "alg": int, "key": COSE_Key, "iss": tstr,
               "nbf": int / null, "naf": int / null, "state": "active" / "retired" / "compromised"}]}

``nbf``/``naf`` bound the ``iat`` of credentials the key may sign. The JSON form (what
``vcsdk trust build`` writes and ``trust sign`` reads) is ``schemas/trust-list.schema.json``.

Verifying a list: any failure to authenticate it (structure, typ, unknown anchor, signature) is
``TRUST_LIST_SIGNATURE_INVALID``; past ``exp`` it is ``TRUST_LIST_EXPIRED``; a version below the
one held is ``TRUST_LIST_ROLLBACK``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..codec import cbor, cose
from ..codec.cbor import ARRAY_TYPES, MAP_TYPES
from ..codec.cwt import is_int
from ..errors import (
    ClaimsInvalid,
    KeyInvalid,
    TrustListExpired,
    TrustListRollback,
    TrustListSignatureInvalid,
    TrustSourceInvalid,
    UsageError,
    VCError,
)
from ..keys import (
    ECPublicKey,
    Ed25519PrivateKey,
    Ed25519PublicKey,
    PublicKey,
    RSAPSSPublicKey,
    b64url_decode,
    b64url_encode,
    public_key_from_cose_key,
    public_key_from_jwk,
)
from ..limits import DEFAULT_LIMITS, Limits
from ..profiles.schema import load_schema
from ..verify.authenticate import Authenticated, AuthPolicy, open_sign1
from .floors import KIND_TRUST_LIST, VersionFloors
from .store import KeyState, TrustedKey, TrustStore

TRUST_LIST_TYP = "application/vnd.vcsdk.trust-list+cose"


@dataclass(frozen=True, slots=True)
class TrustList:
    """The content of a trust list."""

    version: int
    issued_at: int
    expires_at: int
    keys: tuple[TrustedKey, ...]

    def store(self) -> TrustStore:
        """A :class:`TrustStore` of the listed keys (compromised ones included, so they fail loudly)."""
        return TrustStore(self.keys, source=f"signed trust list v{self.version}", expires_at=self.expires_at)

    # ---------------------------------------------------------------- CBOR form

    def to_cbor(self) -> dict[str, Any]:
        """The signed payload's map."""
        return {
            "version": self.version,
            "iat": self.issued_at,
            "exp": self.expires_at,
            "keys": [
                {
                    "kid": entry.kid,
                    "alg": entry.key.alg,
                    "key": entry.key.to_cose_key(),
                    "iss": entry.issuer,
                    "nbf": entry.not_before,
                    "naf": entry.not_after,
                    "state": entry.state.value,
                }
                for entry in self.keys
            ],
        }

    @classmethod
    def from_cbor(cls, value: Any) -> TrustList:
        """Parse the payload map (after its signature was checked)."""
        if not isinstance(value, MAP_TYPES):
            raise ClaimsInvalid("trust list payload must be a map")
        version, iat, exp, keys = (value.get(k) for k in ("version", "iat", "exp", "keys"))
        if not is_int(version) or version < 0 or not is_int(iat) or not is_int(exp):
            raise ClaimsInvalid("trust list version, iat and exp must be integers")
        if not isinstance(keys, ARRAY_TYPES):
            raise ClaimsInvalid("trust list keys must be an array")
        return cls(version, iat, exp, tuple(_entry_from_cbor(position, e) for position, e in enumerate(keys)))

    # ---------------------------------------------------------------- JSON form

    def to_json(self) -> dict[str, Any]:
        """The JSON form (schemas/trust-list.schema.json)."""
        return {
            "version": self.version,
            "iat": self.issued_at,
            "exp": self.expires_at,
            "keys": [
                {
                    "kid": b64url_encode(entry.kid),
                    "jwk": entry.key.to_jwk(),
                    "iss": entry.issuer,
                    "not_before": entry.not_before,
                    "not_after": entry.not_after,
                    "state": entry.state.value,
                }
                for entry in self.keys
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TrustList:
        """Parse and validate the JSON form; :class:`TrustSourceInvalid` lists every violation."""
        from jsonschema import Draft202012Validator

        validator = Draft202012Validator(load_schema("trust-list.schema.json"))
        errors = [f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in validator.iter_errors(data)]
        if errors:
            raise TrustSourceInvalid("; ".join(errors), details=tuple(errors))
        entries = []
        for position, item in enumerate(data["keys"]):
            try:
                key = public_key_from_jwk(item["jwk"])
                kid = b64url_decode(item["kid"], "kid")
            except KeyInvalid as exc:
                raise TrustSourceInvalid(f"keys[{position}]: {exc.message}") from None
            entries.append(
                _entry(key, kid, item.get("iss"), item.get("not_before"), item.get("not_after"), item["state"])
            )
        return cls(data["version"], data["iat"], data["exp"], tuple(entries))


def _entry(key: PublicKey, kid: bytes, iss: Any, nbf: Any, naf: Any, state: Any) -> TrustedKey:
    """A trusted key carrying ``kid``: Ed25519 kids must be derived; EC and RSA take the list's."""
    if not kid:
        raise TrustSourceInvalid("every key needs a kid")
    if isinstance(key, Ed25519PublicKey):
        if kid != key.kid:
            raise TrustSourceInvalid(f"kid {kid.hex()} is not SHA-256(public key)[:8] of its Ed25519 key")
    elif isinstance(key, (ECPublicKey, RSAPSSPublicKey)) and key.kid != kid:
        key = replace(key, kid=kid)
    state_ = KeyState(state)
    return TrustedKey(key, issuer=iss, not_before=nbf, not_after=naf, source="signed trust list", state=state_)


def _entry_from_cbor(position: int, value: Any) -> TrustedKey:
    if not isinstance(value, MAP_TYPES):
        raise ClaimsInvalid(f"trust list keys[{position}] must be a map")
    kid, alg, cose_key = value.get("kid"), value.get("alg"), value.get("key")
    iss, nbf, naf, state = value.get("iss"), value.get("nbf"), value.get("naf"), value.get("state")
    if type(kid) is not bytes or not kid or not is_int(alg) or not isinstance(cose_key, MAP_TYPES):
        raise ClaimsInvalid(f"trust list keys[{position}] needs kid (bstr), alg (int) and key (COSE_Key)")
    if iss is not None and not isinstance(iss, str):
        raise ClaimsInvalid(f"trust list keys[{position}] iss must be text")
    if any(v is not None and not is_int(v) for v in (nbf, naf)):
        raise ClaimsInvalid(f"trust list keys[{position}] nbf/naf must be integers")
    if state not in {s.value for s in KeyState}:
        raise ClaimsInvalid(f"trust list keys[{position}] state must be active, retired or compromised")
    try:
        key = public_key_from_cose_key(cose_key)
    except KeyInvalid as exc:
        raise ClaimsInvalid(f"trust list keys[{position}]: {exc.message}") from None
    if key.alg != alg:
        raise ClaimsInvalid(f"trust list keys[{position}]: alg {alg} is not the key's algorithm")
    try:
        return _entry(key, kid, iss, nbf, naf, state)
    except TrustSourceInvalid as exc:
        raise ClaimsInvalid(f"trust list keys[{position}]: {exc.message}") from None


def sign_trust_list(trust_list: TrustList, anchor: Ed25519PrivateKey) -> bytes:
    """Sign ``trust_list`` with the trust-anchor key; returns the COSE_Sign1 bytes."""
    if trust_list.expires_at <= trust_list.issued_at:
        raise UsageError("a trust list must expire after it is issued")
    if any(entry.kid == anchor.kid for entry in trust_list.keys):
        raise UsageError("the trust anchor must not also be an issuing key")
    protected = {cose.HEADER_ALG: anchor.alg, cose.HEADER_KID: anchor.kid, cose.HEADER_TYP: TRUST_LIST_TYP}
    return cose.sign1(cbor.dumps(trust_list.to_cbor()), protected, anchor.sign)


def anchor_store(anchors: Iterable[PublicKey | TrustedKey]) -> TrustStore:
    """The pinned trust anchors as a store (an anchor given as a :class:`TrustedKey` keeps its
    window and state: a compromised anchor authenticates nothing)."""
    return TrustStore(
        (a if isinstance(a, TrustedKey) else TrustedKey(a, source="trust anchor") for a in anchors),
        source="trust anchors",
    )


def open_signed(
    data: bytes,
    anchors: Iterable[PublicKey | TrustedKey] | TrustStore,
    typ: str,
    limits: Limits = DEFAULT_LIMITS,
) -> Any:
    """Authenticate an anchor-signed document of type ``typ`` through the one authentication
    step (typ, tag 18, the anchor's algorithm, state and window at the document's ``iat``);
    return its decoded payload.

    Any failure is :class:`TrustListSignatureInvalid` naming the cause.
    """
    return open_signed_document(data, anchors, typ, limits).payload


def open_signed_document(
    data: bytes,
    anchors: Iterable[PublicKey | TrustedKey] | TrustStore,
    typ: str,
    limits: Limits = DEFAULT_LIMITS,
) -> Authenticated:
    """:func:`open_signed`, also naming the anchor key that signed (its kid keys the rollback floors)."""
    store = anchors if isinstance(anchors, TrustStore) else anchor_store(anchors)
    policy = AuthPolicy(typ, typ=typ, iat_label="iat")
    try:
        return open_sign1(data, store, policy, limits)
    except VCError as exc:
        raise TrustListSignatureInvalid(f"not an authentic {typ} document: {exc}") from None


def verify_trust_list(
    data: bytes,
    anchors: Iterable[PublicKey | TrustedKey] | TrustStore,
    *,
    now: int,
    min_version: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    floors: VersionFloors | None = None,
) -> TrustList:
    """Authenticate a signed trust list and check its validity and version.

    With ``floors`` the list must not be older than (or reuse the version of) a list already
    seen from its anchor, and once accepted it raises the floor (persisted when the floors are).
    """
    trust_list, anchor_kid = open_trust_list(data, anchors, now=now, min_version=min_version, limits=limits)
    if floors is not None:
        floors.record(anchor_kid, KIND_TRUST_LIST, trust_list.version, data)
    return trust_list


def open_trust_list(
    data: bytes,
    anchors: Iterable[PublicKey | TrustedKey] | TrustStore,
    *,
    now: int,
    min_version: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[TrustList, bytes]:
    """:func:`verify_trust_list` without floors, also returning the signing anchor's kid."""
    auth = open_signed_document(data, anchors, TRUST_LIST_TYP, limits)
    trust_list = TrustList.from_cbor(auth.payload)
    if now >= trust_list.expires_at:
        raise TrustListExpired(f"trust list v{trust_list.version} expired at {trust_list.expires_at}")
    if min_version is not None and trust_list.version < min_version:
        raise TrustListRollback(f"trust list v{trust_list.version} is older than v{min_version} already held")
    return trust_list, auth.kid
