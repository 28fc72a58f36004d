"""``vcsdk status create|list|allocate|set|get|publish|inspect``: status lists."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from vcsdk import StatusReference, TrustStore, UsageError
from vcsdk.clock import format_time, parse_time, system_clock
from vcsdk.keys.files import atomic_write, load_trust, read_bytes
from vcsdk.registry.status import (
    DEFAULT_TOKEN_VALIDITY_SECONDS,
    DEFAULT_TTL_SECONDS,
    MIN_LIST_SIZE,
    StatusAllocator,
    StatusConfig,
)
from vcsdk.registry.stores import open_status_database
from vcsdk.revocation import Status, verify_token
from vcsdk.revocation.token import read_token_unverified

from .common import EXIT_OK, Parser, add_passphrase_options, clock_of, emit_json, human, private_key

_STATUS_NAMES = {"valid": Status.VALID, "revoked": Status.REVOKED, "suspended": Status.SUSPENDED}
_STATUS_NAMES["needs-renewal"] = Status.NEEDS_RENEWAL


def _parse_status(text: str) -> Status:
    key = text.strip().lower().replace("_", "-")
    if key in _STATUS_NAMES:
        return _STATUS_NAMES[key]
    if key.isdigit() and int(key) in {s.value for s in Status}:
        return Status(int(key))
    raise UsageError(f"unknown status {text!r}: use valid, revoked, suspended or needs-renewal")


def open_status_registry(path: str, clock: Callable[[], int] = system_clock) -> StatusAllocator:
    """An existing status database (never creates one: FILE_ERROR when the file is missing). An
    issuer registry database is refused: its status changes go through the audited registry."""
    return StatusAllocator(open_status_database(path), clock=clock)


def cmd_status_create(args: argparse.Namespace) -> int:
    config = StatusConfig(args.uri_template, bits=args.bits, size=args.size, first=args.first)
    registry = StatusAllocator.create(open_status_database(args.db, create=True), config)
    return _print_lists(registry, args.json)


def cmd_status_list(args: argparse.Namespace) -> int:
    return _print_lists(open_status_registry(args.db), args.json)


def _print_lists(registry: StatusAllocator, as_json: bool) -> int:
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
    reference = open_status_registry(args.db).allocate()
    if args.json:
        emit_json({"idx": reference.idx, "uri": reference.uri})
    else:
        print(f"{reference.uri} {reference.idx}")
    return EXIT_OK


def cmd_status_set(args: argparse.Namespace) -> int:
    registry = open_status_registry(args.db)
    reference = StatusReference(args.idx, args.uri)
    new = _parse_status(args.status)
    old = registry.set_status(reference, new)
    if args.json:
        emit_json({"uri": args.uri, "idx": args.idx, "old": old.name, "new": new.name})
    else:
        print(f"{args.uri} {args.idx}: {old.name} -> {new.name}")
    return EXIT_OK


def cmd_status_get(args: argparse.Namespace) -> int:
    status = open_status_registry(args.db).status(StatusReference(args.idx, args.uri))
    if args.json:
        emit_json({"uri": args.uri, "idx": args.idx, "status": status.name, "value": status.value})
    else:
        print(status.name)
    return EXIT_OK


def cmd_status_publish(args: argparse.Namespace) -> int:
    clock = clock_of(args)
    if args.key:  # a flag; --keyring may come from the configuration
        key = private_key(args, args.key)
    elif args.keyring:
        from vcsdk.keys.keyring import Keyring

        from .common import with_passphrase

        keyring, now = Keyring.open(args.keyring), clock()
        key = with_passphrase(args, lambda secret: keyring.signing_key(now, secret), f"keyring {args.keyring}")
    else:
        raise UsageError("give --key FILE or --keyring DIR (the issuer's signing key)")
    token = open_status_registry(args.db, clock).publish(
        args.uri, key, ttl=args.ttl or None, validity=int(args.validity_hours * 3600)
    )
    atomic_write(args.out, token)
    if args.json:
        emit_json({"uri": args.uri, "bytes": len(token), "out": args.out})
    else:
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
            print(f"{key:10} {human(value)}")
    return EXIT_OK


def register_status(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``vcsdk status ...``."""
    status = commands.add_parser("status", help="status lists: registry, publication, inspection")
    status_commands = status.add_subparsers(dest="status_command", required=True, parser_class=Parser)
    create = status_commands.add_parser("create", help="create a status registry (SQLite) and its first list")
    create.add_argument("--db", required=True, help="registry file (SQLite)")
    create.add_argument("--uri-template", required=True, help="list URI with {n}, e.g. https://id.mois.go.kr/sl/{n}")
    create.add_argument("--bits", type=int, default=2, choices=[2, 4, 8], help="bits per entry")
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
    set_.add_argument("idx", type=int, metavar="IDX", help="index in the list")
    set_.add_argument("status", metavar="STATUS", help="valid, suspended, needs-renewal or revoked")
    set_.add_argument("--json", action="store_true")
    set_.set_defaults(func=cmd_status_set)
    get = status_commands.add_parser("get", help="the status at IDX")
    get.add_argument("--db", required=True)
    get.add_argument("--uri", required=True)
    get.add_argument("idx", type=int, metavar="IDX", help="index in the list")
    get.add_argument("--json", action="store_true")
    get.set_defaults(func=cmd_status_get)
    publish = status_commands.add_parser("publish", help="sign a Status List Token for one list")
    publish.add_argument("--db", required=True)
    publish.add_argument("--uri", required=True)
    signer = publish.add_mutually_exclusive_group(required=True)
    signer.add_argument("--key", help="issuer private key file")
    signer.add_argument("--keyring", metavar="DIR", help="issuer keyring: sign with its active key")
    publish.add_argument("--out", required=True, help="token file (raw CBOR, tagged COSE_Sign1)")
    publish.add_argument("--ttl", type=int, default=DEFAULT_TTL_SECONDS, help="ttl claim in seconds (0: none)")
    publish.add_argument(
        "--validity-hours", type=float, default=DEFAULT_TOKEN_VALIDITY_SECONDS / 3600, help="exp = iat + this"
    )
    publish.add_argument("--at", metavar="TIME", help="publish as of TIME")
    publish.add_argument("--json", action="store_true")
    add_passphrase_options(publish)
    publish.set_defaults(func=cmd_status_publish)
    inspect_token = status_commands.add_parser("inspect", help="show a Status List Token (verified with --trust)")
    inspect_token.add_argument("token", metavar="TOKEN", help="Status List Token file (raw CBOR)")
    inspect_token.add_argument("--trust", action="append", default=[], metavar="PATH")
    inspect_token.add_argument("--at", metavar="TIME")
    inspect_token.add_argument("--json", action="store_true")
    inspect_token.set_defaults(func=cmd_status_inspect)
