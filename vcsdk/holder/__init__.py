"""The holder side: device keys, proofs of possession, presentations and the reference wallet.

* :mod:`~vcsdk.holder.proof` -- proof of possession of a device key, for issuance (OpenID4VCI ``cwt``).
"""

from .proof import KeyProof, make_key_proof, verify_key_proof

__all__ = ["KeyProof", "make_key_proof", "verify_key_proof"]
