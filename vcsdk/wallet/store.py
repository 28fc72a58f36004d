"""The reference wallet's file: a device key and a credential, sealed, with a PIN lock-out.

File (JSON, written atomically with mode 0600)::

    {"format": "vcsdk-wallet/1",
     "vault": <the Unlocker's envelope of the 32-byte data key>,
     "data": base64(SecretBox(data key).encrypt(JSON {"device_key": base64 seed,
             "credential": "GID1:..." | null, "issuer": URL | null, "created_at": int})),
     "failed_attempts": int, "max_attempts": 5, "destroyed": bool,
     "session": {"expires_at": int, "box": base64(SecretBox(session key).encrypt(data key))} | null}

A wrong PIN is counted *before* it is tried (killing the process mid-try does not reset the
count); the ``max_attempts``-th wrong PIN erases vault, data and session: the device key is gone
and the credential must be re-issued. Unlocking may open a session (the phone's "unlocked"
state): its key lives in a separate 0600 file next to the wallet (``<wallet>.session``) and
:meth:`Wallet.lock` deletes both ("log out before lending the phone").

What a file cannot do: whoever copies the file can try PINs on the copy without any counter;
a phone's secure element keeps the key unexportable and enforces the count in hardware.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.secret
import nacl.utils

from ..codec import cbor, cose, cwt, qrtext
from ..codec.cbor import MAP_TYPES, TAG_EPOCH_DAYS
from ..errors import FileError, UsageError, VCError, WalletInvalid, WalletKeyDestroyed, WalletLocked, WalletPinInvalid
from ..holder.challenge import Challenge
from ..holder.presentation import present
from ..keys import Ed25519PrivateKey, Ed25519PublicKey
from ..keys.files import PRIVATE_MODE, atomic_write
from ..limits import DEFAULT_LIMITS
from ..profiles.base import OFFICIAL_ID
from .unlock import Unlocker, b64, unb64

FORMAT = "vcsdk-wallet/1"
MAX_ATTEMPTS = 5
MAX_WALLET_BYTES = 64 * 1024
DEFAULT_SESSION_SECONDS = 300
REFRESH_INTERVAL_SECONDS = 30 * 24 * 3600
"""The wallet asks for a refresh 30 days after issuance (the seed's periodic update)."""


@dataclass(frozen=True, slots=True)
class HeldCredential:
    """What the wallet reads from its credential without verifying the issuer's signature."""

    text: str
    credential_id: bytes
    issuer: str
    issued_at: int
    expires_at: int
    holder_key: Ed25519PublicKey | None


def read_credential(text: str) -> HeldCredential:
    """Parse a ``GID1:`` text far enough to file it (cti, iss, iat, exp, cnf); no trust decision."""
    if not isinstance(text, str):
        raise UsageError("a credential is a GID1: QR text")
    try:
        message = cose.decode_sign1(qrtext.unpack(text, OFFICIAL_ID.prefix, DEFAULT_LIMITS), DEFAULT_LIMITS)
        claims = cbor.loads_strict(message.payload, DEFAULT_LIMITS, frozenset({TAG_EPOCH_DAYS}))
    except VCError as exc:
        raise WalletInvalid(f"not an official-ID credential ({exc.code}: {exc.message})") from None
    if not isinstance(claims, MAP_TYPES):
        raise WalletInvalid("the credential payload is not a claims map")
    iss, iat, exp, cti = claims.get(cwt.ISS), claims.get(cwt.IAT), claims.get(cwt.EXP), claims.get(cwt.CTI)
    if not (isinstance(iss, str) and cwt.is_int(iat) and cwt.is_int(exp) and type(cti) is bytes):
        raise WalletInvalid("the credential lacks iss, iat, exp or cti")
    holder = None
    cnf = claims.get(cwt.CNF)
    if cnf is not None:
        try:
            holder = Ed25519PublicKey.from_cose_key(cnf[cwt.CNF_COSE_KEY])
        except (VCError, TypeError, KeyError, LookupError):
            raise WalletInvalid("the credential's cnf is not an Ed25519 device key") from None
    return HeldCredential(text, cti, iss, iat, exp, holder)


@dataclass(frozen=True, slots=True)
class Contents:
    """The sealed part of a wallet."""

    device_key: Ed25519PrivateKey
    credential: str | None
    issuer: str | None
    created_at: int

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "device_key": b64(self.device_key.seed),
                "credential": self.credential,
                "issuer": self.issuer,
                "created_at": self.created_at,
            }
        ).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Contents:
        try:
            value = json.loads(data)
            return cls(
                Ed25519PrivateKey(unb64(value["device_key"], "device key")),
                value["credential"],
                value["issuer"],
                int(value["created_at"]),
            )
        except (ValueError, KeyError, TypeError, VCError):
            raise WalletInvalid("the wallet's sealed data is malformed") from None


@dataclass(frozen=True, slots=True)
class WalletStatus:
    """What ``vcsdk wallet status`` shows (no secrets)."""

    destroyed: bool
    unlocked: bool
    failed_attempts: int
    attempts_left: int
    method: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "destroyed": self.destroyed,
            "unlocked": self.unlocked,
            "failed_attempts": self.failed_attempts,
            "attempts_left": self.attempts_left,
            "unlock_method": self.method,
        }


class OpenWallet:
    """An unlocked wallet: the device key in memory, able to present and to store credentials."""

    def __init__(self, wallet: Wallet, data_key: bytes, contents: Contents) -> None:
        self._wallet = wallet
        self._data_key = data_key
        self.contents = contents

    @property
    def device_public_key(self) -> Ed25519PublicKey:
        """The device key's public half (what issuers put in ``cnf``)."""
        return self.contents.device_key.public_key

    @property
    def credential(self) -> HeldCredential | None:
        """The held credential, if any."""
        text = self.contents.credential
        return None if text is None else read_credential(text)

    def present(self, now: int, challenge: Challenge | None = None) -> str:
        """A ``GIDP1:`` presentation of the held credential at ``now`` (answering ``challenge``)."""
        if self.contents.credential is None:
            raise WalletInvalid("the wallet holds no credential yet: request or import one")
        return present(self.contents.credential, self.contents.device_key, now=now, challenge=challenge)

    def store_credential(self, text: str, issuer: str | None = None) -> HeldCredential:
        """Keep ``text`` (it must be bound to this wallet's device key); replaces the old one."""
        held = read_credential(text)
        if held.holder_key != self.device_public_key:
            raise WalletInvalid("the credential is not bound to this wallet's device key")
        self.contents = replace(self.contents, credential=text, issuer=issuer or self.contents.issuer)
        self._wallet._write_data(self._data_key, self.contents)
        return held

    def change_unlocker(self, unlocker: Unlocker) -> None:
        """Re-seal the data key with a new unlocker (``change-pin``)."""
        self._wallet._set_vault(unlocker.seal(self._data_key))

    def start_session(self, now: int, seconds: int = DEFAULT_SESSION_SECONDS) -> None:
        """Stay unlocked for ``seconds`` (``Wallet.resume`` opens it again without the PIN)."""
        self._wallet._start_session(self._data_key, now, seconds)


class Wallet:
    """A wallet file. ``Wallet(path)`` reads nothing until asked; every change is written atomically."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.session_path = self.path.with_name(self.path.name + ".session")

    # ------------------------------------------------------------------ create / open

    @classmethod
    def create(
        cls, path: str | os.PathLike[str], unlocker: Unlocker, *, now: int, device_key: Ed25519PrivateKey | None = None
    ) -> OpenWallet:
        """A new wallet with a device key generated here (it never leaves the wallet)."""
        wallet = cls(path)
        try:
            wallet.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise FileError(f"cannot create {wallet.path.parent}: {exc.strerror}") from None
        key = Ed25519PrivateKey.generate() if device_key is None else device_key
        data_key = nacl.utils.random(nacl.secret.SecretBox.KEY_SIZE)
        contents = Contents(key, None, None, now)
        record = {
            "format": FORMAT,
            "vault": unlocker.seal(data_key),
            "data": b64(nacl.secret.SecretBox(data_key).encrypt(contents.to_bytes())),
            "failed_attempts": 0,
            "max_attempts": MAX_ATTEMPTS,
            "destroyed": False,
            "session": None,
        }
        wallet._write(record, overwrite=False)
        return OpenWallet(wallet, data_key, contents)

    def unlock(self, unlocker: Unlocker) -> OpenWallet:
        """Open with an unlocker. Each failure counts; the ``max_attempts``-th destroys the key."""
        record = self._read()
        self._refuse_destroyed(record)
        record["failed_attempts"] += 1  # counted before trying: a killed process still counts
        self._write(record)
        try:
            data_key = unlocker.open(record["vault"])
        except WalletPinInvalid:
            if record["failed_attempts"] >= record["max_attempts"]:
                self._destroy(record)
                raise WalletKeyDestroyed(
                    f"{record['max_attempts']} wrong PINs: the device key is destroyed; ask for re-issuance"
                ) from None
            left = record["max_attempts"] - record["failed_attempts"]
            raise WalletPinInvalid(f"wrong PIN ({left} attempt{'s' if left != 1 else ''} left)") from None
        contents = self._open_data(data_key, record)
        record["failed_attempts"] = 0
        self._write(record)
        return OpenWallet(self, data_key, contents)

    def resume(self, now: int) -> OpenWallet:
        """Open from the current session; :class:`WalletLocked` when there is none or it expired."""
        record = self._read()
        self._refuse_destroyed(record)
        session = record.get("session")
        if not isinstance(session, dict) or not self.session_path.exists():
            raise WalletLocked("the wallet is locked: unlock it first")
        expires = session.get("expires_at")
        if not isinstance(expires, int) or now >= expires:
            self.lock()
            raise WalletLocked("the wallet's session expired: unlock it again")
        try:
            session_key = unb64(self.session_path.read_text(encoding="ascii").strip(), "session key")
            data_key = bytes(nacl.secret.SecretBox(session_key).decrypt(unb64(session.get("box"), "session")))
        except (OSError, ValueError, nacl.exceptions.CryptoError):
            self.lock()
            raise WalletLocked("the wallet's session is not usable: unlock it again") from None
        return OpenWallet(self, data_key, self._open_data(data_key, record))

    def lock(self) -> None:
        """End the session: forget the session key and its box ("log out before lending the phone")."""
        with contextlib.suppress(FileNotFoundError):
            self.session_path.unlink()
        record = self._read()
        if record.get("session") is not None:
            record["session"] = None
            self._write(record)

    def status(self, now: int) -> WalletStatus:
        """Destroyed or not, unlocked or not, attempts left."""
        record = self._read()
        session = record.get("session")
        unlocked = (
            isinstance(session, dict)
            and self.session_path.exists()
            and isinstance(session.get("expires_at"), int)
            and now < session["expires_at"]
        )
        vault = record.get("vault")
        method = vault.get("method") if isinstance(vault, dict) else None
        failed = record["failed_attempts"]
        return WalletStatus(
            record["destroyed"], bool(unlocked), failed, max(0, record["max_attempts"] - failed), method
        )

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _refuse_destroyed(record: dict[str, Any]) -> None:
        if record["destroyed"]:
            raise WalletKeyDestroyed("this wallet's device key was destroyed after too many wrong PINs: re-issue")

    def _open_data(self, data_key: bytes, record: dict[str, Any]) -> Contents:
        try:
            plain = nacl.secret.SecretBox(data_key).decrypt(unb64(record.get("data"), "data"))
        except (nacl.exceptions.CryptoError, ValueError):
            raise WalletInvalid("the wallet's data does not open with its key (file damaged or spliced)") from None
        return Contents.from_bytes(bytes(plain))

    def _write_data(self, data_key: bytes, contents: Contents) -> None:
        record = self._read()
        self._refuse_destroyed(record)
        record["data"] = b64(nacl.secret.SecretBox(data_key).encrypt(contents.to_bytes()))
        self._write(record)

    def _set_vault(self, envelope: dict[str, Any]) -> None:
        record = self._read()
        self._refuse_destroyed(record)
        record["vault"] = envelope
        self._write(record)

    def _start_session(self, data_key: bytes, now: int, seconds: int) -> None:
        if type(seconds) is not int or seconds <= 0:
            raise UsageError("a session lasts a positive number of seconds")
        session_key = nacl.utils.random(nacl.secret.SecretBox.KEY_SIZE)
        atomic_write(self.session_path, b64(session_key).encode("ascii"), mode=PRIVATE_MODE)
        record = self._read()
        record["session"] = {
            "expires_at": now + seconds,
            "box": b64(nacl.secret.SecretBox(session_key).encrypt(data_key)),
        }
        self._write(record)

    def _destroy(self, record: dict[str, Any]) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.session_path.unlink()
        self._write({**record, "vault": None, "data": None, "session": None, "destroyed": True})

    def _read(self) -> dict[str, Any]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            raise WalletInvalid(f"no wallet at {self.path}: run `vcsdk wallet init` first") from None
        except OSError as exc:
            raise FileError(f"cannot read {self.path}: {exc.strerror}") from None
        if len(raw) > MAX_WALLET_BYTES:
            raise WalletInvalid("the wallet file is too large")
        try:
            record = json.loads(raw)
        except ValueError:
            raise WalletInvalid("the wallet file is not JSON") from None
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            raise WalletInvalid(f"not a {FORMAT} wallet file")
        failed, most, destroyed = record.get("failed_attempts"), record.get("max_attempts"), record.get("destroyed")
        if type(failed) is not int or type(most) is not int or not isinstance(destroyed, bool):
            raise WalletInvalid("the wallet file's counters are malformed")
        if not 1 <= most <= MAX_ATTEMPTS or failed < 0:
            raise WalletInvalid(f"the wallet file's lock-out must allow 1 to {MAX_ATTEMPTS} attempts")
        if not destroyed and not isinstance(record.get("vault"), dict):
            raise WalletInvalid("the wallet file has no vault")
        return record

    def _write(self, record: dict[str, Any], *, overwrite: bool = True) -> None:
        atomic_write(self.path, json.dumps(record, indent=1).encode("utf-8"), mode=PRIVATE_MODE, overwrite=overwrite)
