"""Rollback floors: the highest version of each anchor-signed document kind seen per anchor,
kept across restarts in a small state file.

Rules: a trust list or bundle must carry a version at least the floor; at the floor itself only
the very same document (same SHA-256) is accepted again (a reload of the file in force), never
other content with a reused version. Versions therefore strictly increase.

File (JSON, written atomically, mode 0600), ``floors.json`` in the state directory::

    {"format": 1,
     "floors": {"<anchor kid hex>/<kind>": {"version": int, "sha256": "<hex of the document>"}}}

``kind`` is ``trust-list`` or ``bundle``. A missing file means no floors yet; an unreadable or
malformed one is refused (:class:`TrustSourceInvalid`) rather than silently reset.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import FileError, TrustListRollback, TrustSourceInvalid, UsageError

STATE_FILE = "floors.json"
KIND_TRUST_LIST = "trust-list"
KIND_BUNDLE = "bundle"
_FORMAT = 1


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/vcsdk``, or ``~/.local/state/vcsdk`` when it is unset."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "vcsdk"


@dataclass(frozen=True, slots=True)
class Floor:
    """The highest version seen and the digest of the document that carried it."""

    version: int
    sha256: str


class VersionFloors:
    """Floors per (anchor kid, kind); persisted in ``directory`` when one is given, else in memory.

    :meth:`check` refuses a rollback (``TRUST_LIST_ROLLBACK``) without changing anything;
    :meth:`record` raises the floor (and writes the file) once the caller has accepted the
    document completely.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self._path = None if directory is None else Path(directory) / STATE_FILE
        self._floors: dict[str, Floor] = {} if self._path is None else _read(self._path)

    @property
    def path(self) -> Path | None:
        """The state file, None for in-memory floors."""
        return self._path

    def get(self, anchor_kid: bytes, kind: str) -> Floor | None:
        """The floor held for documents of ``kind`` signed by ``anchor_kid``."""
        return self._floors.get(_slot(anchor_kid, kind))

    def check(self, anchor_kid: bytes, kind: str, version: int, document: bytes) -> None:
        """Refuse ``document`` (version ``version``) if it is older than the floor, or carries
        the floor's version with other content."""
        floor = self.get(anchor_kid, kind)
        if floor is None:
            return
        if version < floor.version:
            raise TrustListRollback(f"{kind} v{version} is older than v{floor.version} already seen")
        if version == floor.version and hashlib.sha256(document).hexdigest() != floor.sha256:
            raise TrustListRollback(
                f"{kind} v{version} differs from the v{floor.version} already seen: versions must increase"
            )

    def record(self, anchor_kid: bytes, kind: str, version: int, document: bytes) -> None:
        """Raise the floor to ``version`` (after :meth:`check` passed) and persist it."""
        self.check(anchor_kid, kind, version, document)
        slot = _slot(anchor_kid, kind)
        floor = Floor(version, hashlib.sha256(document).hexdigest())
        if self._floors.get(slot) == floor:
            return
        self._floors[slot] = floor
        if self._path is not None:
            # Another process may have raised a floor since we read the file: keep the higher.
            for other_slot, other in _read(self._path).items():
                mine = self._floors.get(other_slot)
                if mine is None or other.version > mine.version:
                    self._floors[other_slot] = other
            _write(self._path, self._floors)


def _slot(anchor_kid: bytes, kind: str) -> str:
    if kind not in (KIND_TRUST_LIST, KIND_BUNDLE):
        raise UsageError(f"unknown document kind {kind!r}")
    return f"{anchor_kid.hex()}/{kind}"


def _read(path: Path) -> dict[str, Floor]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise TrustSourceInvalid(f"cannot read the rollback state {path}: {exc}") from None
    try:
        document: Any = json.loads(text)
        if document.get("format") != _FORMAT or not isinstance(document.get("floors"), dict):
            raise ValueError("not a vcsdk floors file")
        floors = {}
        for slot, item in document["floors"].items():
            version, digest = item["version"], item["sha256"]
            if type(version) is not int or version < 0 or not isinstance(digest, str) or len(digest) != 64:
                raise ValueError(f"bad entry {slot}")
            floors[str(slot)] = Floor(version, digest)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise TrustSourceInvalid(f"the rollback state {path} is malformed ({exc}); refusing to reset it") from None
    return floors


def _write(path: Path, floors: dict[str, Floor]) -> None:
    from ..keys.files import PRIVATE_MODE, atomic_write

    document = {
        "format": _FORMAT,
        "floors": {slot: {"version": f.version, "sha256": f.sha256} for slot, f in sorted(floors.items())},
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise FileError(f"cannot create the state directory {path.parent}: {exc.strerror}") from None
    atomic_write(path, (json.dumps(document, indent=1) + "\n").encode("utf-8"), mode=PRIVATE_MODE)
