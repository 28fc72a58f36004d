"""AddressSanitizer fuzzing of the Ed25519 batch verifier's C code (``vcsdk/_native/batch25519.c``).

    python -m fuzz.native_batch                   # the short run (scripts/test.sh: 20 s)
    python -m fuzz.native_batch --seconds 3600    # a long run (docs/fuzzing.md)

Built and run like :mod:`fuzz.native` (whose ASan runtime lookup and options it shares): the C
source is compiled a second time with ``-fsanitize=address`` as its own cffi module in
``fuzz/work/asan/``, and fuzzed by atheris in a child process with ``libasan.so`` preloaded.
Every buffer the C code reads (each message, the signatures, the keys) is copied into a
``malloc`` block of exactly its length, so a read past any of them is an ASan report.

An input is a batch: its first byte gives the number of items (1 to 16); each item is a 32-byte
key, a 64-byte signature, one length byte and that many message bytes (a short input ends the
batch early). Beyond memory safety: every item the batch marks valid must be one PyNaCl
(libsodium) accepts, and the C code's prime-order-subgroup test (``vcb_is_valid_point``, run on
every key and every R) must answer exactly as libsodium's ``crypto_core_ed25519_is_valid_point``.
The seeds include valid batches and points with each torsion component (order 2, 4, 8).
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fuzz.native import _DONE, ASAN_OPTIONS, BUILD, HERE, Escape, libasan

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


def harness(ffi: Any, lib: Any) -> Callable[[bytes], None]:
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

    def one_input(data: bytes) -> None:
        items = items_of(data)
        if not items:
            return
        n = len(items)
        blocks = [exact(message) for _, message, _ in items]
        signatures = exact(b"".join(signature for _, _, signature in items))
        keys = exact(b"".join(key for key, _, _ in items))
        ok = ffi.cast("unsigned char *", lib.malloc(n))
        try:
            messages = ffi.new("const unsigned char *[]", blocks)
            lengths = ffi.new("size_t[]", [len(message) for _, message, _ in items])
            marked = lib.vcb_verify(n, messages, lengths, signatures, keys, ok)
            verdicts = [ok[i] for i in range(n)]
            points = [lib.vcb_is_valid_point(keys + 32 * i) for i in range(n)]
            points += [lib.vcb_is_valid_point(signatures + 64 * i) for i in range(n)]
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

    return one_input


def _child(build_dir: str, libfuzzer_args: list[str]) -> None:  # pragma: no cover - runs under ASan
    import atheris

    sys.path.insert(0, build_dir)
    module = importlib.import_module(MODULE)
    if module.lib.vcb_init() != 0:
        raise SystemExit("libsodium failed to initialise")
    one_input = harness(module.ffi, module.lib)
    atheris.Setup([sys.argv[0], *libfuzzer_args], one_input)
    atheris.Fuzz()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:  # pragma: no cover - the child process
        _child(argv[1], argv[3:] if argv[2:3] == ["--"] else argv[2:])
        return 0
    parser = argparse.ArgumentParser(prog="python -m fuzz.native_batch", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20, help="fuzzing time (default 20)")
    parser.add_argument("--work", type=Path, help="scratch corpus and log (default: a temporary folder)")
    parser.add_argument("--artifacts", type=Path, default=HERE / "findings", help="where crashing inputs go")
    args = parser.parse_args(argv)
    runtime = libasan()
    if runtime is None:
        print("fuzz.native_batch: no gcc with libasan.so here: the ASan build cannot be made", file=sys.stderr)
        return 1
    started = time.monotonic()
    module_path = build()
    built = time.monotonic() - started
    with tempfile.TemporaryDirectory(prefix="vcsdk-asan-batch-") as tmp:
        work = args.work or Path(tmp)
        corpus = work / "batch_asan"
        corpus.mkdir(parents=True, exist_ok=True)
        for number, seed in enumerate(seeds()):
            (corpus / f"seed-{number}").write_bytes(seed)
        args.artifacts.mkdir(parents=True, exist_ok=True)
        artifacts = f"-artifact_prefix={args.artifacts}/batch_asan-"
        libfuzzer = [str(corpus), f"-max_total_time={args.seconds}", "-rss_limit_mb=2048", "-timeout=20",
                     "-max_len=4096", artifacts, "-print_final_stats=1"]  # fmt: skip
        command = [sys.executable, "-m", "fuzz.native_batch", "--child", str(module_path.parent), "--", *libfuzzer]
        env = {**os.environ, "LD_PRELOAD": runtime, "ASAN_OPTIONS": ASAN_OPTIONS, "PYTHONHASHSEED": "0"}
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=HERE.parent, check=False)  # noqa: S603
        log = result.stderr
        (work / "batch_asan.log").write_text(log, encoding="utf-8")
        done = _DONE.search(log)
        executions = int(done.group(1)) if done else 0
        if result.returncode != 0 or "ERROR: AddressSanitizer" in log:
            print("\n".join(log.splitlines()[-60:]), file=sys.stderr)
            print(
                f"fuzz.native_batch: ESCAPE (exit {result.returncode}); the input is in {args.artifacts}",
                file=sys.stderr,
            )
            return 1
    total = time.monotonic() - started
    print(f"fuzz.native_batch (ASan): {executions} executions in {total:.1f} s (build {built:.1f} s), 0 escapes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
