"""``vcsdk bundle build|inspect``: offline gate bundles."""

from __future__ import annotations

import argparse

from vcsdk.clock import format_time
from vcsdk.errors import CredentialInvalid, UsageError
from vcsdk.keys import PublicKey
from vcsdk.keys.files import atomic_write, read_bytes
from vcsdk.revocation.checker import DEFAULT_MAX_AGE_SECONDS
from vcsdk.trust.bundle import GateBundle, GatePolicy, build_bundle

from .common import EXIT_OK, Parser, add_passphrase_options, clock_of, emit_json, private_key
from .trust_cmds import add_inspect, anchors, show_info


def gate_check(data: bytes, anchor_keys: list[PublicKey], now: int) -> GateBundle:
    """Load the bundle exactly as a gate does, then refuse status lists whose signer is compromised or
    outside its window at the list's iat. Raises the refusal's :class:`CredentialInvalid`."""
    from vcsdk.clock import fixed_clock
    from vcsdk.errors import PublicKeyCompromised, PublicKeyExpired, PublicKeyNotYetValid
    from vcsdk.gate.core import Gate
    from vcsdk.revocation import verify_token
    from vcsdk.trust.store import KeyState

    bundle = Gate(anchor_keys, clock=fixed_clock(now)).load(data)
    store = bundle.trust_list.store()
    for number, raw in enumerate(bundle.status_tokens, start=1):
        token = verify_token(raw, store, now=now, leeway=bundle.policy.leeway)
        for key in store.candidates(token.kid or b""):
            where = f"status list {number} ({token.uri}) is signed by key {key.kid.hex()}"
            if key.state is KeyState.COMPROMISED:
                raise PublicKeyCompromised(f"{where}, which is compromised")
            if key.not_before is not None and token.issued_at < key.not_before:
                raise PublicKeyNotYetValid(f"{where}, valid only from {format_time(key.not_before)}")
            if key.not_after is not None and token.issued_at > key.not_after:
                raise PublicKeyExpired(f"{where}, whose window ended {format_time(key.not_after)}")
    return bundle


def cmd_bundle_build(args: argparse.Namespace) -> int:
    now = clock_of(args)()
    anchor = private_key(args, args.anchor)
    policy = GatePolicy(
        max_status_age=args.max_status_age,
        leeway=args.leeway,
        fail_closed=not args.allow_unknown_status,
        honour_ttl=args.honour_ttl,
    )
    bundle = build_bundle(
        read_bytes(args.trust_list),
        [read_bytes(path) for path in args.status_list],
        anchor,
        version=args.version,
        issued_at=now,
        expires_at=now + int(args.validity_hours * 3600),
        policy=policy,
    )
    try:  # never sign what the gate itself would refuse
        gate_check(bundle, [anchor.public_key], now)
    except CredentialInvalid as exc:
        raise UsageError(f"bundle not written: a gate would refuse it: {exc}") from None
    atomic_write(args.out, bundle)
    if args.json:
        emit_json(
            {"version": args.version, "bytes": len(bundle), "status_lists": len(args.status_list), "out": args.out}
        )
    else:
        print(f"gate bundle v{args.version} ({len(bundle)} bytes, {len(args.status_list)} status lists) -> {args.out}")
    return EXIT_OK


def cmd_bundle_inspect(args: argparse.Namespace) -> int:
    bundle = gate_check(read_bytes(args.file), anchors(args.trust_anchor), clock_of(args)())
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
        "check": "verified as a gate loads it: anchor signatures, expiry, every status list and its signer",
    }
    show_info(info, args.json)
    return EXIT_OK


def register_bundle(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``vcsdk bundle build|inspect``."""
    bundle = commands.add_parser("bundle", help="offline gate bundles")
    sub = bundle.add_subparsers(dest="bundle_command", required=True, parser_class=Parser)
    build = sub.add_parser("build", help="sign a bundle: trust list + status lists + gate policy")
    build.add_argument("--trust-list", required=True, help="signed trust list file")
    build.add_argument(
        "--status-list", action="append", default=[], metavar="PATH", help="Status List Token file (repeatable)"
    )
    build.add_argument("--anchor", required=True, help="trust-anchor private key file")
    build.add_argument("--version", type=int, required=True)
    build.add_argument("--validity-hours", type=float, default=48.0, help="exp = iat + this many hours")
    build.add_argument(
        "--max-status-age",
        type=int,
        default=DEFAULT_MAX_AGE_SECONDS,
        help="policy: status lists older than this (seconds) are stale",
    )
    build.add_argument("--leeway", type=int, default=60)
    build.add_argument("--allow-unknown-status", action="store_true", help="policy: do not fail closed")
    build.add_argument("--honour-ttl", action="store_true", help="policy: status lists go stale after their ttl")
    build.add_argument("--at", metavar="TIME")
    build.add_argument("--out", required=True)
    add_passphrase_options(build)
    build.add_argument("--json", action="store_true")
    build.set_defaults(func=cmd_bundle_build)
    add_inspect(sub, "verify and show a gate bundle", cmd_bundle_inspect)
