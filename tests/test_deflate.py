"""zlib layer: absolute output cap, one complete stream, nothing trailing."""

from __future__ import annotations

import gzip
import os
import tracemalloc
import zlib

import pytest

from vcsdk.codec.deflate import compress, decompress
from vcsdk.errors import DecompressionFailed, LimitExceeded


def test_round_trip() -> None:
    data = os.urandom(500) + b"a" * 500
    assert decompress(compress(data), 1000) == data


def test_exact_cap_is_allowed_one_more_byte_is_not() -> None:
    data = b"x" * 1000
    assert decompress(compress(data), 1000) == data
    with pytest.raises(LimitExceeded):
        decompress(compress(data), 999)


def test_bomb_refused_without_allocating_its_size() -> None:
    bomb = zlib.compress(b"\0" * 50_000_000, 9)  # 50 MB from about 50 KB
    assert len(bomb) < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(LimitExceeded):
            decompress(bomb, 16 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, f"decompressing a bomb allocated {peak} bytes"


def _raw_deflate(data: bytes) -> bytes:
    """A complete raw deflate stream (no zlib header or Adler-32)."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    return deflater.compress(data) + deflater.flush()


def test_the_raw_deflate_case_is_a_real_stream_not_empty_input() -> None:
    raw = _raw_deflate(b"hello")
    assert raw and zlib.decompress(raw, -15) == b"hello"


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (compress(b"hello") + b"\x00", "trailing byte"),
        (compress(b"hello") + compress(b"again"), "second stream"),
        (compress(b"hello")[:-1], "truncated Adler-32"),
        (compress(b"hello")[:4], "truncated deflate data"),
        (b"", "empty"),
        (b"not zlib at all", "no zlib header"),
        (gzip.compress(b"hello"), "gzip, not zlib"),
        (_raw_deflate(b"hello"), "raw deflate, no header"),
        (bytes.fromhex("78bb") + compress(b"x")[2:], "preset dictionary flag"),
        (compress(b"hello")[:-4] + b"\x00\x00\x00\x00", "wrong Adler-32"),
    ],
)
def test_rejects(data: bytes, why: str) -> None:
    with pytest.raises(DecompressionFailed):
        decompress(data, 1024)


def test_preset_dictionary_stream() -> None:
    c = zlib.compressobj(zdict=b"dictionary")
    data = c.compress(b"dictionary words") + c.flush()
    with pytest.raises(DecompressionFailed):
        decompress(data, 1024)
