"""AddressSanitizer fuzzing of the Ed25519 batch verifier's C code (``vcsdk/_native/batch25519.c``).

    python -m fuzz.native_batch                   # the short run (scripts/test.sh: 20 s)
    python -m fuzz.native_batch --seconds 3600    # a long run (docs/fuzzing.md)

Built and run like :mod:`fuzz.native` (whose ASan runtime lookup, options and byte mutator it
shares): the C source is compiled a second time with ``-fsanitize=address`` as its own cffi module
in ``fuzz/work/asan/``, and run in a child process with ``libasan.so`` preloaded. Every buffer the
C code reads (each message, the signatures, the keys) is copied into a ``malloc`` block of exactly
its length, so a read past any of them is an ASan report.

The inputs are structure-aware mutations of valid batches (:func:`variants`), not libFuzzer's
(GCC's preloaded ASan runtime takes the place of libFuzzer's coverage callbacks, so a
coverage-guided run would only mutate a near-empty input): an item's key or ``R`` replaced by the
point plus a torsion point of order 2, 4 or 8, by a small-order, non-canonical or random
encoding, or changed as bytes; ``S`` pushed to ``S + L`` or changed; messages changed; items
duplicated, dropped or given another item's key; now and then the encoded batch changed as bytes.
The run prints how many items the batch proved and how many keys and ``R`` the subgroup test
accepted, so a run that never gets past the decoding shows.

An input is a batch: its first byte gives the number of items (1 to 16); each item is a 32-byte
key, a 64-byte signature, one length byte and that many message bytes (a short input ends the
batch early). Beyond memory safety: every item the batch marks valid must be one PyNaCl
(libsodium) accepts, and the C code's prime-order-subgroup test (``vcb_are_valid_points``, two
lanes at a time as ``vcb_verify`` runs it on every key and every R, and ``vcb_is_valid_point``,
one lane) must answer exactly as libsodium's ``crypto_core_ed25519_is_valid_point``.
The input running when the child stops is kept in ``fuzz/findings/``.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fuzz.native import BUILD, Escape, mutate, run_asan

MODULE = "vcsdk_batch25519_asan"
MAX_ITEMS = 16
TORSION_8 = "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"
"""A point of order 8 (canonical encoding)."""


def build(out: Path = BUILD) -> Path:
    """Compile the batch verifier's C source with AddressSanitizer into ``out``; the module's path."""
    from vcsdk._native.build_batch import builder  # the package's own build script

    out.mkdir(parents=True, exist_ok=True)
    ffi = builder(
        MODULE,
        ("-O1", "-g", "-fsanitize=address", "-fno-omit-frame-pointer"),
        ("-fsanitize=address",),
        absolute_paths=True,
        extra_cdef="void *malloc(size_t size);\nvoid free(void *ptr);\n",
        extra_preamble="#include <stdlib.h>\n",
    )
    return Path(ffi.compile(tmpdir=str(out)))


def items_of(data: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """The (key, message, signature) items an input encodes."""
    if not data:
        return []
    count, rest = data[0] % MAX_ITEMS + 1, data[1:]
    items: list[tuple[bytes, bytes, bytes]] = []
    while len(items) < count and len(rest) >= 97:
        key, signature, length = rest[:32], rest[32:96], rest[96]
        message, rest = rest[97 : 97 + length], rest[97 + length :]
        items.append((key, message, signature))
    return items


def encode(items: list[tuple[bytes, bytes, bytes]]) -> bytes:
    """The input for ``items`` (messages up to 255 bytes)."""
    out = bytearray([(len(items) - 1) % MAX_ITEMS])
    for key, message, signature in items:
        out += key + signature + bytes([len(message)]) + message
    return bytes(out)


def seeds() -> list[bytes]:
    """Valid batches (one key, several keys), one with a bad signature, small-order points."""
    import nacl.bindings
    from nacl.signing import SigningKey

    signers = [SigningKey(bytes([i]) * 32) for i in range(1, 4)]
    valid = [
        (bytes(signer.verify_key), message, signer.sign(message).signature)
        for n, signer in enumerate(signers * 3)
        for message in [bytes([n]) * n]
    ]
    bad = [*valid[:4], (valid[4][0], valid[4][1] + b"!", valid[4][2])]
    identity = (1).to_bytes(32, "little")
    small = [(identity, b"m", identity + bytes(32)), (valid[0][0], b"m", identity + valid[0][2][32:])]
    # keys and R with a torsion component of each order: P + T for T = [k] T8
    torsion = [(2**255 - 20).to_bytes(32, "little")]  # (0, -1), order 2
    torsion += [bytes.fromhex(TORSION_8), bytes(32)]  # a point of order 8; (sqrt(-1), 0), order 4
    mixed = []
    for n, t in enumerate(torsion):
        key, message, signature = valid[n]
        shifted_key = nacl.bindings.crypto_core_ed25519_add(key, t)
        shifted_r = nacl.bindings.crypto_core_ed25519_add(signature[:32], t)
        mixed += [(shifted_key, message, signature), (key, message, shifted_r + signature[32:])]
    return [encode(valid[:1]), encode(valid[:3]), encode(valid), encode(bad), encode(small + valid[:2]),
            encode(mixed + valid[3:5])]  # fmt: skip


def harness(ffi: Any, lib: Any) -> Callable[[bytes], tuple[int, int, int, int]]:
    """The one-input function over the ASan module ``(ffi, lib)``."""
    import nacl.bindings
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey

    def exact(data: bytes) -> Any:
        block = ffi.cast("unsigned char *", lib.malloc(max(len(data), 1)))
        ffi.memmove(block, data, len(data))
        return block

    def accepts(key: bytes, message: bytes, signature: bytes) -> bool:
        try:
            VerifyKey(key).verify(message, signature)
        except (BadSignatureError, ValueError, TypeError):
            return False
        return True

    def one_input(data: bytes) -> tuple[int, int, int, int]:
        """Run one batch; (items, items the batch proved, points checked, points valid)."""
        items = items_of(data)
        if not items:
            return 0, 0, 0, 0
        n = len(items)
        joined = len(data) % 2 == 1  # both entry points: pointers to each message, or one joined block
        blocks = [exact(b"".join(message for _, message, _ in items))] if joined else [
            exact(message) for _, message, _ in items
        ]  # fmt: skip
        signatures = exact(b"".join(signature for _, _, signature in items))
        keys = exact(b"".join(key for key, _, _ in items))
        ok = ffi.cast("unsigned char *", lib.malloc(n))
        try:
            lengths = ffi.new("size_t[]", [len(message) for _, message, _ in items])
            if joined:
                total = sum(len(message) for _, message, _ in items)
                marked = lib.vcb_verify_joined(n, blocks[0], total, lengths, signatures, keys, ok)
            else:
                messages = ffi.new("const unsigned char *[]", blocks)
                marked = lib.vcb_verify(n, messages, lengths, signatures, keys, ok)
            verdicts = [ok[i] for i in range(n)]
            encodings = exact(b"".join([key for key, _, _ in items] + [signature[:32] for _, _, signature in items]))
            valid = ffi.cast("unsigned char *", lib.malloc(2 * n))
            if lib.vcb_are_valid_points(2 * n, encodings, valid) != 0:  # two lanes at a time, as vcb_verify
                raise Escape("vcb_are_valid_points refused a count within its bound")
            points = [valid[i] for i in range(2 * n)]
            one = len(data) % (2 * n)  # one encoding again, alone in its lane
            if lib.vcb_is_valid_point(encodings + 32 * one) != points[one]:
                raise Escape("one lane and two lanes give different answers")
            lib.free(encodings)
            lib.free(valid)
        finally:
            for block in [*blocks, signatures, keys, ok]:
                lib.free(block)
        if marked != sum(verdicts) or not set(verdicts) <= {0, 1}:
            raise Escape(f"vcb_verify returned {marked} for the verdicts {verdicts}")
        encodings = [key for key, _, _ in items] + [signature[:32] for _, _, signature in items]
        for encoding, mine in zip(encodings, points, strict=True):
            if mine != nacl.bindings.crypto_core_ed25519_is_valid_point(encoding):
                raise Escape(f"vcb_is_valid_point says {mine} on {encoding.hex()}, libsodium the opposite")
        for key, message, signature in (item for item, good in zip(items, verdicts, strict=True) if good):
            if not accepts(key, message, signature):
                raise Escape(
                    f"the batch proved a signature libsodium rejects: {encode([(key, message, signature)]).hex()}"
                )
        return n, sum(verdicts), len(points), sum(points)

    return one_input


TORSION = (
    (2**255 - 20).to_bytes(32, "little"),  # (0, -1): order 2
    bytes(32),  # (sqrt(-1), 0): order 4
    bytes.fromhex(TORSION_8),  # order 8
)


def _point_variant(point: bytes, rng: random.Random) -> bytes:
    """A key or R changed: plus a torsion point, small order, non-canonical, random, or as bytes."""
    import nacl.bindings

    how = rng.randrange(6)
    if how == 0:
        try:
            return bytes(nacl.bindings.crypto_core_ed25519_add(point, rng.choice(TORSION)))
        except (RuntimeError, ValueError, TypeError):  # not a point libsodium adds: keep it as it is
            return point
    if how == 1:
        small = [(1).to_bytes(32, "little"), *TORSION]
        return bytes(bytearray(rng.choice(small))[:31]) + bytes((rng.choice(small)[31] | rng.choice((0, 0x80)),))
    if how == 2:  # a non-canonical y (y + p for small y), either sign
        y = rng.randrange(19) + 2**255 - 19
        return (y | rng.choice((0, 1)) << 255).to_bytes(32, "little")
    if how == 3:
        return rng.randbytes(32)
    return (mutate(point, rng) + bytes(32))[:32]


def variants(seed_inputs: list[bytes], rng: random.Random) -> Iterator[bytes]:
    """Endless batches near the valid ones (see the module's docstring)."""
    L = 2**252 + 27742317777372353535851937790883648493
    while True:
        items = list(items_of(rng.choice(seed_inputs)))
        if rng.randrange(16) == 0:
            yield mutate(encode(items), rng)
            continue
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(items))
            key, message, signature = items[at]
            edit = rng.randrange(8)
            if edit == 0:
                key = _point_variant(key, rng)
            elif edit == 1:
                signature = _point_variant(signature[:32], rng) + signature[32:]
            elif edit == 2:  # S + L (the same value mod L, not canonical) or S changed as bytes
                s = int.from_bytes(signature[32:], "little") + L
                changed = s.to_bytes(32, "little") if s < 2**256 else signature[32:]
                signature = signature[:32] + (
                    changed if rng.random() < 0.5 else (mutate(changed, rng) + bytes(32))[:32]
                )
            elif edit == 3:
                message = mutate(message, rng)[:255]
            elif edit == 4 and len(items) < MAX_ITEMS:
                items.insert(rng.randrange(len(items) + 1), items[at])
            elif edit == 5 and len(items) > 1:
                del items[at]
                continue
            elif edit == 6:
                key = rng.choice(items)[0]
            else:
                signature = rng.choice(items)[2]
            items[at] = (key, message, signature)
        yield encode(items)


COUNTS = ("items", "proven", "points", "valid")


def _child(build_dir: str, seconds: float, seed: int, last: str) -> None:  # pragma: no cover - runs under ASan
    """Run mutated batches for ``seconds``; print the counts as JSON. Each input is written to
    ``last`` first, so an ASan abort leaves it behind for the parent to keep."""
    sys.path.insert(0, build_dir)
    module = importlib.import_module(MODULE)
    if module.lib.vcb_init() != 0:
        raise SystemExit("libsodium failed to initialise")
    one_input = harness(module.ffi, module.lib)
    initial = seeds()
    for data in initial[:3]:  # valid batches: the batch proves every item, or the harness is wrong
        items, proven, _, _ = one_input(data)
        if proven != items:
            raise SystemExit("the batch did not prove a valid seed batch")
    totals = [0, 0, 0, 0]
    runs = 0
    deadline = time.monotonic() + seconds
    fd = os.open(last, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    rng = random.Random(seed)  # noqa: S311 - reproducible test inputs, not secrets
    for number, data in enumerate(variants(initial, rng)):
        if number % 64 == 0 and time.monotonic() >= deadline:
            break
        os.pwrite(fd, len(data).to_bytes(4, "big") + data, 0)
        runs += 1
        for k, count in enumerate(one_input(data)):
            totals[k] += count
    os.close(fd)
    print(json.dumps({"runs": runs, **dict(zip(COUNTS, totals, strict=True))}))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:  # pragma: no cover - the child process
        _child(argv[1], float(argv[2]), int(argv[3]), argv[4])
        return 0
    code, counts, timing = run_asan("fuzz.native_batch", __doc__.split("\n\n")[0], build, argv)
    if counts is None:
        return code
    print(
        f"fuzz.native_batch (ASan): {counts['runs']:,} executions {timing}, "
        f"0 escapes; items proven by the batch {counts['proven']:,}/{counts['items']:,}, "
        f"keys and R valid {counts['valid']:,}/{counts['points']:,}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
