"""The reference wallet: PIN lock-out, sealing, sessions, presentations, and the OpenID4VCI client
against a tiny in-test issuer that follows the service contract."""

from __future__ import annotations

import json
import stat
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.conftest import NOW, SEED
from tests.oid4vci_issuer import running_issuer
from vcsdk import Code, Ed25519PrivateKey, Verifier, fixed_clock
from vcsdk.errors import (
    IssuanceRequestFailed,
    UsageError,
    WalletInvalid,
    WalletKeyDestroyed,
    WalletLocked,
    WalletPinInvalid,
)
from vcsdk.holder import decode_challenge
from vcsdk.verify import StatusPolicy
from vcsdk.verify.presentation import PresentationGuard
from vcsdk.wallet import IssuerClient, OpenWallet, PinUnlocker, Wallet, read_credential
from vcsdk.wallet.client import Response

PIN = "246810"


def pin(value: str = PIN) -> PinUnlocker:
    return PinUnlocker(value, kdf="min")


def _new(tmp_path: Path) -> OpenWallet:
    return Wallet.create(tmp_path / "wallet.json", pin(), now=NOW)


def _request(opened: OpenWallet, *, by_reference: bool = False) -> str:
    with running_issuer() as issuer:
        issuer.now = NOW
        body, offer_id = issuer.offer()
        if by_reference:
            link = "openid-credential-offer://?credential_offer_uri=" + urllib.parse.quote(
                f"{issuer.base}/offers/{offer_id}", safe=""
            )
        else:
            link = "openid-credential-offer://?credential_offer=" + urllib.parse.quote(json.dumps(body), safe="")
        client = IssuerClient()
        text = client.request(client.read_offer(link), opened.contents.device_key, tx_code="123456", now=NOW)
        opened.store_credential(text, issuer.base)
        return text


def test_five_wrong_pins_lock_out_and_destroy_the_key(tmp_path: Path) -> None:
    _new(tmp_path)
    wallet = Wallet(tmp_path / "wallet.json")
    for attempt in range(1, 5):
        with pytest.raises(WalletPinInvalid, match=f"{5 - attempt} attempt"):
            wallet.unlock(pin("000000"))
        assert wallet.status(NOW).failed_attempts == attempt
    with pytest.raises(WalletKeyDestroyed):
        wallet.unlock(pin("000000"))
    with pytest.raises(WalletKeyDestroyed):
        wallet.unlock(pin())  # the right PIN is too late: the key is gone
    raw = json.loads((tmp_path / "wallet.json").read_text())
    assert raw["destroyed"] is True and raw["vault"] is None and raw["data"] is None
    assert wallet.status(NOW).destroyed


def test_a_right_pin_resets_the_count(tmp_path: Path) -> None:
    _new(tmp_path)
    wallet = Wallet(tmp_path / "wallet.json")
    for _ in range(4):
        with pytest.raises(WalletPinInvalid):
            wallet.unlock(pin("000000"))
    wallet.unlock(pin())
    assert wallet.status(NOW).failed_attempts == 0
    with pytest.raises(WalletPinInvalid):
        wallet.unlock(pin("000000"))  # four more tries before the lock-out, not zero


def test_the_file_read_raw_is_useless_without_the_pin(tmp_path: Path) -> None:
    opened = _new(tmp_path)
    text = _request(opened)
    path = tmp_path / "wallet.json"
    raw = path.read_bytes()
    seed = opened.contents.device_key.seed
    import base64

    for secret in (seed, seed.hex().encode(), base64.b64encode(seed), text.encode(), text[5:40].encode()):
        assert secret not in raw
    assert "김민준".encode() not in raw and b"KIM" not in raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Wallet(path).unlock(pin()).contents.credential == text


def test_tampered_counters_or_parameters_are_refused(tmp_path: Path) -> None:
    _new(tmp_path)
    path = tmp_path / "wallet.json"
    record = json.loads(path.read_text())
    for change in ({"failed_attempts": -100}, {"max_attempts": 1000}, {"format": "other"}, {"destroyed": "no"}):
        path.write_text(json.dumps({**record, **change}))
        with pytest.raises(WalletInvalid):
            Wallet(path).unlock(pin())
    path.write_text(json.dumps({**record, "vault": {**record["vault"], "memlimit": 1 << 40}}))
    with pytest.raises(WalletInvalid):
        Wallet(path).unlock(pin())
    path.write_text("not json")
    with pytest.raises(WalletInvalid):
        Wallet(path).status(NOW)
    with pytest.raises(WalletInvalid):
        Wallet(tmp_path / "absent.json").unlock(pin())


def test_show_refuses_while_locked_and_lock_ends_the_session(tmp_path: Path) -> None:
    opened = _new(tmp_path)
    wallet = Wallet(tmp_path / "wallet.json")
    with pytest.raises(WalletLocked):
        wallet.resume(NOW)
    opened.start_session(NOW, 60)
    assert wallet.status(NOW).unlocked
    assert wallet.resume(NOW + 59).device_public_key == opened.device_public_key
    with pytest.raises(WalletLocked):
        wallet.resume(NOW + 60)  # the session ran out
    opened.start_session(NOW, 60)
    wallet.lock()
    assert not wallet.session_path.exists()
    with pytest.raises(WalletLocked):
        wallet.resume(NOW)


def test_change_pin(tmp_path: Path) -> None:
    opened = _new(tmp_path)
    opened.change_unlocker(pin("135799"))
    wallet = Wallet(tmp_path / "wallet.json")
    with pytest.raises(WalletPinInvalid):
        wallet.unlock(pin())
    assert wallet.unlock(pin("135799")).device_public_key == opened.device_public_key


def test_pins_are_digits_of_sensible_length() -> None:
    for bad in ("12345", "abcdef", "1" * 65):
        with pytest.raises(UsageError):
            PinUnlocker(bad)


def test_request_by_value_and_by_reference_binds_the_wallet_key(tmp_path: Path) -> None:
    for by_reference, name in ((False, "a"), (True, "b")):
        opened = Wallet.create(tmp_path / f"{name}.json", pin(), now=NOW)
        text = _request(opened, by_reference=by_reference)
        assert read_credential(text).holder_key == opened.device_public_key


def test_the_wallet_presentation_passes_a_gate_and_answers_a_challenge(tmp_path: Path) -> None:
    opened = _new(tmp_path)
    _request(opened)
    guard = PresentationGuard("gate-1")
    gate = Verifier(
        [Ed25519PrivateKey(SEED).public_key],
        clock=fixed_clock(NOW + 5),
        status_policy=StatusPolicy.ALLOW_UNKNOWN,
        presentations=guard,
    )
    assert gate.check(opened.present(NOW + 5)).code == Code.VALID
    challenge = decode_challenge(guard.challenge(NOW + 5).to_text())
    assert gate.check(opened.present(NOW + 6, challenge)).code == Code.VALID


def test_wallet_refuses_credentials_bound_to_another_key(tmp_path: Path) -> None:
    first = Wallet.create(tmp_path / "a.json", pin(), now=NOW)
    text = _request(first)
    second = Wallet.create(tmp_path / "b.json", pin(), now=NOW)
    with pytest.raises(WalletInvalid):
        second.store_credential(text)
    with pytest.raises(WalletInvalid):
        second.store_credential("GID1:garbage")
    with pytest.raises(WalletInvalid):
        second.present(NOW)  # holds nothing yet


def test_offer_errors_wrong_tx_code_reuse_and_lying_metadata(tmp_path: Path) -> None:
    device = Ed25519PrivateKey.generate()
    with running_issuer() as issuer:
        issuer.now = NOW
        client = IssuerClient()
        body, _ = issuer.offer()
        offer = client.read_offer(json.dumps(body))
        with pytest.raises(IssuanceRequestFailed, match="invalid_grant"):
            client.request(offer, device, tx_code="000000", now=NOW)
        with pytest.raises(UsageError):
            client.request(offer, device, tx_code=None, now=NOW)
        client.request(offer, device, tx_code="123456", now=NOW)
        with pytest.raises(IssuanceRequestFailed, match="invalid_grant"):
            client.request(offer, device, tx_code="123456", now=NOW)  # single use
        issuer.evil_endpoints = True
        body, _ = issuer.offer()
        with pytest.raises(IssuanceRequestFailed, match="under the credential issuer"):
            client.request(client.read_offer(json.dumps(body)), device, tx_code="123456", now=NOW)
        with pytest.raises(IssuanceRequestFailed):
            client.read_offer(json.dumps({**body, "credential_configuration_ids": ["other"]}))
        with pytest.raises(IssuanceRequestFailed):
            client.read_offer(json.dumps({**body, "credential_issuer": "file:///etc/passwd"}))
        with pytest.raises(UsageError):
            client.read_offer("openid-credential-offer://?nothing=1")


def test_refresh_same_key_new_credential_and_refused_when_suspended(tmp_path: Path) -> None:
    opened = _new(tmp_path)
    with running_issuer() as issuer:
        issuer.now = NOW
        body, _ = issuer.offer()
        client = IssuerClient()
        text = client.request(
            client.read_offer(json.dumps(body)), opened.contents.device_key, tx_code="123456", now=NOW
        )
        opened.store_credential(text, issuer.base)
        fresh = client.refresh(issuer.base, text, opened.contents.device_key, now=NOW)
        assert read_credential(fresh).credential_id != read_credential(text).credential_id
        opened.store_credential(fresh)
        with pytest.raises(IssuanceRequestFailed, match="KEY_PROOF_INVALID"):
            client.refresh(issuer.base, fresh, Ed25519PrivateKey.generate(), now=NOW)
        issuer.suspended.add(read_credential(fresh).credential_id)
        with pytest.raises(IssuanceRequestFailed, match="STATUS_SUSPENDED"):
            client.refresh(issuer.base, fresh, opened.contents.device_key, now=NOW)


def test_unreachable_issuer_is_one_error() -> None:
    with running_issuer() as issuer:
        base = issuer.base
        body, _ = issuer.offer()
    client = IssuerClient()
    with pytest.raises(IssuanceRequestFailed, match="cannot reach"):
        client.request(client.read_offer(json.dumps(body)), Ed25519PrivateKey.generate(), tx_code="123456", now=NOW)
    assert base.startswith("http://127.0.0.1:")


def test_plain_http_only_to_this_machine_and_server_text_is_sanitised() -> None:
    client = IssuerClient()
    offer = {
        "credential_issuer": "http://issuer.example",
        "credential_configuration_ids": ["KR-GOV-OfficialID"],
        "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {"pre-authorized_code": "x"}},
    }
    with pytest.raises(IssuanceRequestFailed, match="https only"):
        client.read_offer(json.dumps(offer))
    assert client.read_offer(json.dumps({**offer, "credential_issuer": "https://issuer.example"})).pre_authorized_code

    class Hostile:
        def request(self, method: str, url: str, body: bytes | None, headers: Mapping[str, str]) -> Response:
            evil = {"error": "invalid_grant\x1b[2J", "error_description": "\x1b]0;pwned\x07" + "x" * 5000}
            return Response(400, json.dumps(evil).encode())

    hostile = IssuerClient(Hostile())
    with pytest.raises(IssuanceRequestFailed) as info:
        hostile.read_offer("openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.example%2Fo%2F1")
    assert "\x1b" not in info.value.message and "\x07" not in info.value.message
    assert len(info.value.message) < 500


def test_unlocker_seam_takes_a_platform_keystore(tmp_path: Path) -> None:
    """A keystore-style unlocker (a key held elsewhere) replaces the PIN through the same two methods."""
    import nacl.exceptions
    import nacl.secret

    class Keystore:
        def __init__(self, key: bytes) -> None:
            self._box = nacl.secret.SecretBox(key)

        def seal(self, secret: bytes) -> dict[str, object]:
            return {"method": "test-keystore", "box": self._box.encrypt(secret).hex()}

        def open(self, envelope: Mapping[str, object]) -> bytes:
            try:
                return bytes(self._box.decrypt(bytes.fromhex(str(envelope["box"]))))
            except nacl.exceptions.CryptoError:
                raise WalletPinInvalid("the keystore refused") from None

    opened = Wallet.create(tmp_path / "k.json", Keystore(bytes(32)), now=NOW)
    wallet = Wallet(tmp_path / "k.json")
    assert wallet.unlock(Keystore(bytes(32))).device_public_key == opened.device_public_key
    assert wallet.status(NOW).method == "test-keystore"
    with pytest.raises(WalletPinInvalid):
        wallet.unlock(Keystore(bytes([1]) * 32))  # counted like a wrong PIN
    with pytest.raises(WalletInvalid):
        wallet.unlock(pin())  # a PIN cannot open a keystore-sealed wallet
