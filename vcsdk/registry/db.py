"""Opening the issuer database: SQLite file by default (WAL), PostgreSQL by URL; migrations.

A SQLite file is created with mode 0600 (it holds personal data); SQLite gives its ``-wal`` and
``-shm`` files the database file's permissions.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from ..errors import FileError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FILE_MODE = 0o600


def url_for(target: str) -> str:
    """A database URL: ``target`` itself if it is one, else a SQLite file path."""
    return target if "://" in target else f"sqlite:///{Path(target).resolve()}"


def open_engine(target: str) -> Engine:
    """An engine for a SQLite path or a database URL (``postgresql+psycopg://...``)."""
    url = url_for(target)
    try:
        if url.startswith("sqlite"):
            if "://" not in target:
                _create_private(Path(target))
            engine = create_engine(url, connect_args={"timeout": 60, "isolation_level": None})

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=FULL")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()

            @event.listens_for(engine, "begin")
            def _begin_immediate(connection: Any) -> None:
                connection.exec_driver_sql("BEGIN IMMEDIATE")  # writers queue; no lost updates

            return engine
        return create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError) as exc:
        raise FileError(f"cannot open database {target}: {exc}") from None


def _create_private(path: Path) -> None:
    """Create an absent database file with mode 0600 (whatever the umask)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    except OSError as exc:
        raise FileError(f"cannot create database {path}: {exc.strerror}") from None
    os.fchmod(fd, FILE_MODE)
    os.close(fd)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (Alembic)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise FileError(f"cannot migrate the database: {exc}") from None
