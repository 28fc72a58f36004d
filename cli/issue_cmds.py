"""``vcsdk issue``: sign an official-ID credential and print (or write) its QR text."""

from __future__ import annotations

import argparse
import json

from vcsdk import Issuer, StatusReference, UsageError
from vcsdk.clock import format_time
from vcsdk.keys.files import atomic_write, load_private_key
from vcsdk.keys.keyring import Keyring

from .common import EXIT_OK, Parser, add_passphrase_options, clock_of, emit_json, passphrase, read_text_arg
from .qr_cmds import write_image
from .status_cmds import open_status_registry


def cmd_issue(args: argparse.Namespace) -> int:
    if args.keyring:
        key = Keyring.open(args.keyring).signing_key(clock_of(args)(), passphrase(args))
    else:
        key = load_private_key(args.key, passphrase(args))
    try:
        claims = json.loads(read_text_arg(args.claims))
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
        status = open_status_registry(args.status_db, clock).allocate()
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


def register_issue(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``vcsdk issue``."""
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
