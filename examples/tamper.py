"""Forge a promotion: re-encode a credential with a changed rank, keeping the old signature.

Usage: python examples/tamper.py QR_TEXT  -> prints the forged QR text.
The verifier must refuse it with SIGNATURE_INVALID: the signature covers the payload bytes.
"""

import sys

from vcsdk import DEFAULT_LIMITS, OFFICIAL_ID
from vcsdk.codec import cbor, cose, qrtext
from vcsdk.profiles.official_id import OFFICIAL_ID_CLAIM


def forge(text: str, new_rank: str) -> str:
    message = cose.decode_sign1(qrtext.unpack(text, OFFICIAL_ID.prefix, DEFAULT_LIMITS), DEFAULT_LIMITS)
    payload = dict(cbor.loads_strict(message.payload, DEFAULT_LIMITS, frozenset({100})))
    official = dict(payload[OFFICIAL_ID_CLAIM])
    official[7] = new_rank  # 7 = rank
    payload[OFFICIAL_ID_CLAIM] = official
    forged = cose.encode_sign1(message.protected_bytes, message.unprotected, cbor.dumps(payload), message.signature)
    return qrtext.pack(forged, OFFICIAL_ID.prefix)


if __name__ == "__main__":
    print(forge(sys.argv[1], "행정사무관"))
