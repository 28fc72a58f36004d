"""Credential profiles: the transport and algorithm choices of one wire format."""

from __future__ import annotations

from dataclasses import dataclass

from ..keys import ALG_EDDSA


@dataclass(frozen=True, slots=True)
class Profile:
    """One wire format: its context prefix, accepted algorithms and QR size budget."""

    name: str
    prefix: str
    """Context prefix before the Base45 text; versioned (an incompatible v2 is ``GID2:``)."""
    algorithms: frozenset[int]
    """COSE algorithms the profile binds; a message with any other ``alg`` is refused."""
    qr_budget_chars: int
    """Longest QR text the issuer may produce (prefix included)."""
    qr_version: int
    """The QR version ``qr_budget_chars`` corresponds to (alphanumeric mode at ``qr_ecc``)."""
    qr_ecc: str = "Q"
    """Default QR error-correction level."""
    kid_in_both_buckets: bool = False
    """Accept ``kid`` in both header buckets, the protected one winning (EU DCC practice).
    Off for the official ID: RFC 9052 calls a label in both buckets malformed."""
    claims: str = "official-id"
    """Which claims model the payload carries; :class:`vcsdk.Verifier` handles only
    ``"official-id"`` (the HC1 profile has its own verifier)."""
    status_required: bool = False
    """Refuse a credential without a status claim by default (``STATUS_CLAIM_MISSING``)."""
    bound_qr_budget_chars: int | None = None
    """Budget for a device-bound credential (with ``cnf``); None: the same as unbound."""
    bound_qr_version: int | None = None
    """The QR version ``bound_qr_budget_chars`` corresponds to."""

    def budget(self, bound: bool) -> tuple[int, int]:
        """(characters, QR version) allowed for a bound or an unbound credential."""
        if bound and self.bound_qr_budget_chars is not None and self.bound_qr_version is not None:
            return self.bound_qr_budget_chars, self.bound_qr_version
        return self.qr_budget_chars, self.qr_version


OFFICIAL_ID = Profile(
    name="official-id-v1",
    prefix="GID1:",
    algorithms=frozenset({ALG_EDDSA}),
    qr_budget_chars=574,  # QR version 18, ECC Q, alphanumeric mode
    qr_version=18,
    status_required=True,
    bound_qr_budget_chars=702,  # QR version 20, ECC Q: room for the cnf device key
    bound_qr_version=20,
)
"""The Korean mobile official ID, wire format v1 (DESIGN section 3)."""
