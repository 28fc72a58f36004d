"""Issuing credentials: claims -> CWT -> COSE_Sign1 -> zlib -> Base45 -> prefixed QR text."""

from .issuer import IssuedCredential, Issuer

__all__ = ["IssuedCredential", "Issuer"]
