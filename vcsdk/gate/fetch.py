"""Keep a gate's bundle fresh: a file reloaded when it changes, or a URL polled with ETag and
back-off; the last good bundle persisted in the state folder next to the gate's rollback floors.
A shell.

:class:`BundleKeeper` owns a :class:`~vcsdk.gate.Gate` whose rollback floors
(:class:`~vcsdk.trust.floors.VersionFloors`, ``floors.json``) live in ``state_dir``. Every new
bundle is authenticated in full against the pinned anchors and the floors before it is swapped
in, and refused (the bundle in force stays) when it is not authentic, expired, older than the
floor, or the same version with other content. The keeper also saves the last good bundle there
(``bundle.cose``, atomically), so a restart keeps the floor and an offline gate starts on the
last good bundle.

The gate works offline on the last good bundle until it is *stale*: past the bundle's or its
trust list's ``exp``, or older than the bundle policy's ``max_status_age``. Then
:meth:`BundleKeeper.check` fails closed with ``GATE_STALE`` for every scan until a fresh bundle
arrives; :meth:`BundleKeeper.state` says so in one line.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..clock import Clock, format_time, system_clock
from ..errors import Code, GateStale, LimitExceeded, UsageError, VCError
from ..keys import PublicKey
from ..keys.files import atomic_write
from ..limits import DEFAULT_LIMITS, Limits
from ..trust.bundle import MAX_STATUS_LISTS_PER_BUNDLE, GateBundle
from ..trust.floors import VersionFloors
from ..verify import Verification
from ..verify.presentation import PresentationGuard
from .core import Gate
from .replays import ReplayBook

BUNDLE_FILE = "bundle.cose"


class FetchFailed(Exception):
    """The source could not be read this time (network down, file missing): try again later."""


class BundleSource(Protocol):
    """Where bundles come from."""

    name: str

    def fetch(self, *, force: bool = False) -> bytes | None:
        """New bundle bytes, or None when unchanged since the last fetch; :class:`FetchFailed` if unreachable."""
        ...


class FileSource:
    """A bundle file, read again when its size, mtime or inode changes (or when forced)."""

    def __init__(self, path: str | os.PathLike[str], *, max_bytes: int) -> None:
        self.path = Path(path)
        self.name = str(self.path)
        self._max_bytes = max_bytes
        self._seen: tuple[int, int, int] | None = None

    def fetch(self, *, force: bool = False) -> bytes | None:
        try:
            info = self.path.stat()
            signature = (info.st_mtime_ns, info.st_size, info.st_ino)
            if signature == self._seen and not force:
                return None
            if info.st_size > self._max_bytes:
                raise LimitExceeded(f"bundle file of {info.st_size} bytes is too large")
            data = self.path.read_bytes()
        except OSError as exc:
            raise FetchFailed(f"{self.path}: {exc.strerror or exc}") from None
        self._seen = signature
        return data


Opener = Callable[[urllib.request.Request, float], Any]


def _urlopen(request: urllib.request.Request, timeout: float) -> Any:
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (the scheme is checked)


class HttpSource:
    """A bundle URL polled with ``If-None-Match``: a 304 costs nothing; bodies are size-capped."""

    def __init__(
        self,
        url: str,
        *,
        max_bytes: int,
        timeout: float = 10.0,
        opener: Opener = _urlopen,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise UsageError(f"bundle URL must be http(s): {url}")
        self.name = url
        self._max_bytes = max_bytes
        self._timeout = timeout
        self._opener = opener
        self._monotonic = monotonic
        self.etag: str | None = None

    def fetch(self, *, force: bool = False) -> bytes | None:
        headers = {"Accept": "application/cose, application/octet-stream"}
        if self.etag and not force:
            headers["If-None-Match"] = self.etag
        request = urllib.request.Request(self.name, headers=headers)  # noqa: S310
        try:
            deadline = self._monotonic() + 3 * self._timeout  # a server trickling bytes cannot hold the poll
            with self._opener(request, self._timeout) as response:
                chunks: list[bytes] = []
                size = 0
                while size <= self._max_bytes:
                    chunk = response.read(min(65536, self._max_bytes + 1 - size))
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                    if self._monotonic() > deadline:
                        raise FetchFailed(f"{self.name}: body not received within {3 * self._timeout:g} s")
                data = b"".join(chunks)
                etag = response.headers.get("ETag")
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return None
            raise FetchFailed(f"{self.name}: HTTP {exc.code}") from None
        except (OSError, ValueError) as exc:  # URLError, timeouts, resets
            raise FetchFailed(f"{self.name}: {getattr(exc, 'reason', exc)}") from None
        if len(data) > self._max_bytes:
            raise LimitExceeded(f"bundle from {self.name} is larger than {self._max_bytes} bytes")
        self.etag = etag
        return data


@dataclass(frozen=True, slots=True)
class KeeperState:
    """What a gate runs on, in one line (:meth:`line`) or as JSON (:meth:`to_json`)."""

    state: str
    """``ok``, ``stale`` (fails closed) or ``none`` (no bundle yet: fails closed)."""
    source: str
    bundle_version: int | None
    trust_list_version: int | None
    bundle_age: int | None
    """Seconds since the bundle in force was issued."""
    stale_at: int | None
    last_error: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "source": self.source,
            "bundle_version": self.bundle_version,
            "trust_list_version": self.trust_list_version,
            "bundle_age": self.bundle_age,
            "stale_at": None if self.stale_at is None else format_time(self.stale_at),
            "last_error": self.last_error,
        }

    def line(self) -> str:
        if self.state == "none":
            head = "NO BUNDLE: refusing every scan"
        elif self.state == "stale":
            head = f"STALE since {format_time(self.stale_at or 0)}: refusing every scan (bundle v{self.bundle_version})"
        else:
            head = f"ok: bundle v{self.bundle_version}, trust list v{self.trust_list_version}, age {self.bundle_age}s"
        tail = f"; last error: {self.last_error}" if self.last_error else ""
        return f"gate {head} [{self.source}]{tail}"


def _stale_at(bundle: GateBundle) -> int:
    return min(bundle.expires_at, bundle.trust_list.expires_at, bundle.issued_at + bundle.policy.max_status_age)


class BundleKeeper:
    """Feeds a :class:`Gate` from a :class:`BundleSource`, with a persisted floor and back-off."""

    def __init__(
        self,
        anchors: Iterable[PublicKey],
        source: BundleSource,
        *,
        state_dir: str | os.PathLike[str] | None = None,
        clock: Clock = system_clock,
        gate_factory: Callable[[tuple[PublicKey, ...]], Gate] | None = None,
        poll_interval: float = 30.0,
        max_backoff: float = 600.0,
        monotonic: Callable[[], float] = time.monotonic,
        limits: Limits = DEFAULT_LIMITS,
        presentations: PresentationGuard | None = None,
    ) -> None:
        """``presentations``: the gate's challenge book and replay cache (give it a ``gate_id``
        for challenge mode); ignored when ``gate_factory`` builds the gate."""
        self._anchors = tuple(anchors)
        if not self._anchors:
            raise UsageError("a gate pins at least one trust-anchor public key")
        if poll_interval <= 0 or max_backoff < poll_interval:
            raise UsageError("poll interval must be positive and max back-off at least the poll interval")
        self.source = source
        self._clock = clock
        self._limits = limits
        self._state_dir = None if state_dir is None else Path(state_dir)
        floors = VersionFloors(self._state_dir)  # a damaged floors file stops here: never reset silently
        self.gate = (
            gate_factory
            or (lambda anchors: Gate(anchors, clock=clock, limits=limits, state=floors, presentations=presentations))
        )(self._anchors)
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._monotonic = monotonic
        self._delay = poll_interval
        self._next_poll = monotonic()
        self._last_error: str | None = None
        self._lock = threading.Lock()
        self._in_force_sha256 = ""
        self._save_error: str | None = None
        self.replays = (
            None
            if self._state_dir is None
            else ReplayBook(self._state_dir, self.gate.presentations, lambda: int(self.gate.clock()))
        )
        self._replay_error: str | None = None
        self.reloads = 0
        self.refusals = 0

    # ------------------------------------------------------------------ state on disk
    def _persist(self, data: bytes) -> None:
        if self._state_dir is not None:
            self._state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write(self._state_dir / BUNDLE_FILE, data)

    @property
    def in_force_sha256(self) -> str:
        """SHA-256 (hex) of the bundle in force, empty before the first."""
        return self._in_force_sha256

    # ------------------------------------------------------------------ loading
    def offer(self, data: bytes) -> GateBundle:
        """Authenticate ``data`` against the anchors and the floors, then swap it in (or raise)."""
        with self._lock:
            digest = hashlib.sha256(data).hexdigest()
            if digest == self._in_force_sha256 and self.gate.bundle is not None:
                return self.gate.bundle  # the same bundle again: nothing to do
            loaded = self.gate.load(data)  # floors, signatures, every status token; swaps atomically or raises
            self._in_force_sha256 = digest
            self.reloads += 1
            try:
                self._persist(data)
                self._save_error = None
            except (VCError, OSError) as exc:  # in force, but a restart would start from the older one
                self._save_error = f"bundle v{loaded.version} in force but not saved to {self._state_dir}: {exc}"
            return loaded

    def save_replays(self, *, force: bool = False) -> str | None:
        """Write the replay book to the state folder if it changed (see :mod:`vcsdk.gate.replays`);
        returns an error line when the write failed (the gate keeps running on its memory)."""
        if self.replays is None:
            return None
        try:
            self.replays.save(force=force)
        except (VCError, OSError) as exc:
            error = f"replay book not saved to {self.replays.path}: {exc}"
            fresh, self._replay_error = error != self._replay_error, error
            return error if fresh else None
        self._replay_error = None
        return None

    def start(self) -> KeeperState:
        """Load the replay book and the last good bundle from the state folder (if any), then
        poll the source once. A damaged replay book raises ``FILE_ERROR``."""
        if self.replays is not None:
            self.replays.load()
        if self._state_dir is not None and (self._state_dir / BUNDLE_FILE).exists():
            data = (self._state_dir / BUNDLE_FILE).read_bytes()
            try:
                self._load_persisted(data)
            except VCError as exc:
                self._last_error = f"saved bundle refused: {exc}"
        self.refresh(force=True)
        return self.state()

    def _load_persisted(self, data: bytes) -> None:
        with self._lock:
            self.gate.load(data)  # the floors accept the very bundle they were raised by, nothing older
            self._in_force_sha256 = hashlib.sha256(data).hexdigest()

    def due(self) -> bool:
        """Whether the next poll is due (poll interval, or back-off after failures)."""
        return self._monotonic() >= self._next_poll

    def refresh(self, *, force: bool = False) -> GateBundle | None:
        """Poll the source now; load what is new. Returns the bundle loaded, or None.

        Failures never raise: they are kept as :attr:`KeeperState.last_error` and back off.
        """
        try:
            data = self.source.fetch(force=force)
        except (FetchFailed, VCError) as exc:
            self._last_error = str(exc)
            self._delay = min(self._delay * 2, self._max_backoff)
            self._next_poll = self._monotonic() + self._delay
            return None
        self._delay = self._poll_interval
        self._next_poll = self._monotonic() + self._delay
        if data is None:
            return None
        try:
            bundle = self.offer(data)
        except VCError as exc:  # refused: the bundle in force stays
            self.refusals += 1
            self._last_error = f"bundle from {self.source.name} refused: {exc}"
            return None
        self._last_error = self._save_error
        return bundle

    # ------------------------------------------------------------------ verdicts
    def state(self) -> KeeperState:
        """The state line: ok, stale or none."""
        bundle = self.gate.bundle
        if bundle is None:
            return KeeperState("none", self.source.name, None, None, None, None, self._last_error)
        now = self._clock()
        stale_at = _stale_at(bundle)
        return KeeperState(
            "stale" if now >= stale_at else "ok",
            self.source.name,
            bundle.version,
            bundle.trust_list.version,
            now - bundle.issued_at,
            stale_at,
            self._last_error,
        )

    def check(self, text: str | bytes) -> Verification[Any]:
        """Verify through the gate, or refuse with ``GATE_STALE`` while it has no usable bundle."""
        refused = self._refusal()
        return self.gate.check(text) if refused is None else refused

    def check_many(self, texts: list[str]) -> list[Verification[Any]]:
        """:meth:`check` of texts read together, through the gate's batch API (their Ed25519
        signatures verified as one batch on the compiled lane); one staleness check for them all."""
        refused = self._refusal()
        return self.gate.check_many(texts) if refused is None else [refused for _ in texts]

    def _refusal(self) -> Verification[Any] | None:
        """``GATE_STALE`` while the gate has no usable bundle, else None."""
        bundle = self.gate.bundle
        if bundle is None:
            return Verification(False, Code.GATE_STALE, "no gate bundle loaded yet: the gate fails closed")
        stale_at = _stale_at(bundle)
        if self._clock() >= stale_at:
            return Verification(
                False,
                Code.GATE_STALE,
                f"gate bundle v{bundle.version} stale since {format_time(stale_at)}: the gate fails closed",
            )
        return None

    def verify(self, text: str | bytes) -> Any:
        """Like :meth:`check` but raises the failure (``GATE_STALE`` included)."""
        result = self.check(text)
        if result.code == Code.GATE_STALE:
            raise GateStale(result.message)
        return self.gate.verify(text)


def max_bundle_bytes(limits: Limits = DEFAULT_LIMITS) -> int:
    """The largest bundle a gate accepts (the same cap :func:`open_bundle` applies)."""
    return MAX_STATUS_LISTS_PER_BUNDLE * limits.max_status_list_bytes
