"""The gate's challenge QR (``GIDC1:``): a fresh nonce the phone must sign into its presentation.

Wire format (gate -> phone, unsigned: the nonce only has to be unpredictable and remembered by
the gate that made it)::

    "GIDC1:" + Base45( CBOR {1: nonce (bstr, 16 random bytes), 2: gate id (tstr, 1..64 chars),
                             3: time (uint, Unix seconds when the gate made it)} )

Deterministic CBOR (shortest forms, keys in ascending order); no compression (the text is tiny).
Unknown keys are refused. Pure: bytes and text in, a frozen :class:`Challenge` or one
:class:`~vcsdk.errors.VCError` out.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from ..codec import base45, cbor
from ..codec.cbor import MAP_TYPES
from ..codec.cwt import is_int
from ..errors import ClaimsInvalid, InvalidSchemePrefix, LimitExceeded, UsageError
from ..limits import DEFAULT_LIMITS, Limits

CHALLENGE_PREFIX = "GIDC1:"
NONCE_BYTES = 16
MAX_GATE_ID_CHARS = 64
MAX_CHALLENGE_CHARS = 256
"""A challenge text is about 60 characters; anything longer than this is refused unread."""

_NONCE, _GATE, _TIME = 1, 2, 3


def check_gate_id(gate_id: object) -> str:
    """A gate id is text of 1 to 64 characters; raise :class:`UsageError` otherwise."""
    if not isinstance(gate_id, str) or not 1 <= len(gate_id) <= MAX_GATE_ID_CHARS:
        raise UsageError(f"a gate id is text of 1 to {MAX_GATE_ID_CHARS} characters")
    return gate_id


@dataclass(frozen=True, slots=True)
class Challenge:
    """A gate's challenge: ``nonce`` (16 bytes), the gate's id and the time it was made."""

    nonce: bytes
    gate_id: str
    issued_at: int

    def __post_init__(self) -> None:
        if type(self.nonce) is not bytes or len(self.nonce) != NONCE_BYTES:
            raise UsageError(f"a challenge nonce is {NONCE_BYTES} bytes")
        check_gate_id(self.gate_id)
        if not is_int(self.issued_at) or self.issued_at < 0:
            raise UsageError("a challenge time is non-negative integer Unix seconds")

    @classmethod
    def new(cls, gate_id: str, now: int, *, random: Callable[[int], bytes] = os.urandom) -> Challenge:
        """A fresh challenge with a random nonce (``random`` is injectable for tests)."""
        return cls(random(NONCE_BYTES), gate_id, now)

    def to_text(self) -> str:
        """The ``GIDC1:`` QR text."""
        body = cbor.dumps({_NONCE: self.nonce, _GATE: self.gate_id, _TIME: self.issued_at})
        return CHALLENGE_PREFIX + base45.b45encode(body)


def decode_challenge(text: str | bytes, limits: Limits = DEFAULT_LIMITS) -> Challenge:
    """Parse a ``GIDC1:`` text. Codes: ``LIMIT_EXCEEDED``, ``INVALID_SCHEME_PREFIX``,
    ``BASE45_DECODING_FAILED``, ``CBOR_MALFORMED``, ``CLAIMS_INVALID`` (shape)."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("latin-1")
    if not isinstance(text, str):
        raise UsageError("a challenge is a GIDC1: text")
    if len(text) > MAX_CHALLENGE_CHARS:
        raise LimitExceeded(f"a challenge text is at most {MAX_CHALLENGE_CHARS} characters")
    if not text.startswith(CHALLENGE_PREFIX):
        raise InvalidSchemePrefix(f"expected prefix {CHALLENGE_PREFIX!r}, got {text[: len(CHALLENGE_PREFIX)]!r}")
    value = cbor.loads_strict(base45.b45decode(text[len(CHALLENGE_PREFIX) :]), limits, frozenset())
    if not isinstance(value, MAP_TYPES) or set(value) != {_NONCE, _GATE, _TIME}:
        raise ClaimsInvalid("a challenge is exactly {1: nonce, 2: gate id, 3: time}")
    nonce, gate, when = value[_NONCE], value[_GATE], value[_TIME]
    if type(nonce) is not bytes or len(nonce) != NONCE_BYTES:
        raise ClaimsInvalid(f"the challenge nonce must be {NONCE_BYTES} bytes")
    if not isinstance(gate, str) or not 1 <= len(gate) <= MAX_GATE_ID_CHARS:
        raise ClaimsInvalid(f"the challenge gate id must be text of 1 to {MAX_GATE_ID_CHARS} characters")
    if not is_int(when) or when < 0:
        raise ClaimsInvalid("the challenge time must be unsigned integer Unix seconds")
    return Challenge(nonce, gate, when)
