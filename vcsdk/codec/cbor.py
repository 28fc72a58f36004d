"""Strict CBOR (RFC 8949) decoding for untrusted input, and deterministic encoding.

Strict means: no indefinite lengths, no duplicate map keys, only the tags the caller allows,
the whole input consumed, nesting and item counts bounded. Any violation raises
:class:`CBORMalformed` (or :class:`LimitExceeded` for the bounds); no other exception escapes,
so hostile bytes never surface a ``RecursionError`` or ``MemoryError``.

cbor2 6.x decodes several tags itself (dates, bignums, value sharing, ...) before any hook
sees them; each of those is overridden here with a rejection unless the caller allows it.
"""

from __future__ import annotations

import io
from datetime import date
from functools import lru_cache
from typing import Any

import cbor2

from ..errors import CBORMalformed, LimitExceeded
from ..limits import Limits

TAG_COSE_SIGN1 = 18
TAG_EPOCH_DAYS = 100  # RFC 8943 full-date as days since 1970-01-01

# Tags cbor2 6.x decodes with built-in semantic decoders (checked against cbor2 6.3).
_CBOR2_BUILTIN_TAGS = (
    0, 1, 2, 3, 4, 5, 25, 28, 29, 30, 35, 36, 37, 52, 54, 100, 256, 258, 260, 261, 1004, 55799,
)  # fmt: skip

_DEPTH_MESSAGE = "maximum container nesting depth"

MAP_TYPES = (dict, cbor2.frozendict)
"""Python types a decoded CBOR map can have (maps inside tags decode as ``frozendict``)."""
ARRAY_TYPES = (list, tuple)
"""Python types a decoded CBOR array can have (arrays inside tags decode as tuples)."""


class _TagRejected(ValueError):
    pass


def _reject_semantic(value: Any, immutable: bool) -> Any:
    raise _TagRejected("tag not allowed here")


@lru_cache(maxsize=16)
def _hooks(allowed_tags: frozenset[int]) -> tuple[dict[int, Any], Any]:
    semantic = {tag: _reject_semantic for tag in _CBOR2_BUILTIN_TAGS if tag not in allowed_tags}

    def tag_hook(tag: cbor2.CBORTag, immutable: bool) -> cbor2.CBORTag:
        if tag.tag not in allowed_tags:
            raise _TagRejected(f"tag {tag.tag} not allowed here")
        return tag

    return semantic, tag_hook


def _count_items(obj: Any, budget: int) -> int:
    """Subtract the data items in ``obj`` from ``budget``; raise when it goes negative."""
    stack = [obj]
    while stack:
        item = stack.pop()
        budget -= 1
        if budget < 0:
            raise LimitExceeded("too many CBOR data items")
        if isinstance(item, ARRAY_TYPES):
            stack.extend(item)
        elif isinstance(item, MAP_TYPES):
            for key, value in item.items():
                stack.append(key)
                stack.append(value)
        elif isinstance(item, cbor2.CBORTag):
            stack.append(item.value)
    return budget


class StrictDecoder:
    """A reusable strict decoder for one (limits, allowed tags) pair: what :func:`loads_strict`
    does, without rebuilding the cbor2 decoder per call (the verify paths keep one each).

    Not thread-safe: one instance per thread or verifier.
    """

    __slots__ = ("_decoder", "_limits")

    def __init__(self, limits: Limits, allowed_tags: frozenset[int] = frozenset()) -> None:
        semantic, tag_hook = _hooks(allowed_tags)
        self._limits = limits
        self._decoder = cbor2.CBORDecoder(
            io.BytesIO(b""),
            tag_hook=tag_hook,
            semantic_decoders=semantic,
            max_depth=limits.max_cbor_depth,
            allow_indefinite=False,
            allow_duplicate_keys=False,
        )

    def decode(self, data: bytes) -> Any:
        """Decode exactly one strict CBOR data item from ``data``.

        Raises :class:`CBORMalformed` for ill-formed or non-strict CBOR and trailing bytes, and
        :class:`LimitExceeded` when nesting deeper than ``limits.max_cbor_depth`` or holding more
        than ``limits.max_cbor_items`` items.
        """
        if not data:
            raise CBORMalformed("empty input: expected one CBOR data item")
        limits = self._limits
        stream = io.BytesIO(data)
        decoder = self._decoder
        decoder.fp = stream
        try:
            value = decoder.decode()
        except cbor2.CBORDecodeError as exc:
            if _DEPTH_MESSAGE in str(exc):
                raise LimitExceeded(f"CBOR nesting deeper than {limits.max_cbor_depth}") from None
            raise CBORMalformed(f"invalid CBOR: {_reason(exc)}") from None
        except (RecursionError, MemoryError):
            raise LimitExceeded("CBOR input exhausts decoder resources") from None
        except (ValueError, TypeError, OverflowError, LookupError) as exc:
            raise CBORMalformed(f"invalid CBOR: {exc}") from None
        consumed = stream.tell()
        if consumed != len(data):
            raise CBORMalformed(f"{len(data) - consumed} trailing bytes after the CBOR data item")
        # Every data item takes at least one byte, so a short input cannot exceed the item cap.
        if len(data) > limits.max_cbor_items:
            _count_items(value, limits.max_cbor_items)
        return value


def loads_strict(data: bytes, limits: Limits, allowed_tags: frozenset[int] = frozenset()) -> Any:
    """Decode exactly one strict CBOR data item from ``data`` (see :meth:`StrictDecoder.decode`)."""
    return StrictDecoder(limits, allowed_tags).decode(data)


def int_keyed(value: Any) -> bool:
    """True when every key of the map ``value`` is a CBOR integer (``true`` and ``1.0`` are not)."""
    return _INT_ONLY.issuperset(map(type, value))  # C-level loop: this runs on every scan


_INT_ONLY = frozenset({int})


def _reason(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, _TagRejected):
        return str(exc) + " (tag not allowed here)"
    return str(exc)


_EPOCH = date(1970, 1, 1)


def _encode_date(encoder: cbor2.CBOREncoder, value: date) -> None:
    encoder.encode(cbor2.CBORTag(TAG_EPOCH_DAYS, (value - _EPOCH).days))


def dumps(value: Any) -> bytes:
    """Deterministic CBOR (RFC 8949 section 4.2.1: shortest forms, sorted map keys).

    ``datetime.date`` is written as tag 100 (RFC 8943 days since 1970-01-01), the profile's
    date form.
    """
    return cbor2.dumps(value, canonical=True, encoders={date: _encode_date})
