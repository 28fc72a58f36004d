"""CWT claims (RFC 8392) and the status claim of the IETF Token Status List.

Typed extraction of the standard claims: each check raises :class:`ClaimsInvalid` with a
message naming the claim.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from ..errors import ClaimsInvalid
from .cbor import MAP_TYPES

ISS = 1
SUB = 2
AUD = 3
EXP = 4
NBF = 5
IAT = 6
CTI = 7
CNF = 8
STATUS = 65535  # draft-ietf-oauth-status-list-20 section 6.2

CNF_COSE_KEY = 1  # RFC 8747 section 3.1

CLAIM_NAMES: dict[int, str] = {
    ISS: "iss",
    SUB: "sub",
    AUD: "aud",
    EXP: "exp",
    NBF: "nbf",
    IAT: "iat",
    CTI: "cti",
    CNF: "cnf",
    STATUS: "status",
}


def is_int(value: object) -> TypeGuard[int]:
    """True for a CBOR integer (``bool`` is not one)."""
    return type(value) is int


@dataclass(frozen=True, slots=True)
class StatusReference:
    """Where a credential's status lives: index ``idx`` of the status list at ``uri``."""

    idx: int
    uri: str

    def __post_init__(self) -> None:
        if not is_int(self.idx) or self.idx < 0:
            raise ClaimsInvalid("status_list idx must be an unsigned integer")
        if not isinstance(self.uri, str) or not self.uri:
            raise ClaimsInvalid("status_list uri must be non-empty text")

    def to_cbor(self) -> dict[str, Any]:
        """The status claim value: ``{"status_list": {"idx": ..., "uri": ...}}``."""
        return {"status_list": {"idx": self.idx, "uri": self.uri}}

    @classmethod
    def from_cbor(cls, value: Any) -> StatusReference:
        """Parse the status claim value; extra members are refused."""
        if not isinstance(value, MAP_TYPES) or len(value) != 1 or "status_list" not in value:
            raise ClaimsInvalid('status claim must be a map holding exactly "status_list"')
        inner = value["status_list"]
        if not isinstance(inner, MAP_TYPES) or len(inner) != 2 or "idx" not in inner or "uri" not in inner:
            raise ClaimsInvalid('status_list must be a map holding exactly "idx" and "uri"')
        return cls(inner["idx"], inner["uri"])


def get_int(claims: Mapping[Any, Any], key: int, *, required: bool) -> int | None:
    """An integer claim (NumericDate), or None when absent and optional."""
    if key not in claims:
        if required:
            raise ClaimsInvalid(f"required claim {CLAIM_NAMES.get(key, key)} is missing")
        return None
    value = claims[key]
    if not is_int(value):
        raise ClaimsInvalid(f"claim {CLAIM_NAMES.get(key, key)} must be an integer")
    return int(value)
