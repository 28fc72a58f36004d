"""Keys: RFC 8032 byte-exact signing, Wycheproof Ed25519, formats, files."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from tests.conftest import load_conformance_json
from vcsdk import Ed25519PrivateKey, Ed25519PublicKey, kid_for
from vcsdk.errors import (
    FileError,
    KeyDecryptionFailed,
    KeyInvalid,
    KeyPassphraseRequired,
    TrustSourceInvalid,
)
from vcsdk.keys import ECPublicKey, public_key_from_cose_key, public_key_from_jwk
from vcsdk.keys.files import load_private_key, load_public_key, load_trust, save_jwks, save_private_key
from vcsdk.trust.store import TrustStore


def test_kid_is_first_8_bytes_of_sha256_of_raw_public_key() -> None:
    key = Ed25519PrivateKey.generate()
    assert key.kid == hashlib.sha256(key.public_key.raw).digest()[:8] == kid_for(key.public_key.raw)


def test_formats_round_trip() -> None:
    key = Ed25519PrivateKey.generate()
    public = key.public_key
    assert Ed25519PublicKey.from_pem(public.to_pem()) == public
    assert Ed25519PublicKey.from_jwk(public.to_jwk()) == public
    assert Ed25519PublicKey.from_cose_key(public.to_cose_key()) == public
    assert public_key_from_jwk(public.to_jwk()) == public
    assert public_key_from_cose_key(public.to_cose_key()) == public
    assert Ed25519PrivateKey.from_pem(key.to_pem()).seed == key.seed
    assert Ed25519PrivateKey.from_jwk(key.to_jwk()).seed == key.seed
    assert Ed25519PrivateKey.from_cose_key(key.to_cose_key()).seed == key.seed
    assert b"BEGIN PRIVATE KEY" in key.to_pem()
    assert b"BEGIN PUBLIC KEY" in public.to_pem()


def test_repr_never_shows_the_seed() -> None:
    key = Ed25519PrivateKey(bytes(range(32)))
    assert bytes(range(32)).hex() not in repr(key)
    assert "seed" not in repr(key)


def test_encrypted_pem() -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.to_pem(b"correct horse")
    assert b"ENCRYPTED PRIVATE KEY" in pem
    assert Ed25519PrivateKey.from_pem(pem, b"correct horse").seed == key.seed
    with pytest.raises(KeyPassphraseRequired):
        Ed25519PrivateKey.from_pem(pem)
    with pytest.raises(KeyDecryptionFailed):
        Ed25519PrivateKey.from_pem(pem, b"wrong")


@pytest.mark.parametrize(
    "make",
    [
        lambda: Ed25519PublicKey(b"\x00" * 31),
        lambda: Ed25519PrivateKey(b"\x00" * 33),
        lambda: Ed25519PublicKey.from_pem(b"garbage"),
        lambda: Ed25519PrivateKey.from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
        lambda: Ed25519PublicKey.from_jwk({"kty": "OKP", "crv": "X25519", "x": "AA"}),
        lambda: Ed25519PublicKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": "not base64!"}),
        lambda: Ed25519PublicKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": "AAAA="}),
        lambda: Ed25519PublicKey.from_cose_key({1: 1, -1: 6, -2: "text"}),
        lambda: Ed25519PublicKey.from_cose_key({1: 2, -1: 1, -2: b"x"}),
    ],
)
def test_bad_keys_raise_key_invalid(make: object) -> None:
    with pytest.raises(KeyInvalid):
        make()  # type: ignore[operator]


def test_jwk_with_wrong_kid_is_refused() -> None:
    jwk = Ed25519PrivateKey.generate().public_key.to_jwk()
    jwk["kid"] = "AAAAAAAAAAA"
    with pytest.raises(KeyInvalid):
        Ed25519PublicKey.from_jwk(jwk)


def test_private_key_file_is_0600_and_atomic(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "issuer.key"
    save_private_key(path, key, b"pw")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_private_key(path, b"pw").seed == key.seed
    assert [p.name for p in tmp_path.iterdir()] == ["issuer.key"]  # no temp files left
    with pytest.raises(FileError):
        save_private_key(path, Ed25519PrivateKey.generate())  # never overwrites by default
    assert load_private_key(path, b"pw").seed == key.seed
    save_private_key(path, Ed25519PrivateKey.generate(), overwrite=True)
    assert load_private_key(path).seed != key.seed


def test_public_key_and_trust_files(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    (tmp_path / "pub.pem").write_bytes(key.public_key.to_pem())
    (tmp_path / "pub.jwk").write_text(json.dumps(key.public_key.to_jwk()))
    save_jwks(tmp_path / "trust.jwks", [key.public_key])
    for name in ("pub.pem", "pub.jwk"):
        assert load_public_key(tmp_path / name) == key.public_key
    for name in ("pub.pem", "pub.jwk", "trust.jwks"):
        store = load_trust(tmp_path / name)
        assert [t.key for t in store] == [key.public_key]
    assert load_trust(tmp_path / "trust.jwks").source == "jwks (unsigned)"
    with pytest.raises(FileError):
        load_trust(tmp_path / "missing.jwks")


@pytest.mark.parametrize(
    "document",
    [
        b"not json",
        b"[]",
        b'{"keys": {}}',
        b'{"keys": []}',
        b'{"keys": [1]}',
        b'{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}]}',
    ],
)
def test_malformed_jwks(document: bytes) -> None:
    with pytest.raises(TrustSourceInvalid):
        TrustStore.from_jwks(document)


def test_ec_public_key_from_rfc8392_cose_key() -> None:
    data = load_conformance_json("rfc-vectors", "rfc8392_cwt.json")
    import cbor2

    cose_key = cbor2.loads(bytes.fromhex(data["A.2.3_cose_key_hex"]))
    public = ECPublicKey.from_cose_key(cose_key)
    assert public.alg == -7
    assert public.kid == b"AsymmetricECDSA256"
