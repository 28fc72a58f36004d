"""IETF Token Status List codec (draft-ietf-oauth-status-list-20, section 4).

``bits`` per entry (1, 2, 4 or 8); entry *i* occupies ``bits`` bits starting at the
least-significant bit of byte ``i * bits // 8``. The byte array travels zlib-compressed as
``lst``; in CBOR as a byte string, in JSON as unpadded base64url.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..codec import deflate
from ..codec.cbor import MAP_TYPES
from ..errors import ClaimsInvalid, UsageError
from ..keys import b64url_decode, b64url_encode
from ..limits import DEFAULT_LIMITS, Limits

ALLOWED_BITS = (1, 2, 4, 8)


def _check_bits(bits: object) -> int:
    if type(bits) is not int or bits not in ALLOWED_BITS:
        raise ClaimsInvalid(f"status list bits must be 1, 2, 4 or 8, not {bits!r}")
    return bits


@dataclass(frozen=True, slots=True)
class StatusList:
    """An immutable status list: ``bits`` per entry over the packed byte array ``data``."""

    bits: int
    data: bytes
    aggregation_uri: str | None = None

    def __post_init__(self) -> None:
        _check_bits(self.bits)

    @property
    def size(self) -> int:
        """How many entries the byte array holds."""
        return len(self.data) * 8 // self.bits

    def get(self, idx: int) -> int:
        """The status value at ``idx``; :class:`IndexError` when out of range."""
        if not 0 <= idx < self.size:
            raise IndexError(f"index {idx} is outside the list of {self.size} entries")
        position = idx * self.bits
        return (self.data[position >> 3] >> (position & 7)) & ((1 << self.bits) - 1)

    def counts(self) -> dict[int, int]:
        """How many entries hold each non-zero value (for reports)."""
        counts: dict[int, int] = {}
        mask = (1 << self.bits) - 1
        per_byte = 8 // self.bits
        for byte in self.data:
            if byte:
                for slot in range(per_byte):
                    value = (byte >> (slot * self.bits)) & mask
                    if value:
                        counts[value] = counts.get(value, 0) + 1
        return counts

    # ------------------------------------------------------------------ encodings

    def compressed(self) -> bytes:
        """``lst``: the byte array, zlib-compressed at the highest level (as the draft advises)."""
        return deflate.compress(self.data, 9)

    def to_cbor(self) -> dict[str, Any]:
        """The CBOR ``StatusList`` map: ``{"bits": uint, "lst": bstr}``."""
        out: dict[str, Any] = {"bits": self.bits, "lst": self.compressed()}
        if self.aggregation_uri is not None:
            out["aggregation_uri"] = self.aggregation_uri
        return out

    def to_json(self) -> dict[str, Any]:
        """The JSON ``status_list`` object: ``{"bits": n, "lst": base64url}``."""
        out: dict[str, Any] = {"bits": self.bits, "lst": b64url_encode(self.compressed())}
        if self.aggregation_uri is not None:
            out["aggregation_uri"] = self.aggregation_uri
        return out

    @classmethod
    def from_compressed(
        cls, bits: int, lst: bytes, limits: Limits = DEFAULT_LIMITS, aggregation_uri: str | None = None
    ) -> StatusList:
        """Decompress ``lst`` (capped at ``limits.max_status_list_bytes``, never a ratio)."""
        return cls(_check_bits(bits), deflate.decompress(lst, limits.max_status_list_bytes), aggregation_uri)

    @classmethod
    def from_cbor(cls, value: Any, limits: Limits = DEFAULT_LIMITS) -> StatusList:
        """Parse the CBOR ``StatusList`` map."""
        if not isinstance(value, MAP_TYPES) or not {"bits", "lst"} <= set(value.keys()):
            raise ClaimsInvalid('status_list must be a map with "bits" and "lst"')
        lst, aggregation = value["lst"], value.get("aggregation_uri")
        if type(lst) is not bytes:
            raise ClaimsInvalid("status_list lst must be a byte string")
        if aggregation is not None and not isinstance(aggregation, str):
            raise ClaimsInvalid("status_list aggregation_uri must be text")
        return cls.from_compressed(value["bits"], lst, limits, aggregation)

    @classmethod
    def from_json(cls, value: Mapping[str, Any], limits: Limits = DEFAULT_LIMITS) -> StatusList:
        """Parse the JSON ``status_list`` object."""
        if not isinstance(value, Mapping) or not isinstance(value.get("lst"), str):
            raise ClaimsInvalid('status_list must be an object with "bits" and a text "lst"')
        try:
            lst = b64url_decode(value["lst"], "lst")
        except UsageError as exc:
            raise ClaimsInvalid(exc.message) from None
        return cls.from_compressed(value.get("bits"), lst, limits, value.get("aggregation_uri"))  # type: ignore[arg-type]


class StatusListBuilder:
    """A mutable status list for issuers: set values, then :meth:`freeze`."""

    __slots__ = ("_data", "bits", "size")

    def __init__(self, size: int, bits: int) -> None:
        _check_bits(bits)
        if type(size) is not int or size <= 0:
            raise UsageError("a status list needs a positive number of entries")
        self.bits = bits
        self.size = size
        self._data = bytearray((size * bits + 7) // 8)

    def set(self, idx: int, value: int) -> None:
        """Store ``value`` at ``idx`` (both range-checked)."""
        if not 0 <= idx < self.size:
            raise UsageError(f"index {idx} is outside the list of {self.size} entries")
        mask = (1 << self.bits) - 1
        if not 0 <= value <= mask:
            raise UsageError(f"status value {value} does not fit in {self.bits} bits")
        position = idx * self.bits
        shift = position & 7
        byte = position >> 3
        self._data[byte] = (self._data[byte] & ~(mask << shift) & 0xFF) | (value << shift)

    def update(self, values: Iterable[tuple[int, int]]) -> None:
        """Set many ``(idx, value)`` pairs."""
        for idx, value in values:
            self.set(idx, value)

    def freeze(self) -> StatusList:
        """An immutable snapshot."""
        return StatusList(self.bits, bytes(self._data))


def pack(values: Iterable[int], bits: int) -> StatusList:
    """A status list holding ``values`` in order (index 0 first)."""
    listed = list(values)
    builder = StatusListBuilder(max(len(listed), 1), bits)
    builder.update(enumerate(listed))
    return builder.freeze()
