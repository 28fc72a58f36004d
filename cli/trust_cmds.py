"""``vcsdk keys rotate|retire|compromise|list``, ``vcsdk trust ...`` and ``vcsdk bundle ...``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from vcsdk.clock import format_time
from vcsdk.errors import TrustSourceInvalid, UsageError
from vcsdk.keys import PublicKey
from vcsdk.keys.files import atomic_write, load_private_key, load_public_key, read_bytes
from vcsdk.keys.keyring import MANIFEST, Keyring
from vcsdk.revocation.checker import DEFAULT_MAX_AGE_SECONDS
from vcsdk.trust.bundle import GatePolicy, build_bundle, open_bundle
from vcsdk.trust.trustlist import TrustList, sign_trust_list, verify_trust_list

from .common import EXIT_OK, Parser, add_passphrase_options, clock_of, emit_json, passphrase

# ------------------------------------------------------------------------------------ keys


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
        emit_json({"kid": record.kid, "issuer": keyring.issuer, "not_before": record.not_before})
    else:
        print(f"new active key {record.kid} for {keyring.issuer}; the previous active key is retired")
    return EXIT_OK


def cmd_retire(args: argparse.Namespace) -> int:
    record = _keyring(args).retire(args.kid, clock_of(args)())
    print(f"key {record.kid} retired: it signs nothing after {format_time(record.not_after or 0)}")
    return EXIT_OK


def cmd_compromise(args: argparse.Namespace) -> int:
    record = _keyring(args).compromise(args.kid)
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


def register_keys(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add the lifecycle commands to ``vcsdk keys``."""
    rotate = commands.add_parser("rotate", help="new active issuing key; the previous one retires")
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
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--keyring", required=True, metavar="DIR")
        sub.add_argument("kid", metavar="KID", help="hex kid or a unique prefix")
        sub.add_argument("--at", metavar="TIME")
        sub.set_defaults(func=func)
    listing = commands.add_parser("list", help="the keyring's keys, windows and states")
    listing.add_argument("--keyring", required=True, metavar="DIR")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_list)


# ------------------------------------------------------------------------------------ trust


def cmd_trust_build(args: argparse.Namespace) -> int:
    now = clock_of(args)()
    keys = [key for path in args.keyring for key in Keyring.open(path).trusted_keys()]
    if not keys:
        raise TrustSourceInvalid("the keyrings hold no keys")
    trust_list = TrustList(args.version, now, now + args.validity_days * 86400, tuple(keys))
    atomic_write(args.out, (json.dumps(trust_list.to_json(), indent=2) + "\n").encode("utf-8"))
    print(f"trust list v{args.version} with {len(keys)} keys -> {args.out} (sign it with 'vcsdk trust sign')")
    return EXIT_OK


def cmd_trust_sign(args: argparse.Namespace) -> int:
    try:
        document = json.loads(read_bytes(args.input))
    except ValueError as exc:
        raise TrustSourceInvalid(f"{args.input} is not JSON ({exc})") from None
    trust_list = TrustList.from_json(document)
    signed = sign_trust_list(trust_list, load_private_key(args.anchor, passphrase(args)))
    atomic_write(args.out, signed)
    print(f"signed trust list v{trust_list.version} ({len(signed)} bytes) -> {args.out}")
    return EXIT_OK


def _anchors(paths: list[str]) -> list[PublicKey]:
    if not paths:
        raise UsageError("give --trust-anchor (the anchor's public key: PEM or JWK)")
    return [load_public_key(path) for path in paths]


def cmd_trust_inspect(args: argparse.Namespace) -> int:
    now = clock_of(args)()
    trust_list = verify_trust_list(read_bytes(args.file), _anchors(args.trust_anchor), now=now)
    info = {**trust_list.to_json(), "check": "signature verified against --trust-anchor"}
    _show(info, args.json)
    return EXIT_OK


def _show(info: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(info)
        return
    for key, value in info.items():
        if key == "keys":
            for entry in value:
                window = f"{entry['not_before']} .. {entry['not_after']}"
                print(f"  key {entry['kid']} {entry['jwk']['kty']} iss={entry['iss']} {entry['state']} [{window}]")
        else:
            print(f"{key:12} {value}")


def _add_inspect(sub: argparse._SubParsersAction[Parser], text: str, func: Any) -> None:
    """``inspect FILE --trust-anchor PATH... [--at TIME] [--json]``, shared by trust and bundle."""
    inspect = sub.add_parser("inspect", help=text)
    inspect.add_argument("file")
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
    build.add_argument("--validity-days", type=int, default=30)
    build.add_argument("--at", metavar="TIME")
    build.add_argument("--out", required=True)
    build.set_defaults(func=cmd_trust_build)
    sign = sub.add_parser("sign", help="sign a trust list with the trust-anchor key")
    sign.add_argument("--in", dest="input", required=True, help="trust list JSON")
    sign.add_argument("--anchor", required=True, help="trust-anchor private key file")
    sign.add_argument("--out", required=True)
    add_passphrase_options(sign)
    sign.set_defaults(func=cmd_trust_sign)
    _add_inspect(sub, "verify and show a signed trust list", cmd_trust_inspect)


# ------------------------------------------------------------------------------------ bundle


def cmd_bundle_build(args: argparse.Namespace) -> int:
    now = clock_of(args)()
    policy = GatePolicy(
        max_status_age=args.max_status_age,
        leeway=args.leeway,
        fail_closed=not args.allow_unknown_status,
        honour_ttl=args.honour_ttl,
    )
    bundle = build_bundle(
        read_bytes(args.trust_list),
        [read_bytes(path) for path in args.status_list],
        load_private_key(args.anchor, passphrase(args)),
        version=args.version,
        issued_at=now,
        expires_at=now + int(args.validity_hours * 3600),
        policy=policy,
    )
    atomic_write(args.out, bundle)
    print(f"gate bundle v{args.version} ({len(bundle)} bytes, {len(args.status_list)} status lists) -> {args.out}")
    return EXIT_OK


def cmd_bundle_inspect(args: argparse.Namespace) -> int:
    bundle = open_bundle(read_bytes(args.file), _anchors(args.trust_anchor), now=clock_of(args)())
    info = {
        "version": bundle.version,
        "iat": format_time(bundle.issued_at),
        "exp": format_time(bundle.expires_at),
        "trust_list_version": bundle.trust_list.version,
        "keys": bundle.trust_list.to_json()["keys"],
        "status_lists": len(bundle.status_tokens),
        "policy": {
            "max_status_age": bundle.policy.max_status_age,
            "leeway": bundle.policy.leeway,
            "fail_closed": bundle.policy.fail_closed,
            "honour_ttl": bundle.policy.honour_ttl,
        },
        "check": "bundle and trust list verified against --trust-anchor",
    }
    _show(info, args.json)
    return EXIT_OK


def register_bundle(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``vcsdk bundle build|inspect``."""
    bundle = commands.add_parser("bundle", help="offline gate bundles")
    sub = bundle.add_subparsers(dest="bundle_command", required=True, parser_class=Parser)
    build = sub.add_parser("build", help="sign a bundle: trust list + status lists + gate policy")
    build.add_argument("--trust-list", required=True, help="signed trust list file")
    build.add_argument("--status-list", action="append", default=[], metavar="PATH")
    build.add_argument("--anchor", required=True, help="trust-anchor private key file")
    build.add_argument("--version", type=int, required=True)
    build.add_argument("--validity-hours", type=float, default=48.0)
    build.add_argument("--max-status-age", type=int, default=DEFAULT_MAX_AGE_SECONDS)
    build.add_argument("--leeway", type=int, default=60)
    build.add_argument("--allow-unknown-status", action="store_true", help="policy: do not fail closed")
    build.add_argument("--honour-ttl", action="store_true", help="policy: status lists go stale after their ttl")
    build.add_argument("--at", metavar="TIME")
    build.add_argument("--out", required=True)
    add_passphrase_options(build)
    build.set_defaults(func=cmd_bundle_build)
    _add_inspect(sub, "verify and show a gate bundle", cmd_bundle_inspect)
