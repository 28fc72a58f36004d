"""Frozen results of verification, typed by credential."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Generic, Protocol, TypeVar

from .._slots import slot_constructor
from ..clock import format_time
from ..codec.cwt import StatusReference
from ..errors import Code
from ..keys import PublicKey
from ..profiles.official_id import OfficialID
from ..trust.store import TrustedKey
from .status import StatusCheck


class Credential(Protocol):
    """What every verified credential type offers (official ID, EU DCC, ...)."""

    @property
    def kid(self) -> bytes: ...

    def claims_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class PresentationInfo:
    """How a credential was presented: by its device key at ``presented_at``, maybe answering a challenge."""

    presented_at: int
    challenged: bool
    gate_id: str | None


@dataclass(frozen=True, slots=True)
class VerifiedCredential:
    """A credential that passed every check. Only a verifier creates these."""

    profile: str
    kid: bytes
    issuer: str
    credential_id: bytes
    issued_at: int
    not_before: int | None
    expires_at: int
    claims: OfficialID
    status: StatusReference | None
    """Where the credential's status lives, when it names a status list."""
    status_check: StatusCheck | None
    """The status that was checked; None when there was none to check or policy allowed unknown."""
    status_list_age: int | None
    """Seconds between the status list's ``iat`` and the verification time, when checked."""
    holder_key: PublicKey | None
    """The phone's device key from ``cnf``, for holder binding; None when absent."""
    trust_source: str
    """Where the signing key came from (e.g. ``"jwks (unsigned)"``)."""
    signer: TrustedKey = field(compare=False, repr=False, kw_only=True)
    """The trusted key that signed it (its issuer, window and state as the verifier saw them)."""
    presentation: PresentationInfo | None = field(default=None, kw_only=True)
    """Set when the credential came inside a verified presentation (holder binding)."""

    code = Code.VALID

    def with_presentation(self, info: PresentationInfo) -> VerifiedCredential:
        """A copy that records the presentation it came in."""
        return new_verified_credential(  # on the presentation hot path: cheaper than replace() or __init__
            self.profile,
            self.kid,
            self.issuer,
            self.credential_id,
            self.issued_at,
            self.not_before,
            self.expires_at,
            self.claims,
            self.status,
            self.status_check,
            self.status_list_age,
            self.holder_key,
            self.trust_source,
            self.signer,
            info,
        )

    def replace_status(self, status_check: StatusCheck | None, status_list_age: int | None) -> VerifiedCredential:
        """A copy with a newer status outcome (what a repeat scan re-checks)."""
        return replace(self, status_check=status_check, status_list_age=status_list_age)

    def claims_json(self) -> dict[str, Any]:
        """The claims under their JSON names (what ``verify --json`` prints)."""
        return self.claims.to_json()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (claims under their JSON names)."""
        return {
            "profile": self.profile,
            "kid": self.kid.hex(),
            "iss": self.issuer,
            "cti": self.credential_id.hex(),
            "iat": format_time(self.issued_at),
            "nbf": None if self.not_before is None else format_time(self.not_before),
            "exp": format_time(self.expires_at),
            "status": None if self.status is None else {"idx": self.status.idx, "uri": self.status.uri},
            "status_checked": self.status_check is not None,
            "status_list_age": self.status_list_age,
            "trust_source": self.trust_source,
            "presentation": None
            if self.presentation is None
            else {
                "presented_at": format_time(self.presentation.presented_at),
                "challenged": self.presentation.challenged,
                "gate_id": self.presentation.gate_id,
            },
            "claims": self.claims.to_json(),
        }


new_verified_credential = slot_constructor(VerifiedCredential)
"""``VerifiedCredential`` from every field in order (signer and presentation too), without the
dataclass ``__init__``: what the verifiers use on every scan (about half the interpreter's work)."""

C = TypeVar("C", bound=Credential, covariant=True)


@dataclass(frozen=True, slots=True)
class Verification(Generic[C]):
    """The non-raising outcome of ``check()``: valid or not, with a stable code.

    Its truth value is ``valid``: ``if verifier.check(text):`` opens only for a valid credential.
    """

    valid: bool
    code: Code
    message: str
    kid: bytes | None = None
    credential: C | None = None
    """The verified credential (:class:`VerifiedCredential`, or another profile's type, e.g.
    :class:`vcsdk.profiles.hc1.HC1Credential`), or None when not valid."""

    def __bool__(self) -> bool:
        return self.valid

    def to_json(self) -> dict[str, Any]:
        """The DESIGN section 7 JSON shape: valid, code, message, kid, claims."""
        return {
            "valid": self.valid,
            "code": str(self.code),
            "message": self.message,
            "kid": None if self.kid is None else self.kid.hex(),
            "claims": None if self.credential is None else self.credential.claims_json(),
        }
