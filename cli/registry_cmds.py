"""``vcsdk registry ...``: the ID office's workflow from the command line."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from typing import Any

from vcsdk.errors import RecordNotFound, UsageError, VCError
from vcsdk.keys import Ed25519PrivateKey, Ed25519PublicKey
from vcsdk.keys.files import PRIVATE_MODE, atomic_write, load_private_key, load_trust, read_bytes
from vcsdk.keys.keyring import Keyring
from vcsdk.qr.render import render_png, render_svg
from vcsdk.registry import IssuerRegistry, StatusConfig
from vcsdk.trust.store import TrustStore

from .common import EXIT_INVALID, EXIT_OK, Parser, add_passphrase_options, clock_of, emit_json, passphrase

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
    config = StatusConfig(args.uri_template, first=args.first)
    IssuerRegistry.create(
        args.db,
        config,
        issuer_id=args.iss,
        clock=clock_of(args),
        reviewers=args.reviewer,
        operators=args.operator,
    )
    return _out(args, {"db": args.db, "iss": args.iss}, f"registry ready in {args.db} for {args.iss}")


def cmd_actors(args: argparse.Namespace) -> int:
    reg = _open(args)
    if args.reviewer or args.operator:
        reg.set_actors(reviewers=args.reviewer, operators=args.operator, actor=args.actor)
    actors = reg.actors()
    return _out(
        args, actors, f"reviewers: {', '.join(actors['reviewers'])}\noperators: {', '.join(actors['operators'])}"
    )


def _private_write(path: str, data: bytes) -> None:
    """Files holding a credential or personal data are created 0600."""
    atomic_write(path, data, mode=PRIVATE_MODE)


def _changes(items: list[str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for item in items:
        field, sep, value = item.partition("=")
        if not sep or not field:
            raise UsageError(f"--set takes FIELD=VALUE, not {item!r}")
        changes[field] = int(value) if field == "agency_code" and value.isdigit() else value
    return changes


def _json_object(data: bytes | str, what: str) -> dict[str, Any]:
    """A JSON object from a file or an option, or one usage error naming it."""
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{what} is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise UsageError(f"{what} must be a JSON object")
    return value


def cmd_apply(args: argparse.Namespace) -> int:
    claims = _json_object(read_bytes(args.claims), args.claims)
    claims.pop("photo_digest", None)
    device = (
        Ed25519PublicKey.from_jwk(_json_object(read_bytes(args.device_jwk), args.device_jwk))
        if args.device_jwk
        else None
    )
    app = _open(args).apply(applicant=args.actor, claims=claims, contact=args.contact, device_key=device)
    return _out(args, {"application": app}, app)


def cmd_attach(args: argparse.Namespace) -> int:
    meta = _json_object(args.meta, "--meta") if args.meta else {}
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
        image = args.png.lower().endswith(".svg")
        _private_write(args.png, render_svg(record.qr_text) if image else render_png(record.qr_text))
    if getattr(args, "out", None):
        _private_write(args.out, record.qr_text.encode("ascii") + b"\n")
    data = {
        "cti": record.cti,
        "status": {"uri": record.status.uri, "idx": record.status.idx},
        "qr_text": record.qr_text,
    }
    return _out(args, data, f"{record.cti}\n{record.qr_text}")


def _proof(args: argparse.Namespace) -> bytes | None:
    return read_bytes(args.holder_proof) if getattr(args, "holder_proof", None) else None


def cmd_issue(args: argparse.Namespace) -> int:
    return _issued(args, _open(args).issue(args.application, actor=args.actor, key_proof=_proof(args)))


def cmd_issue_many(args: argparse.Namespace) -> int:
    """Bulk issuance: one transaction per batch; one line per application, in input order."""
    ids = list(args.application)
    if args.from_file:
        text = sys.stdin.read() if args.from_file == "-" else read_bytes(args.from_file).decode("utf-8", "replace")
        ids += [line.strip() for line in text.splitlines() if line.strip()]
    if not ids:
        raise UsageError("give application ids as arguments or with --from FILE (one per line, - for stdin)")
    results = _open(args).issue_many(ids, actor=args.actor, batch_size=args.batch_size)
    refused = 0
    for application, result in zip(ids, results, strict=True):
        if isinstance(result, VCError):
            refused += 1
            data: dict[str, Any] = {"application": application, "issued": False}
            data |= {"code": str(result.code), "message": result.message}
            line = f"{application} REFUSED {result.code}: {result.message}"
        else:
            data = {"application": application, "issued": True, "cti": result.cti}
            data |= {"status": {"uri": result.status.uri, "idx": result.status.idx}, "qr_text": result.qr_text}
            line = f"{application} {result.cti} {result.qr_text}"
        if args.json:
            emit_json(data)
        else:
            print(line)
    print(f"{len(ids) - refused} issued, {refused} refused", file=sys.stderr)
    return EXIT_OK if not refused else EXIT_INVALID


def cmd_nonce(args: argparse.Namespace) -> int:
    value = _open(args).nonce(ttl=args.ttl)
    return _out(args, {"nonce": value, "ttl": args.ttl}, value)


def _lifecycle(name: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        reg = _open(args)
        reason = getattr(args, "reason", None)
        method = getattr(reg, name.replace("-", "_"))
        state = method(args.cti, actor=args.actor, **({"reason": reason} if reason is not None else {}))
        return _out(args, {"cti": args.cti, "state": state}, state)

    return run


def cmd_reissue(args: argparse.Namespace) -> int:
    return _issued(args, _open(args).reissue(args.cti, actor=args.actor, key_proof=_proof(args)))


def cmd_refresh(args: argparse.Namespace) -> int:
    return _issued(args, _open(args).refresh(args.cti, actor=args.actor))


def cmd_renew(args: argparse.Namespace) -> int:
    return _issued(args, _open(args).renew(args.cti, actor=args.actor, changes=_changes(args.set)))


def cmd_change(args: argparse.Namespace) -> int:
    changes = _changes(args.set)
    app = _open(args).apply_change(args.cti, applicant=args.actor, changes=changes)
    return _out(args, {"application": app, "replaces": args.cti, "changes": changes}, app)


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


def _audit_trust(args: argparse.Namespace) -> TrustStore:
    keys = [entry for path in args.trust for entry in load_trust(path)]
    if args.checkpoint and not keys:
        raise UsageError("--checkpoint needs --trust (the public key that signs checkpoints)")
    return TrustStore(keys)


def cmd_audit(args: argparse.Namespace) -> int:
    reg = _open(args)
    if args.audit_command == "verify":
        checkpoints = [read_bytes(path) for path in args.checkpoint]
        report = reg.audit_verify(checkpoints=checkpoints, trust=_audit_trust(args))
        if report.ok:
            signed = f", checkpoints at {report.checkpoints}" if report.checkpoints else ""
            return _out(
                args, report.to_json(), f"audit chain intact: {report.entries} entries, tables reconciled{signed}"
            )
        broken = [f"AUDIT LOG BROKEN (first bad entry: {report.broken_at}, {report.entries} entries)", *report.problems]
        _out(args, report.to_json(), "\n".join(broken))
        return EXIT_INVALID
    if args.audit_command == "checkpoint":
        if not args.out:
            raise UsageError("audit checkpoint needs --out FILE")
        signer = _signer(args)
        if signer is None:
            raise UsageError("audit checkpoint needs --key or --keyring")
        data = reg.audit_checkpoint(signer(clock_of(args)()))
        atomic_write(args.out, data, overwrite=False)
        return _out(args, {"checkpoint": args.out}, f"checkpoint -> {args.out}")
    lines = (json.dumps(entry, ensure_ascii=False) for entry in reg.audit_entries(subject=args.subject))
    if args.audit_command == "export":
        if not args.out:
            raise UsageError("audit export needs --out FILE")
        _private_write(args.out, "".join(line + "\n" for line in lines).encode("utf-8"))
        return EXIT_OK
    for line in lines:
        print(line)
    return EXIT_OK


def cmd_export_status(args: argparse.Namespace) -> int:
    reg = _open(args)
    signer = _signer(args)
    key: Ed25519PrivateKey = signer(clock_of(args)())
    chosen = [info for info in reg.status_lists() if not args.uri or info.uri == args.uri]
    if not chosen:
        raise RecordNotFound(f"no status list {args.uri}")
    if len(chosen) > 1 and "{n}" not in args.out:
        raise UsageError(
            f"{len(chosen)} status lists but --out {args.out!r} has no {{n}}: each would overwrite the last"
        )
    for info in chosen:
        path = args.out.replace("{n}", str(info.seq))
        atomic_write(path, reg.export_status(info.uri, key))
        print(f"{info.uri} ({info.allocated} allocated) -> {path}", file=sys.stderr)
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    """Bulk applications from CSV (one per row: the claim fields, contact, applicant)."""
    reg = _open(args)
    try:
        text = read_bytes(args.csv).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{args.csv} is not UTF-8 (save the CSV as UTF-8, not CP949)") from None
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    created, failed = 0, 0
    ids: list[str] = []
    for number, row in enumerate(rows, start=1):
        claims = {k: v for k, v in row.items() if k not in ("contact", "applicant") and v and isinstance(k, str)}
        try:
            if "agency_code" in claims:
                if not claims["agency_code"].isdigit():
                    raise UsageError(f"agency_code {claims['agency_code']!r} is not a number")
                claims["agency_code"] = int(claims["agency_code"])
            ids.append(
                reg.apply(applicant=row.get("applicant") or args.actor, claims=claims, contact=row.get("contact", ""))
            )
            created += 1
            if not args.json:
                print(ids[-1])  # the created application's id, one per line
        except VCError as exc:
            failed += 1
            print(f"\nrow {number}: {exc}", file=sys.stderr)
        if sys.stderr.isatty():
            print(f"\r[{'#' * (30 * number // len(rows)):<30}] {number}/{len(rows)}", end="", file=sys.stderr)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if args.json:
        emit_json({"created": created, "failed": failed})
    else:
        print(f"{created} applications created, {failed} refused", file=sys.stderr)
    return EXIT_OK if not failed else EXIT_INVALID


def register_registry(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``vcsdk registry ...``."""
    registry = commands.add_parser("registry", help="the ID office: applications, review, issuance, lifecycle")
    sub = registry.add_subparsers(dest="registry_command", required=True, parser_class=Parser)

    def command(name: str, func: Any, text: str, *, signer: bool = False) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=text)
        parser.add_argument("--db", default=DEFAULT_DB, help=f"SQLite path or database URL (default {DEFAULT_DB})")
        parser.add_argument(
            "--actor", default="cli", help="who does this (checked against the configured reviewers/operators)"
        )
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
    init.add_argument("--reviewer", action="append", required=True, help="an account that may review (repeatable)")
    init.add_argument("--operator", action="append", required=True, help="an account that may issue (repeatable)")
    actors = command("actors", cmd_actors, "show, or with --reviewer/--operator replace, the allowed actors")
    actors.add_argument("--reviewer", action="append", default=[])
    actors.add_argument("--operator", action="append", default=[])
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
    nonce = command("nonce", cmd_nonce, "a one-time nonce for the holder's device-key proof")
    nonce.add_argument("--ttl", type=int, default=300, help="seconds the nonce stays usable (default 300)")
    issue = command("issue", cmd_issue, "issue the approved application's credential", signer=True)
    issue.add_argument("application")
    issue.add_argument("--holder-proof", metavar="FILE", help="device-key proof (vcsdk.holder.make_key_proof)")
    issue.add_argument("--png", help="also write the QR image (mode 0600)")
    issue.add_argument("--out", help="also write the QR text (mode 0600)")
    many = command(
        "issue-many", cmd_issue_many, "bulk issuance of approved applications, one transaction per batch", signer=True
    )
    many.add_argument("application", nargs="*", help="application ids (and/or --from)")
    many.add_argument("--from", dest="from_file", metavar="FILE", help="application ids, one per line (- for stdin)")
    many.add_argument("--batch-size", type=int, default=100, help="issuances per transaction (default 100)")
    for name, text in (("suspend", "suspend"), ("report-lost", "the phone is lost: suspend at once"),
                       ("reinstate", "reinstate"), ("revoke", "revoke for good")):  # fmt: skip
        parser = command(name, _lifecycle(name), text)
        parser.add_argument("cti")
        if name in ("suspend", "revoke"):
            parser.add_argument("--reason", help="recorded on the credential and in the audit log")
    reissue = command("reissue", cmd_reissue, "new phone: a credential for the new device key", signer=True)
    reissue.add_argument("cti")
    reissue.add_argument("--holder-proof", metavar="FILE", help="proof of the new device key")
    refresh = command("refresh", cmd_refresh, "a new credential, same claims and device key", signer=True)
    renew = command("renew", cmd_renew, "renew (one transaction); changed claims go through 'change'", signer=True)
    renew.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="refused: use 'change'")
    for parser in (reissue, refresh, renew):
        if parser is not reissue:
            parser.add_argument("cti")
        parser.add_argument("--png", help="also write the QR image (mode 0600)")
        parser.add_argument("--out", help="also write the QR text (mode 0600)")
    change = command("change", cmd_change, "apply for a change of claims (rank, agency, ...): reviewed")
    change.add_argument("cti")
    change.add_argument("--set", action="append", required=True, metavar="FIELD=VALUE")
    show = command("show", cmd_show, "an application (uuid) or a credential (cti)")
    show.add_argument("id")
    listing = command("list", cmd_list, "applications")
    listing.add_argument("--state")
    audit = command("audit", cmd_audit, "audit log: verify | show | export | checkpoint", signer=False)
    audit.add_argument("audit_command", choices=["verify", "show", "export", "checkpoint"])
    audit.add_argument("--checkpoint", action="append", default=[], metavar="FILE", help="signed checkpoint (verify)")
    audit.add_argument("--trust", action="append", default=[], metavar="PATH", help="checkpoint key: PEM, JWK, JWKS")
    audit.add_argument("--subject", help="only this application or credential (show, export)")
    audit.add_argument("--out", help="output file (export: JSON lines, mode 0600; checkpoint)")
    signing = audit.add_mutually_exclusive_group()
    signing.add_argument("--key", help="signing key for checkpoint")
    signing.add_argument("--keyring", metavar="DIR")
    add_passphrase_options(audit)
    export = command("export-status", cmd_export_status, "sign the status lists for publication", signer=True)
    export.add_argument("--uri")
    export.add_argument("--out", default="status-{n}.cwt", help="file name; {n} is the list number")
    bulk = command("import", cmd_import, "bulk applications from CSV")
    bulk.add_argument("csv")
