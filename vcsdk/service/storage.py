"""Document storage: content-addressed blobs behind a small interface.

:class:`FileStorage` (the default) keeps each file at ``<root>/<aa>/<bb>/<sha256>`` written
atomically; the name is the SHA-256 of the content, never anything the client sent, so a file
name cannot traverse paths and the same file uploaded twice is stored once.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Protocol

from ..errors import FileError, RecordNotFound
from ..keys.files import atomic_write

_DIGEST = re.compile(r"\A[0-9a-f]{64}\Z")


class DocumentStorage(Protocol):
    """Where uploaded documents live."""

    def put(self, content: bytes) -> str:
        """Store ``content``; returns its SHA-256 (hex)."""
        ...

    def get(self, digest: str) -> bytes:
        """The content with that SHA-256 (``RECORD_NOT_FOUND`` if absent)."""
        ...

    def exists(self, digest: str) -> bool:
        """Whether content with that SHA-256 is stored."""
        ...


class FileStorage:
    """Content-addressed files under one folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, digest: str) -> Path:
        if not _DIGEST.match(digest):
            raise RecordNotFound("no such document")
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        path = self._path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, content, mode=0o600)
        return digest

    def get(self, digest: str) -> bytes:
        path = self._path(digest)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise RecordNotFound("no such document") from None
        except OSError as exc:
            raise FileError(f"cannot read a stored document: {exc.strerror}") from None

    def exists(self, digest: str) -> bool:
        return self._path(digest).exists()

    def count(self) -> int:
        """How many documents are stored (for operators and tests)."""
        return sum(1 for p in self.root.rglob("*") if p.is_file() and _DIGEST.match(p.name))
