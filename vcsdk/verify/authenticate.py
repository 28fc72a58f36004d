"""The one authentication step of every signed document: credentials (reference and fast lane),
Status List Tokens, trust lists and gate bundles (and, later, presentations).

In the spirit of go-cose: the algorithm comes from the trusted key, never from the message
alone; what differs between document types is a parameter (:class:`AuthPolicy`): the required
``typ``, the algorithms allowed, the tag rules, where the document's issue time lives (the key's
validity window is checked at that time) and whether a key marked compromised is refused.

Steps, in DESIGN section 4 order: tag and structure -> typ -> alg (protected only, allowed by
the policy) -> kid (protected wins) -> trusted keys with that kid and alg -> compromised keys
refused -> payload decoded strictly -> key window at the payload's issue time -> signature
(every remaining candidate key tried).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..codec import cose, cwt
from ..codec.cbor import MAP_TYPES, StrictDecoder
from ..codec.cwt import is_int
from ..errors import (
    COSEMalformed,
    KeyNotInTrustList,
    PublicKeyCompromised,
    PublicKeyExpired,
    PublicKeyNotYetValid,
    SignatureInvalid,
    UnsupportedAlgorithm,
)
from ..keys import ALGORITHM_NAMES
from ..limits import Limits
from ..trust.store import KeyState, TrustedKey, TrustStore


class Trace:
    """What the pipeline learned before it stopped (the kid, for reports)."""

    __slots__ = ("kid",)

    def __init__(self) -> None:
        self.kid: bytes | None = None


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    """What one document type demands of its COSE_Sign1 and its signer."""

    document: str
    """Name used in messages (``"credential"``, ``"status list token"``, ...)."""
    algorithms: frozenset[int] | None = None
    """COSE algorithms accepted; None: any, as long as it is the key's algorithm."""
    typ: str | None = None
    """Required protected ``typ`` (16); None: not checked."""
    require_tag: bool = True
    """Refuse a message without tag 18."""
    shared_labels: frozenset[int] = frozenset()
    """Header labels allowed in both buckets (the protected one wins); e.g. kid for EU DCC."""
    payload_tags: frozenset[int] = frozenset()
    """CBOR tags allowed inside the payload."""
    iat_label: int | str | None = cwt.IAT
    """Payload map label of the document's issue time; the signing key must have been inside
    its window then. None: no window check (keys without windows only make sense then)."""
    refuse_compromised: bool = True
    """Refuse a signature by a key whose state is compromised (no document type turns this off)."""


SignatureCheck = Callable[[tuple[TrustedKey, ...], bytes, bytes], TrustedKey]
"""(candidates, Sig_structure, signature) -> the candidate that verifies, or ``SIGNATURE_INVALID``."""


class Authenticated(NamedTuple):
    """A message whose signature verified under a trusted key (a named tuple: built on every scan)."""

    signer: TrustedKey
    kid: bytes
    payload: Any
    """The strictly decoded payload."""


def alg_name(alg: int | str) -> str:
    """``EdDSA`` for -8, the number otherwise."""
    return ALGORITHM_NAMES.get(alg, str(alg)) if isinstance(alg, int) else repr(alg)


def open_sign1(
    data: bytes,
    trust: TrustStore,
    policy: AuthPolicy,
    limits: Limits,
    trace: Trace | None = None,
    decoder: StrictDecoder | None = None,
) -> Authenticated:
    """Decode a COSE_Sign1 under the policy's tag rules, then :func:`authenticate` it."""
    message = cose.decode_sign1(data, limits, require_tag=policy.require_tag, shared_labels=policy.shared_labels)
    return authenticate(message, trust, policy, limits, trace, decoder)


def authenticate(
    message: cose.Sign1,
    trust: TrustStore,
    policy: AuthPolicy,
    limits: Limits,
    trace: Trace | None = None,
    decoder: StrictDecoder | None = None,
) -> Authenticated:
    """Return the trusted key that signed ``message`` and its strictly decoded payload.

    Raises ``COSE_MALFORMED`` (tag or typ), ``UNSUPPORTED_ALGORITHM``, ``KEY_NOT_IN_TRUST_LIST``,
    ``PUBLIC_KEY_COMPROMISED``, ``CBOR_MALFORMED`` / ``LIMIT_EXCEEDED`` (payload),
    ``PUBLIC_KEY_EXPIRED`` / ``PUBLIC_KEY_NOT_YET_VALID`` and ``SIGNATURE_INVALID``.
    """
    if policy.require_tag and not message.tagged:
        raise COSEMalformed(f"the {policy.document} is not a tagged COSE_Sign1")
    if policy.typ is not None and message.protected.get(cose.HEADER_TYP) != policy.typ:
        raise COSEMalformed(f"the {policy.document}'s protected typ must be {policy.typ!r}")
    alg = message.alg
    if alg is None:
        where = " (it is only in the unprotected header)" if cose.HEADER_ALG in message.unprotected else ""
        raise UnsupportedAlgorithm(f"alg is missing from the protected header{where}")
    kid = message.kid
    if trace is not None:
        trace.kid = kid
    return authenticate_parts(
        alg,
        kid,
        message.payload,
        message.to_be_signed(),
        message.signature,
        trust,
        policy,
        decoder or StrictDecoder(limits, policy.payload_tags),
    )


def signing_candidates(
    alg: int | str, kid: bytes | None, trust: TrustStore, policy: AuthPolicy
) -> tuple[tuple[TrustedKey, ...], bool]:
    """The trusted keys that may have signed a message with ``alg`` and ``kid`` (compromised ones
    refused as ``policy`` says), and whether any has a validity window (then the message's issue
    time must pick among them: :func:`in_window`)."""
    if policy.algorithms is not None and alg not in policy.algorithms:
        raise UnsupportedAlgorithm(f"alg {alg_name(alg)} is not accepted for a {policy.document}")
    if kid is None:
        raise KeyNotInTrustList(f"the {policy.document} has no kid")
    candidates = trust.candidates(kid)
    if not candidates:
        raise KeyNotInTrustList(f"no trusted key has kid {kid.hex()}")
    if len(candidates) != 1 or candidates[0].key.alg != alg:  # one matching key: the common case
        candidates = tuple(c for c in candidates if c.key.alg == alg)
        if not candidates:
            raise UnsupportedAlgorithm(f"alg {alg_name(alg)} is not the algorithm of the key with kid {kid.hex()}")
    if len(candidates) == 1:  # the common case, without generator overhead
        only = candidates[0]
        compromised = only.state is KeyState.COMPROMISED
        windowed = only.not_before is not None or only.not_after is not None
    else:
        compromised = any(c.state is KeyState.COMPROMISED for c in candidates)
        windowed = any(c.not_before is not None or c.not_after is not None for c in candidates)
    if policy.refuse_compromised and compromised:
        candidates = tuple(c for c in candidates if c.state is not KeyState.COMPROMISED)
        if not candidates:
            raise PublicKeyCompromised(f"the key with kid {kid.hex()} is marked compromised")
    return candidates, windowed


def authenticate_parts(
    alg: int | str,
    kid: bytes | None,
    payload: bytes,
    to_be_signed: bytes,
    signature: bytes,
    trust: TrustStore,
    policy: AuthPolicy,
    decoder: StrictDecoder,
    verify: SignatureCheck | None = None,
) -> Authenticated:
    """The key-and-signature half of :func:`authenticate`, for callers (the fast lane) that took
    the message apart themselves: alg, kid, the payload bytes, the Sig_structure and signature.
    ``verify`` replaces :func:`verify_signature` (the compiled lane's libsodium check)."""
    candidates, windowed = signing_candidates(alg, kid, trust, policy)
    assert kid is not None  # signing_candidates refuses a message without one
    # The payload is parsed (strictly, bounded) only now: its issue time selects the key window.
    value = decoder.decode(payload)
    if policy.iat_label is not None and windowed:
        iat = value.get(policy.iat_label) if isinstance(value, MAP_TYPES) else None
        if is_int(iat):
            candidates = in_window(candidates, iat)
        else:  # no issue time: a key with a window cannot vouch for it
            raise PublicKeyNotYetValid(f"the {policy.document} has no integer issue time for the key's window")
    return Authenticated((verify or verify_signature)(candidates, to_be_signed, signature), kid, value)


def in_window(candidates: tuple[TrustedKey, ...], iat: int) -> tuple[TrustedKey, ...]:
    """The candidates whose validity window holds ``iat``; the first one's refusal otherwise."""
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


def verify_signature(candidates: tuple[TrustedKey, ...], to_be_signed: bytes, signature: bytes) -> TrustedKey:
    """The first candidate whose key verifies ``signature``; ``SIGNATURE_INVALID`` when none does."""
    for candidate in candidates:
        try:
            candidate.key.verify(to_be_signed, signature)
        except SignatureInvalid:
            continue
        return candidate
    raise SignatureInvalid("the signature does not verify with any trusted key of this kid")
