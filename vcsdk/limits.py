"""Resource caps checked on every input (h11's habit: named, frozen, in one place)."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import UsageError

QR_MAX_ALPHANUMERIC = 4296
"""Characters in the largest QR code (version 40, ECC L, alphanumeric mode)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps applied while decoding untrusted input. Exceeding any gives ``LIMIT_EXCEEDED``.

    The defaults fit any credential a QR code can carry; they bound memory and CPU for hostile
    input, never as a ratio but as absolute sizes.
    """

    max_text_chars: int = QR_MAX_ALPHANUMERIC
    """Longest QR text accepted (prefix included)."""
    max_inflated_bytes: int = 16 * 1024
    """Largest decompressed COSE message. A zlib bomb stops here without allocating more."""
    max_cbor_depth: int = 16
    """Deepest nesting of arrays, maps and tags."""
    max_cbor_items: int = 2048
    """Most data items (every array element, map key and value) in one decoded document."""
    max_status_list_bytes: int = 4 * 1024 * 1024
    """Largest decompressed status list (4 MiB: 16 M entries at 2 bits) and largest Status List
    Token accepted. A bomb in ``lst`` stops here without allocating more."""

    def __post_init__(self) -> None:
        for name in (
            "max_text_chars",
            "max_inflated_bytes",
            "max_cbor_depth",
            "max_cbor_items",
            "max_status_list_bytes",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise UsageError(f"Limits.{name} must be a positive integer, got {value!r}")


DEFAULT_LIMITS = Limits()
