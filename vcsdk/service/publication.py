"""Publication: the signed files verifiers fetch, written to a folder any static server can serve.

``<public>/status/<n>`` -- the Status List Token of list number ``n`` (raw CBOR, tagged COSE_Sign1,
``application/statuslist+cwt``); ``<public>/trust-list`` -- the anchor-signed trust list naming the
issuer keys (the keyring's active key and its verify-only ones); ``<public>/bundle`` -- the
anchor-signed gate bundle (trust list + every Status List Token + gate policy);
``<public>/manifest.json`` -- when they were signed. Files are replaced atomically, under a lock
file so concurrent workers on one machine never interleave; the last writer always holds the
newest snapshot.

The service republishes right after every status change and on a schedule, before the files go
stale (at half the status ``ttl``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..clock import Clock
from ..errors import FileError
from ..keys.files import atomic_write
from ..registry import IssuerRegistry
from ..trust.bundle import build_bundle
from ..trust.trustlist import TrustList, sign_trust_list
from .settings import Settings
from .signing import ServiceKeys

STATUS_MEDIA_TYPE = "application/statuslist+cwt"
TRUST_LIST_MEDIA_TYPE = "application/cose; cose-type=cose-sign1"
BUNDLE_MEDIA_TYPE = "application/cose; cose-type=cose-sign1"


@dataclass(frozen=True, slots=True)
class Published:
    """What one publication run wrote."""

    published_at: int
    status_lists: tuple[int, ...]
    trust_list_version: int


def etag_of(content: bytes) -> str:
    """A strong ETag for ``content``."""
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


class Publisher:
    """Signs and writes the public files of one issuer."""

    def __init__(self, settings: Settings, registry: IssuerRegistry, clock: Clock, keys: ServiceKeys) -> None:
        self._settings = settings
        self._keys = keys
        self._registry = registry
        self._clock = clock
        self.root = settings.public_dir
        (self.root / "status").mkdir(parents=True, exist_ok=True)
        self._local = threading.Lock()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._local, open(self.root / ".lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def publish(self) -> Published:
        """Sign every Status List Token, the trust list and the bundle as of now; write them."""
        settings = self._settings
        with self._locked():
            now = self._clock()
            expires = now + settings.status_validity
            signer = self._keys.signing_key(now)
            tokens: list[bytes] = []
            numbers: list[int] = []
            for info in self._registry.status_lists():
                token = self._registry.export_status(
                    info.uri, signer, ttl=settings.status_ttl, validity=settings.status_validity
                )
                atomic_write(self.root / "status" / str(info.seq), token)
                tokens.append(token)
                numbers.append(info.seq)
            version = max(now, self._last_version() + 1)
            trust_list = sign_trust_list(TrustList(version, now, expires, self._keys.trusted(now)), settings.anchor_key)
            atomic_write(self.root / "trust-list", trust_list)
            bundle = build_bundle(
                trust_list, tokens, settings.anchor_key, version=version, issued_at=now, expires_at=expires
            )
            atomic_write(self.root / "bundle", bundle)
            manifest = {"published_at": now, "expires_at": expires, "version": version, "status_lists": numbers}
            atomic_write(self.root / "manifest.json", json.dumps(manifest).encode("utf-8"))
            return Published(now, tuple(numbers), version)

    def manifest(self) -> dict[str, int | list[int]] | None:
        """The last publication's manifest, None before the first."""
        try:
            data: dict[str, int | list[int]] = json.loads((self.root / "manifest.json").read_bytes())
            return data
        except (OSError, ValueError):
            return None

    def _last_version(self) -> int:
        manifest = self.manifest()
        version = manifest.get("version", 0) if manifest else 0
        return version if isinstance(version, int) else 0

    def due(self) -> bool:
        """Whether the files must be re-signed now: never published, half the ttl gone, or the
        registry has a list the manifest does not name."""
        manifest = self.manifest()
        if manifest is None:
            return True
        published = manifest.get("published_at", 0)
        age = self._clock() - (published if isinstance(published, int) else 0)
        return age >= max(1, min(self._settings.status_ttl, self._settings.status_validity) // 2)

    def lists_changed(self) -> bool:
        """Whether the registry opened a status list that is not published yet."""
        manifest = self.manifest()
        named = manifest.get("status_lists", []) if manifest else []
        return [i.seq for i in self._registry.status_lists()] != named

    def read(self, name: str) -> bytes | None:
        """A published file by its relative name (``status/3``, ``trust-list``, ``bundle``), None
        when there is no such file."""
        allowed = name in ("trust-list", "bundle") or (
            name.startswith("status/") and name[7:].isdigit() and len(name) < 20
        )
        if not allowed:
            return None
        path: Path = self.root / name
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise FileError(f"cannot read a published file: {exc.strerror}") from None
