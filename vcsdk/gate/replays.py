"""The gate's replay book on disk, so that a restart does not reopen the replay window.

A :class:`~vcsdk.verify.presentation.PresentationGuard` remembers, per gate, every presentation
it accepted (until twice the freshness window plus leeway after it was made) and the challenge
nonces it issued. Without this file a restarted gate would accept each of those presentations
once more within its window. :class:`ReplayBook` keeps that memory in ``presentations.json`` in
the gate's state folder: written atomically (temporary file, fsync, rename) whenever it changed,
at most every ``every`` seconds and once more at shutdown; read once at start. Each gate id has
its own file (so that two gates may share one state folder): ``presentations.json`` for a guard
without gate id, ``presentations-<first 16 hex of SHA-256(gate id, UTF-8)>.json`` otherwise.

File format (JSON object)::

    {"format": "vcsdk-replay-book", "version": 1, "gate_id": "hall-a-3" | null,
     "saved_at": 1767225600, "lifetime": 660,
     "seen": [["<sha-256 of the device signature, 64 hex>", <presented at, Unix s>], ...],
     "nonces": [["<nonce, 32 hex>", <issued at, Unix s>, <answered: true|false>], ...]}

A file that cannot be parsed, or that names another gate id, stops the gate with
``FILE_ERROR``: it is never reset silently (move it aside to start with an empty book, accepting
that presentations of the last minutes pass once more). Entries past their time are dropped on
load. ``lifetime`` is the longest memory any check asked for (twice window plus leeway): an
entry is kept until its presentation time plus that, so a bundle with a wider leeway never
reopens an old presentation. A crash loses at most the presentations accepted since the last
write (``every`` seconds). Two gates that write the same file (no gate id, one state folder)
merge it under an exclusive ``flock`` on ``<file>.lock``: each keeps the other's entries too.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import FileError
from ..holder.challenge import NONCE_BYTES
from ..keys.files import PRIVATE_MODE, atomic_write
from ..verify.presentation import PresentationGuard

REPLAY_FILE = "presentations.json"
FORMAT = "vcsdk-replay-book"
VERSION = 1
MAX_FILE_BYTES = 32 * 1024 * 1024  # 65,536 entries of ~90 bytes with room to spare


def replay_file_name(gate_id: str | None) -> str:
    """The file that holds the replay book of the gate ``gate_id`` in its state folder."""
    if gate_id is None:
        return REPLAY_FILE
    return f"presentations-{hashlib.sha256(gate_id.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}.json"


def encode_book(guard: PresentationGuard, now: int) -> bytes:
    """The guard's memory at ``now`` in the file format."""
    seen, nonces = guard.export(now)
    document = {
        "format": FORMAT,
        "version": VERSION,
        "gate_id": guard.gate_id,
        "saved_at": now,
        "lifetime": guard.lifetime,
        "seen": [[digest.hex(), when] for digest, when in seen],
        "nonces": [[nonce.hex(), issued, answered] for nonce, issued, answered in nonces],
    }
    return json.dumps(document, separators=(",", ":")).encode()


def _int(value: Any, what: str) -> int:
    if type(value) is not int or not 0 <= value < 2**63:
        raise ValueError(f"{what} is not a non-negative integer")
    return value


def _hex(value: Any, size: int, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * size:
        raise ValueError(f"{what} is not {size} bytes of hex")
    return bytes.fromhex(value)


class SavedBook(NamedTuple):
    """A replay book as read from its file."""

    lifetime: int
    seen: list[tuple[bytes, int]]
    nonces: list[tuple[bytes, int, bool]]


def decode_book(data: bytes, gate_id: str | None) -> SavedBook:
    """Parse a saved book of the gate ``gate_id``; ``ValueError`` says what is wrong."""
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
    try:
        document = json.loads(data)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError("not a vcsdk replay book")
    if document.get("version") != VERSION:
        raise ValueError(f"unsupported version {document.get('version')!r}")
    if document.get("gate_id") != gate_id:
        raise ValueError(f"it belongs to gate {document.get('gate_id')!r}, not {gate_id!r}")
    lifetime = _int(document.get("lifetime"), "lifetime")
    seen_rows, nonce_rows = document.get("seen"), document.get("nonces")
    if not isinstance(seen_rows, list) or not isinstance(nonce_rows, list):
        raise ValueError("seen and nonces must be lists")
    seen: list[tuple[bytes, int]] = []
    for row in seen_rows:
        if not isinstance(row, list) or len(row) != 2:
            raise ValueError("a seen entry is not [digest, presented at]")
        seen.append((_hex(row[0], 32, "a digest"), _int(row[1], "presented at")))
    nonces: list[tuple[bytes, int, bool]] = []
    for row in nonce_rows:
        if not isinstance(row, list) or len(row) != 3 or type(row[2]) is not bool:
            raise ValueError("a nonce entry is not [nonce, issued at, answered]")
        nonces.append((_hex(row[0], NONCE_BYTES, "a nonce"), _int(row[1], "issued at"), row[2]))
    return SavedBook(lifetime, seen, nonces)


class ReplayBook:
    """Keeps ``guard``'s memory in its file in ``directory`` (see the module text)."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        guard: PresentationGuard,
        clock: Callable[[], int],
        *,
        every: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(directory) / replay_file_name(guard.gate_id)
        self._guard = guard
        self._clock = clock
        self._every = every
        self._monotonic = monotonic
        self._saved_changes = guard.changes
        self._last_save = float("-inf")
        self._lock = threading.Lock()

    def _read(self) -> bytes | None:
        try:
            # O_NONBLOCK: a FIFO in the file's place must not block the gate
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise FileError(f"cannot read the gate's replay book {self.path}: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "rb") as handle:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    raise FileError(f"the gate's replay book {self.path} is not a regular file")
                return handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise FileError(f"cannot read the gate's replay book {self.path}: {exc.strerror}") from None

    def _absorb(self, book: SavedBook) -> int:
        now = self._clock()
        self._guard.absorb(book.seen, book.nonces, now, book.lifetime)
        keep = now - self._guard.lifetime
        return sum(1 for _, when in book.seen if when >= keep) + (len(book.nonces) if self._guard.gate_id else 0)

    def load(self) -> int:
        """Absorb the saved book (if any) into the guard; returns how many saved entries were still in time."""
        with self._lock:
            data = self._read()
            if data is None:
                return 0
            try:
                book = decode_book(data, self._guard.gate_id)
            except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
                raise FileError(
                    f"the gate's replay book {self.path} is damaged ({exc}); refusing to start without it "
                    "(move it aside to start with an empty book: presentations of the last minutes "
                    "would pass once more)"
                ) from None
            restored = self._absorb(book)
            self._saved_changes = self._guard.changes
            return restored

    def save(self, *, force: bool = False) -> bool:
        """Write the book if it changed (and ``every`` seconds passed, unless ``force``), merged
        with what another gate sharing the file wrote meanwhile."""
        with self._lock:
            changes = self._guard.changes
            if changes == self._saved_changes:
                return False
            if not force and self._monotonic() - self._last_save < self._every:
                return False
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                lock = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
            except OSError as exc:
                raise FileError(f"cannot write the gate's replay book {self.path}: {exc.strerror}") from None
            try:
                fcntl.flock(lock, fcntl.LOCK_EX)
                data = self._read()
                if data is not None:
                    with contextlib.suppress(ValueError):  # damaged since this gate started: replaced
                        self._absorb(decode_book(data, self._guard.gate_id))
                atomic_write(self.path, encode_book(self._guard, self._clock()), mode=PRIVATE_MODE)
            finally:
                os.close(lock)  # releases the flock
            self._saved_changes = changes
            self._last_save = self._monotonic()
            return True


__all__ = ["REPLAY_FILE", "ReplayBook", "SavedBook", "decode_book", "encode_book", "replay_file_name"]
