"""AddressSanitizer fuzzing of the compiled fast lane's C code (``vcsdk/_native/fastlane.c``, ``claims.c``,
``objects.c``).

    python -m fuzz.native                   # the short run (scripts/test.sh: 20 s)
    python -m fuzz.native --seconds 3600    # a long run (docs/fuzzing.md)

The C source is built a second time, with ``-fsanitize=address``, as its own cffi module in
``fuzz/work/asan/`` (never the installed one), with ``objects.c`` (the claims' text fields and
the result objects, Python's C API) beside it, and run in a child process with GCC's ASan runtime
preloaded (``LD_PRELOAD=libasan.so``, leak checks off: the interpreter itself never frees
everything). Each input is copied into a ``malloc`` block of exactly its length, so a read one
byte past any input is an ASan report, not a silent read of Python's heap. The C part's buffers
are sized from small limits (text 2,048, inflated 4,096 bytes) so that the caps are reached often.

The inputs are structure-aware mutations of valid ones (:func:`variants`), not libFuzzer's:
GCC's preloaded ASan runtime takes the place of libFuzzer's coverage callbacks, and the C code
is not built with coverage instrumentation, so a coverage-guided run would only ever mutate a
near-empty input. A text is changed as characters, as its zlib stream or as its COSE bytes
(compressed and encoded again); COSE bytes, payloads and signature inputs are changed as bytes,
with CBOR heads and UTF-8 boundary bytes favoured. The run prints how many inputs of each entry
point the C code accepted, so a run that never gets past the first layer shows.

Beyond memory safety, every input the C part *accepts* is checked against the pure-Python
decoders (Base45, zlib with the same cap, the COSE_Sign1 split, the Sig_structure, PyNaCl's
Ed25519 verify, the strict CBOR decoder and claim checks): the same bytes or claims out, or it
is an escape. The input running when the child stops is kept in ``fuzz/findings/``.

First byte of an input (mod 5): 0 a ``GID1:`` credential text, 1 a ``GIDP1:`` presentation text,
2 COSE_Sign1 bytes (a credential inside a presentation), 3 an Ed25519 verification (two length
bytes, then signature, public key and message), 4 a CWT payload for the claims reader
(``claims.c``), whose every accepted payload must give the typed claims the Python checks give;
every such payload also goes to ``objects.c``'s ``texts`` with spans made from its own bytes (some
outside it), which must give what :func:`vcsdk.verify.native.python_texts` gives.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BUILD = HERE / "work" / "asan"
MODULE = "vcsdk_fastlane_asan"
MAX_TEXT = 2048
MAX_INFLATED = 4096
ASAN_OPTIONS = "detect_leaks=0:abort_on_error=1:symbolize=1:allocator_may_return_null=1"


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
    module = Path(ffi.compile(tmpdir=str(out)))
    build_objects(out)
    return module


OBJECTS = "objects"
"""The subfolder of the ASan build that holds ``objects.c`` built with ASan."""


def build_objects(out: Path = BUILD) -> Path:
    """Compile ``vcsdk/_native/objects.c`` (Python's C API: the claims' text fields and the slot
    makers) with AddressSanitizer into ``out/objects/``; the module's path. The child loads it in
    place of the installed ``vcsdk._native._objects``."""
    import sysconfig

    gcc = shutil.which("gcc")
    if gcc is None:
        raise RuntimeError("no gcc: the ASan build of objects.c cannot be made")
    target = out / OBJECTS / f"_objects{sysconfig.get_config_var('EXT_SUFFIX')}"
    target.parent.mkdir(parents=True, exist_ok=True)
    source = HERE.parent / "vcsdk" / "_native" / "objects.c"
    command = [gcc, "-shared", "-fPIC", "-O1", "-g", "-fsanitize=address", "-fno-omit-frame-pointer",
               f"-I{sysconfig.get_paths()['include']}", str(source), "-o", str(target)]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603
    return target


def _use_asan_objects(build_dir: str) -> None:  # pragma: no cover - runs under ASan
    """Point the compiled lane's claims builder at the ASan build of ``objects.c``."""
    import importlib.util

    from vcsdk.codec.cwt import StatusReference
    from vcsdk.keys.ed25519 import Ed25519PublicKey
    from vcsdk.profiles.official_id import OfficialID
    from vcsdk.verify import native
    from vcsdk.verify.checks import CWTClaims

    path = next((Path(build_dir) / OBJECTS).glob("_objects*"))
    spec = importlib.util.spec_from_file_location("_objects", path)
    assert spec is not None and spec.loader is not None
    objects = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(objects)

    def maker(cls: type) -> Any:
        import dataclasses

        return objects.Maker(cls, tuple(f.name for f in dataclasses.fields(cls)))

    native._texts = objects.texts  # type: ignore[attr-defined]
    native._official_id = maker(OfficialID)
    native._cwt_claims = maker(CWTClaims)
    native._status_reference = maker(StatusReference)
    native._ed25519_key = maker(Ed25519PublicKey)


def seeds() -> list[bytes]:
    """A valid input of each kind (the fuzz world's credential and presentation; two payloads)."""
    from nacl.signing import SigningKey

    from fuzz.make_corpus import _presentation_seeds
    from fuzz.targets import SEED_TEXT
    from vcsdk.codec import qrtext
    from vcsdk.limits import DEFAULT_LIMITS

    presentation = next(s for s in _presentation_seeds()[0] if s[:1] == b"\x00")[1:]
    signing = SigningKey(bytes(32))
    message = b"fuzz"
    signature = signing.sign(message).signature
    from vcsdk.holder.presentation import decode_presentation
    from vcsdk.verify.fast import split_sign1

    credential = qrtext.unpack(SEED_TEXT, "GID1:", DEFAULT_LIMITS)
    parts = split_sign1(credential)
    bound = split_sign1(decode_presentation(presentation.decode("ascii"), DEFAULT_LIMITS).credential)
    assert parts is not None and bound is not None
    return [
        b"\x00" + SEED_TEXT.encode("ascii"),
        b"\x01" + presentation,
        b"\x02" + credential,
        b"\x03" + bytes((64, 32)) + signature + bytes(signing.verify_key) + message,
        b"\x04" + parts[1],
        b"\x04" + bound[1],  # a device-bound credential's payload: the holder key (cnf) too
    ]


def harness(ffi: Any, lib: Any) -> Callable[[bytes], bool]:
    """The one-input function over the ASan module ``(ffi, lib)``."""
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey

    from vcsdk._native import CLAIM_SLOTS
    from vcsdk.codec import base45, deflate
    from vcsdk.codec.cbor import StrictDecoder
    from vcsdk.codec.cose import sig_structure
    from vcsdk.errors import CredentialInvalid
    from vcsdk.limits import DEFAULT_LIMITS
    from vcsdk.verify import native
    from vcsdk.verify.checks import PAYLOAD_TAGS, parse_claims
    from vcsdk.verify.fast import split_sign1
    from vcsdk.verify.native import TEXT_STARTS, claims_from_slots, python_texts

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
        got = kid, grab(parts.payload, parts.payload_len), grab(parts.signature, parts.signature_len), grab(
            parts.tbs, parts.tbs_len
        )  # fmt: skip
        joined = grab(parts.tbs, parts.tbs_len + parts.signature_len)  # the one read NativeLane makes
        tbs = joined[: parts.tbs_len]
        from_joined = tbs[18:26] if with_kid else b"", tbs[len(tbs) - parts.payload_len :], joined[len(tbs) :], tbs
        if from_joined != got:
            raise Escape("the parts read from the Sig_structure and the signature after it differ from the pointers'")
        return got

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

    def one_input(data: bytes) -> bool:
        """Run one input; True when the C code accepted it (then it agreed with Python)."""
        if not data:
            return False
        mode, body = data[0] % 5, data[1:]
        block = exact(body)
        try:
            if mode in prefixes:
                prefix = prefixes[mode]
                kind = lib.VL_PRESENTATION if mode == 1 else lib.VL_CREDENTIAL
                if lib.vl_open(ctx, block, len(body), prefix, len(prefix), kind, parts) != lib.VL_OK:
                    return False
                got = taken(mode == 0)
                if len(body) > MAX_TEXT or not body.startswith(prefix):
                    raise Escape("the C part accepted a text over its limit or without the prefix")
                try:
                    inflated = deflate.decompress(base45.b45decode(body[len(prefix) :].decode("ascii")), MAX_INFLATED)
                except (CredentialInvalid, UnicodeDecodeError) as exc:
                    raise Escape(f"the C part accepted a text the pure decoders refuse: {exc}") from None
                if got != pure(inflated, mode == 1):
                    raise Escape("the C part's parts differ from the pure split")
                key = (got[0] or b"\x01" * 8) * 4  # any 32 bytes: vl_verify_parts must read what vl_verify is given
                if (lib.vl_verify_parts(parts, key, 32) == lib.VL_OK) != (
                    lib.vl_verify(got[2], len(got[2]), got[3], len(got[3]), key, 32) == lib.VL_OK
                ):
                    raise Escape("vl_verify_parts and vl_verify disagree on the same parts")
                return True
            if mode == 2:
                if lib.vl_sign1(ctx, block, len(body), lib.VL_CREDENTIAL, parts) != lib.VL_OK:
                    return False
                if taken(True) != pure(body, False):
                    raise Escape("the C part's COSE_Sign1 split differs from the pure split")
                return True
            if mode == 3:
                return verify(body)
            hostile_texts(body)
            if lib.vl_claims(block, len(body), slots) != lib.VL_OK:
                return False
            claims(body)
            return True
        finally:
            lib.free(block)

    def claims(payload: bytes) -> None:
        read = claims_from_slots(payload, ffi.unpack(slots, lib.VL_CLAIM_SLOTS))
        try:
            expected = parse_claims(decoder.decode(payload))
        except CredentialInvalid as exc:
            if read is None:  # a holder key the encoding check refuses: left to the Python checks
                return
            raise Escape(f"the C claims reader accepted a payload the Python checks refuse: {exc}") from None
        if read != expected:
            raise Escape("the C claims reader's claims differ from the Python checks'")

    def hostile_texts(body: bytes) -> None:
        """``texts`` (objects.c) given spans made from the input's own bytes, some outside it: the
        same texts or the same refusal as :func:`~vcsdk.verify.native.python_texts`."""
        hostile = [body[k] - 8 if k < len(body) else -1 for k in range(CLAIM_SLOTS)]
        compiled = outcome(native._texts, body, hostile)  # type: ignore[attr-defined]
        python = outcome(python_texts, body, hostile)
        if compiled != python:
            raise Escape(f"objects.c texts says {compiled!r}, Python says {python!r}")

    def outcome(texts: Callable[..., Any], body: bytes, hostile: list[int]) -> Any:
        try:
            return texts(body, hostile, TEXT_STARTS)
        except (ValueError, UnicodeDecodeError) as exc:
            return type(exc).__name__

    def verify(body: bytes) -> bool:
        if len(body) < 2:
            return False
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
        return bool(ok)

    return one_input


INTERESTING = bytes(
    (0x00, 0x01, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1F, 0x20, 0x3A, 0x40, 0x57, 0x58, 0x59, 0x5F, 0x60,
     0x78, 0x79, 0x7F, 0x80, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xD8, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF)
)  # fmt: skip
"""CBOR heads (every width, indefinite and reserved), UTF-8 lead and boundary bytes."""
_B45 = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def mutate(data: bytes, rng: random.Random, alphabet: bytes | None = None) -> bytes:
    """One to four edits: flip a bit, set an interesting byte, insert, delete, truncate, repeat a chunk.
    With ``alphabet`` the set and inserted bytes mostly come from it (a Base45 text stays Base45)."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        edit, at = rng.randrange(6), rng.randrange(len(out) + 1)
        byte = rng.choice(alphabet) if alphabet and rng.random() < 0.9 else rng.choice(INTERESTING)
        if edit == 0 and at < len(out):
            out[at] ^= 1 << rng.randrange(8)
        elif edit == 1 and at < len(out):
            out[at] = byte
        elif edit == 2:
            out[at:at] = bytes((byte,))
        elif edit == 3:
            del out[at : at + rng.randint(1, 8)]
        elif edit == 4:
            del out[at:]
        else:
            chunk = out[at : at + rng.randint(1, 16)]
            where = rng.randrange(len(out) + 1)
            out[where:where] = chunk
    return bytes(out)


def variants(seed_inputs: list[bytes], rng: random.Random) -> Iterator[bytes]:
    """Endless inputs near the valid ones, for every entry point and every layer of a text.

    A text is changed as characters, or as its zlib stream, or as its COSE bytes (compressed and
    encoded again), so the changes reach Base45, inflate and the split; COSE bytes, payloads and
    signature inputs are changed as bytes. One input in 64 is random bytes.
    """
    import zlib

    from vcsdk.codec import base45

    prefixes = {0: b"GID1:", 1: b"GIDP1:"}
    while True:
        if rng.randrange(64) == 0:
            yield bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
            continue
        seed = rng.choice(seed_inputs)
        mode, body = seed[0], seed[1:]
        if mode in prefixes:
            prefix = prefixes[mode]
            raw = base45.b45decode(body[len(prefix) :].decode("ascii"))
            layer = rng.randrange(3)
            if layer == 0:
                body = mutate(body, rng, _B45)
            elif layer == 1:
                body = prefix + base45.b45encode(mutate(raw, rng)).encode("ascii")
            else:
                cose = mutate(zlib.decompress(raw), rng)
                body = prefix + base45.b45encode(zlib.compress(cose, 9)).encode("ascii")
        else:
            body = mutate(body, rng)
        yield bytes((mode,)) + body


def _child(build_dir: str, seconds: float, seed: int, last: str) -> None:  # pragma: no cover - runs under ASan
    """Run mutated inputs for ``seconds``; print the counts as JSON. Each input is written to
    ``last`` first, so an ASan abort leaves it behind for the parent to keep."""
    sys.path.insert(0, build_dir)
    module = importlib.import_module(MODULE)
    _use_asan_objects(build_dir)
    if module.lib.vl_init() != 0:
        raise SystemExit("libsodium failed to initialise")
    one_input = harness(module.ffi, module.lib)
    initial = seeds()
    for data in initial:  # the valid inputs themselves are accepted, or the harness is wrong
        if not one_input(data):
            raise SystemExit(f"the C code refused a valid seed input (entry point {data[0]})")
    runs, accepted = [0] * 5, [0] * 5
    deadline = time.monotonic() + seconds
    fd = os.open(last, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    rng = random.Random(seed)  # noqa: S311 - reproducible test inputs, not secrets
    for number, data in enumerate(variants(initial, rng)):
        if number % 256 == 0 and time.monotonic() >= deadline:
            break
        os.pwrite(fd, len(data).to_bytes(4, "big") + data, 0)
        mode = data[0] % 5 if data else 0
        runs[mode] += 1
        accepted[mode] += one_input(data)
    os.close(fd)
    print(json.dumps({"runs": runs, "accepted": accepted}))


ENTRY_POINTS = ("credential text", "presentation text", "COSE_Sign1", "Ed25519", "claims payload")


def run_asan(
    module: str, prog: str, build_module: Callable[[], Path], argv: list[str] | None
) -> tuple[int, dict[str, Any] | None, str]:
    """The parent side of an ASan run, shared by ``fuzz.native`` and ``fuzz.native_batch``: parse the
    options, build with ``build_module``, run ``python -m module --child ...`` with libasan.so
    preloaded, keep the running input on a crash. Returns (exit code, the child's counts, how long
    and with which seed, for the summary line)."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=prog)
    parser.add_argument("--seconds", type=int, default=20, help="fuzzing time (default 20)")
    parser.add_argument("--seed", type=int, help="random seed (default: a new one, printed)")
    parser.add_argument("--work", type=Path, help="scratch folder for the log (default: a temporary folder)")
    parser.add_argument("--artifacts", type=Path, default=HERE / "findings", help="where crashing inputs go")
    args = parser.parse_args(argv)
    name = module.rsplit(".", 1)[-1]
    runtime = libasan()
    if runtime is None:
        print(f"{module}: no gcc with libasan.so here: the ASan build cannot be made", file=sys.stderr)
        return 1, None, ""
    seed = random.SystemRandom().randrange(2**32) if args.seed is None else args.seed
    started = time.monotonic()
    module_path = build_module()
    built = time.monotonic() - started
    with tempfile.TemporaryDirectory(prefix=f"vcsdk-{name}-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        stem = "native_asan" if name == "native" else "batch_asan"
        last = work / f"{stem}.last"
        command = [sys.executable, "-m", module, "--child", str(module_path.parent), str(args.seconds), str(seed),
                   str(last)]  # fmt: skip
        # PYTHONMALLOC=malloc: every Python object in its own malloc block, so that a read past a
        # bytes object the C code was given (objects.c takes Python bytes) is an ASan report too
        env = {**os.environ, "LD_PRELOAD": runtime, "ASAN_OPTIONS": ASAN_OPTIONS, "PYTHONHASHSEED": "0",
               "PYTHONMALLOC": "malloc"}  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=HERE.parent, check=False)  # noqa: S603
        (work / f"{stem}.log").write_text(result.stdout + result.stderr, encoding="utf-8")
        if result.returncode != 0 or "ERROR: AddressSanitizer" in result.stderr:
            print("\n".join(result.stderr.splitlines()[-60:]), file=sys.stderr)
            kept = _keep(last, args.artifacts, stem)
            print(f"{module}: ESCAPE (exit {result.returncode}, seed {seed}); the input is in {kept}", file=sys.stderr)
            return 1, None, ""
        counts: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    total = time.monotonic() - started
    return 0, counts, f"in {total:.1f} s (build {built:.1f} s, seed {seed})"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:  # pragma: no cover - the child process
        _child(argv[1], float(argv[2]), int(argv[3]), argv[4])
        return 0
    code, counts, timing = run_asan("fuzz.native", __doc__.split("\n\n")[0], build, argv)
    if counts is None:
        return code
    runs, accepted = counts["runs"], counts["accepted"]
    detail = ", ".join(f"{name} {a:,}/{r:,}" for name, r, a in zip(ENTRY_POINTS, runs, accepted, strict=True))
    print(
        f"fuzz.native (ASan): {sum(runs):,} executions {timing}, "
        f"0 escapes; accepted by the C code per entry point: {detail}"
    )
    return 0


def _keep(last: Path, artifacts: Path, stem: str) -> Path | None:
    """Copy the input the child was running when it stopped into ``artifacts``."""
    if not last.exists() or last.stat().st_size < 4:
        return None
    blob = last.read_bytes()
    data = blob[4 : 4 + int.from_bytes(blob[:4], "big")]
    artifacts.mkdir(parents=True, exist_ok=True)
    kept = artifacts / f"{stem}-{hashlib.sha256(data).hexdigest()[:16]}"
    kept.write_bytes(data)
    return kept


if __name__ == "__main__":
    sys.exit(main())
