"""The issuer's signing keys in the service: a :class:`~vcsdk.keys.keyring.Keyring` on disk.

On first start the keyring (``<data_dir>/keyring`` unless ``keyring_dir`` is set) is created and
the configured issuer key becomes its active key; a configured key the keyring does not hold yet
becomes the active key on the next start (a rotation by configuration). An operator rotates from
the web page: a new key signs from then on; the previous key stays in the published trust list
as verify-only (its window ends at the rotation, so what it signed keeps verifying) until every
credential it can have signed has expired (the profile's maximum validity after its window) or
an operator withdraws it. Every rotation and withdrawal lands in the audit chain and is followed
by a new trust list and bundle.

Several workers share the keyring directory (the keyring locks it with ``flock``); each worker
re-reads the manifest when it changes, so all of them sign with the new key right after a
rotation.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from ..clock import Clock
from ..errors import FileError, KeyInvalid
from ..keys import Ed25519PrivateKey, Ed25519PublicKey
from ..keys.keyring import MANIFEST, KeyRecord, Keyring
from ..registry import audit
from ..trust.store import KeyState, TrustedKey
from .settings import Settings

MAX_CREDENTIAL_VALIDITY = (3 * 365 + 1) * 86_400
"""The longest a credential may be valid (the official-ID profile's limit): a retired key stays in
the trust list this long after its window ends."""


@dataclass(frozen=True, slots=True)
class KeyView:
    """One issuer key as the operator's page shows it."""

    kid: str
    created: int
    not_before: int
    not_after: int | None
    state: str
    """``active`` (signs now), ``retired`` (verify-only), ``compromised``."""
    published: bool
    """Whether the next trust list names it."""
    withdrawn: int | None
    drops_at: int | None
    """When a retired key leaves the trust list by itself (its credentials have all expired)."""


class ServiceKeys:
    """The service's keyring: which key signs now, which keys the trust list names, rotation."""

    def __init__(self, settings: Settings, engine: Engine, clock: Clock) -> None:
        self._settings = settings
        self._engine = engine
        self._clock = clock
        self._passphrase = settings.key_passphrase
        self.directory = Path(settings.keyring_dir) if settings.keyring_dir else settings.data_dir / "keyring"
        self._lock = threading.Lock()
        self._cache: tuple[tuple[int, int], Keyring] | None = None
        self._private: dict[str, Ed25519PrivateKey] = {settings.issuer_key.kid.hex(): settings.issuer_key}
        if (self.directory / MANIFEST).exists():
            keyring = Keyring.open(self.directory)
        else:
            try:
                keyring = Keyring.create(self.directory, settings.issuer_id)
            except FileError:  # another worker made it meanwhile
                keyring = Keyring.open(self.directory)
        if keyring.issuer != settings.issuer_id:
            raise KeyInvalid(f"keyring {self.directory} belongs to {keyring.issuer}, not {settings.issuer_id}")
        keyring.adopt(settings.issuer_key, clock(), self._passphrase)

    # ------------------------------------------------------------------ reading

    def keyring(self) -> Keyring:
        """The keyring as on disk now (re-read only when the manifest changed)."""
        try:
            info = os.stat(self.directory / MANIFEST)
        except OSError as exc:
            raise FileError(f"cannot read keyring {self.directory}: {exc.strerror}") from None
        stamp = (info.st_mtime_ns, info.st_size)
        with self._lock:
            if self._cache is None or self._cache[0] != stamp:
                self._cache = (stamp, Keyring.open(self.directory))
            return self._cache[1]

    def signing_key(self, now: int) -> Ed25519PrivateKey:
        """The active private key (signs credentials and Status List Tokens)."""
        keyring = self.keyring()
        record = keyring.active()
        if record is None:
            raise KeyInvalid("the keyring has no active key: rotate to make one")
        key = self._private.get(record.kid)
        if key is None:
            key = keyring.signing_key(now, self._passphrase)
            with self._lock:
                self._private[record.kid] = key
        return key

    def active_kid(self) -> str:
        """The hex kid of the key that signs now."""
        record = self.keyring().active()
        return "" if record is None else record.kid

    def _published(self, record: KeyRecord, now: int) -> bool:
        if record.withdrawn is not None:
            return False
        if record.state is KeyState.RETIRED and record.not_after is not None:
            return now <= record.not_after + MAX_CREDENTIAL_VALIDITY
        return True

    def trusted(self, now: int) -> tuple[TrustedKey, ...]:
        """The keys the trust list names now (active, verify-only within their credentials'
        lifetime, compromised ones so that verifiers refuse them)."""
        keyring = self.keyring()
        return tuple(r.trusted(keyring.issuer) for r in keyring.records if self._published(r, now))

    def verify_keys(self, now: int) -> list[Ed25519PublicKey]:
        """Public keys whose credentials the service itself accepts back (wallet refresh)."""
        keys = []
        for record in self.keyring().records:
            if self._published(record, now) and record.state is not KeyState.COMPROMISED:
                keys.append(Ed25519PublicKey.from_jwk(record.public_jwk))
        return keys

    def views(self, now: int) -> list[KeyView]:
        """Every key, newest first, for the operator's page."""
        out = []
        for r in reversed(self.keyring().records):
            drops = None
            if r.state is KeyState.RETIRED and r.not_after is not None and r.withdrawn is None:
                drops = r.not_after + MAX_CREDENTIAL_VALIDITY
            out.append(
                KeyView(
                    r.kid,
                    r.created,
                    r.not_before,
                    r.not_after,
                    r.state.value,
                    self._published(r, now),
                    r.withdrawn,
                    drops,
                )
            )
        return out

    # ------------------------------------------------------------------ changes

    def _audit(self, actor: str, action: str, kid: str, data: dict[str, Any]) -> None:
        with self._engine.begin() as conn:
            audit.append(conn, self._clock(), actor, action, "key:" + kid, data)

    def rotate(self, *, actor: str, expected: str) -> KeyRecord:
        """A new active key; the one the operator saw active (``expected``) becomes verify-only.
        A rotation sent twice finds another key active and changes nothing (``KEYRING_CHANGED``)."""
        now = self._clock()
        record = self.keyring().rotate(now, self._passphrase, expected=expected)
        self._audit(actor, "key_rotate", record.kid, {"kid": record.kid, "previous": expected})
        return record

    def withdraw(self, kid: str, *, actor: str) -> KeyRecord:
        """Take a verify-only key out of the trust list (what it signed stops verifying)."""
        keyring = self.keyring()
        record = keyring.find(kid) if len(kid) == 16 else None
        if record is None or record.kid != kid:
            raise KeyInvalid("no such key in the keyring")
        if record.withdrawn is not None:
            return record
        updated = keyring.withdraw(kid, self._clock())
        self._audit(actor, "key_withdraw", kid, {"kid": kid})
        return updated
