"""AddressSanitizer fuzzing of the compiled fast lane's C code (``vcsdk/_native/fastlane.c``, ``claims.c``).

    python -m fuzz.native                   # the short run (scripts/test.sh: 20 s)
    python -m fuzz.native --seconds 3600    # a long run (docs/fuzzing.md)

The C source is built a second time, with ``-fsanitize=address``, as its own cffi module in
``fuzz/work/asan/`` (never the installed one), and fuzzed by atheris (libFuzzer) in a child
process that runs with GCC's ASan runtime preloaded (``LD_PRELOAD=libasan.so``, leak checks off:
the interpreter itself never frees everything). Each input is copied into a ``malloc`` block of
exactly its length, so a read one byte past any input is an ASan report, not a silent read of
Python's heap. The C part's buffers are sized from small limits (text 2,048, inflated 4,096
bytes) so that the caps are reached often.

Beyond memory safety, every input the C part *accepts* is checked against the pure-Python
decoders (Base45, zlib with the same cap, the COSE_Sign1 split, the Sig_structure, PyNaCl's
Ed25519 verify): the same bytes out, or it is an escape. The Python side of that comparison is
coverage-instrumented, which steers the fuzzer through the layers the C code mirrors.

First byte of an input (mod 5): 0 a ``GID1:`` credential text, 1 a ``GIDP1:`` presentation text,
2 COSE_Sign1 bytes (a credential inside a presentation), 3 an Ed25519 verification (two length
bytes, then signature, public key and message), 4 a CWT payload for the claims reader
(``claims.c``), whose every accepted payload must give the typed claims the Python checks give.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BUILD = HERE / "work" / "asan"
MODULE = "vcsdk_fastlane_asan"
MAX_TEXT = 2048
MAX_INFLATED = 4096
ASAN_OPTIONS = "detect_leaks=0:abort_on_error=1:symbolize=1:allocator_may_return_null=1"
_DONE = re.compile(r"Done (\d+) runs in (\d+) second")


class Escape(AssertionError):
    """The C part accepted an input with other bytes than the pure-Python decoders give."""


def libasan() -> str | None:
    """GCC's AddressSanitizer runtime (``libasan.so``), or None without gcc or without it."""
    gcc = shutil.which("gcc")
    if gcc is None:
        return None
    found = subprocess.run([gcc, "-print-file-name=libasan.so"], capture_output=True, text=True, check=False)  # noqa: S603
    path = found.stdout.strip()
    return path if os.path.isabs(path) and os.path.exists(path) else None


def build(out: Path = BUILD) -> Path:
    """Compile the fast lane's C source with AddressSanitizer into ``out``; the module's path."""
    from vcsdk._native.build_fastlane import builder  # the package's own build script

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


def seeds() -> list[bytes]:
    """A valid input of each of the four kinds (the fuzz world's credential and presentation)."""
    from nacl.signing import SigningKey

    from fuzz.make_corpus import _presentation_seeds
    from fuzz.targets import SEED_TEXT
    from vcsdk.codec import qrtext
    from vcsdk.limits import DEFAULT_LIMITS

    presentation = next(s for s in _presentation_seeds()[0] if s[:1] == b"\x00")[1:]
    signing = SigningKey(bytes(32))
    message = b"fuzz"
    signature = signing.sign(message).signature
    from vcsdk.verify.fast import split_sign1

    credential = qrtext.unpack(SEED_TEXT, "GID1:", DEFAULT_LIMITS)
    parts = split_sign1(credential)
    assert parts is not None
    return [
        b"\x00" + SEED_TEXT.encode("ascii"),
        b"\x01" + presentation,
        b"\x02" + credential,
        b"\x03" + bytes((64, 32)) + signature + bytes(signing.verify_key) + message,
        b"\x04" + parts[1],
    ]


def harness(ffi: Any, lib: Any) -> Callable[[bytes], None]:
    """The one-input function over the ASan module ``(ffi, lib)``."""
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey

    from vcsdk.codec import base45, deflate
    from vcsdk.codec.cbor import StrictDecoder
    from vcsdk.codec.cose import sig_structure
    from vcsdk.errors import CredentialInvalid
    from vcsdk.limits import DEFAULT_LIMITS
    from vcsdk.verify.checks import PAYLOAD_TAGS, parse_claims
    from vcsdk.verify.fast import split_sign1
    from vcsdk.verify.native import claims_from_slots

    ctx = ffi.gc(lib.vl_new(MAX_TEXT, MAX_INFLATED), lib.vl_free)
    parts = ffi.new("vl_parts *")
    slots = ffi.new("int64_t[]", lib.VL_CLAIM_SLOTS)
    decoder = StrictDecoder(DEFAULT_LIMITS, PAYLOAD_TAGS)
    prefixes = {0: b"GID1:", 1: b"GIDP1:"}

    def exact(data: bytes) -> Any:
        block = ffi.cast("uint8_t *", lib.malloc(max(len(data), 1)))
        ffi.memmove(block, data, len(data))
        return block

    def taken(with_kid: bool) -> tuple[bytes, bytes, bytes, bytes]:
        def grab(pointer: Any, length: int) -> bytes:
            return bytes(ffi.buffer(pointer, length)) if length else b""

        kid = grab(parts.kid, parts.kid_len) if with_kid else b""
        return kid, grab(parts.payload, parts.payload_len), grab(parts.signature, parts.signature_len), grab(
            parts.tbs, parts.tbs_len
        )  # fmt: skip

    def pure(data: bytes, presentation: bool) -> tuple[bytes, bytes, bytes, bytes] | None:
        split = split_sign1(data)
        if split is None:
            return None
        protected, payload, signature = split
        if presentation:
            if protected != b"\xa1\x01\x27":
                return None
            kid = b""
        elif len(protected) == 13 and protected[:5] == b"\xa2\x01\x27\x04\x48":
            kid = protected[5:]
        else:
            return None
        return kid, payload, signature, sig_structure(protected, payload)

    def one_input(data: bytes) -> None:
        if not data:
            return
        mode, body = data[0] % 5, data[1:]
        block = exact(body)
        try:
            if mode in prefixes:
                prefix = prefixes[mode]
                kind = lib.VL_PRESENTATION if mode == 1 else lib.VL_CREDENTIAL
                if lib.vl_open(ctx, block, len(body), prefix, len(prefix), kind, parts) != lib.VL_OK:
                    return
                got = taken(mode == 0)
                if len(body) > MAX_TEXT or not body.startswith(prefix):
                    raise Escape("the C part accepted a text over its limit or without the prefix")
                try:
                    inflated = deflate.decompress(base45.b45decode(body[len(prefix) :].decode("ascii")), MAX_INFLATED)
                except (CredentialInvalid, UnicodeDecodeError) as exc:
                    raise Escape(f"the C part accepted a text the pure decoders refuse: {exc}") from None
                if got != pure(inflated, mode == 1):
                    raise Escape("the C part's parts differ from the pure split")
            elif mode == 2:
                if lib.vl_sign1(ctx, block, len(body), lib.VL_CREDENTIAL, parts) != lib.VL_OK:
                    return
                if taken(True) != pure(body, False):
                    raise Escape("the C part's COSE_Sign1 split differs from the pure split")
            elif mode == 3:
                verify(body)
            elif lib.vl_claims(block, len(body), slots) == lib.VL_OK:
                claims(body)
        finally:
            lib.free(block)

    def claims(payload: bytes) -> None:
        try:
            expected = parse_claims(decoder.decode(payload))
        except CredentialInvalid as exc:
            raise Escape(f"the C claims reader accepted a payload the Python checks refuse: {exc}") from None
        if claims_from_slots(payload, ffi.unpack(slots, lib.VL_CLAIM_SLOTS)) != expected:
            raise Escape("the C claims reader's claims differ from the Python checks'")

    def verify(body: bytes) -> None:
        if len(body) < 2:
            return
        sig_len, key_len = body[0], body[1]
        signature, key, message = (
            body[2 : 2 + sig_len],
            body[2 + sig_len : 2 + sig_len + key_len],
            body[2 + sig_len + key_len :],
        )
        blocks = [exact(signature), exact(key), exact(message)]
        try:
            ok = lib.vl_verify(blocks[0], len(signature), blocks[2], len(message), blocks[1], len(key)) == lib.VL_OK
        finally:
            for block in blocks:
                lib.free(block)
        try:
            VerifyKey(key).verify(message, signature)
            expected = True
        except (BadSignatureError, ValueError, TypeError):
            expected = False
        if ok != expected:
            raise Escape(f"libsodium through the C part says {ok}, PyNaCl says {expected}")

    return one_input


def _child(build_dir: str, libfuzzer_args: list[str]) -> None:  # pragma: no cover - runs under ASan
    import atheris

    sys.path.insert(0, build_dir)
    module = importlib.import_module(MODULE)
    if module.lib.vl_init() != 0:
        raise SystemExit("libsodium failed to initialise")
    with atheris.instrument_imports(include=["vcsdk"]):
        one_input = harness(module.ffi, module.lib)
    atheris.Setup([sys.argv[0], *libfuzzer_args], one_input)
    atheris.Fuzz()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:  # pragma: no cover - the child process
        _child(argv[1], argv[3:] if argv[2:3] == ["--"] else argv[2:])
        return 0
    parser = argparse.ArgumentParser(prog="python -m fuzz.native", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20, help="fuzzing time (default 20)")
    parser.add_argument("--work", type=Path, help="scratch corpus and log (default: a temporary folder)")
    parser.add_argument("--artifacts", type=Path, default=HERE / "findings", help="where crashing inputs go")
    args = parser.parse_args(argv)
    runtime = libasan()
    if runtime is None:
        print("fuzz.native: no gcc with libasan.so here: the ASan build cannot be made", file=sys.stderr)
        return 1
    started = time.monotonic()
    module_path = build()
    built = time.monotonic() - started
    with tempfile.TemporaryDirectory(prefix="vcsdk-asan-") as tmp:
        work = args.work or Path(tmp)
        corpus = work / "native_asan"
        corpus.mkdir(parents=True, exist_ok=True)
        for number, seed in enumerate(seeds()):
            (corpus / f"seed-{number}").write_bytes(seed)
        args.artifacts.mkdir(parents=True, exist_ok=True)
        artifacts = f"-artifact_prefix={args.artifacts}/native_asan-"
        libfuzzer = [str(corpus), f"-max_total_time={args.seconds}", "-rss_limit_mb=2048", "-timeout=20",
                     "-max_len=4096", artifacts, "-print_final_stats=1"]  # fmt: skip
        command = [sys.executable, "-m", "fuzz.native", "--child", str(module_path.parent), "--", *libfuzzer]
        env = {**os.environ, "LD_PRELOAD": runtime, "ASAN_OPTIONS": ASAN_OPTIONS, "PYTHONHASHSEED": "0"}
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=HERE.parent, check=False)  # noqa: S603
        log = result.stderr
        (work / "native_asan.log").write_text(log, encoding="utf-8")
        done = _DONE.search(log)
        executions = int(done.group(1)) if done else 0
        if result.returncode != 0 or "ERROR: AddressSanitizer" in log:
            print("\n".join(log.splitlines()[-60:]), file=sys.stderr)
            print(f"fuzz.native: ESCAPE (exit {result.returncode}); the input is in {args.artifacts}", file=sys.stderr)
            return 1
    total = time.monotonic() - started
    print(f"fuzz.native (ASan): {executions} executions in {total:.1f} s (build {built:.1f} s), 0 escapes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
