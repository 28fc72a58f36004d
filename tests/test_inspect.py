"""vcsdk.inspection: every layer shown, the failing one named, validity never claimed."""

from __future__ import annotations

from tests import forge
from tests.conftest import SEED
from vcsdk import Code, Ed25519PrivateKey
from vcsdk.inspection import NOT_VERIFIED, inspect_text, jsonable


def test_full_inspection() -> None:
    report = inspect_text(forge.text())
    assert report.failed_at is None
    assert [layer.name for layer in report.layers] == ["text", "base45", "zlib", "cbor", "cose", "cwt"]
    cose_layer = report.layers[4].info
    assert cose_layer["alg"] == "EdDSA"
    assert cose_layer["kid"] == Ed25519PrivateKey(SEED).kid.hex()
    assert report.layers[5].info["official_id"]["name"] == "김민준"
    assert report.note == NOT_VERIFIED


def test_a_forged_signature_is_inspected_without_complaint() -> None:
    """Inspection does not verify: a bad signature decodes fine (and is not called valid)."""
    report = inspect_text(forge.text(signature=bytes(64)))
    assert report.failed_at is None
    assert "valid" not in report.to_json()


def test_failing_layer_is_named() -> None:
    cases = {
        "HC1:ABC": ("text", Code.INVALID_SCHEME_PREFIX),
        "GID1:abc": ("base45", Code.BASE45_DECODING_FAILED),
        forge.text_from_zlib(b"junk"): ("zlib", Code.DECOMPRESSION_FAILED),
        forge.text(tag=None): ("cose", Code.COSE_MALFORMED),
        forge.text(b"not cbor"): ("cwt", Code.CBOR_MALFORMED),
    }
    for text, (layer, code) in cases.items():
        report = inspect_text(text)
        assert report.failed_at == code, text
        assert report.layers[-1].name == layer
        assert report.layers[-1].error == code


def test_bad_official_claims_are_reported_not_raised() -> None:
    report = inspect_text(forge.text(forge.claims(official={1: 2})))
    assert report.failed_at is None
    assert "CLAIMS_INVALID" in report.layers[-1].info["official_id_problem"]


def test_jsonable() -> None:
    import datetime

    import cbor2

    assert jsonable({1: b"\x01", "d": datetime.date(2020, 1, 2), "t": cbor2.CBORTag(9, [1])}) == {
        "1": {"bstr": "01"},
        "d": "2020-01-02",
        "t": {"tag": 9, "value": [1]},
    }
