"""Write the seed corpora (``fuzz/corpus/<target>/``) from valid inputs of the fuzz world.

Deterministic: the keys and the clock are fixed, so running it again rewrites the same bytes
(Ed25519 signatures are deterministic). Run ``python -m fuzz.make_corpus`` after a wire-format
change and commit the result.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path

from PIL import Image

from fuzz import service_json
from fuzz.targets import (
    ANCHOR,
    AUDIENCE,
    CHALLENGE_AT,
    CHALLENGE_NONCE,
    DEVICE,
    GATE_ID,
    ISSUER,
    NOW,
    SEED_TEXT,
    STATUS_REF,
    STATUS_URI,
    TARGETS,
    seed_claims,
)
from vcsdk import Issuer, fixed_clock
from vcsdk.codec import base45, cbor, cose, deflate, qrtext
from vcsdk.holder import Challenge, present
from vcsdk.holder.proof import make_key_proof, verify_key_proof
from vcsdk.limits import DEFAULT_LIMITS
from vcsdk.qr import render_png
from vcsdk.revocation import pack, sign_token
from vcsdk.trust.bundle import build_bundle
from vcsdk.trust.store import TrustedKey, jwks_for
from vcsdk.trust.trustlist import TrustList, sign_trust_list

CORPUS = Path(__file__).resolve().parent / "corpus"


def seeds() -> dict[str, list[bytes]]:
    """Every target's seeds."""
    cose_bytes = qrtext.unpack(SEED_TEXT, "GID1:", DEFAULT_LIMITS)
    body = SEED_TEXT[len("GID1:") :]
    token = sign_token(pack([0, 1, 2, 3] * 4, 2), STATUS_URI, ISSUER, issued_at=NOW - 100, expires_at=NOW + 86_400)
    token_1bit = sign_token(pack([1, 0] * 40, 1), STATUS_URI, ISSUER, issued_at=NOW - 50, ttl=3600)
    trust_list = sign_trust_list(
        TrustList(1, NOW - 86_400, NOW + 86_400, (TrustedKey(ISSUER.public_key, issuer="KR-MOIS"),)), ANCHOR
    )
    bundle = build_bundle(trust_list, [token], ANCHOR, version=1, issued_at=NOW - 60, expires_at=NOW + 86_400)
    proof = make_key_proof(ISSUER, audience=AUDIENCE, nonce="n-0123456789", issued_at=NOW)
    claims_payload = cose.decode_sign1(cose_bytes, DEFAULT_LIMITS).payload
    qr = [b"\x00" + SEED_TEXT.encode("ascii"), b"\x01" + cose_bytes, b"\x00HC1:6BF+70790T9WJWG.FKY*4GO0"]
    png = render_png(SEED_TEXT, ecc="Q", module_px=2)
    small = io.BytesIO()
    Image.new("L", (8, 8), 255).save(small, "PNG")
    gif = io.BytesIO()
    Image.new("P", (4, 4), 0).save(gif, "GIF")
    photo = io.BytesIO()
    Image.new("L", (350, 450), 200).save(photo, "JPEG", quality=30)
    presentation, challenge = _presentation_seeds()
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    return {
        "qr_reference": qr,
        "qr_fast": qr,
        "qr_lanes": [*qr, *(bytes([seed[0] | 4]) + seed[1:] for seed in presentation)],
        "inspect": qr,
        "status_token": [token, token_1bit],
        "trust_list": [trust_list],
        "jwks": [json.dumps(jwks_for([ISSUER.public_key])).encode()],
        "gate_bundle": [bundle],
        "cbor": [cose_bytes, claims_payload, token, b"\xd8\x64\x19\x2b\x67", b"\xa0", b"\x80"],
        "base45": [body.encode("ascii"), b"QED8WEX0", b"%69 VD92EX0", b"BB8", b""],
        "zlib": [base45.b45decode(body), deflate.compress(b""), deflate.compress(b"\x00" * 4096)],
        "image": [png, small.getvalue(), gif.getvalue()],
        "key_proof": [proof],
        "presentation": presentation,
        "challenge": challenge,
        "upload": [b"\x01" + photo.getvalue(), b"\x00" + pdf, b"\x02" + small.getvalue()],
        "service_json": service_json.seeds(),
        "upload_meta": [b'{"captured": "2026-05-01"}', b'{"note": "scan", "pages": 2, "colour": true}', b""],
    }


def _presentation_seeds() -> tuple[list[bytes], list[bytes]]:
    """Presentations of a device-bound credential (bare and answering the gate's challenge) in
    each of the presentation target's three input forms, and the challenge in both of its forms."""
    device = verify_key_proof(
        make_key_proof(DEVICE, audience=AUDIENCE, nonce="n-device-01", issued_at=NOW), audience=AUDIENCE, now=NOW
    )
    issuer = Issuer(ISSUER, "KR-MOIS", clock=fixed_clock(NOW - 100))
    credential = issuer.issue(seed_claims(), status=STATUS_REF, credential_id=bytes(16), holder=device).qr_text
    challenge = Challenge(CHALLENGE_NONCE, GATE_ID, CHALLENGE_AT)
    presentation: list[bytes] = []
    for answer in (None, challenge):
        text = present(credential, DEVICE, now=NOW - 2, challenge=answer)
        message = qrtext.unpack(text, "GIDP1:", DEFAULT_LIMITS)
        payload = cose.decode_sign1(message, DEFAULT_LIMITS).payload
        presentation += [b"\x00" + text.encode("ascii"), b"\x01" + message, b"\x03" + payload]
    body = cbor.dumps({1: CHALLENGE_NONCE, 2: GATE_ID, 3: CHALLENGE_AT})
    return presentation, [b"\x00" + challenge.to_text().encode("ascii"), b"\x01" + body]


def main() -> int:
    written = 0
    corpora = seeds()
    missing = set(TARGETS) - set(corpora)
    if missing:
        print(f"no seeds for {sorted(missing)}", file=sys.stderr)
        return 1
    for name, items in corpora.items():
        folder = CORPUS / name
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        for data in items:
            (folder / hashlib.sha256(data).hexdigest()[:40]).write_bytes(data)
            written += 1
    print(f"wrote {written} seeds for {len(corpora)} targets into {CORPUS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
