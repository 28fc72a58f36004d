"""Status List Tokens in CWT form (draft-ietf-oauth-status-list-20, section 5.2).

A tagged COSE_Sign1 whose protected header carries ``16`` (typ) =
``application/statuslist+cwt`` and whose claims are ``2`` sub (the list's URI), ``6`` iat,
``4`` exp, ``65534`` ttl and ``65533`` status_list. The claim keys are pinned to draft 20 and
configurable (:class:`ClaimKeys`), since the IANA assignments are still "TBD" in the draft.

Verification binds the algorithm to the trusted key (EdDSA for our issuers, ES256/384/512 for
the draft's example key) and refuses an unknown or edited token with the stable codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..codec import cbor, cose, cwt
from ..codec.cbor import MAP_TYPES
from ..codec.cwt import is_int
from ..errors import (
    ClaimsInvalid,
    CWTExpired,
    CWTNotYetValid,
    LimitExceeded,
    UsageError,
)
from ..keys import Ed25519PrivateKey
from ..limits import DEFAULT_LIMITS, Limits
from ..trust.store import TrustedKey, TrustStore
from ..verify.authenticate import AuthPolicy, open_sign1
from .bitlist import StatusList

TYP = "application/statuslist+cwt"


@dataclass(frozen=True, slots=True)
class ClaimKeys:
    """CWT claim keys of a Status List Token (defaults: the values draft 20 requests)."""

    sub: int = cwt.SUB
    iat: int = cwt.IAT
    exp: int = cwt.EXP
    ttl: int = 65534
    status_list: int = 65533


DRAFT_20 = ClaimKeys()


@dataclass(frozen=True, slots=True)
class StatusListToken:
    """A verified (or freshly signed) Status List Token's content."""

    uri: str
    issued_at: int
    expires_at: int | None
    ttl: int | None
    status_list: StatusList
    kid: bytes | None
    signer: TrustedKey | None = field(default=None, compare=False, repr=False)
    """The trusted key whose signature verified (None for a token read unverified)."""


def sign_token(
    status_list: StatusList,
    uri: str,
    key: Ed25519PrivateKey,
    *,
    issued_at: int,
    expires_at: int | None = None,
    ttl: int | None = None,
    claim_keys: ClaimKeys = DRAFT_20,
) -> bytes:
    """Sign a Status List Token; returns the tagged COSE_Sign1 bytes (what a token file holds)."""
    if not isinstance(uri, str) or not uri:
        raise UsageError("a status list token needs its URI (sub)")
    if expires_at is not None and expires_at <= issued_at:
        raise UsageError("expires_at must be after issued_at")
    if ttl is not None and (type(ttl) is not int or ttl <= 0):
        raise UsageError("ttl must be a positive number of seconds")
    claims: dict[int, Any] = {
        claim_keys.sub: uri,
        claim_keys.iat: issued_at,
        claim_keys.status_list: status_list.to_cbor(),
    }
    if expires_at is not None:
        claims[claim_keys.exp] = expires_at
    if ttl is not None:
        claims[claim_keys.ttl] = ttl
    protected = {cose.HEADER_ALG: key.alg, cose.HEADER_KID: key.kid, cose.HEADER_TYP: TYP}
    return cose.sign1(cbor.dumps(claims), protected, key.sign)


def verify_token(
    data: bytes,
    trust: TrustStore,
    *,
    now: int,
    leeway: int = 60,
    limits: Limits = DEFAULT_LIMITS,
    claim_keys: ClaimKeys = DRAFT_20,
) -> StatusListToken:
    """Verify a Status List Token and decode its list.

    Authentication is the one shared step (:func:`vcsdk.verify.authenticate.authenticate`): the
    signing key must be trusted, of the token's alg, not compromised and inside its validity
    window at the token's ``iat``. Raises the stable codes: ``LIMIT_EXCEEDED`` (token or list
    over the cap), ``CBOR_MALFORMED``, ``COSE_MALFORMED`` (also a wrong ``typ``),
    ``UNSUPPORTED_ALGORITHM``, ``KEY_NOT_IN_TRUST_LIST``, ``PUBLIC_KEY_COMPROMISED``,
    ``PUBLIC_KEY_EXPIRED`` / ``PUBLIC_KEY_NOT_YET_VALID``, ``SIGNATURE_INVALID``,
    ``CLAIMS_INVALID`` (missing or mistyped claims, bits not in {1, 2, 4, 8}),
    ``CWT_NOT_YET_VALID`` (iat in the future), ``CWT_EXPIRED``; ``DECOMPRESSION_FAILED`` for a bad ``lst``.
    """
    if len(data) > limits.max_status_list_bytes:
        raise LimitExceeded(f"status list token of {len(data)} bytes exceeds {limits.max_status_list_bytes}")
    policy = AuthPolicy("status list token", typ=TYP, iat_label=claim_keys.iat)
    auth = open_sign1(data, trust, policy, limits)
    token = _parse_claims(auth.payload, auth.kid, limits, claim_keys, auth.signer)
    if token.issued_at > now + leeway:
        raise CWTNotYetValid(f"status list token issued in the future ({token.issued_at}, now {now})")
    if token.expires_at is not None and now - leeway >= token.expires_at:
        raise CWTExpired(f"status list token expired at {token.expires_at} (now {now})")
    return token


def read_token_unverified(
    data: bytes, *, limits: Limits = DEFAULT_LIMITS, claim_keys: ClaimKeys = DRAFT_20
) -> StatusListToken:
    """Decode a token WITHOUT checking its signature or times: for inspection only."""
    if len(data) > limits.max_status_list_bytes:
        raise LimitExceeded(f"status list token of {len(data)} bytes exceeds {limits.max_status_list_bytes}")
    message = cose.decode_sign1(data, limits)
    return _parse_claims(cbor.loads_strict(message.payload, limits), message.kid, limits, claim_keys, None)


def _parse_claims(
    claims: Any, kid: bytes | None, limits: Limits, claim_keys: ClaimKeys, signer: TrustedKey | None
) -> StatusListToken:
    if not isinstance(claims, MAP_TYPES):
        raise ClaimsInvalid("status list token claims must be a map")
    uri = claims.get(claim_keys.sub)
    if not isinstance(uri, str) or not uri:
        raise ClaimsInvalid("status list token sub (the list URI) must be non-empty text")
    iat = claims.get(claim_keys.iat)
    if not is_int(iat):
        raise ClaimsInvalid("status list token iat must be an integer")
    exp = claims.get(claim_keys.exp)
    if exp is not None and not is_int(exp):
        raise ClaimsInvalid("status list token exp must be an integer")
    ttl = claims.get(claim_keys.ttl)
    if ttl is not None and (not is_int(ttl) or ttl <= 0):
        raise ClaimsInvalid("status list token ttl must be a positive integer")
    if claim_keys.status_list not in claims:
        raise ClaimsInvalid("status list token has no status_list claim")
    status_list = StatusList.from_cbor(claims[claim_keys.status_list], limits)
    return StatusListToken(uri, iat, exp, ttl, status_list, kid, signer)
