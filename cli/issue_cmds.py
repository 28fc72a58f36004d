"""``vcsdk issue``: sign an official-ID credential and print (or write) its QR text."""

from __future__ import annotations

import argparse
import json

from vcsdk import Issuer, StatusReference, UsageError
from vcsdk.clock import format_time
from vcsdk.keys.files import atomic_write
from vcsdk.keys.keyring import Keyring

from .common import (
    EXIT_OK,
    Parser,
    add_passphrase_options,
    clock_of,
    emit_json,
    private_key,
    read_text_arg,
    with_passphrase,
)
from .qr_cmds import write_image


def cmd_issue(args: argparse.Namespace) -> int:
    if args.key:  # a flag; --keyring may come from the configuration
        key = private_key(args, args.key)
        iss = args.iss
        if not iss:
            raise UsageError("give --iss (the issuing authority id) with --key")
    elif args.keyring:
        keyring = Keyring.open(args.keyring)
        iss = args.iss or keyring.issuer
        if iss != keyring.issuer:
            raise UsageError(f"--iss {iss} is not the issuer of keyring {args.keyring} ({keyring.issuer})")
        now = clock_of(args)()
        key = with_passphrase(args, lambda secret: keyring.signing_key(now, secret), f"keyring {args.keyring}")
    else:
        raise UsageError("give --key FILE or --keyring DIR (or keyring in the configuration)")
    try:
        claims = json.loads(read_text_arg(args.claims))
    except ValueError as exc:
        raise UsageError(f"claims are not valid JSON ({exc})") from None
    clock = clock_of(args)
    issuer = Issuer(key, iss, clock=clock, validity_seconds=args.validity_days * 86400)
    status = None
    if (args.status_uri is None) != (args.status_idx is None):
        raise UsageError("--status-uri and --status-idx go together")
    if args.status_uri is not None and args.status_db:
        raise UsageError("give either --status-db or --status-uri/--status-idx")
    if args.status_uri is not None:
        status = StatusReference(args.status_idx, args.status_uri)
    elif args.status_db:
        from .status_cmds import open_status_registry

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
    issue.add_argument(
        "--iss", help="issuing authority id (iss), e.g. KR-MOIS; with --keyring it must be the keyring's (its default)"
    )
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
