"""What every ``vcsdk`` command shares: exit codes, JSON output, passphrases, time options."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TextIO, TypeVar

from vcsdk.clock import Clock, fixed_clock, parse_time, system_clock
from vcsdk.errors import UsageError

T = TypeVar("T")

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one ``vcsdk: USAGE_ERROR: ...`` line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"vcsdk: USAGE_ERROR: {message}\n")


def emit_json(data: Any, out: TextIO | None = None) -> None:
    """One JSON document on one line (Hangul kept readable), flushed."""
    stream = out or sys.stdout
    stream.write(json.dumps(data, ensure_ascii=False) + "\n")
    stream.flush()


def passphrase(args: argparse.Namespace) -> bytes | None:
    """The key passphrase from ``--passphrase-env`` or ``--passphrase-file``, if given (never empty)."""
    value: bytes | None = None
    if getattr(args, "passphrase_env", None):
        text = os.environ.get(args.passphrase_env)
        if text is None:
            raise UsageError(f"environment variable {args.passphrase_env} is not set")
        value = text.encode("utf-8")
    elif getattr(args, "passphrase_file", None):
        from vcsdk.keys.files import read_bytes

        value = read_bytes(args.passphrase_file).rstrip(b"\r\n")
    if value is not None and not value:
        raise UsageError("the passphrase is empty: an empty passphrase protects nothing")
    return value


def with_passphrase(args: argparse.Namespace, load: Callable[[bytes | None], T], what: str) -> T:
    """``load(passphrase)``; when the key is encrypted and no ``--passphrase-*`` option was given,
    ask for the passphrase on the terminal (as openssl and step do), never echoing it."""
    from vcsdk.errors import KeyPassphraseRequired

    given = passphrase(args)
    try:
        return load(given)
    except KeyPassphraseRequired:
        if given is not None or not sys.stdin.isatty():
            raise
    secret = getpass.getpass(f"passphrase for {what}: ")
    if not secret:
        raise UsageError("no passphrase given")
    return load(secret.encode("utf-8"))


def add_passphrase_options(parser: argparse.ArgumentParser) -> None:
    """``--passphrase-env VAR`` | ``--passphrase-file PATH``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--passphrase-env", metavar="VAR", help="read the key passphrase from this environment variable")
    group.add_argument("--passphrase-file", metavar="PATH", help="read the key passphrase from this file")


def clock_of(args: argparse.Namespace) -> Clock:
    """A fixed clock for ``--at TIME``, else the system clock."""
    at = getattr(args, "at", None)
    return fixed_clock(parse_time(at)) if at else system_clock


def human(value: Any) -> str:
    """A value for human output: never a Python repr (``None``, ``{'A': 1}``, ``True``)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k} {human(v)}" for k, v in value.items()) or "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(human(v) for v in value) or "-"
    return str(value)


_UNIX_TIME = re.compile(
    r"\b(at|iat|exp|nbf|now|from|before|after|until|since|ended at|expired at)( |=)(1[0-9]{9}|[2-9][0-9]{8})\b"
)


_BEFORE_NOW = re.compile(r"\b(1[0-9]{9})(?=, now )")


def iso_times(message: str) -> str:
    """Unix seconds after a time word in an SDK message, as ISO 8601 (``expired at 2029-11-30T14:19:12Z``)."""

    def replace(match: re.Match[str]) -> str:
        from vcsdk.clock import format_time

        return f"{match.group(1)}{match.group(2)}{format_time(int(match.group(3)))}"

    def before_now(match: re.Match[str]) -> str:
        from vcsdk.clock import format_time

        return format_time(int(match.group(1)))

    return _BEFORE_NOW.sub(before_now, _UNIX_TIME.sub(replace, message))


def read_text_arg(value: str) -> str:
    """A claims/text argument: ``-`` for stdin, ``@file`` or a path to a file, else literal."""
    if value == "-":
        return sys.stdin.read()
    from vcsdk.keys.files import read_bytes

    path = value[1:] if value.startswith("@") else value
    return read_bytes(path).decode("utf-8")


def private_key(args: argparse.Namespace, path: str) -> Any:
    """Load a private key file, prompting for its passphrase on a terminal when needed."""
    from vcsdk.keys.files import load_private_key

    return with_passphrase(args, lambda secret: load_private_key(path, secret), path)
