"""The ``registry`` family as the CLI presents it: the registry's own commands (``registry_cmds``),
plus ``registry export`` and ``registry expire``, and a guard so that no command but ``init``
creates a database by mistake (``--db nope.sqlite`` refuses instead of leaving an empty file)."""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vcsdk.errors import FileError

from .common import EXIT_OK, Parser, clock_of, emit_json

Command = Callable[[argparse.Namespace], int]
TIME_FIELDS = ("created_at", "submitted_at", "decided_at", "issued_at", "expires_at")


def require_database(func: Command) -> Command:
    """Refuse a ``--db`` SQLite path that does not exist (a URL is the server's business)."""

    @functools.wraps(func)
    def guarded(args: argparse.Namespace) -> int:
        db = str(getattr(args, "db", "") or "")
        if db and "://" not in db and not Path(db).exists():
            raise FileError(f"{db} does not exist: create the registry with 'vcsdk registry init --db {db} ...'")
        return func(args)

    return guarded


def _open(args: argparse.Namespace) -> Any:
    from vcsdk.registry import IssuerRegistry

    return IssuerRegistry.open(args.db, clock=clock_of(args))


def _iso_fields(record: Any) -> Any:
    """Registry timestamps (Unix seconds) as ISO 8601, recursively."""
    from vcsdk.clock import format_time

    if isinstance(record, dict):
        return {
            key: format_time(value) if key in TIME_FIELDS and isinstance(value, int) else _iso_fields(value)
            for key, value in record.items()
        }
    if isinstance(record, list):
        return [_iso_fields(item) for item in record]
    return record


def cmd_export(args: argparse.Namespace) -> int:
    """Every application (or those in one state) with claims, documents and credentials, as JSON lines."""
    from vcsdk.keys.files import atomic_write

    registry = _open(args)
    records = [_iso_fields(registry.show(row["id"])) for row in registry.applications(args.state)]
    lines = "".join(json.dumps(record, ensure_ascii=False, default=str) + "\n" for record in records)
    if args.out:
        atomic_write(args.out, lines.encode("utf-8"), mode=0o600)  # personal data: owner only
        if args.json:
            emit_json({"applications": len(records), "out": args.out})
        else:
            print(f"{len(records)} applications -> {args.out}")
    else:
        print(lines, end="")
    return EXIT_OK


def checked_attach(func: Command) -> Command:
    """Before the registry records a document: metadata valid for its kind, a photo really an image."""

    @functools.wraps(func)
    def attach(args: argparse.Namespace) -> int:
        from vcsdk.errors import UsageError
        from vcsdk.keys.files import read_bytes

        from .registry_checks import check_image, check_meta

        try:
            meta = json.loads(args.meta) if args.meta else {}
        except ValueError as exc:
            raise UsageError(f"--meta is not valid JSON ({exc})") from None
        check_meta(args.kind, meta)
        if args.kind == "photo":
            check_image(read_bytes(args.file), args.file)
        return func(args)

    return attach


def cmd_expire(args: argparse.Namespace) -> int:
    """Mark every credential past its exp as expired."""
    count = _open(args).expire(actor=args.actor)
    if args.json:
        emit_json({"expired": count})
    else:
        print(f"{count} credentials marked expired")
    return EXIT_OK


def _registry_commands(commands: argparse._SubParsersAction[Parser]) -> argparse._SubParsersAction[Parser]:
    registry = commands.choices["registry"]
    return next(a for a in registry._actions if isinstance(a, argparse._SubParsersAction))


def register_registry_all(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``vcsdk registry ...``: the registry's commands, ``export``, ``expire``, the database guard."""
    from .registry_cmds import register_registry

    register_registry(commands)
    sub = _registry_commands(commands)
    export = sub.add_parser(
        "export",
        help="applications with claims, documents and credentials, as JSON lines",
        epilog="example:\n  vcsdk registry export --db registry.sqlite --state approved --out approved.jsonl",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("--db", required=True, help="registry database (SQLite path or URL)")
    export.add_argument("--state", help="only applications in this state")
    export.add_argument("--out", metavar="PATH", help="write here (mode 0600: personal data) instead of stdout")
    export.add_argument("--at", metavar="TIME", help="as of TIME (for the SLA report)")
    export.add_argument("--json", action="store_true", help="with --out: print a JSON summary")
    export.set_defaults(func=cmd_export)
    expire = sub.add_parser(
        "expire",
        help="mark every credential past its expiry as expired",
        epilog="example:\n  vcsdk registry expire --db registry.sqlite --actor nightly-job",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    expire.add_argument("--db", required=True, help="registry database (SQLite path or URL)")
    expire.add_argument("--actor", default="cli", help="who does this (for the audit log)")
    expire.add_argument("--at", metavar="TIME", help="as of TIME (ISO 8601 or Unix seconds; default now)")
    expire.add_argument("--json", action="store_true", help="print the count as JSON")
    expire.set_defaults(func=cmd_expire)
    sub.choices["attach"].set_defaults(func=checked_attach(sub.choices["attach"].get_default("func")))
    for name, parser in sub.choices.items():
        func = parser.get_default("func")
        if name != "init" and func is not None:
            parser.set_defaults(func=require_database(func))
