"""Build EU DCC (``HC1:``) test credentials and their signer certificates (a helper module shared
by tests/test_trust.py and tests/test_cli.py, not a test module)."""

from __future__ import annotations

import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from tests.conftest import NOW
from vcsdk.codec import cbor, cose, qrtext
from vcsdk.profiles.hc1 import certificate_kid

DAY = 86400


def certificate(key: Any, days: tuple[int, int] = (-365, 365)) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "KR"), x509.NameAttribute(NameOID.COMMON_NAME, "DSC")])
    base = datetime.datetime.fromtimestamp(NOW, tz=datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(base + datetime.timedelta(days=days[0]))
        .not_valid_after(base + datetime.timedelta(days=days[1]))
        .sign(key, hashes.SHA256())
    )


def hc1_text(key: Any, certificate: x509.Certificate, *, kid_where: str = "protected", iat: int = NOW - 100) -> str:
    kid = certificate_kid(certificate.public_bytes(serialization.Encoding.DER))
    alg = -7 if isinstance(key, ec.EllipticCurvePrivateKey) else -37
    protected: dict[int, Any] = {1: alg}
    unprotected: dict[int, Any] = {}
    if kid_where in ("protected", "both"):
        protected[4] = kid
    if kid_where == "unprotected":
        unprotected[4] = kid
    if kid_where == "both":
        unprotected[4] = b"wrongkid"  # the protected one wins
    dcc = {"ver": "1.3.0", "nam": {"fn": "Kim", "gn": "Minjun"}, "dob": "1988-04-17", "v": [{"dn": 2}]}
    payload = cbor.dumps({1: "KR", 6: iat, 4: iat + 365 * DAY, -260: {1: dcc}})

    def sign(data: bytes) -> bytes:
        if isinstance(key, ec.EllipticCurvePrivateKey):
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return key.sign(data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())  # type: ignore[no-any-return]

    return qrtext.pack(cose.sign1(payload, protected, sign, unprotected=unprotected), "HC1:")
