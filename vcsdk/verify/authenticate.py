"""The shared middle of every verifier: from a decoded COSE_Sign1 to the trusted key that
signed it and the strictly decoded payload.

Steps, in DESIGN section 4 order: alg (protected only, bound by the profile) -> kid (protected
wins) -> trusted keys with that kid and alg -> compromised keys refused -> payload decoded ->
key window at the payload's iat -> signature (every candidate key tried).
"""

from __future__ import annotations

from typing import Any

from ..codec import cbor, cose, cwt
from ..codec.cbor import MAP_TYPES
from ..codec.cwt import is_int
from ..errors import (
    KeyNotInTrustList,
    PublicKeyCompromised,
    PublicKeyExpired,
    PublicKeyNotYetValid,
    SignatureInvalid,
    UnsupportedAlgorithm,
)
from ..keys import ALGORITHM_NAMES
from ..limits import Limits
from ..profiles.base import Profile
from ..trust.store import KeyState, TrustedKey, TrustStore


class Trace:
    """What the pipeline learned before it stopped (the kid, for reports)."""

    __slots__ = ("kid",)

    def __init__(self) -> None:
        self.kid: bytes | None = None


def alg_name(alg: int | str) -> str:
    """``EdDSA`` for -8, the number otherwise."""
    return ALGORITHM_NAMES.get(alg, str(alg)) if isinstance(alg, int) else repr(alg)


def authenticate(
    message: cose.Sign1,
    trust: TrustStore,
    profile: Profile,
    limits: Limits,
    payload_tags: frozenset[int],
    trace: Trace,
) -> tuple[TrustedKey, Any]:
    """Return the trusted key that signed ``message`` and its strictly decoded payload."""
    alg = message.alg
    if alg is None:
        where = " (it is only in the unprotected header)" if cose.HEADER_ALG in message.unprotected else ""
        raise UnsupportedAlgorithm(f"alg is missing from the protected header{where}")
    if alg not in profile.algorithms:
        raise UnsupportedAlgorithm(f"alg {alg_name(alg)} is not accepted by profile {profile.name}")
    kid = message.kid
    trace.kid = kid
    if kid is None:
        raise KeyNotInTrustList("the message has no kid")
    candidates = trust.candidates(kid)
    if not candidates:
        raise KeyNotInTrustList(f"no trusted key has kid {kid.hex()}")
    candidates = tuple(c for c in candidates if c.key.alg == alg)
    if not candidates:
        raise UnsupportedAlgorithm(f"alg {alg_name(alg)} is not the algorithm of the key with kid {kid.hex()}")
    usable = tuple(c for c in candidates if c.state is not KeyState.COMPROMISED)
    if not usable:
        raise PublicKeyCompromised(f"the key with kid {kid.hex()} is marked compromised")

    # The payload is parsed (strictly, bounded) only now: its iat selects the key window.
    payload = cbor.loads_strict(message.payload, limits, payload_tags)
    iat = payload.get(cwt.IAT) if isinstance(payload, MAP_TYPES) else None
    if is_int(iat):
        usable = _in_window(usable, iat)
    return _verify_signature(usable, message.to_be_signed(), message.signature), payload


def _in_window(candidates: tuple[TrustedKey, ...], iat: int) -> tuple[TrustedKey, ...]:
    usable = tuple(
        c
        for c in candidates
        if (c.not_before is None or c.not_before <= iat) and (c.not_after is None or iat <= c.not_after)
    )
    if usable:
        return usable
    first = candidates[0]
    if first.not_after is not None and iat > first.not_after:
        raise PublicKeyExpired(f"the signing key's validity ended at {first.not_after}, before iat {iat}")
    raise PublicKeyNotYetValid(f"the signing key is valid from {first.not_before}, after iat {iat}")


def _verify_signature(candidates: tuple[TrustedKey, ...], to_be_signed: bytes, signature: bytes) -> TrustedKey:
    for candidate in candidates:
        try:
            candidate.key.verify(to_be_signed, signature)
        except SignatureInvalid:
            continue
        return candidate
    raise SignatureInvalid("the signature does not verify with any trusted key of this kid")
