"""``vcsdk serve``: run the issuer service (Starlette app under uvicorn).

``vcsdk serve --db URL --config FILE [--host 127.0.0.1 --port 8080 --workers N]`` runs a configured
service. With only ``--db`` it starts a local TRIAL instance: development keys and a config are
generated under ``--data-dir`` (default: beside a SQLite file, else ``./vcsdk-trial``) and an
operator password is printed once. ``--create-operator NAME`` makes an operator account, prints
its generated password once and exits.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from vcsdk.errors import UsageError

from .common import EXIT_OK, Parser

TRIAL_BANNER = """\
=====================================================================
 vcsdk issuer service -- TRIAL INSTANCE, NOT FOR PRODUCTION
 development keys were generated in {folder}
 operator account: {name}
 operator password (shown once): {password}
 open {base}/ in a browser; API description at {base}/openapi.json
====================================================================="""


def _trial_dir(db: str) -> Path:
    if "://" not in db:
        return Path(db).resolve().with_suffix(".trial")
    return Path("vcsdk-trial").resolve()


def cmd_serve(args: argparse.Namespace) -> int:
    from vcsdk.registry import open_engine
    from vcsdk.service.accounts import Accounts
    from vcsdk.service.core import prepare_database
    from vcsdk.service.settings import load_settings, trial_config

    base = args.base_url or f"http://{args.host}:{args.port}"
    trial = args.config is None
    if trial:
        data_dir = Path(args.data_dir) if args.data_dir else _trial_dir(args.db)
        config = str(trial_config(args.db, data_dir, base_url=base))
        overrides: dict[str, str] = {}
    else:
        config = args.config
        overrides = {"database": args.db}
    settings = load_settings(config, overrides=overrides)
    prepare_database(settings)
    engine = open_engine(settings.database)
    try:
        from argon2 import PasswordHasher

        hasher = PasswordHasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib)
        accounts = Accounts(engine, hasher=hasher)
        if args.create_operator:
            password = secrets.token_urlsafe(12)
            accounts.create(args.create_operator, password, "operator", created_by="cli")
            print(f"operator {args.create_operator} created; password (shown once): {password}")
            return EXIT_OK
        if trial and not accounts.has_operator():
            password = secrets.token_urlsafe(12)
            accounts.create("operator", password, "operator", created_by="trial")
            print(
                TRIAL_BANNER.format(folder=settings.data_dir / "trial", name="operator", password=password, base=base)
            )
        elif trial:
            print(f"TRIAL INSTANCE, NOT FOR PRODUCTION: {base}/ (operator password was shown on first start)")
    finally:
        engine.dispose()
    sys.stdout.flush()
    return _run(config, settings.database, args)


def _run(config: str, database: str, args: argparse.Namespace) -> int:
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    os.environ["VCSDK_CONFIG"] = str(Path(config).resolve())
    os.environ["VCSDK_DATABASE"] = database
    server_config = uvicorn.Config(
        "vcsdk.service.app:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )
    if args.workers == 1:
        uvicorn.Server(server_config).run()
        return EXIT_OK
    # Several workers share one listening socket. It is made here with proto=IPPROTO_TCP, so that
    # asyncio sets TCP_NODELAY on every accepted connection (uvicorn's own socket has proto 0,
    # which leaves Nagle on: about 40 ms added to each response by delayed ACKs).
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    Multiprocess(server_config, sockets=[sock]).run()
    return EXIT_OK


def register_serve(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``vcsdk serve``."""
    serve = commands.add_parser("serve", help="run the issuer service (trial instance with only --db)")
    serve.add_argument("--db", required=True, help="SQLite path or database URL (postgresql+psycopg://...)")
    serve.add_argument("--config", help="service TOML file (without it: a local trial instance)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (PostgreSQL for more than one)")
    serve.add_argument("--base-url", help="public base URL (default http://HOST:PORT)")
    serve.add_argument("--data-dir", help="trial instance folder (keys, documents, published files)")
    serve.add_argument("--create-operator", metavar="NAME", help="create an operator account, print its password, exit")
    serve.add_argument("--proxy-headers", action="store_true", help="trust X-Forwarded-* (behind a TLS proxy)")
    serve.add_argument("--forwarded-allow-ips", default="127.0.0.1")
    serve.set_defaults(func=cmd_serve)
