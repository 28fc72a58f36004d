"""``vcsdk registry ...``: the ID office's workflow from the command line."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import Any

from vcsdk.errors import UsageError, VCError
from vcsdk.keys import Ed25519PrivateKey, Ed25519PublicKey
from vcsdk.keys.files import atomic_write, load_private_key, read_bytes
from vcsdk.keys.keyring import Keyring
from vcsdk.registry import IssuerRegistry
from vcsdk.revocation import RegistryConfig

from .common import EXIT_INVALID, EXIT_OK, Parser, add_passphrase_options, clock_of, emit_json, passphrase
from .qr_cmds import write_image

DEFAULT_DB = "vcsdk-registry.sqlite"


def _signer(args: argparse.Namespace) -> Any:
    secret = passphrase(args)
    if getattr(args, "keyring", None):
        ring = Keyring.open(args.keyring)
        return lambda now: ring.signing_key(now, secret)
    if getattr(args, "key", None):
        key = load_private_key(args.key, secret)
        return lambda now: key
    return None


def _open(args: argparse.Namespace) -> IssuerRegistry:
    return IssuerRegistry.open(args.db, signer=_signer(args), clock=clock_of(args))


def _out(args: argparse.Namespace, data: dict[str, Any], line: str) -> int:
    if args.json:
        emit_json(data)
    else:
        print(line)
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    config = RegistryConfig(args.uri_template, first=args.first)
    IssuerRegistry.create(args.db, config, issuer_id=args.iss, clock=clock_of(args))
    return _out(args, {"db": args.db, "iss": args.iss}, f"registry ready in {args.db} for {args.iss}")


def cmd_apply(args: argparse.Namespace) -> int:
    claims = json.loads(read_bytes(args.claims))
    claims.pop("photo_digest", None)
    device = Ed25519PublicKey.from_jwk(json.loads(read_bytes(args.device_jwk))) if args.device_jwk else None
    app = _open(args).apply(applicant=args.actor, claims=claims, contact=args.contact, device_key=device)
    return _out(args, {"application": app}, app)


def cmd_attach(args: argparse.Namespace) -> int:
    meta = json.loads(args.meta) if args.meta else {}
    digest = _open(args).attach(args.application, args.kind, meta, read_bytes(args.file), actor=args.actor)
    return _out(args, {"application": args.application, "kind": args.kind, "sha256": digest}, f"{args.kind} {digest}")


def _step(name: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        reg = _open(args)
        if name == "submit":
            state = reg.submit(args.application, actor=args.actor)
        elif name == "review":
            state = reg.review(args.application, reviewer=args.actor)
        elif name == "approve":
            state = reg.approve(args.application, reviewer=args.actor, reason=args.reason or "")
        elif name == "reject":
            state = reg.reject(args.application, reviewer=args.actor, reason=args.reason or "")
        else:
            state = reg.request_documents(args.application, reviewer=args.actor, reason=args.reason or "")
        return _out(args, {"application": args.application, "state": state}, state)

    return run


def _issued(args: argparse.Namespace, record: Any) -> int:
    if getattr(args, "png", None):
        write_image(record.qr_text, args.png)
    data = {
        "cti": record.cti,
        "status": {"uri": record.status.uri, "idx": record.status.idx},
        "qr_text": record.qr_text,
    }
    return _out(args, data, f"{record.cti}\n{record.qr_text}")


def cmd_issue(args: argparse.Namespace) -> int:
    return _issued(args, _open(args).issue(args.application, actor=args.actor))


def _lifecycle(name: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        reg = _open(args)
        state = getattr(reg, name)(args.cti, actor=args.actor)
        return _out(args, {"cti": args.cti, "state": state}, state)

    return run


def cmd_reissue(args: argparse.Namespace) -> int:
    device = Ed25519PublicKey.from_jwk(json.loads(read_bytes(args.device_jwk))) if args.device_jwk else None
    return _issued(args, _open(args).reissue(args.cti, actor=args.actor, device_key=device))


def cmd_renew(args: argparse.Namespace) -> int:
    changes = dict(item.split("=", 1) for item in args.set)
    if not changes:
        raise UsageError("renew needs --set FIELD=VALUE (e.g. --set rank=행정사무관)")
    return _issued(args, _open(args).renew(args.cti, actor=args.actor, changes=changes))


def cmd_show(args: argparse.Namespace) -> int:
    reg = _open(args)
    data = reg.show(args.id) if "-" in args.id else reg.credential(args.id)
    emit_json(data) if args.json else print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    rows = _open(args).applications(args.state)
    if args.json:
        emit_json({"applications": rows})
    else:
        for row in rows:
            print(f"{row['id']}  {row['state']:<26} {row['person']}")
    return EXIT_OK


def cmd_audit_verify(args: argparse.Namespace) -> int:
    total, broken = _open(args).audit_verify()
    if broken is None:
        return _out(args, {"entries": total, "broken_at": None}, f"audit chain intact: {total} entries")
    _out(args, {"entries": total, "broken_at": broken}, f"AUDIT CHAIN BROKEN at entry {broken} (of {total})")
    return EXIT_INVALID


def cmd_export_status(args: argparse.Namespace) -> int:
    reg = _open(args)
    key: Ed25519PrivateKey = _signer(args)(clock_of(args)())
    for info in reg.status_lists():
        if args.uri and info.uri != args.uri:
            continue
        path = args.out.replace("{n}", str(info.seq))
        atomic_write(path, reg.export_status(info.uri, key))
        print(f"{info.uri} ({info.allocated} allocated) -> {path}", file=sys.stderr)
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    """Bulk applications from CSV (one per row: the claim fields, contact, applicant)."""
    reg = _open(args)
    with open(args.csv, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    created, failed = 0, 0
    for number, row in enumerate(rows, start=1):
        claims = {k: v for k, v in row.items() if k not in ("contact", "applicant") and v}
        if "agency_code" in claims:
            claims["agency_code"] = int(claims["agency_code"])
        try:
            reg.apply(applicant=row.get("applicant") or args.actor, claims=claims, contact=row.get("contact", ""))
            created += 1
        except VCError as exc:
            failed += 1
            print(f"\nrow {number}: {exc}", file=sys.stderr)
        if sys.stderr.isatty():
            print(f"\r[{'#' * (30 * number // len(rows)):<30}] {number}/{len(rows)}", end="", file=sys.stderr)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    _out(args, {"created": created, "failed": failed}, f"{created} applications created, {failed} refused")
    return EXIT_OK if not failed else EXIT_INVALID


def register_registry(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``vcsdk registry ...``."""
    registry = commands.add_parser("registry", help="the ID office: applications, review, issuance, lifecycle")
    sub = registry.add_subparsers(dest="registry_command", required=True, parser_class=Parser)

    def command(name: str, func: Any, text: str, *, signer: bool = False) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=text)
        parser.add_argument("--db", default=DEFAULT_DB, help=f"SQLite path or database URL (default {DEFAULT_DB})")
        parser.add_argument("--actor", default="cli", help="who does this (for the audit log)")
        parser.add_argument("--at", metavar="TIME")
        parser.add_argument("--json", action="store_true")
        if signer:
            group = parser.add_mutually_exclusive_group(required=True)
            group.add_argument("--key", help="issuer private key file")
            group.add_argument("--keyring", metavar="DIR")
            add_passphrase_options(parser)
        parser.set_defaults(func=func)
        return parser

    init = command("init", cmd_init, "create the database (SQLite by default, or a URL)")
    init.add_argument("--iss", required=True)
    init.add_argument("--uri-template", required=True, help="status list URI with {n}")
    init.add_argument("--first", type=int, default=1)
    apply = command("apply", cmd_apply, "open an application")
    apply.add_argument("--claims", required=True, help="official-ID claims JSON")
    apply.add_argument("--contact", required=True)
    apply.add_argument("--device-jwk", help="the phone's public key (JWK file)")
    attach = command("attach", cmd_attach, "attach a document (its file is hashed, not stored)")
    attach.add_argument("application")
    attach.add_argument(
        "kind", choices=["identity_document", "photo", "position_certificate", "recommendation", "fee_payment"]
    )
    attach.add_argument("file")
    attach.add_argument("--meta", help="document metadata as JSON")
    for name, text in (("submit", "submit a complete application"), ("review", "start the review"),
                       ("approve", "approve"), ("reject", "reject (needs --reason)"),
                       ("request-documents", "ask for more documents")):  # fmt: skip
        parser = command(name, _step(name.replace("-", "_")), text)
        parser.add_argument("application")
        parser.add_argument("--reason")
    issue = command("issue", cmd_issue, "issue the approved application's credential", signer=True)
    issue.add_argument("application")
    issue.add_argument("--png", help="also write the QR image")
    for name, text in (("suspend", "suspend (phone lost)"), ("reinstate", "reinstate"), ("revoke", "revoke for good")):
        parser = command(name, _lifecycle(name), text)
        parser.add_argument("cti")
    reissue = command("reissue", cmd_reissue, "new phone: revoke and issue anew", signer=True)
    reissue.add_argument("cti")
    reissue.add_argument("--device-jwk")
    reissue.add_argument("--png")
    renew = command("renew", cmd_renew, "promotion/transfer: NEEDS_RENEWAL, then re-issue with new claims", signer=True)
    renew.add_argument("cti")
    renew.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    renew.add_argument("--png")
    show = command("show", cmd_show, "an application (uuid) or a credential (cti)")
    show.add_argument("id")
    listing = command("list", cmd_list, "applications")
    listing.add_argument("--state")
    audit = command("audit", cmd_audit_verify, "verify the audit hash chain (audit verify)")
    audit.add_argument("verify", choices=["verify"])
    export = command("export-status", cmd_export_status, "sign the status lists for publication", signer=True)
    export.add_argument("--uri")
    export.add_argument("--out", default="status-{n}.cwt", help="file name; {n} is the list number")
    bulk = command("import", cmd_import, "bulk applications from CSV")
    bulk.add_argument("csv")
