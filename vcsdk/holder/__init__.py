"""The holder side: device keys, proofs of possession, presentations and challenges.

* :mod:`~vcsdk.holder.proof` -- proof of possession of a device key, for issuance (OpenID4VCI ``cwt``).
* :mod:`~vcsdk.holder.presentation` -- the ``GIDP1:`` presentation the phone shows at a gate.
* :mod:`~vcsdk.holder.challenge` -- the ``GIDC1:`` challenge a gate shows the phone.
"""

from .challenge import CHALLENGE_PREFIX, Challenge, decode_challenge
from .presentation import PRESENTATION_PREFIX, Presentation, decode_presentation, present
from .proof import KeyProof, make_key_proof, verify_key_proof

__all__ = [
    "CHALLENGE_PREFIX",
    "PRESENTATION_PREFIX",
    "Challenge",
    "KeyProof",
    "Presentation",
    "decode_challenge",
    "decode_presentation",
    "make_key_proof",
    "present",
    "verify_key_proof",
]
