"""Fuzz targets: one function per entry point that takes outside bytes, and the invariant.

Every target takes the fuzzer's bytes and calls one public entry point of the SDK in a fixed,
deterministic world (fixed keys, fixed clock). :func:`run_one` wraps a target in the
invariant that the fuzzer, the corpus replay test and the regression tests all assert:

- the input is accepted, or it raises exactly one :class:`vcsdk.VCError` of the *credential*
  family (``CredentialInvalid``: the presented data is bad) with a stable ``Code`` -- never
  another exception, never a ``UsageError`` (the caller did nothing wrong: only the bytes are
  hostile), never an exception group;
- each input costs at most ``Target.max_seconds`` of CPU time and the process never grows past
  :data:`MAX_RSS_BYTES` (a hang or a memory bomb is an escape too).

Targets also assert what "accepted" means where it is cheap to say (Base45 and zlib agree with a
reference decoder; the fast verifier gives the reference verifier's verdict).
"""

from __future__ import annotations

import resource
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from fuzz.service_json import fuzz_service_json
from vcsdk import Code, CredentialInvalid, Ed25519PrivateKey, StatusReference, VCError, Verifier, _native, fixed_clock
from vcsdk.codec import base45, cbor, cose, deflate, qrtext
from vcsdk.gate.core import Gate
from vcsdk.holder.challenge import CHALLENGE_PREFIX, decode_challenge
from vcsdk.holder.presentation import PRESENTATION_PREFIX
from vcsdk.holder.proof import verify_key_proof
from vcsdk.inspection import inspect_text
from vcsdk.limits import DEFAULT_LIMITS
from vcsdk.qr.scan import scan
from vcsdk.registry.workflow import DOCUMENT_KINDS
from vcsdk.revocation import Freshness, StatusListChecker, pack, sign_token
from vcsdk.service.uploads import check_upload, parse_meta
from vcsdk.trust.store import TrustStore
from vcsdk.trust.trustlist import verify_trust_list
from vcsdk.verify import FastVerifier, Verification, VerifiedCredential
from vcsdk.verify.presentation import PresentationGuard

NOW = 1_780_000_000
"""The fuzz world's clock (2026-05-28T20:26:40Z), the same "now" as the test suite."""
ISSUER = Ed25519PrivateKey(bytes(range(32)))
"""The trusted issuing key (the test suite's fixed seed)."""
ANCHOR = Ed25519PrivateKey(bytes(range(32, 64)))
"""The pinned trust-anchor key for trust lists and gate bundles."""
STATUS_URI = "https://id.mois.go.kr/sl/7"
STATUS_REF = StatusReference(5, STATUS_URI)
AUDIENCE = "https://id.mois.go.kr"
"""The credential issuer identifier a key proof must name."""
DEVICE = Ed25519PrivateKey(bytes(range(64, 96)))
"""The phone's device key: the presentation seeds' credential carries it as ``cnf``."""
GATE_ID = "fuzz-gate-1"
"""The gate that verifies presentations; it issued one challenge, :data:`CHALLENGE_NONCE`."""
CHALLENGE_NONCE = bytes(range(96, 112))
CHALLENGE_AT = NOW - 5
"""When the gate made its one outstanding challenge."""

MAX_RSS_BYTES = 1024 * 1024 * 1024
"""Peak resident memory a fuzzing process may reach (1 GiB): a bomb that allocates is an escape."""
DEFAULT_MAX_SECONDS = 1.0
"""CPU seconds one input may cost (a QR verification costs well under a millisecond)."""


class Escape(AssertionError):
    """An input broke the invariant (wrong exception, too slow, too much memory)."""


@dataclass(frozen=True, slots=True)
class Target:
    """One fuzz target: ``call(data)`` exercises an entry point with outside bytes."""

    name: str
    call: Callable[[bytes], object]
    doc: str
    max_seconds: float = DEFAULT_MAX_SECONDS
    usage_codes: frozenset[Code] = frozenset()
    """``UsageError`` codes that are this entry point's documented answer to bad outside bytes
    (a bad trust file is a configuration error; a bad upload is the HTTP client's 4xx)."""


def _status_checker() -> StatusListChecker:
    token = sign_token(pack([0] * 16, 2), STATUS_URI, ISSUER, issued_at=NOW - 100, expires_at=NOW + 86_400)
    checker = StatusListChecker(TrustStore([ISSUER.public_key]), freshness=Freshness())
    checker.load(token, NOW)
    return checker


_TRUST = TrustStore([ISSUER.public_key])
_REFERENCE = Verifier(_TRUST, clock=fixed_clock(NOW), status=_status_checker())
_FAST = FastVerifier(Verifier(_TRUST, clock=fixed_clock(NOW), status=_status_checker()))
_STATUS = _status_checker()
"""Shared by the presentation target's per-input verifiers (loaded once, only read after)."""


def qr_text_of(data: bytes) -> str:
    """Map fuzzer bytes to a QR text.

    First byte even: the rest is the QR text itself (latin-1, as a scanner hands it over). Odd:
    the rest is a COSE message, wrapped as ``GID1:`` + Base45(zlib(...)) so that mutations reach
    the CBOR, COSE and claims layers instead of dying in Base45.
    """
    if not data:
        return ""
    if data[0] & 1:
        return qrtext.pack(data[1:], "GID1:")
    return data[1:].decode("latin-1")


def fuzz_qr_reference(data: bytes) -> object:
    """``Verifier.verify_at``: the reference verifier on a QR text."""
    return _REFERENCE.verify_at(qr_text_of(data), NOW)


def fuzz_qr_fast(data: bytes) -> object:
    """``FastVerifier.verify_at`` on a QR text; its verdict must equal the reference verifier's."""
    text = qr_text_of(data)
    fast = _FAST.check(text, NOW)
    reference = _REFERENCE.check(text, NOW)
    if (fast.valid, fast.code) != (reference.valid, reference.code):
        raise Escape(f"fast lane says {fast.code}, reference says {reference.code}")
    _FAST.clear_cache()
    return _FAST.verify_at(text, NOW)


_LANES = {
    ("compiled" if flag else "pure"): FastVerifier(
        Verifier(_TRUST, clock=fixed_clock(NOW), status=_status_checker()), cache_size=0, compiled=flag
    )
    for flag in (False, True)
    if not flag or _native.available()
}
"""The fast verifier on each lane that exists here (pure always; compiled when it is built)."""


def _verdict(result: Verification[VerifiedCredential]) -> tuple[object, ...]:
    credential = result.credential
    return (result.valid, result.code, None if credential is None else credential.claims)


def fuzz_qr_lanes(data: bytes) -> object:
    """Differential: the compiled lane, the pure-Python lane and the reference verifier give the
    same verdict, code and claims. Bit 2 of the first byte clear: a credential text
    (:func:`qr_text_of`); set: a presentation text (:func:`presentation_text_of`, one fresh
    guard with the one challenge per verifier)."""
    presentation = bool(data) and bool(data[0] & 4)
    if presentation:
        text = presentation_text_of(data)
        lanes = {name: FastVerifier(_presentation_verifier(), compiled=fast.compiled) for name, fast in _LANES.items()}
    else:
        text = qr_text_of(data)
        lanes = _LANES
    reference = _presentation_verifier() if presentation else _REFERENCE
    expected = _verdict(reference.check(text, NOW))
    for name, fast in lanes.items():
        got = _verdict(fast.check(text, NOW))
        if got != expected:
            raise Escape(f"{name} lane says {got[:2]}, reference says {expected[:2]}")
    return (_presentation_verifier() if presentation else _REFERENCE).verify_at(text, NOW)  # the VCError, if any


def presentation_text_of(data: bytes) -> str:
    """Map fuzzer bytes to a presentation text.

    First byte even: the rest is the QR text itself (latin-1). Odd, bit 1 clear: the rest is a
    COSE message wrapped as ``GIDP1:`` + Base45(zlib(...)). Odd, bit 1 set: the rest is the
    presentation *payload*, signed by the fuzz world's device key with the exact protected
    header, so that mutations pass the device signature and reach the inner credential, the
    freshness window, the challenge and the replay cache.
    """
    if not data or not data[0] & 1:
        return data[1:].decode("latin-1")
    message = data[1:]
    if data[0] & 2:
        message = cose.sign1(message, {cose.HEADER_ALG: -8}, DEVICE.sign)
    return qrtext.pack(message, PRESENTATION_PREFIX)


def _presentation_verifier() -> Verifier:
    """A gate with a fresh guard that issued exactly one challenge (nonce :data:`CHALLENGE_NONCE`)."""
    guard = PresentationGuard(GATE_ID, random=lambda n: CHALLENGE_NONCE[:n])
    guard.challenge(CHALLENGE_AT)
    return Verifier(_TRUST, clock=fixed_clock(NOW), status=_STATUS, presentations=guard)


def _outcome(verify: Callable[[], object]) -> Code:
    try:
        verify()
    except VCError as exc:
        return exc.code
    return Code.VALID


def fuzz_presentation(data: bytes) -> object:
    """Presentation verify: ``Verifier.verify_at`` and ``FastVerifier.verify_at`` on a
    ``GIDP1:`` text, each with a fresh :class:`PresentationGuard` holding one challenge. Both
    lanes must give the same code; an accepted presentation shown again must be
    ``PRESENTATION_REPLAYED`` on both."""
    text = presentation_text_of(data)
    reference = _presentation_verifier()
    fast = FastVerifier(_presentation_verifier())
    fast_code = _outcome(lambda: fast.verify_at(text, NOW))
    try:
        accepted = reference.verify_at(text, NOW)
    except VCError as exc:
        if exc.code != fast_code:
            raise Escape(f"fast lane says {fast_code}, reference says {exc.code}") from exc
        raise
    if fast_code != accepted.code:
        raise Escape(f"fast lane says {fast_code}, reference accepted")
    if text.startswith(PRESENTATION_PREFIX):
        again = (_outcome(lambda: reference.verify_at(text, NOW)), _outcome(lambda: fast.verify_at(text, NOW)))
        if again != (Code.PRESENTATION_REPLAYED, Code.PRESENTATION_REPLAYED):
            raise Escape(f"an accepted presentation shown again gave {again}, not PRESENTATION_REPLAYED twice")
    return accepted


def fuzz_challenge(data: bytes) -> object:
    """``decode_challenge``: a gate's ``GIDC1:`` text as the phone scans it (first byte even: the
    rest is the text; odd: the rest is the CBOR body, Base45-wrapped). An accepted challenge must
    survive its own encoding: ``decode_challenge(c.to_text()) == c``."""
    wrapped = bool(data) and data[0] & 1
    text = CHALLENGE_PREFIX + base45.b45encode(data[1:]) if wrapped else data[1:].decode("latin-1")
    challenge = decode_challenge(text)
    if decode_challenge(challenge.to_text()) != challenge:
        raise Escape("a decoded challenge does not survive its own encoding")
    return challenge


def fuzz_inspect(data: bytes) -> object:
    """``inspect_text``: every layer of a QR text decoded, without trust (``vcsdk inspect``)."""
    return inspect_text(qr_text_of(data))


def fuzz_status_token(data: bytes) -> object:
    """``StatusListChecker.load``: a Status List Token file as a gate receives it."""
    checker = StatusListChecker(_TRUST, freshness=Freshness())
    token = checker.load(data, NOW)
    (signer,) = _TRUST.candidates(ISSUER.kid)  # the one trusted key; a credential it signed asks
    checker.check(STATUS_REF, NOW, issuer="KR-MOIS", signer=signer)
    if token.status_list.size:
        checker.check(StatusReference(token.status_list.size - 1, token.uri), NOW, issuer="KR-MOIS", signer=signer)
    return token


def fuzz_trust_list(data: bytes) -> object:
    """``verify_trust_list``: an anchor-signed trust list file."""
    trust_list = verify_trust_list(data, [ANCHOR.public_key], now=NOW)
    trust_list.store()
    return trust_list


def fuzz_jwks(data: bytes) -> object:
    """``TrustStore.from_jwks``: an unsigned JWKS trust file (development trust source)."""
    return TrustStore.from_jwks(data)


def fuzz_gate_bundle(data: bytes) -> object:
    """``Gate.load``: an offline gate bundle, then one check through what it provisioned."""
    gate = Gate([ANCHOR.public_key], clock=fixed_clock(NOW))
    bundle = gate.load(data)
    gate.check(SEED_TEXT)
    return bundle


def fuzz_cbor(data: bytes) -> object:
    """``loads_strict``: the strict CBOR decoder (COSE and date tags allowed)."""
    return cbor.loads_strict(data, DEFAULT_LIMITS, frozenset({18, 100}))


def fuzz_base45(data: bytes) -> object:
    """``b45decode``: accepted text must be canonical (re-encodes to itself)."""
    text = data.decode("latin-1")
    decoded = base45.b45decode(text)
    if base45.b45encode(decoded) != text:
        raise Escape("Base45 accepted a non-canonical text")
    return decoded


def fuzz_zlib(data: bytes) -> object:
    """``deflate.decompress``: accepted input must be exactly one zlib stream (as CPython's zlib reads it)."""
    out = deflate.decompress(data, DEFAULT_LIMITS.max_inflated_bytes)
    reader = zlib.decompressobj()
    if reader.decompress(data) != out or not reader.eof or reader.unused_data:
        raise Escape("zlib-ng accepted what zlib does not read the same way")
    return out


def fuzz_image(data: bytes) -> object:
    """``qr.scan``: image bytes from a camera or an upload."""
    return scan(data)


UPLOAD_TODAY = date(2026, 5, 28)
"""The fuzz world's date for the service's photo-age check."""


def fuzz_upload(data: bytes) -> object:
    """``service.uploads.check_upload``: a document upload (first byte picks the document kind)."""
    if not data:
        return None
    kind = DOCUMENT_KINDS[data[0] % len(DOCUMENT_KINDS)]
    meta = {"captured": "2026-05-01"} if kind == "photo" else {}
    return check_upload(
        kind, data[1:], filename="upload.bin", declared_type=None, meta=meta, max_bytes=1 << 20, today=UPLOAD_TODAY
    )


def fuzz_upload_meta(data: bytes) -> object:
    """``service.uploads.parse_meta``: the JSON metadata sent with an upload."""
    return parse_meta(data.decode("utf-8", "replace"))


def fuzz_key_proof(data: bytes) -> object:
    """``verify_key_proof``: a wallet's device-key proof of possession (COSE_Sign1)."""
    return verify_key_proof(data, audience=AUDIENCE, now=NOW)


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("qr_reference", fuzz_qr_reference, "QR text -> reference Verifier"),
        Target("qr_fast", fuzz_qr_fast, "QR text -> FastVerifier, verdict equal to the reference"),
        Target("inspect", fuzz_inspect, "QR text -> inspect_text (every layer, no trust)"),
        Target("status_token", fuzz_status_token, "Status List Token -> StatusListChecker.load"),
        Target("trust_list", fuzz_trust_list, "signed trust list -> verify_trust_list"),
        Target(
            "jwks",
            fuzz_jwks,
            "JWKS trust file -> TrustStore.from_jwks",
            usage_codes=frozenset({Code.TRUST_SOURCE_INVALID}),
        ),
        Target("gate_bundle", fuzz_gate_bundle, "gate bundle -> Gate.load"),
        Target("cbor", fuzz_cbor, "bytes -> strict CBOR"),
        Target("base45", fuzz_base45, "text -> Base45 (RFC 9285)"),
        Target("zlib", fuzz_zlib, "bytes -> bounded zlib"),
        Target("image", fuzz_image, "image bytes -> QR scan", max_seconds=5.0),
        Target("key_proof", fuzz_key_proof, "COSE_Sign1 -> verify_key_proof"),
        Target("qr_lanes", fuzz_qr_lanes, "QR/presentation text -> compiled lane, pure lane, reference: one verdict"),
        Target("presentation", fuzz_presentation, "GIDP1: text -> Verifier and FastVerifier, one guard each"),
        Target("challenge", fuzz_challenge, "GIDC1: text -> decode_challenge"),
        Target(
            "upload",
            fuzz_upload,
            "service document upload -> check_upload",
            max_seconds=5.0,
            usage_codes=frozenset({Code.UPLOAD_REFUSED}),
        ),
        Target(
            "service_json",
            fuzz_service_json,
            "HTTP request -> the service app's JSON endpoints (in-process ASGI)",
            max_seconds=5.0,
        ),
        Target(
            "upload_meta",
            fuzz_upload_meta,
            "service upload metadata -> parse_meta",
            usage_codes=frozenset({Code.UPLOAD_REFUSED}),
        ),
    )
}
"""Every target by name."""

NOT_YET_FUZZED: dict[str, str] = {}
"""Entry points the security kit names that do not exist yet, with the issue that adds them."""


def _peak_rss() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def run_one(target: Target, data: bytes) -> Any:
    """Run ``target`` on ``data`` under the invariant; return the accepted value or the VCError.

    Raises :class:`Escape` (or lets the foreign exception through) when the invariant breaks.
    """
    start = time.process_time()
    try:
        outcome: Any = target.call(data)
    except Escape:
        raise
    except VCError as exc:
        if isinstance(exc, BaseExceptionGroup) or not isinstance(exc.code, Code):
            raise Escape(f"{target.name}: not exactly one VCError with a stable code: {exc!r}") from exc
        if not isinstance(exc, CredentialInvalid) and exc.code not in target.usage_codes:
            raise Escape(f"{target.name}: outside bytes raised a usage error {exc.code}: {exc.message}") from exc
        outcome = exc
    elapsed = time.process_time() - start
    if elapsed > target.max_seconds:
        raise Escape(f"{target.name}: one input took {elapsed:.2f} s of CPU (bound {target.max_seconds} s)")
    peak = _peak_rss()
    if peak > MAX_RSS_BYTES:
        raise Escape(f"{target.name}: process reached {peak >> 20} MiB (bound {MAX_RSS_BYTES >> 20} MiB)")
    return outcome


def seed_claims() -> dict[str, object]:
    """The reference person's claims (the seed credential's)."""
    return {
        "name": "김민준",
        "name_latin": "KIM MINJUN",
        "birth_date": "1988-04-17",
        "agency_code": 1741000,
        "agency": "행정안전부",
        "unit": "디지털정부혁신실 공공데이터정책과",
        "rank": "행정주사",
        "position": "주무관",
        "employee_id": "2019-174-00123",
        "photo_digest": "00112233445566778899aabbccddeeff",
    }


def _seed_text() -> str:
    from vcsdk import Issuer

    issuer = Issuer(ISSUER, "KR-MOIS", clock=fixed_clock(NOW - 100))
    return issuer.issue(seed_claims(), status=STATUS_REF, credential_id=bytes(16)).qr_text


SEED_TEXT = _seed_text()
"""A valid credential in this world (reference claims, status index 5)."""
