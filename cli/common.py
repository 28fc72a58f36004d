"""What every ``vcsdk`` command shares: exit codes, JSON output, passphrases, time options."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, NoReturn, TextIO

from vcsdk import UsageError, fixed_clock
from vcsdk.clock import Clock, parse_time, system_clock
from vcsdk.keys.files import read_bytes

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
    """The key passphrase from ``--passphrase-env`` or ``--passphrase-file``, if given."""
    if getattr(args, "passphrase_env", None):
        value = os.environ.get(args.passphrase_env)
        if value is None:
            raise UsageError(f"environment variable {args.passphrase_env} is not set")
        return value.encode("utf-8")
    if getattr(args, "passphrase_file", None):
        return read_bytes(args.passphrase_file).rstrip(b"\r\n")
    return None


def add_passphrase_options(parser: argparse.ArgumentParser) -> None:
    """``--passphrase-env VAR`` | ``--passphrase-file PATH``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--passphrase-env", metavar="VAR", help="read the key passphrase from this environment variable")
    group.add_argument("--passphrase-file", metavar="PATH", help="read the key passphrase from this file")


def clock_of(args: argparse.Namespace) -> Clock:
    """A fixed clock for ``--at TIME``, else the system clock."""
    at = getattr(args, "at", None)
    return fixed_clock(parse_time(at)) if at else system_clock


def read_text_arg(value: str) -> str:
    """A claims/text argument: ``-`` for stdin, ``@file`` or a path to a file, else literal."""
    if value == "-":
        return sys.stdin.read()
    path = value[1:] if value.startswith("@") else value
    return read_bytes(path).decode("utf-8")
