"""Build hand-crafted (often hostile) QR texts for negative tests.

Each layer can be overridden so that a test reaches exactly the step it targets.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

import cbor2

from tests.conftest import NOW, SEED, reference_claims
from vcsdk import Ed25519PrivateKey
from vcsdk.codec import base45, cbor, cose, cwt
from vcsdk.profiles.official_id import OFFICIAL_ID_CLAIM

PREFIX = "GID1:"
_KEY = Ed25519PrivateKey(SEED)


def official_map() -> dict[int, Any]:
    from vcsdk import OfficialID

    return OfficialID.from_json(reference_claims()).to_cbor()


def claims(**overrides: Any) -> dict[int, Any]:
    """A valid CWT claims map; ``overrides`` by claim name (None deletes)."""
    base: dict[int, Any] = {
        cwt.ISS: "KR-MOIS",
        cwt.IAT: NOW - 100,
        cwt.EXP: NOW + 86_400,
        cwt.CTI: bytes(16),
        cwt.STATUS: {"status_list": {"idx": 7, "uri": "https://id.mois.go.kr/sl/7"}},
        OFFICIAL_ID_CLAIM: official_map(),
    }
    names = {
        "iss": cwt.ISS,
        "iat": cwt.IAT,
        "exp": cwt.EXP,
        "nbf": cwt.NBF,
        "cti": cwt.CTI,
        "cnf": cwt.CNF,
        "status": cwt.STATUS,
        "official": OFFICIAL_ID_CLAIM,
    }
    for name, value in overrides.items():
        key = names[name]
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return base


def sign1_bytes(
    payload: bytes | Mapping[Any, Any] | None = None,
    *,
    protected: Mapping[Any, Any] | None = None,
    protected_bytes: bytes | None = None,
    unprotected: Mapping[Any, Any] | None = None,
    key: Ed25519PrivateKey = _KEY,
    signature: bytes | None = None,
    tag: int | None = 18,
) -> bytes:
    """A COSE_Sign1 signed with ``key`` over exactly what is encoded."""
    if payload is None:
        payload = claims()
    payload_bytes = payload if isinstance(payload, bytes) else cbor.dumps(dict(payload))
    if protected_bytes is None:
        header = {cose.HEADER_ALG: -8, cose.HEADER_KID: key.kid} if protected is None else dict(protected)
        protected_bytes = cose.encode_protected(header)
    if signature is None:
        signature = key.sign(cose.sig_structure(protected_bytes, payload_bytes))
    body = [protected_bytes, dict(unprotected or {}), payload_bytes, signature]
    return cbor2.dumps(body if tag is None else cbor2.CBORTag(tag, body))


def text_from_cose(message: bytes, *, prefix: str = PREFIX) -> str:
    return prefix + base45.b45encode(zlib.compress(message, 9))


def text(payload: bytes | Mapping[Any, Any] | None = None, **kwargs: Any) -> str:
    """A QR text around :func:`sign1_bytes`."""
    return text_from_cose(sign1_bytes(payload, **kwargs))


def text_from_zlib(data: bytes) -> str:
    return PREFIX + base45.b45encode(data)
