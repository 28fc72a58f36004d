"""``vcsdk bundle build|inspect``: offline gate bundles."""

from __future__ import annotations

import argparse

from vcsdk.clock import format_time
from vcsdk.keys.files import atomic_write, load_private_key, read_bytes
from vcsdk.revocation.checker import DEFAULT_MAX_AGE_SECONDS
from vcsdk.trust.bundle import GatePolicy, build_bundle, open_bundle

from .common import EXIT_OK, Parser, add_passphrase_options, clock_of, passphrase
from .trust_cmds import add_inspect, anchors, show_info


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
    bundle = open_bundle(read_bytes(args.file), anchors(args.trust_anchor), now=clock_of(args)())
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
    show_info(info, args.json)
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
    add_inspect(sub, "verify and show a gate bundle", cmd_bundle_inspect)
