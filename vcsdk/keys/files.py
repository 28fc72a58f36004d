"""Key and trust files on disk (a thin shell around :mod:`vcsdk.keys` and :mod:`vcsdk.trust.store`).

Writes are atomic: a temporary file in the same directory, created with the final mode (0600
for private keys), fsync'd, then renamed over the target. A crash leaves the old file or the
new one, never half of either.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from ..errors import FileError, KeyInvalid
from ..trust.store import TrustStore, jwks_for
from . import Ed25519PrivateKey, Ed25519PublicKey

PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644


def atomic_write(path: str | os.PathLike[str], data: bytes, *, mode: int = PUBLIC_MODE, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` atomically with permissions ``mode``.

    With ``overwrite=False`` an existing file is never replaced (:class:`FileError`).
    """
    target = Path(path)
    if not overwrite and target.exists():
        raise FileError(f"{target} exists; refusing to overwrite it")
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise FileError(f"cannot write in {directory}: {exc.strerror}") from None
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if not overwrite:
            # link() fails if the target appeared meanwhile: no silent replacement.
            os.link(tmp_name, target)
            os.unlink(tmp_name)
        else:
            os.replace(tmp_name, target)
        _fsync_directory(directory)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise FileError(f"cannot write {target}: {exc.strerror}") from None


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """Read a file, turning OS errors into :class:`FileError`."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise FileError(f"cannot read {path}: {exc.strerror}") from None


def save_private_key(
    path: str | os.PathLike[str],
    key: Ed25519PrivateKey,
    passphrase: bytes | None = None,
    *,
    overwrite: bool = False,
) -> None:
    """Store a private key as PKCS#8 PEM, mode 0600, encrypted when ``passphrase`` is given."""
    atomic_write(path, key.to_pem(passphrase), mode=PRIVATE_MODE, overwrite=overwrite)


def load_private_key(path: str | os.PathLike[str], passphrase: bytes | None = None) -> Ed25519PrivateKey:
    """Load a PKCS#8 PEM private key, decrypting it when it is encrypted."""
    return Ed25519PrivateKey.from_pem(read_bytes(path), passphrase)


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """Load an Ed25519 public key from SPKI PEM or a JWK (never from a private-key file)."""
    data = read_bytes(path)
    stripped = data.strip()
    if stripped.startswith(b"{"):
        try:
            return Ed25519PublicKey.from_jwk(json.loads(stripped))
        except ValueError as exc:
            raise KeyInvalid(f"{path}: not a JWK ({exc})") from None
    if b"PUBLIC KEY" in stripped:
        return Ed25519PublicKey.from_pem(stripped)
    if b"PRIVATE KEY" in stripped:
        raise KeyInvalid(f"{path} is a private key: verifiers take the public key (keys generate --public/--jwks)")
    raise KeyInvalid(f"{path} is neither a PEM key nor a JWK")


def load_trust(path: str | os.PathLike[str]) -> TrustStore:
    """A trust store from a file: a JWKS, a single JWK, or a public-key PEM."""
    data = read_bytes(path)
    stripped = data.strip()
    if stripped.startswith(b"{"):
        try:
            document = json.loads(stripped)
        except ValueError as exc:
            raise FileError(f"{path}: not valid JSON ({exc})") from None
        if isinstance(document, dict) and "keys" in document:
            return TrustStore.from_jwks(document)
        return TrustStore.from_jwks({"keys": [document]})
    return TrustStore([load_public_key(path)], source=f"public key file {Path(path).name}")


def save_jwks(path: str | os.PathLike[str], keys: list[Ed25519PublicKey]) -> None:
    """Write a JWKS of public keys (for verifiers' ``--trust``)."""
    atomic_write(path, (json.dumps(jwks_for(keys), indent=2) + "\n").encode("utf-8"))


__all__ = [
    "atomic_write",
    "load_private_key",
    "load_public_key",
    "load_trust",
    "read_bytes",
    "save_jwks",
    "save_private_key",
]
