"""An issuer's keyring on disk: several signing keys, each with an issuing window and a state.

A directory holding ``keyring.json`` (the manifest: issuer id, and per key its kid, public JWK,
window and state) and one PKCS#8 PEM per key (mode 0600, encrypted when a passphrase is
given). Every change rewrites the manifest atomically; a new key file is written before the
manifest names it, so a crash never leaves the manifest pointing at a missing key. Every change
holds an exclusive inter-process lock (``flock`` on ``.lock`` in the directory) and re-reads the
manifest under it, so two processes changing one keyring never lose each other's changes.

Lifecycle: ``rotate`` creates a new active key and retires the previous one (its window ends
now, so what it signed stays valid until it expires); ``retire`` ends a key's window;
``compromise`` marks a key so that everything it signed fails verification.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ..clock import format_time
from ..errors import FileError, KeyInvalid, KeyringChanged, UsageError
from ..trust.store import KeyState, TrustedKey
from . import Ed25519PrivateKey, Ed25519PublicKey
from .files import atomic_write, load_private_key, save_private_key

MANIFEST = "keyring.json"
LOCK = ".lock"


@contextmanager
def _exclusive(directory: Path) -> Iterator[None]:
    """An exclusive inter-process lock on a keyring directory (released on exit, even by a crash)."""
    try:
        fd = os.open(directory / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise FileError(f"cannot lock keyring {directory}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """One key of the keyring."""

    kid: str
    """Hex kid (SHA-256(public key)[:8])."""
    file: str
    public_jwk: dict[str, str]
    created: int
    not_before: int
    not_after: int | None
    state: KeyState
    withdrawn: int | None = None
    """When the key was taken out of the published trust list (None: still published)."""

    def trusted(self, issuer: str) -> TrustedKey:
        """This key as a verifier trusts it."""
        return TrustedKey(
            Ed25519PublicKey.from_jwk(self.public_jwk),
            issuer=issuer,
            not_before=self.not_before,
            not_after=self.not_after,
            source="keyring",
            state=self.state,
        )


class Keyring:
    """Load with :meth:`open` (or :meth:`create`); every change is saved at once."""

    def __init__(self, directory: Path, issuer: str, records: list[KeyRecord]) -> None:
        self.directory = directory
        self.issuer = issuer
        self.records = records

    @classmethod
    def create(cls, directory: str | os.PathLike[str], issuer: str) -> Keyring:
        """A new, empty keyring for ``issuer`` (the directory may exist but holds no keyring)."""
        path = Path(directory)
        if (path / MANIFEST).exists():
            raise FileError(f"{path} already holds a keyring")
        if not issuer:
            raise UsageError("a keyring needs its issuer id (iss)")
        try:
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise FileError(f"cannot create {path}: {exc.strerror}") from None
        with _exclusive(path):
            if (path / MANIFEST).exists():
                raise FileError(f"{path} already holds a keyring")
            keyring = cls(path, issuer, [])
            keyring._save()
        return keyring

    @classmethod
    def open(cls, directory: str | os.PathLike[str]) -> Keyring:
        """Load an existing keyring."""
        path = Path(directory)
        try:
            data = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
            records = [KeyRecord(**{**item, "state": KeyState(item["state"])}) for item in data["keys"]]
            return cls(path, data["issuer"], records)
        except OSError as exc:
            raise FileError(f"cannot read keyring {path}: {exc.strerror}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise FileError(f"keyring manifest {path / MANIFEST} is damaged ({exc})") from None

    @contextmanager
    def _change(self) -> Iterator[None]:
        """Hold the lock and start from the manifest on disk (another process may have changed it)."""
        with _exclusive(self.directory):
            fresh = Keyring.open(self.directory)
            self.issuer, self.records = fresh.issuer, fresh.records
            yield

    def _save(self) -> None:
        manifest: dict[str, Any] = {
            "issuer": self.issuer,
            "keys": [{**asdict(r), "state": r.state.value} for r in self.records],
        }
        atomic_write(self.directory / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))

    # ------------------------------------------------------------------ queries

    def active(self) -> KeyRecord | None:
        """The key that issues now, if any."""
        return next((r for r in self.records if r.state is KeyState.ACTIVE), None)

    def find(self, kid: str) -> KeyRecord:
        """A key by hex kid (or a unique prefix of it)."""
        matches = [r for r in self.records if r.kid.startswith(kid.lower())]
        if len(matches) != 1:
            raise KeyInvalid(f"no single key with kid {kid!r} in the keyring")
        return matches[0]

    def signing_key(self, now: int, passphrase: bytes | None = None) -> Ed25519PrivateKey:
        """The active private key, if its window covers ``now``."""
        record = self.active()
        if record is None:
            raise KeyInvalid("the keyring has no active key: run 'vcsdk keys rotate'")
        if now < record.not_before:
            raise KeyInvalid(f"the active key {record.kid} is valid from {format_time(record.not_before)} only")
        key = load_private_key(self.directory / record.file, passphrase)
        if key.kid.hex() != record.kid:
            raise KeyInvalid(f"key file {record.file} does not hold key {record.kid}")
        return key

    def trusted_keys(self) -> list[TrustedKey]:
        """Every key not withdrawn, with window and state, for a trust list."""
        return [r.trusted(self.issuer) for r in self.records if r.withdrawn is None]

    # ------------------------------------------------------------------ changes

    def rotate(self, now: int, passphrase: bytes | None = None, *, expected: str | None = None) -> KeyRecord:
        """Generate the new active key; the previous active one retires (its window ends now).

        ``expected``: the hex kid the caller saw active; when another key is active by now (the
        rotation was already done, e.g. a form sent twice) nothing changes (``KeyringChanged``)."""
        return self._add(Ed25519PrivateKey.generate(), now, passphrase, expected=expected)

    def adopt(self, key: Ed25519PrivateKey, now: int, passphrase: bytes | None = None) -> KeyRecord:
        """Make an existing private key the active one (the previous active one retires); a key
        already in the keyring is returned as it is."""
        for record in self.records:
            if record.kid == key.kid.hex():
                return record
        return self._add(key, now, passphrase, expected=None, adopt=True)

    def _add(
        self, key: Ed25519PrivateKey, now: int, passphrase: bytes | None, *, expected: str | None, adopt: bool = False
    ) -> KeyRecord:
        record = KeyRecord(
            kid=key.kid.hex(),
            file=f"{key.kid.hex()}.pem",
            public_jwk=key.public_key.to_jwk(),
            created=now,
            not_before=now,
            not_after=None,
            state=KeyState.ACTIVE,
        )
        with self._change():
            active = self.active()
            if adopt and any(r.kid == record.kid for r in self.records):
                return next(r for r in self.records if r.kid == record.kid)
            if expected is not None and (active is None or active.kid != expected):
                raise KeyringChanged(f"the active key is no longer {expected}: the keyring was changed meanwhile")
            save_private_key(self.directory / record.file, key, passphrase)  # before the manifest names it
            self.records = [
                replace(r, state=KeyState.RETIRED, not_after=now) if r.state is KeyState.ACTIVE else r
                for r in self.records
            ] + [record]
            self._save()
        return record

    def retire(self, kid: str, now: int) -> KeyRecord:
        """End a key's issuing window now (what it signed stays valid until it expires)."""
        with self._change():
            record = self.find(kid)
            if record.state is KeyState.COMPROMISED:
                raise UsageError(f"key {record.kid} is compromised; it cannot be retired")
            end = now if record.not_after is None else min(record.not_after, now)
            return self._replace(replace(record, state=KeyState.RETIRED, not_after=end))

    def withdraw(self, kid: str, now: int) -> KeyRecord:
        """Take a retired key out of the trust list: what it signed no longer verifies anywhere
        that takes the next trust list (``KEY_NOT_IN_TRUST_LIST``). The active key cannot be
        withdrawn (rotate first); withdrawing twice changes nothing."""
        with self._change():
            record = self.find(kid)
            if record.state is KeyState.ACTIVE:
                raise UsageError(f"key {record.kid} signs now: rotate before withdrawing it")
            if record.withdrawn is not None:
                return record
            return self._replace(replace(record, withdrawn=now))

    def compromise(self, kid: str) -> KeyRecord:
        """Mark a key compromised: everything it signed fails (``PUBLIC_KEY_COMPROMISED``)."""
        with self._change():
            return self._replace(replace(self.find(kid), state=KeyState.COMPROMISED))

    def _replace(self, updated: KeyRecord) -> KeyRecord:
        self.records = [updated if r.kid == updated.kid else r for r in self.records]
        self._save()
        return updated
