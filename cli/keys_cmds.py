"""``vcsdk keys generate|show|rotate|retire|compromise|list``: issuer signing keys and keyrings."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vcsdk import Ed25519PrivateKey
from vcsdk.clock import format_time
from vcsdk.codec.cbor import dumps
from vcsdk.errors import FileError, UsageError
from vcsdk.keys.files import atomic_write, save_private_key
from vcsdk.keys.keyring import MANIFEST, Keyring
from vcsdk.trust.store import jwks_for

from .common import EXIT_OK, Parser, add_passphrase_options, clock_of, emit_json, passphrase, private_key

# ------------------------------------------------------------------------------------ key files


def cmd_keys_generate(args: argparse.Namespace) -> int:
    secret = passphrase(args)
    for path in (args.out, args.public, args.jwks):  # refuse before writing anything
        if path and Path(path).exists() and not args.force:
            raise FileError(f"{path} exists: give --force to overwrite it")
    key = Ed25519PrivateKey.generate()
    save_private_key(args.out, key, secret, overwrite=args.force)
    if args.public:
        atomic_write(args.public, key.public_key.to_pem(), overwrite=args.force)
    if args.jwks:
        atomic_write(
            args.jwks, (json.dumps(jwks_for([key.public_key]), indent=2) + "\n").encode(), overwrite=args.force
        )
    info = {
        "kid": key.kid.hex(),
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
    key = private_key(args, args.key)
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


# ------------------------------------------------------------------------------------ keyrings


def _keyring(args: argparse.Namespace) -> Keyring:
    return Keyring.open(args.keyring)


def cmd_rotate(args: argparse.Namespace) -> int:
    now = clock_of(args)()
    if (Path(args.keyring) / MANIFEST).exists():
        keyring = Keyring.open(args.keyring)
    elif args.iss:
        keyring = Keyring.create(args.keyring, args.iss)
    else:
        raise UsageError("no keyring there yet: give --iss to create it")
    record = keyring.rotate(now, passphrase(args))
    if args.json:
        emit_json({"kid": record.kid, "issuer": keyring.issuer, "not_before": format_time(record.not_before)})
    else:
        print(f"new active key {record.kid} for {keyring.issuer}; the previous active key is retired")
    return EXIT_OK


def cmd_retire(args: argparse.Namespace) -> int:
    record = _keyring(args).retire(args.kid, clock_of(args)())
    if args.json:
        emit_json({"kid": record.kid, "state": record.state.value, "not_after": format_time(record.not_after or 0)})
    else:
        print(f"key {record.kid} retired: it signs nothing after {format_time(record.not_after or 0)}")
    return EXIT_OK


def cmd_compromise(args: argparse.Namespace) -> int:
    record = _keyring(args).compromise(args.kid)
    if args.json:
        emit_json({"kid": record.kid, "state": record.state.value})
    else:
        print(f"key {record.kid} marked compromised: rebuild and re-sign the trust list, then redistribute it")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    keyring = _keyring(args)
    rows = [
        {
            "kid": r.kid,
            "state": r.state.value,
            "not_before": format_time(r.not_before),
            "not_after": None if r.not_after is None else format_time(r.not_after),
        }
        for r in keyring.records
    ]
    if args.json:
        emit_json({"issuer": keyring.issuer, "keys": rows})
    else:
        print(f"issuer {keyring.issuer}")
        for row in rows:
            print(f"  {row['kid']}  {row['state']:<11}  {row['not_before']} .. {row['not_after'] or '(open)'}")
    return EXIT_OK


# ------------------------------------------------------------------------------------ parser


def register_keys(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``vcsdk keys ...``."""
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

    rotate = key_commands.add_parser("rotate", help="new active issuing key; the previous one retires")
    rotate.add_argument("--keyring", required=True, metavar="DIR")
    rotate.add_argument("--iss", help="issuer id, when creating the keyring")
    rotate.add_argument("--at", metavar="TIME")
    rotate.add_argument("--json", action="store_true")
    add_passphrase_options(rotate)
    rotate.set_defaults(func=cmd_rotate)
    for name, func, text in (
        ("retire", cmd_retire, "end a key's issuing window now"),
        ("compromise", cmd_compromise, "mark a key compromised (all it signed fails)"),
    ):
        sub = key_commands.add_parser(name, help=text)
        sub.add_argument("--keyring", required=True, metavar="DIR")
        sub.add_argument("kid", metavar="KID", help="hex kid or a unique prefix")
        sub.add_argument("--at", metavar="TIME")
        sub.add_argument("--json", action="store_true")
        sub.set_defaults(func=func)
    listing = key_commands.add_parser("list", help="the keyring's keys, windows and states")
    listing.add_argument("--keyring", required=True, metavar="DIR")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_list)
