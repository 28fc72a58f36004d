"""``vcsdk verify``: QR texts, images, or gate mode (one QR text per stdin line).

Heavy modules are imported inside the functions that need them, so that a single verification
starts fast (no QR imaging, X.509 or schema machinery unless a source or input needs it).
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import os
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any, TextIO

from vcsdk._slots import slot_constructor
from vcsdk.errors import UsageError

from .common import EXIT_INVALID, EXIT_OK, Parser, clock_of, emit_json, iso_times

MINIMAL_CLAIMS = ("name", "agency", "rank")
STATUS_MAX_AGE_DEFAULT = 3 * 24 * 3600
"""The verifier's default (``vcsdk.revocation.checker.DEFAULT_MAX_AGE_SECONDS``; a test keeps them equal),
spelled here so that the parser does not import the status machinery."""

EXAMPLES = """\
examples:
  vcsdk verify --trust trust.jwks --status-list sl7.cwt "$(cat credential.txt)"
  vcsdk verify --trust bundle.cbor --trust-anchor anchor.pub.pem --image photo.jpg --image scan2.png
  vcsdk qr scan photos/*.jpg --text | vcsdk verify --trust trust.jwks --allow-unknown-status -
"""


@dataclass(frozen=True, slots=True)
class Report:
    """A verdict as the CLI prints it: the DESIGN JSON shape plus ``status_checked`` and ``exp``."""

    result: Any
    claims: str

    @property
    def valid(self) -> bool:
        return bool(self.result.valid)

    def to_json(self) -> dict[str, Any]:
        from vcsdk.clock import format_time

        out: dict[str, Any] = self.result.to_json()
        out["message"] = iso_times(str(out.get("message", "")))
        credential = self.result.credential
        out["status_checked"] = getattr(credential, "status_check", None) is not None
        expires = getattr(credential, "expires_at", None)
        out["exp"] = None if expires is None else format_time(expires)
        if out.get("claims") is not None and self.claims != "all":
            out["claims"] = (
                None if self.claims == "none" else {k: v for k, v in out["claims"].items() if k in MINIMAL_CLAIMS}
            )
        return out


_report = slot_constructor(Report)
"""``Report(result, claims)`` without the dataclass ``__init__`` (one per verdict line)."""


@dataclass(frozen=True)
class Reporting:
    """Wraps a checker so that ``check`` returns :class:`Report` (picklable for worker processes)."""

    checker: Any
    claims: str

    def check(self, text: str) -> Report:
        return Report(self.checker.check(text), self.claims)

    def check_many(self, texts: list[str]) -> list[Report]:
        """The reports of a batch, through the checker's batch API when it has one."""
        many = getattr(self.checker, "check_many", None)
        results = many(texts) if many is not None else [self.checker.check(text) for text in texts]
        claims = self.claims
        return [_report(result, claims) for result in results]


_encode_string = json.encoder.encode_basestring
"""A JSON string literal with non-ASCII kept, exactly as ``json.dumps(..., ensure_ascii=False)`` writes it."""


@functools.lru_cache(maxsize=1024)
def _message(message: str) -> str:
    return str(_encode_string(iso_times(message)))


@functools.lru_cache(maxsize=4096)
def _time(seconds: int) -> str:
    from vcsdk.clock import format_time

    return f'"{format_time(seconds)}"'


def verdict_line(report: Report) -> str:
    """``json.dumps(report.to_json(), ensure_ascii=False) + "\\n"``, byte for byte, built cheaply.

    Official-ID verdicts with no or minimal claims (gate mode's default) are written from a
    template; anything else (all claims, EU DCC) goes through ``json.dumps``.
    """
    VerifiedCredential = _verified_credential_type()
    result = report.result
    credential = result.credential
    if credential is None:
        tail = '"claims": null, "status_checked": false, "exp": null}\n'
    elif type(credential) is VerifiedCredential and report.claims != "all":
        if report.claims == "none":
            claims = "null"
        else:
            c = credential.claims
            claims = (
                f'{{"name": {_encode_string(c.name)}, "agency": {_encode_string(c.agency)}, '
                f'"rank": {_encode_string(c.rank)}}}'
            )
        checked = "false" if credential.status_check is None else "true"
        tail = f'"claims": {claims}, "status_checked": {checked}, "exp": {_time(credential.expires_at)}}}\n'
    else:
        return json.dumps(report.to_json(), ensure_ascii=False) + "\n"
    kid = "null" if result.kid is None else f'"{result.kid.hex()}"'
    valid = "true" if result.valid else "false"
    return (
        f'{{"valid": {valid}, "code": {_encode_string(str(result.code))}, "message": {_message(result.message)}, '
        f'"kid": {kid}, {tail}'
    )


@functools.cache
def _verified_credential_type() -> Any:
    """:class:`vcsdk.verify.result.VerifiedCredential`, imported on first use (an import statement
    in :func:`verdict_line` would cost more than the rest of it)."""
    from vcsdk.verify.result import VerifiedCredential

    return VerifiedCredential


def build_verifier(args: argparse.Namespace) -> Any:
    """The verifier the options describe: a gate bundle, or keys (+ status lists); HC1 by prefix."""
    from vcsdk.keys.files import load_public_key
    from vcsdk.profiles.dispatch import PrefixDispatch
    from vcsdk.trust.sources import open_trust_sources

    if not args.trust:
        raise UsageError("give at least one --trust file (JWKS, JWK, public-key PEM, trust list, bundle, certificate)")
    clock = clock_of(args)
    anchors = [load_public_key(path) for path in args.trust_anchor]
    sources = open_trust_sources(
        args.trust, anchors, clock=clock, state_dir=args.state, holder_binding=args.holder_binding or "off"
    )
    if sources.gate is not None:
        if sources.keys or args.status_list:
            raise UsageError("a gate bundle carries its own trust list and status lists: give it alone")
        return PrefixDispatch(sources.gate, sources.certificates, clock=clock, leeway=args.leeway)
    verifier = _key_verifier(args, sources.keys, sources.expires_at)
    return PrefixDispatch(verifier, sources.certificates, clock=clock, leeway=args.leeway)


def _key_verifier(args: argparse.Namespace, keys: Any, expires_at: int | None) -> Any:
    from vcsdk.errors import FileError, VCError
    from vcsdk.keys.files import read_bytes
    from vcsdk.trust.store import TrustStore
    from vcsdk.verify import FastVerifier, StatusPolicy, Verifier

    clock = clock_of(args)
    policy = StatusPolicy.ALLOW_UNKNOWN if args.allow_unknown_status else StatusPolicy.FAIL_CLOSED
    store = TrustStore(
        keys,
        source=", ".join(sorted({entry.source for entry in keys})) or "none",
        expires_at=expires_at,
    )
    checker = None
    if args.status_list:
        from vcsdk.revocation.checker import DEFAULT_MAX_AGE_SECONDS, Freshness, StatusListChecker

        max_age = DEFAULT_MAX_AGE_SECONDS if args.status_max_age is None else args.status_max_age
        checker = StatusListChecker(store, freshness=Freshness(max_age=max_age, leeway=args.leeway))
        now = clock()
        for path in args.status_list:
            try:
                checker.load(read_bytes(path), now)
            except FileError:
                raise
            except VCError as exc:  # fail closed: credentials on that list become STATUS_UNKNOWN
                print(f"vcsdk: warning: status list {path} refused: {exc}", file=sys.stderr)
    verifier = Verifier(
        store,
        clock=clock,
        leeway=args.leeway,
        status=checker,
        status_policy=policy,
        require_status=not args.allow_no_status_claim,
        holder_binding=args.holder_binding or "if-bound",
    )
    return FastVerifier(verifier)


def _verifier_factory(args: argparse.Namespace, claims: str) -> Reporting:
    """Rebuild the verifier inside a worker process (module level: picklable)."""
    return Reporting(build_verifier(args), claims)


def _claims_mode(args: argparse.Namespace, gate: bool) -> str:
    return str(args.claims or ("minimal" if gate else "all"))


def cmd_verify(args: argparse.Namespace) -> int:
    if (args.qr_text is None) == (not args.image):
        raise UsageError("give either QR_TEXT (or - for one per line on stdin) or --image PATH (repeatable)")
    if args.qr_text not in (None, "-") and os.path.isfile(args.qr_text) and not args.qr_text.startswith("GID1:"):
        raise UsageError(
            f"{args.qr_text} is a file, but a QR text was expected: use --image {args.qr_text} for a picture,"
            " or - to read QR texts from stdin"
        )
    verifier = Reporting(build_verifier(args), _claims_mode(args, args.qr_text == "-"))
    if args.qr_text == "-":
        from vcsdk.gate.sources import text_batches

        if args.workers > 1:  # the lines as one process reads them (CR, not UTF-8, over-long)
            return _parallel_gate_mode(args, (text for texts in text_batches(sys.stdin) for text in texts), sys.stdout)
        return gate_mode(verifier, text_batches(sys.stdin), sys.stdout, line_buffered=args.line_buffered)
    if args.image:
        all_valid = True
        for path in args.image:
            all_valid &= _show(_image_report(verifier, path), args.json, path if len(args.image) > 1 else None)
        return EXIT_OK if all_valid else EXIT_INVALID
    return EXIT_OK if _show(verifier.check(args.qr_text), args.json, None) else EXIT_INVALID


def _image_report(verifier: Reporting, path: str) -> Report:
    from vcsdk.errors import CredentialInvalid
    from vcsdk.verify.result import Verification

    from .qr_cmds import image_text

    try:
        text = image_text(path)
    except CredentialInvalid as exc:  # no QR code, or an unreadable image: not valid
        return Report(Verification(False, exc.code, exc.message), verifier.claims)
    return verifier.check(text)


def _show(report: Report, as_json: bool, label: str | None) -> bool:
    from vcsdk.clock import format_time

    result = report.result
    if as_json:
        emit_json({"image": label, **report.to_json()} if label else report.to_json())
        return report.valid
    prefix = f"{label}: " if label else ""
    credential = result.credential
    if result.valid and type(credential).__name__ == "HC1Credential":  # no X.509 import for official IDs
        print(f"{prefix}VALID  kid={credential.kid.hex()} iss={credential.issuer} (EU DCC, HC1)")
        print(f"       expires {format_time(credential.expires_at)}")
    elif result.valid and credential is not None:
        claims = report.to_json()["claims"] or {}
        print(f"{prefix}VALID  kid={credential.kid.hex()} iss={credential.issuer}")
        if report.claims == "all":
            c = credential.claims
            print(f"       {c.name} ({c.name_latin or '-'}) {c.rank} {c.position or ''}".rstrip())
            print(f"       {c.agency} {c.unit or ''}".rstrip())
        elif claims:
            print("       " + " ".join(str(claims[k]) for k in MINIMAL_CLAIMS if k in claims))
        print(f"       expires {format_time(credential.expires_at)}")
        presented = getattr(credential, "presentation", None)
        if presented is not None:
            answered = f", answering gate {presented.gate_id}'s challenge" if presented.challenged else ""
            print(f"       presented by its phone at {format_time(presented.presented_at)}{answered}")
        if credential.status is not None and credential.status_check is None:
            print("       WARNING: status was not checked")
    else:
        print(f"{prefix}NOT VALID  {result.code}: {iso_times(result.message)}")
    return report.valid


def _parallel_gate_mode(args: argparse.Namespace, lines: Iterable[str], out: TextIO) -> int:
    """Gate mode on several cores: batches of lines go to worker processes."""
    from vcsdk.verify.parallel import ParallelVerifier

    all_valid = True
    factory = functools.partial(_verifier_factory, args, _claims_mode(args, True))
    with ParallelVerifier[Any](factory, workers=args.workers, clock=clock_of(args)) as pool:
        for result in pool.check_many_json(lines):
            all_valid &= result["valid"]
            emit_json(result, out)
    return EXIT_OK if all_valid else EXIT_INVALID


class Terminated(Exception):
    """SIGTERM in gate mode while waiting for input: stop (every verdict made is already written)."""


class _Sigterm:
    """SIGTERM while a batch is verified finishes and writes that batch first; while waiting for
    input it stops at once (main thread only; the previous handler is restored on exit)."""

    def __init__(self) -> None:
        self.received = False
        self.waiting = False
        self._previous: Any = None

    def __enter__(self) -> _Sigterm:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def __exit__(self, *_: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = True
        if self.waiting:
            raise Terminated

    def batches(self, batches: Iterable[list[str]]) -> Iterator[list[str]]:
        """``batches``, marking the time spent waiting for them; stops after a SIGTERM."""
        source = iter(batches)
        while not self.received:
            self.waiting = True
            try:
                texts = next(source, None)
            finally:
                self.waiting = False
            if texts is None:
                return
            yield texts


def gate_mode(verifier: Reporting, batches: Iterable[list[str]], out: TextIO, *, line_buffered: bool = False) -> int:
    """One QR text per input line, one JSON line out per input line, in input order.

    Each batch of available lines is verified (through the batch API) and written with one
    write and one flush, before more input is awaited; ``line_buffered`` verifies and flushes
    line by line instead. SIGTERM stops after the batch in progress is written (exit 143); a
    reader that went away (SIGPIPE) ends the run quietly.
    """
    all_valid = True
    write, flush = out.write, out.flush
    with _Sigterm() as sigterm:
        try:
            for texts in sigterm.batches(batches):
                if line_buffered:
                    for text in texts:
                        report = verifier.check(text)
                        all_valid &= report.valid
                        write(verdict_line(report))
                        flush()
                    continue
                reports = verifier.check_many(texts)
                all_valid &= all(report.valid for report in reports)
                write("".join(map(verdict_line, reports)))
                flush()
            flush()
        except Terminated:
            pass
        except BrokenPipeError:
            _silence(out)
            return EXIT_OK
        if sigterm.received:
            return 128 + signal.SIGTERM
    return EXIT_OK if all_valid else EXIT_INVALID


def _silence(out: TextIO) -> None:
    """After a broken pipe: point the descriptor at /dev/null so that exit does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def register_verify(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``vcsdk verify``."""
    verify = commands.add_parser(
        "verify",
        help="verify QR texts or images (exit 0 valid, 1 not valid, 2 usage)",
        description="Verify official-ID (GID1:) and EU DCC (HC1:) QR texts offline.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument(
        "qr_text", metavar="QR_TEXT", nargs="?", help="the QR text, or - for one per line on stdin (gate mode)"
    )
    verify.add_argument(
        "--image", metavar="PATH", action="append", default=[], help="read the QR code from an image (repeatable)"
    )
    verify.add_argument(
        "--workers", type=int, default=1, help="gate mode (-): verify on this many processes, in batches (default 1)"
    )
    verify.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="PATH",
        help="JWKS, JWK, public-key PEM, signed trust list, gate bundle or X.509 certificate (repeatable; "
        "default from VCSDK_TRUST or the config file)",
    )
    verify.add_argument(
        "--trust-anchor",
        action="append",
        default=[],
        metavar="PATH",
        help="pinned trust-anchor public key (repeatable)",
    )
    verify.add_argument("--at", metavar="TIME", help="verify as of TIME (ISO 8601 or Unix seconds; default now)")
    verify.add_argument("--leeway", type=int, default=60, help="clock-skew leeway in seconds (default 60)")
    verify.add_argument(
        "--state",
        metavar="DIR",
        help="rollback state: highest trust-list/bundle version seen per anchor "
        "(default VCSDK_STATE_DIR, else $XDG_STATE_HOME/vcsdk, else ~/.local/state/vcsdk)",
    )
    verify.add_argument(
        "--holder-binding",
        choices=["off", "if-bound", "required"],
        help="bare credentials refused with PRESENTATION_REQUIRED: if-bound (default: those with a device key), "
        "required (all), off; with a bundle, only tightens the bundle's policy. GIDP1: presentations are "
        "always verified in full (replays are caught within one run, e.g. gate mode)",
    )
    verify.add_argument(
        "--allow-no-status-claim",
        action="store_true",
        help="accept credentials without a status claim (refused by default: they cannot be revoked)",
    )
    verify.add_argument(
        "--allow-unknown-status",
        action="store_true",
        help="accept credentials whose status list is not available (default: reject, STATUS_UNKNOWN)",
    )
    verify.add_argument(
        "--status-list", action="append", default=[], metavar="PATH", help="Status List Token file (repeatable)"
    )
    verify.add_argument(
        "--status-max-age",
        type=int,
        metavar="SECONDS",
        help=f"refuse status lists older than this (default {STATUS_MAX_AGE_DEFAULT}: 3 days)",
    )
    verify.add_argument(
        "--claims",
        choices=["none", "minimal", "all"],
        help="personal claims in the output: minimal = name, agency, rank (and exp); "
        "default all for one credential, minimal in gate mode (-)",
    )
    verify.add_argument("--json", action="store_true", help="one JSON object per verdict")
    verify.add_argument(
        "--line-buffered",
        action="store_true",
        help="gate mode (-): verify and flush line by line (default: each batch of lines already read "
        "is verified together and flushed before waiting for more input)",
    )
    verify.set_defaults(func=cmd_verify)
