"""The unlock seam: what stands between the wallet file and its data key.

A wallet's contents are sealed with a random 32-byte data key; an :class:`Unlocker` seals that
data key. :class:`PinUnlocker` derives a key from the PIN with Argon2id (PyNaCl ``pwhash``) and
seals with XSalsa20-Poly1305 (``SecretBox``); a platform keystore or biometric unlock replaces it
by implementing the same two methods.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from ..errors import UsageError, WalletInvalid, WalletPinInvalid

PIN_METHOD = "pin-argon2id"
MIN_PIN_CHARS = 6
MAX_PIN_CHARS = 64
MAX_MEMLIMIT = 1024 * 1024 * 1024
"""Refuse to derive with more than 1 GiB (a tampered file must not exhaust memory)."""
MAX_OPSLIMIT = 64

KDF_PROFILES: dict[str, tuple[int, int]] = {
    "moderate": (nacl.pwhash.argon2id.OPSLIMIT_MODERATE, nacl.pwhash.argon2id.MEMLIMIT_MODERATE),
    "interactive": (nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE, nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE),
    "min": (nacl.pwhash.argon2id.OPSLIMIT_MIN, nacl.pwhash.argon2id.MEMLIMIT_MIN),
}
"""Argon2id cost profiles: ``moderate`` (256 MiB) by default; ``min`` only for tests."""


@runtime_checkable
class Unlocker(Protocol):
    """Seals and opens the wallet's data key."""

    def seal(self, secret: bytes) -> dict[str, Any]:
        """A JSON-ready envelope holding ``secret``; it names its ``method``."""
        ...

    def open(self, envelope: Mapping[str, Any]) -> bytes:
        """The secret back; :class:`WalletPinInvalid` when this unlocker cannot open it."""
        ...


def b64(data: bytes) -> str:
    """Standard base64 text."""
    return base64.b64encode(data).decode("ascii")


def unb64(value: object, what: str) -> bytes:
    """Decode standard base64 text; :class:`WalletInvalid` otherwise."""
    if not isinstance(value, str):
        raise WalletInvalid(f"wallet {what} must be base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise WalletInvalid(f"wallet {what} is not base64") from None


class PinUnlocker:
    """Unlock with a PIN: Argon2id (salt, opslimit and memlimit stored in the envelope) + SecretBox."""

    def __init__(self, pin: str, *, kdf: str = "moderate") -> None:
        if not isinstance(pin, str) or not MIN_PIN_CHARS <= len(pin) <= MAX_PIN_CHARS or not pin.isdigit():
            raise UsageError(f"a PIN is {MIN_PIN_CHARS} to {MAX_PIN_CHARS} digits")
        if kdf not in KDF_PROFILES:
            raise UsageError(f"kdf must be one of {', '.join(KDF_PROFILES)}")
        self._pin = pin.encode("ascii")
        self._ops, self._mem = KDF_PROFILES[kdf]

    def __repr__(self) -> str:
        return "PinUnlocker(pin=***)"

    def _key(self, salt: bytes, ops: int, mem: int) -> bytes:
        key: bytes = nacl.pwhash.argon2id.kdf(
            nacl.secret.SecretBox.KEY_SIZE, self._pin, salt, opslimit=ops, memlimit=mem
        )
        return key

    def seal(self, secret: bytes) -> dict[str, Any]:
        """Seal with a fresh salt."""
        salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
        box = nacl.secret.SecretBox(self._key(salt, self._ops, self._mem)).encrypt(secret)
        return {"method": PIN_METHOD, "salt": b64(salt), "opslimit": self._ops, "memlimit": self._mem, "box": b64(box)}

    def open(self, envelope: Mapping[str, Any]) -> bytes:
        """Derive with the envelope's parameters and open; a wrong PIN is :class:`WalletPinInvalid`."""
        if envelope.get("method") != PIN_METHOD:
            raise WalletInvalid(f"this wallet is not sealed with a PIN (method {envelope.get('method')!r})")
        salt = unb64(envelope.get("salt"), "salt")
        ops, mem = envelope.get("opslimit"), envelope.get("memlimit")
        if len(salt) != nacl.pwhash.argon2id.SALTBYTES:
            raise WalletInvalid("wallet salt has the wrong size")
        if type(ops) is not int or type(mem) is not int:
            raise WalletInvalid("wallet Argon2id parameters must be integers")
        if not (nacl.pwhash.argon2id.OPSLIMIT_MIN <= ops <= MAX_OPSLIMIT):
            raise WalletInvalid("wallet Argon2id opslimit out of range")
        if not (nacl.pwhash.argon2id.MEMLIMIT_MIN <= mem <= MAX_MEMLIMIT):
            raise WalletInvalid("wallet Argon2id memlimit out of range")
        box = unb64(envelope.get("box"), "box")
        try:
            return bytes(nacl.secret.SecretBox(self._key(salt, ops, mem)).decrypt(box))
        except nacl.exceptions.CryptoError:
            raise WalletPinInvalid("wrong PIN") from None
