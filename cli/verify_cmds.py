"""``vcsdk verify``: one QR text, an image, or gate mode (one QR text per stdin line)."""

from __future__ import annotations

import argparse
import functools
import sys
from typing import Any, Protocol, TextIO

from vcsdk import StatusPolicy, TrustStore, UsageError, VCError, Verification, Verifier
from vcsdk.clock import format_time
from vcsdk.errors import CredentialInvalid, FileError
from vcsdk.gate.core import Gate, document_type
from vcsdk.keys.files import load_public_key, load_trust, read_bytes
from vcsdk.profiles.hc1 import HC1, HC1Credential, HC1Verifier, signer_certificates
from vcsdk.revocation import Freshness, StatusListChecker
from vcsdk.revocation.checker import DEFAULT_MAX_AGE_SECONDS
from vcsdk.trust.bundle import BUNDLE_TYP
from vcsdk.trust.floors import VersionFloors, default_state_dir
from vcsdk.trust.store import TrustedKey
from vcsdk.trust.trustlist import TRUST_LIST_TYP, verify_trust_list
from vcsdk.verify import FastVerifier
from vcsdk.verify.parallel import ParallelVerifier

from .common import EXIT_INVALID, EXIT_OK, Parser, clock_of, emit_json
from .qr_cmds import image_text


class _Checker(Protocol):
    def check(self, text: str) -> Any: ...


class _Dispatch:
    """Sends ``HC1:`` texts to the EU DCC verifier and everything else to the official-ID one."""

    def __init__(self, official: _Checker, hc1: HC1Verifier) -> None:
        self.official = official
        self.hc1 = hc1

    def check(self, text: str) -> Any:
        return (self.hc1 if text.startswith(HC1.prefix) else self.official).check(text)


def _build_verifier(args: argparse.Namespace) -> _Dispatch:
    if not args.trust:
        raise UsageError("give at least one --trust file (JWKS, JWK, public-key PEM, trust list, bundle, certificate)")
    clock = clock_of(args)
    anchors = [load_public_key(path) for path in args.trust_anchor]
    floors: VersionFloors | None = None  # opened only when a signed source needs its rollback floors
    expiries: list[int] = []
    keys: list[TrustedKey] = []
    certificates: list[TrustedKey] = []
    gate: Gate | None = None
    for path in args.trust:
        data = read_bytes(path)
        typ = document_type(data)
        if typ in (BUNDLE_TYP, TRUST_LIST_TYP):
            if not anchors:
                raise UsageError(f"{path} is signed by a trust anchor: give --trust-anchor")
            floors = floors or VersionFloors(args.state or default_state_dir())
            try:
                if typ == BUNDLE_TYP:
                    gate = Gate(anchors, clock=clock, state=floors, holder_binding=args.holder_binding or "off")
                    gate.load(data)
                else:
                    listed = verify_trust_list(data, anchors, now=clock(), floors=floors)
                    keys.extend(listed.keys)
                    expiries.append(listed.expires_at)
            except CredentialInvalid as exc:  # the gate cannot run on an untrusted source
                raise UsageError(f"{path} refused: {exc}") from None
        elif b"CERTIFICATE" in data or data[:1] == b"\x30":
            certificates.extend(signer_certificates(data))
        else:
            keys.extend(load_trust(path))
    hc1 = HC1Verifier(certificates, clock=clock, leeway=args.leeway)
    if gate is not None:
        if keys or args.status_list:
            raise UsageError("a gate bundle carries its own trust list and status lists: give it alone")
        return _Dispatch(gate, hc1)
    policy = StatusPolicy.ALLOW_UNKNOWN if args.allow_unknown_status else StatusPolicy.FAIL_CLOSED
    store = TrustStore(
        keys,
        source=", ".join(sorted({entry.source for entry in keys})) or "none",
        expires_at=min(expiries) if expiries else None,
    )
    checker = None
    if args.status_list:
        checker = StatusListChecker(store, freshness=Freshness(max_age=args.status_max_age, leeway=args.leeway))
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
    return _Dispatch(FastVerifier(verifier), hc1)


def _verifier_factory(args: argparse.Namespace) -> _Dispatch:
    """Rebuild the verifier inside a worker process (module level: picklable)."""
    return _build_verifier(args)


def cmd_verify(args: argparse.Namespace) -> int:
    verifier = _build_verifier(args)
    if (args.qr_text is None) == (args.image is None):
        raise UsageError("give either QR_TEXT (or - for stdin) or --image PATH")
    if args.qr_text == "-":
        if args.workers > 1:
            return _parallel_gate_mode(args, sys.stdin, sys.stdout)
        return _gate_mode(verifier, sys.stdin, sys.stdout)
    if args.image is not None:
        try:
            text = image_text(args.image)
        except CredentialInvalid as exc:  # no QR code, or an unreadable image: not valid
            if args.json:
                emit_json(Verification(False, exc.code, exc.message).to_json())
            else:
                print(f"NOT VALID  {exc.code}: {exc.message}")
            return EXIT_INVALID
    else:
        text = args.qr_text
    result = verifier.check(text)
    if args.json:
        emit_json(result.to_json())
    elif result.valid and isinstance(result.credential, HC1Credential):
        print(f"VALID  kid={result.credential.kid.hex()} iss={result.credential.issuer} (EU DCC, HC1)")
        print(f"       expires {format_time(result.credential.expires_at)}")
    elif result.valid and result.credential is not None:
        claims = result.credential.claims
        print(f"VALID  kid={result.credential.kid.hex()} iss={result.credential.issuer}")
        print(f"       {claims.name} ({claims.name_latin or '-'}) {claims.rank} {claims.position or ''}".rstrip())
        print(f"       {claims.agency} {claims.unit or ''}".rstrip())
        print(f"       expires {format_time(result.credential.expires_at)}")
        presented = getattr(result.credential, "presentation", None)
        if presented is not None:
            answered = f", answering gate {presented.gate_id}'s challenge" if presented.challenged else ""
            print(f"       presented by its phone at {format_time(presented.presented_at)}{answered}")
        if result.credential.status is not None and result.credential.status_check is None:
            print("       WARNING: status was not checked")
    else:
        print(f"NOT VALID  {result.code}: {result.message}")
    return EXIT_OK if result.valid else EXIT_INVALID


def _parallel_gate_mode(args: argparse.Namespace, lines: TextIO, out: TextIO) -> int:
    """Gate mode on several cores: batches of lines go to worker processes."""
    all_valid = True
    with ParallelVerifier[Any](functools.partial(_verifier_factory, args), workers=args.workers) as pool:
        for result in pool.check_many_json(line.rstrip("\r\n") for line in lines):
            all_valid &= result["valid"]
            emit_json(result, out)
    return EXIT_OK if all_valid else EXIT_INVALID


def _gate_mode(verifier: _Dispatch, lines: TextIO, out: TextIO) -> int:
    """One QR text per input line, one JSON line out per input line."""
    all_valid = True
    for line in lines:
        result = verifier.check(line.rstrip("\r\n"))
        all_valid &= result.valid
        emit_json(result.to_json(), out)
    return EXIT_OK if all_valid else EXIT_INVALID


def register_verify(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``vcsdk verify``."""
    verify = commands.add_parser("verify", help="verify a QR text (exit 0 valid, 1 not valid, 2 usage)")
    verify.add_argument(
        "qr_text", metavar="QR_TEXT", nargs="?", help="the QR text, or - for one per line on stdin (gate mode)"
    )
    verify.add_argument("--image", metavar="PATH", help="read the QR code from an image (PNG, JPEG, ...)")
    verify.add_argument("--workers", type=int, default=1, help="gate mode (-): verify on this many processes (batches)")
    verify.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="PATH",
        help="JWKS, JWK or public-key PEM (repeatable)",
    )
    verify.add_argument(
        "--trust-anchor", action="append", default=[], metavar="PATH", help="pinned trust-anchor public key"
    )
    verify.add_argument("--at", metavar="TIME", help="verify as of TIME (ISO 8601 or Unix seconds)")
    verify.add_argument("--leeway", type=int, default=60, help="clock-skew leeway in seconds (default 60)")
    verify.add_argument(
        "--state",
        metavar="DIR",
        help="rollback state: highest trust-list/bundle version seen per anchor "
        "(default $XDG_STATE_HOME/vcsdk, else ~/.local/state/vcsdk)",
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
        default=DEFAULT_MAX_AGE_SECONDS,
        metavar="SECONDS",
        help=f"refuse status lists older than this (default {DEFAULT_MAX_AGE_SECONDS})",
    )
    verify.add_argument(
        "--holder-binding",
        choices=["off", "if-bound", "required"],
        help="bare credentials refused with PRESENTATION_REQUIRED: if-bound (default: those with a device key), "
        "required (all), off; with a bundle, only tightens the bundle's policy. GIDP1: presentations are "
        "always verified in full (replays are caught within one run, e.g. gate mode)",
    )
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(func=cmd_verify)
