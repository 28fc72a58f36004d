"""What a verifier trusts: public keys by kid, each with an optional validity window.

Verifiers trust keys, not tokens. This module holds the in-memory store and the pure parsers of
trust sources (a JWKS document here; the signed trust list comes with its own module). Reading
files is left to the caller or :mod:`vcsdk.keys.files`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from ..codec import cbor
from ..errors import KeyInvalid, TrustSourceInvalid
from ..keys import Ed25519PublicKey, PublicKey, b64url_encode


class KeyState(StrEnum):
    """Where a signing key is in its life."""

    ACTIVE = "active"
    """Issuing now."""
    RETIRED = "retired"
    """No longer issuing; credentials it signed inside its window stay valid until they expire."""
    COMPROMISED = "compromised"
    """Every credential it signed fails (``PUBLIC_KEY_COMPROMISED``)."""


SOURCE_KEYS = "keys"
SOURCE_JWKS_UNSIGNED = "jwks (unsigned)"


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """A public key a verifier accepts, with the window in which it may have issued.

    ``not_before``/``not_after`` bound the credential's ``iat`` (Unix seconds, inclusive);
    None means unbounded. ``issuer`` when set must equal the credential's ``iss``.
    """

    key: PublicKey
    issuer: str | None = None
    not_before: int | None = None
    not_after: int | None = None
    source: str = field(default=SOURCE_KEYS, compare=False)
    """Where the key came from, for reports (not part of equality)."""
    state: KeyState = KeyState.ACTIVE
    identity: bytes = field(init=False, compare=False, repr=False)
    """The key itself (kid, alg and public key bytes, hashed): equal for the same key from any source."""
    status_owner: str = field(init=False, compare=False, repr=False)
    """Whose status lists this key may sign: ``"iss:" + issuer`` when the trust source names its
    issuer, otherwise ``"key:" + identity (hex)``: only its own credentials."""

    def __post_init__(self) -> None:
        material = cbor.dumps([self.key.kid, self.key.alg, self.key.to_cose_key()])
        identity = hashlib.sha256(material).digest()
        object.__setattr__(self, "identity", identity)
        owner = issuer_owner(self.issuer) if self.issuer is not None else "key:" + identity.hex()
        object.__setattr__(self, "status_owner", owner)

    @property
    def kid(self) -> bytes:
        """The key's kid."""
        return self.key.kid


def _material(key: PublicKey) -> bytes:
    """The public key itself, without its kid."""
    cose_key = {label: value for label, value in key.to_cose_key().items() if label != 2}  # 2: kid
    return hashlib.sha256(cbor.dumps([key.alg, cose_key])).digest()


def issuer_owner(issuer: str) -> str:
    """The status-list owner name of an issuer id (see :attr:`TrustedKey.status_owner`)."""
    return "iss:" + issuer


_STATE_RANK = {KeyState.ACTIVE: 0, KeyState.RETIRED: 1, KeyState.COMPROMISED: 2}


def merge_entries(first: TrustedKey, second: TrustedKey) -> TrustedKey:
    """One entry for a key that arrived from two sources: the most restrictive of both.

    The state with the higher rank wins (compromised > retired > active), the window is the
    intersection, the issuer must agree (a key bound to two issuers is refused).
    """
    if first.issuer is not None and second.issuer is not None and first.issuer != second.issuer:
        raise TrustSourceInvalid(
            f"key {first.kid.hex()} is bound to issuer {first.issuer!r} in one source and {second.issuer!r} in another"
        )
    state = first.state if _STATE_RANK[first.state] >= _STATE_RANK[second.state] else second.state
    starts = [v for v in (first.not_before, second.not_before) if v is not None]
    ends = [v for v in (first.not_after, second.not_after) if v is not None]
    sources = first.source if first.source == second.source else f"{first.source} + {second.source}"
    return TrustedKey(
        first.key,
        issuer=first.issuer if first.issuer is not None else second.issuer,
        not_before=max(starts) if starts else None,
        not_after=min(ends) if ends else None,
        source=sources,
        state=state,
    )


class TrustStore:
    """An immutable set of trusted keys indexed by kid (several keys may share a kid).

    The same key arriving more than once (from a trust list and a JWKS, say) is merged into one
    entry with the most restrictive state and window (:func:`merge_entries`): a compromise in
    any source sticks. ``expires_at`` is when the source stops being trustworthy (a signed trust
    list's or bundle's exp; the earliest when sources are combined): verifiers check it on every
    verification (``TRUST_LIST_EXPIRED``).
    """

    __slots__ = ("_by_kid", "_keys", "expires_at", "source")

    def __init__(
        self, keys: Iterable[TrustedKey | PublicKey], *, source: str = SOURCE_KEYS, expires_at: int | None = None
    ) -> None:
        merged: dict[bytes, TrustedKey] = {}
        for item in keys:
            entry = item if isinstance(item, TrustedKey) else TrustedKey(item, source=source)
            held = merged.get(entry.identity)
            merged[entry.identity] = entry if held is None else merge_entries(held, entry)
        # The same key material under another kid (EC/RSA kids come from the source): a
        # compromise of the key sticks whatever kid a message names.
        compromised = {_material(e.key) for e in merged.values() if e.state is KeyState.COMPROMISED}
        if compromised:
            for identity, entry in merged.items():
                if entry.state is not KeyState.COMPROMISED and _material(entry.key) in compromised:
                    merged[identity] = replace(entry, state=KeyState.COMPROMISED)
        trusted = tuple(merged.values())
        by_kid: dict[bytes, tuple[TrustedKey, ...]] = {}
        for entry in trusted:
            by_kid[entry.kid] = (*by_kid.get(entry.kid, ()), entry)
        self._keys = trusted
        self._by_kid = by_kid
        self.source = source
        self.expires_at = expires_at

    @classmethod
    def combine(cls, stores: Iterable[TrustStore], *, source: str | None = None) -> TrustStore:
        """One store of every key of ``stores`` (merged), expiring with the earliest of them."""
        stores = tuple(stores)
        ends = [s.expires_at for s in stores if s.expires_at is not None]
        name = source if source is not None else ", ".join(sorted({s.source for s in stores})) or "none"
        return cls((k for s in stores for k in s), source=name, expires_at=min(ends) if ends else None)

    def candidates(self, kid: bytes) -> tuple[TrustedKey, ...]:
        """Every trusted key with this kid (empty when none)."""
        return self._by_kid.get(kid, ())

    def __iter__(self) -> Iterator[TrustedKey]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        kids = ", ".join(b64url_encode(k) for k in self._by_kid)
        return f"TrustStore({len(self._keys)} keys from {self.source}: {kids})"

    @classmethod
    def from_jwks(cls, document: bytes | str | Mapping[str, Any], *, issuer: str | None = None) -> TrustStore:
        """Parse a JWKS of Ed25519 keys (DESIGN section 6), reported as an unsigned source.

        Each key's ``kid``, when present, must equal SHA-256(x)[:8] as unpadded base64url.
        Raises :class:`TrustSourceInvalid` naming the offending entry.
        """
        if isinstance(document, (bytes, str)):
            try:
                document = json.loads(document)
            except (ValueError, UnicodeDecodeError) as exc:
                raise TrustSourceInvalid(f"JWKS is not valid JSON ({exc})") from None
        if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
            raise TrustSourceInvalid('JWKS must be an object with a "keys" array')
        keys: list[TrustedKey] = []
        for position, jwk in enumerate(document["keys"]):
            if not isinstance(jwk, Mapping):
                raise TrustSourceInvalid(f"JWKS keys[{position}] is not an object")
            try:
                key = Ed25519PublicKey.from_jwk(jwk)
            except KeyInvalid as exc:
                raise TrustSourceInvalid(f"JWKS keys[{position}]: {exc.message}") from None
            keys.append(TrustedKey(key, issuer=issuer, source=SOURCE_JWKS_UNSIGNED))
        if not keys:
            raise TrustSourceInvalid("JWKS holds no keys")
        return cls(keys, source=SOURCE_JWKS_UNSIGNED)


def jwks_for(keys: Iterable[PublicKey]) -> dict[str, Any]:
    """A JWKS document for these public keys (what ``TrustStore.from_jwks`` reads)."""
    return {"keys": [k.to_jwk() for k in keys]}
