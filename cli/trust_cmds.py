"""``vcsdk trust build|sign|inspect``: signed trust lists (and the helpers ``bundle`` shares)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from vcsdk.errors import TrustSourceInvalid, UsageError
from vcsdk.keys import PublicKey
from vcsdk.keys.files import atomic_write, load_public_key, read_bytes
from vcsdk.keys.keyring import Keyring
from vcsdk.trust.trustlist import TrustList, sign_trust_list, verify_trust_list

from .common import EXIT_OK, Parser, add_passphrase_options, clock_of, emit_json, human, private_key

# ------------------------------------------------------------------------------------ trust


def cmd_trust_build(args: argparse.Namespace) -> int:
    now = clock_of(args)()
    keys = [key for path in args.keyring for key in Keyring.open(path).trusted_keys()]
    if not keys:
        raise TrustSourceInvalid("the keyrings hold no keys")
    trust_list = TrustList(args.version, now, now + args.validity_days * 86400, tuple(keys))
    atomic_write(args.out, (json.dumps(trust_list.to_json(), indent=2) + "\n").encode("utf-8"))
    if args.json:
        emit_json({"version": args.version, "keys": len(keys), "out": args.out})
    else:
        print(f"trust list v{args.version} with {len(keys)} keys -> {args.out} (sign it with 'vcsdk trust sign')")
    return EXIT_OK


def cmd_trust_sign(args: argparse.Namespace) -> int:
    try:
        document = json.loads(read_bytes(args.input))
    except ValueError as exc:
        raise TrustSourceInvalid(f"{args.input} is not JSON ({exc})") from None
    trust_list = TrustList.from_json(document)
    signed = sign_trust_list(trust_list, private_key(args, args.anchor))
    atomic_write(args.out, signed)
    if args.json:
        emit_json({"version": trust_list.version, "bytes": len(signed), "out": args.out})
    else:
        print(f"signed trust list v{trust_list.version} ({len(signed)} bytes) -> {args.out}")
    return EXIT_OK


def anchors(paths: list[str]) -> list[PublicKey]:
    if not paths:
        raise UsageError("give --trust-anchor (the anchor's public key: PEM or JWK)")
    return [load_public_key(path) for path in paths]


def cmd_trust_inspect(args: argparse.Namespace) -> int:
    now = clock_of(args)()
    trust_list = verify_trust_list(read_bytes(args.file), anchors(args.trust_anchor), now=now)
    info = {**trust_list.to_json(), "check": "signature verified against --trust-anchor"}
    show_info(info, args.json)
    return EXIT_OK


def _iso(value: Any) -> Any:
    from vcsdk.clock import format_time

    return format_time(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _for_display(info: dict[str, Any]) -> dict[str, Any]:
    """Kids in hex and times in ISO 8601, as everywhere in the CLI (the file format keeps its own)."""
    from vcsdk.keys import b64url_decode

    shown = {key: _iso(value) if key in ("iat", "exp") else value for key, value in info.items()}
    if "keys" in shown:
        shown["keys"] = [
            {
                **entry,
                "kid": b64url_decode(entry["kid"], "kid").hex(),
                "not_before": _iso(entry["not_before"]),
                "not_after": _iso(entry["not_after"]),
            }
            for entry in shown["keys"]
        ]
    return shown


def show_info(info: dict[str, Any], as_json: bool) -> None:
    shown = _for_display(info)
    if as_json:
        emit_json(shown)
        return
    for key, value in shown.items():
        if key == "keys":
            for entry in value:
                window = f"{entry['not_before'] or '(open)'} .. {entry['not_after'] or '(open)'}"
                print(f"  key {entry['kid']} {entry['jwk']['kty']} iss={entry['iss']} {entry['state']} [{window}]")
        else:
            print(f"{key:12} {human(value)}")


def add_inspect(sub: argparse._SubParsersAction[Parser], text: str, func: Any) -> None:
    """``inspect FILE --trust-anchor PATH... [--at TIME] [--json]``, shared by trust and bundle."""
    inspect = sub.add_parser("inspect", help=text)
    inspect.add_argument("file", help="the signed file (COSE_Sign1)")
    inspect.add_argument("--trust-anchor", action="append", default=[], metavar="PATH")
    inspect.add_argument("--at", metavar="TIME")
    inspect.add_argument("--json", action="store_true")
    inspect.set_defaults(func=func)


def register_trust(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``vcsdk trust build|sign|inspect``."""
    trust = commands.add_parser("trust", help="signed trust lists")
    sub = trust.add_subparsers(dest="trust_command", required=True, parser_class=Parser)
    build = sub.add_parser("build", help="a trust list (JSON form) from issuer keyrings")
    build.add_argument("--keyring", action="append", required=True, metavar="DIR")
    build.add_argument("--version", type=int, required=True, help="higher than the last list's")
    build.add_argument("--validity-days", type=int, default=30, help="exp = iat + this many days")
    build.add_argument("--at", metavar="TIME")
    build.add_argument("--out", required=True)
    build.add_argument("--json", action="store_true")
    build.set_defaults(func=cmd_trust_build)
    sign = sub.add_parser("sign", help="sign a trust list with the trust-anchor key")
    sign.add_argument("--in", dest="input", required=True, help="trust list JSON")
    sign.add_argument("--anchor", required=True, help="trust-anchor private key file")
    sign.add_argument("--out", required=True)
    sign.add_argument("--json", action="store_true")
    add_passphrase_options(sign)
    sign.set_defaults(func=cmd_trust_sign)
    add_inspect(sub, "verify and show a signed trust list", cmd_trust_inspect)
