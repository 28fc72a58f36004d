"""``vcsdk``: a thin command-line shell over the public API.

Exit codes: 0 valid / done, 1 not valid, 2 usage or configuration error. Errors print as one
line ``vcsdk: CODE: message`` on stderr. ``--json`` where the output is data.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TextIO

from vcsdk import (
    Ed25519PrivateKey,
    Issuer,
    StatusPolicy,
    StatusReference,
    TrustStore,
    UsageError,
    VCError,
    Verification,
    Verifier,
)
from vcsdk.clock import format_time, parse_time, system_clock
from vcsdk.codec.cbor import dumps
from vcsdk.errors import CredentialInvalid, FileError, KeyPassphraseRequired
from vcsdk.gate.core import Gate, document_type
from vcsdk.inspection import inspect_text
from vcsdk.keys import b64url_encode
from vcsdk.keys.files import (
    atomic_write,
    load_private_key,
    load_public_key,
    load_trust,
    read_bytes,
    save_jwks,
    save_private_key,
)
from vcsdk.keys.keyring import Keyring
from vcsdk.profiles.hc1 import HC1, HC1Credential, HC1Verifier, signer_certificates
from vcsdk.revocation import (
    Freshness,
    RegistryConfig,
    SQLiteStatusStore,
    Status,
    StatusListChecker,
    StatusRegistry,
    verify_token,
)
from vcsdk.revocation.checker import DEFAULT_MAX_AGE_SECONDS
from vcsdk.revocation.registry import DEFAULT_TOKEN_VALIDITY_SECONDS, DEFAULT_TTL_SECONDS, MIN_LIST_SIZE
from vcsdk.revocation.token import read_token_unverified
from vcsdk.trust.bundle import BUNDLE_TYP
from vcsdk.trust.store import TrustedKey
from vcsdk.trust.trustlist import TRUST_LIST_TYP, verify_trust_list
from vcsdk.verify import FastVerifier
from vcsdk.verify.parallel import ParallelVerifier

from .common import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    Parser,
    add_passphrase_options,
    clock_of,
    emit_json,
    passphrase,
)
from .qr_cmds import image_text, register_qr, write_image
from .registry_cmds import register_registry
from .trust_cmds import register_bundle, register_keys, register_trust


def _read_text_arg(value: str) -> str:
    """A claims/text argument: ``-`` for stdin, ``@file`` or a path to a file, else literal."""
    if value == "-":
        return sys.stdin.read()
    path = value[1:] if value.startswith("@") else value
    return read_bytes(path).decode("utf-8")


# ------------------------------------------------------------------------------------ keys


def cmd_keys_generate(args: argparse.Namespace) -> int:
    key = Ed25519PrivateKey.generate()
    secret = passphrase(args)
    save_private_key(args.out, key, secret, overwrite=args.force)
    if args.public:
        atomic_write(args.public, key.public_key.to_pem(), overwrite=args.force)
    if args.jwks:
        save_jwks(args.jwks, [key.public_key])
    info = {
        "kid": key.kid.hex(),
        "kid_b64url": b64url_encode(key.kid),
        "alg": "EdDSA",
        "private_key": str(args.out),
        "encrypted": secret is not None,
        "public_key": args.public,
        "jwks": args.jwks,
    }
    if args.json:
        emit_json(info)
    else:
        print(f"generated Ed25519 key kid={info['kid']} -> {args.out}" + (" (encrypted)" if secret else ""))
        if args.public:
            print(f"public key (SPKI PEM) -> {args.public}")
        if args.jwks:
            print(f"trust JWKS -> {args.jwks}")
    return EXIT_OK


def cmd_keys_show(args: argparse.Namespace) -> int:
    key = load_private_key(args.key, passphrase(args))
    public = key.public_key
    info = {
        "kid": key.kid.hex(),
        "alg": "EdDSA",
        "jwk": public.to_jwk(),
        "cose_key_hex": dumps(public.to_cose_key()).hex(),
    }
    if args.json:
        emit_json(info)
    else:
        print(f"kid      {info['kid']}")
        print("alg      EdDSA (Ed25519)")
        print(f"jwk      {json.dumps(info['jwk'])}")
        print(f"cose_key {info['cose_key_hex']}")
        print(public.to_pem().decode("ascii"), end="")
    return EXIT_OK


# ------------------------------------------------------------------------------------ issue


def cmd_issue(args: argparse.Namespace) -> int:
    if args.keyring:
        key = Keyring.open(args.keyring).signing_key(clock_of(args)(), passphrase(args))
    else:
        key = load_private_key(args.key, passphrase(args))
    try:
        claims = json.loads(_read_text_arg(args.claims))
    except ValueError as exc:
        raise UsageError(f"claims are not valid JSON ({exc})") from None
    clock = clock_of(args)
    issuer = Issuer(key, args.iss, clock=clock, validity_seconds=args.validity_days * 86400)
    status = None
    if (args.status_uri is None) != (args.status_idx is None):
        raise UsageError("--status-uri and --status-idx go together")
    if args.status_uri is not None and args.status_db:
        raise UsageError("give either --status-db or --status-uri/--status-idx")
    if args.status_uri is not None:
        status = StatusReference(args.status_idx, args.status_uri)
    elif args.status_db:
        status = _registry(args.status_db, clock).allocate()
    credential = issuer.issue(claims, status=status)
    if args.out:
        atomic_write(args.out, (credential.qr_text + "\n").encode("ascii"))
    if args.png:
        write_image(credential.qr_text, args.png)
    if args.json:
        emit_json(
            {
                "qr_text": credential.qr_text,
                "characters": len(credential.qr_text),
                "kid": credential.kid.hex(),
                "cti": credential.credential_id.hex(),
                "iss": credential.issuer,
                "status": None if status is None else {"idx": status.idx, "uri": status.uri},
                "iat": format_time(credential.issued_at),
                "exp": format_time(credential.expires_at),
                "claims": credential.claims.to_json(),
            }
        )
    elif not args.out and not args.png:
        print(credential.qr_text)
    return EXIT_OK


# ------------------------------------------------------------------------------------ verify


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
    keys: list[TrustedKey] = []
    certificates: list[TrustedKey] = []
    gate: Gate | None = None
    for path in args.trust:
        data = read_bytes(path)
        typ = document_type(data)
        if typ in (BUNDLE_TYP, TRUST_LIST_TYP):
            if not anchors:
                raise UsageError(f"{path} is signed by a trust anchor: give --trust-anchor")
            try:
                if typ == BUNDLE_TYP:
                    gate = Gate(anchors, clock=clock)
                    gate.load(data)
                else:
                    keys.extend(verify_trust_list(data, anchors, now=clock()).keys)
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
    store = TrustStore(keys, source=", ".join(sorted({entry.source for entry in keys})) or "none")
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
    verifier = Verifier(store, clock=clock, leeway=args.leeway, status=checker, status_policy=policy)
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
        if result.credential.status is not None and result.credential.status_check is None:
            print("       WARNING: status was not checked")
    else:
        print(f"NOT VALID  {result.code}: {result.message}")
    return EXIT_OK if result.valid else EXIT_INVALID


def _parallel_gate_mode(args: argparse.Namespace, lines: TextIO, out: TextIO) -> int:
    """Gate mode on several cores: batches of lines go to worker processes."""
    all_valid = True
    with ParallelVerifier(functools.partial(_verifier_factory, args), workers=args.workers) as pool:
        for result in pool.check_many(line.rstrip("\r\n") for line in lines):
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


# ------------------------------------------------------------------------------------ status

_STATUS_NAMES = {"valid": Status.VALID, "revoked": Status.REVOKED, "suspended": Status.SUSPENDED}
_STATUS_NAMES["needs-renewal"] = Status.NEEDS_RENEWAL


def _parse_status(text: str) -> Status:
    key = text.strip().lower().replace("_", "-")
    if key in _STATUS_NAMES:
        return _STATUS_NAMES[key]
    if key.isdigit() and int(key) in {s.value for s in Status}:
        return Status(int(key))
    raise UsageError(f"unknown status {text!r}: use valid, revoked, suspended or needs-renewal")


def _registry(path: str, clock: Callable[[], int] = system_clock) -> StatusRegistry:
    if not Path(path).exists():
        raise FileError(f"{path} does not exist: create it with 'vcsdk status create'")
    return StatusRegistry(SQLiteStatusStore(path), clock=clock)


def cmd_status_create(args: argparse.Namespace) -> int:
    config = RegistryConfig(args.uri_template, bits=args.bits, size=args.size, first=args.first)
    registry = StatusRegistry.create(SQLiteStatusStore(args.db), config)
    return _print_lists(registry, args.json)


def cmd_status_list(args: argparse.Namespace) -> int:
    return _print_lists(_registry(args.db), args.json)


def _print_lists(registry: StatusRegistry, as_json: bool) -> int:
    lists = [
        {"uri": i.uri, "bits": i.bits, "size": i.size, "allocated": i.allocated, "created": format_time(i.created_at)}
        for i in registry.lists()
    ]
    if as_json:
        emit_json({"uri_template": registry.config.uri_template, "lists": lists})
    else:
        for item in lists:
            print(f"{item['uri']}  bits={item['bits']} allocated={item['allocated']}/{item['size']}")
    return EXIT_OK


def cmd_status_allocate(args: argparse.Namespace) -> int:
    reference = _registry(args.db).allocate()
    if args.json:
        emit_json({"idx": reference.idx, "uri": reference.uri})
    else:
        print(f"{reference.uri} {reference.idx}")
    return EXIT_OK


def cmd_status_set(args: argparse.Namespace) -> int:
    registry = _registry(args.db)
    reference = StatusReference(args.idx, args.uri)
    new = _parse_status(args.status)
    old = registry.set_status(reference, new)
    if args.json:
        emit_json({"uri": args.uri, "idx": args.idx, "old": old.name, "new": new.name})
    else:
        print(f"{args.uri} {args.idx}: {old.name} -> {new.name}")
    return EXIT_OK


def cmd_status_get(args: argparse.Namespace) -> int:
    status = _registry(args.db).status(StatusReference(args.idx, args.uri))
    if args.json:
        emit_json({"uri": args.uri, "idx": args.idx, "status": status.name, "value": status.value})
    else:
        print(status.name)
    return EXIT_OK


def cmd_status_publish(args: argparse.Namespace) -> int:
    clock = clock_of(args)
    key = load_private_key(args.key, passphrase(args))
    token = _registry(args.db, clock).publish(
        args.uri, key, ttl=args.ttl or None, validity=int(args.validity_hours * 3600)
    )
    atomic_write(args.out, token)
    print(f"status list token for {args.uri} ({len(token)} bytes) -> {args.out}", file=sys.stderr)
    return EXIT_OK


def cmd_status_inspect(args: argparse.Namespace) -> int:
    data = read_bytes(args.token)
    now = parse_time(args.at) if args.at else system_clock()
    if args.trust:
        store = TrustStore([entry for path in args.trust for entry in load_trust(path)])
        token = verify_token(data, store, now=now)
        checked = "signature verified against --trust"
    else:
        token = read_token_unverified(data)
        checked = "signature NOT checked (give --trust to verify)"
    counts = {Status(v).name if v < 4 else str(v): n for v, n in sorted(token.status_list.counts().items())}
    info = {
        "uri": token.uri,
        "kid": None if token.kid is None else token.kid.hex(),
        "iat": format_time(token.issued_at),
        "exp": None if token.expires_at is None else format_time(token.expires_at),
        "ttl": token.ttl,
        "bits": token.status_list.bits,
        "entries": token.status_list.size,
        "non_valid": counts,
        "bytes": len(data),
        "check": checked,
    }
    if args.json:
        emit_json(info)
    else:
        for key, value in info.items():
            print(f"{key:10} {value}")
    return EXIT_OK


# ------------------------------------------------------------------------------------ inspect


def cmd_inspect(args: argparse.Namespace) -> int:
    text = sys.stdin.readline().rstrip("\r\n") if args.qr_text == "-" else args.qr_text
    inspection = inspect_text(text)
    if args.json:
        emit_json(inspection.to_json())
    else:
        for layer in inspection.to_json()["layers"]:
            name = layer.pop("layer")
            if "error" in layer:
                print(f"{name:7} FAILED {layer['error']}: {layer['message']}")
                continue
            print(f"{name:7} ok")
            for key, value in layer.items():
                shown = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value
                print(f"        {key}: {shown}")
        print(f"note: {inspection.note}")
    return EXIT_OK if inspection.failed_at is None else EXIT_INVALID


# ------------------------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="vcsdk", description="Issue and verify mobile official-ID QR credentials.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    keys = commands.add_parser("keys", help="issuer signing keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True, parser_class=Parser)
    generate = key_commands.add_parser("generate", help="generate an Ed25519 issuer key (file mode 0600)")
    generate.add_argument("--out", required=True, type=Path, help="private key file (PKCS#8 PEM)")
    generate.add_argument("--public", metavar="PATH", help="also write the public key (SPKI PEM)")
    generate.add_argument("--jwks", metavar="PATH", help="also write a trust JWKS for verifiers")
    generate.add_argument("--force", action="store_true", help="overwrite existing files")
    generate.add_argument("--json", action="store_true")
    add_passphrase_options(generate)
    generate.set_defaults(func=cmd_keys_generate)
    show = key_commands.add_parser("show", help="show a key's kid, JWK, COSE_Key and PEM public key")
    show.add_argument("key", help="private key file")
    show.add_argument("--json", action="store_true")
    add_passphrase_options(show)
    show.set_defaults(func=cmd_keys_show)
    register_keys(key_commands)

    issue = commands.add_parser("issue", help="issue an official-ID credential and print its QR text")
    signer = issue.add_mutually_exclusive_group(required=True)
    signer.add_argument("--key", help="issuer private key file")
    signer.add_argument("--keyring", metavar="DIR", help="issuer keyring: sign with its active key")
    issue.add_argument("--iss", required=True, help="issuing authority id (iss), e.g. KR-MOIS")
    issue.add_argument("--claims", required=True, help="claims JSON: a file path, @file, or - for stdin")
    issue.add_argument("--validity-days", type=int, default=3 * 365, help="validity in days (default 1095)")
    issue.add_argument("--status-uri", help="status list URI for the status claim")
    issue.add_argument("--status-idx", type=int, help="index in that status list")
    issue.add_argument("--status-db", metavar="PATH", help="allocate a fresh random index from this status registry")
    issue.add_argument("--at", metavar="TIME", help="issue as of TIME (ISO 8601 or Unix seconds)")
    issue.add_argument("--out", metavar="PATH", help="write the QR text to this file")
    issue.add_argument("--png", metavar="PATH", help="also write the QR image (PNG, or SVG by extension)")
    issue.add_argument("--json", action="store_true")
    add_passphrase_options(issue)
    issue.set_defaults(func=cmd_issue)

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
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(func=cmd_verify)

    status = commands.add_parser("status", help="status lists: registry, publication, inspection")
    status_commands = status.add_subparsers(dest="status_command", required=True, parser_class=Parser)
    create = status_commands.add_parser("create", help="create a status registry (SQLite) and its first list")
    create.add_argument("--db", required=True, help="registry file (SQLite)")
    create.add_argument("--uri-template", required=True, help="list URI with {n}, e.g. https://id.mois.go.kr/sl/{n}")
    create.add_argument("--bits", type=int, default=2, choices=[2, 4, 8])
    create.add_argument("--size", type=int, default=MIN_LIST_SIZE, help=f"entries per list (>= {MIN_LIST_SIZE})")
    create.add_argument("--first", type=int, default=1, help="number of the first list")
    create.add_argument("--json", action="store_true")
    create.set_defaults(func=cmd_status_create)
    listing = status_commands.add_parser("list", help="the registry's lists and their allocation")
    listing.add_argument("--db", required=True)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_status_list)
    allocate = status_commands.add_parser("allocate", help="allocate a fresh random index")
    allocate.add_argument("--db", required=True)
    allocate.add_argument("--json", action="store_true")
    allocate.set_defaults(func=cmd_status_allocate)
    set_ = status_commands.add_parser("set", help="set IDX to STATUS (valid, suspended, needs-renewal, revoked)")
    set_.add_argument("--db", required=True)
    set_.add_argument("--uri", required=True)
    set_.add_argument("idx", type=int, metavar="IDX")
    set_.add_argument("status", metavar="STATUS")
    set_.add_argument("--json", action="store_true")
    set_.set_defaults(func=cmd_status_set)
    get = status_commands.add_parser("get", help="the status at IDX")
    get.add_argument("--db", required=True)
    get.add_argument("--uri", required=True)
    get.add_argument("idx", type=int, metavar="IDX")
    get.add_argument("--json", action="store_true")
    get.set_defaults(func=cmd_status_get)
    publish = status_commands.add_parser("publish", help="sign a Status List Token for one list")
    publish.add_argument("--db", required=True)
    publish.add_argument("--uri", required=True)
    publish.add_argument("--key", required=True, help="issuer private key file")
    publish.add_argument("--out", required=True, help="token file (raw CBOR, tagged COSE_Sign1)")
    publish.add_argument("--ttl", type=int, default=DEFAULT_TTL_SECONDS, help="ttl claim in seconds (0: none)")
    publish.add_argument(
        "--validity-hours", type=float, default=DEFAULT_TOKEN_VALIDITY_SECONDS / 3600, help="exp = iat + this"
    )
    publish.add_argument("--at", metavar="TIME", help="publish as of TIME")
    add_passphrase_options(publish)
    publish.set_defaults(func=cmd_status_publish)
    inspect_token = status_commands.add_parser("inspect", help="show a Status List Token (verified with --trust)")
    inspect_token.add_argument("token", metavar="TOKEN")
    inspect_token.add_argument("--trust", action="append", default=[], metavar="PATH")
    inspect_token.add_argument("--at", metavar="TIME")
    inspect_token.add_argument("--json", action="store_true")
    inspect_token.set_defaults(func=cmd_status_inspect)

    register_trust(commands)
    register_bundle(commands)
    register_qr(commands)
    register_registry(commands)

    inspect = commands.add_parser("inspect", help="decode every layer of a QR text (never says valid)")
    inspect.add_argument("qr_text", metavar="QR_TEXT", help="the QR text, or - to read one line from stdin")
    inspect.add_argument("--json", action="store_true")
    inspect.set_defaults(func=cmd_inspect)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``vcsdk`` console script."""
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except KeyPassphraseRequired as exc:
        print(f"vcsdk: {exc} (use --passphrase-env or --passphrase-file)", file=sys.stderr)
        return EXIT_USAGE
    except (UsageError, FileError) as exc:
        print(f"vcsdk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except VCError as exc:
        print(f"vcsdk: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
