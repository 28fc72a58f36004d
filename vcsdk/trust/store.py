"""What a verifier trusts: public keys by kid, each with an optional validity window.

Verifiers trust keys, not tokens. This module holds the in-memory store and the pure parsers of
trust sources (a JWKS document here; the signed trust list comes with its own module). Reading
files is left to the caller or :mod:`vcsdk.keys.files`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

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

    @property
    def kid(self) -> bytes:
        """The key's kid."""
        return self.key.kid


class TrustStore:
    """An immutable set of trusted keys indexed by kid (several keys may share a kid)."""

    __slots__ = ("_by_kid", "_keys", "source")

    def __init__(self, keys: Iterable[TrustedKey | PublicKey], *, source: str = SOURCE_KEYS) -> None:
        trusted = tuple(k if isinstance(k, TrustedKey) else TrustedKey(k, source=source) for k in keys)
        by_kid: dict[bytes, tuple[TrustedKey, ...]] = {}
        for entry in trusted:
            by_kid[entry.kid] = (*by_kid.get(entry.kid, ()), entry)
        self._keys = trusted
        self._by_kid = by_kid
        self.source = source

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
