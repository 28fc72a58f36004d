"""Quick start with the Python API: issue the reference official ID and verify it offline.

Run: .venv/bin/python examples/quickstart.py
"""

import json
from pathlib import Path

from vcsdk import Code, Ed25519PrivateKey, Issuer, StatusReference, Verifier

claims = json.loads((Path(__file__).parent / "reference-claims.json").read_text(encoding="utf-8"))

# Issuer side: one Ed25519 key per issuing authority (keep it in a 0600 file, see vcsdk.keys.files).
key = Ed25519PrivateKey.generate()
issuer = Issuer(key, "KR-MOIS")
credential = issuer.issue(claims, status=StatusReference(100_000, "https://id.mois.go.kr/sl/7"))
print(f"QR text ({len(credential.qr_text)} characters): {credential.qr_text[:40]}...")

# Gate side: trust the issuer's public key. The credential names a status list and none is
# loaded here, so the default fail-closed policy answers STATUS_UNKNOWN:
verifier = Verifier([key.public_key])
outcome = verifier.check(credential.qr_text)
assert outcome.code == Code.STATUS_UNKNOWN
print(f"without a status list: {outcome.code} ({outcome.message})")

# A credential without a status claim could never be revoked: refused by default.
plain = issuer.issue(claims)
assert verifier.check(plain.qr_text).code == Code.STATUS_CLAIM_MISSING
# A verifier that opts out of that rule (e.g. for a test deployment) returns typed claims:
verifier = Verifier([key.public_key], require_status=False)
verified = verifier.verify(plain.qr_text)
print(f"VALID: {verified.claims.name} {verified.claims.rank}, {verified.claims.agency}; kid {verified.kid.hex()}")

# Any failure is one VCError subclass with a stable code:
middle = len(plain.qr_text) // 2
damaged = plain.qr_text[:middle] + ("A" if plain.qr_text[middle] != "A" else "B") + plain.qr_text[middle + 1 :]
print(f"damaged: {verifier.check(damaged).code}")
