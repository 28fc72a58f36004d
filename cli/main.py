"""``vcsdk``: a thin command-line shell over the public API.

Exit codes: 0 valid / done, 1 not valid, 2 usage or configuration error. Errors print as one
line ``vcsdk: CODE: message`` on stderr, never a traceback. ``--json`` where the output is data.

Each command family lives in its own ``*_cmds`` module with one ``register_*(commands)``
function, listed once in ``FAMILIES``. Only the family named on the command line is imported
(``vcsdk --help`` and ``vcsdk verify`` start fast); the others appear in the help as one line.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple

from .common import EXIT_INVALID, EXIT_OK, EXIT_USAGE, Parser, iso_times
from .config import CONFIG_HELP, fill, prepare
from .examples import decorate


class Family(NamedTuple):
    """A command family: ``vcsdk NAME ...`` is registered by ``MODULE.FUNCTION(commands)``."""

    name: str
    module: str
    function: str
    help: str


FAMILIES: tuple[Family, ...] = (
    Family("keys", "keys_cmds", "register_keys", "issuer signing keys and keyrings"),
    Family("issue", "issue_cmds", "register_issue", "issue an official-ID credential and print its QR text"),
    Family("verify", "verify_cmds", "register_verify", "verify QR texts or images (exit 0 valid, 1 not valid)"),
    Family("status", "status_cmds", "register_status", "status lists: registry, publication, inspection"),
    Family("trust", "trust_cmds", "register_trust", "signed trust lists"),
    Family("bundle", "bundle_cmds", "register_bundle", "offline gate bundles"),
    Family("qr", "qr_cmds", "register_qr", "render QR images, scan them from photos"),
    Family("registry", "registry_extra", "register_registry_all", "the ID office: applications, review, issuance"),
    Family("serve", "serve_cmds", "register_serve", "run the issuer service (web pages and HTTP API)"),
    Family("inspect", "inspect_cmds", "register_inspect", "decode every layer of a QR text (never says valid)"),
    Family("conformance", "conformance_cmds", "register_conformance", "run the public conformance test suites"),
    Family("gate", "gate_cmds", "register_gate", "run a gate all day: camera, video, images or stdin"),
    Family("wallet", "wallet_cmds", "register_wallet", "the holder's reference wallet: device key, PIN, QR"),
    Family("completion", "completion_cmds", "register_completion", "print a shell completion script"),
)

EPILOG = (
    """\
examples:
  vcsdk keys generate --out issuer.key --jwks trust.jwks
  vcsdk issue --key issuer.key --iss KR-MOIS --claims claims.json > credential.txt
  vcsdk verify --trust trust.jwks --allow-unknown-status "$(cat credential.txt)"
  vcsdk COMMAND --help            help and an example for each command

"""
    + CONFIG_HELP
)


def _family_named(argv: Sequence[str]) -> Family | None:
    """The family named by the first positional word of ``argv`` (skipping ``--config PATH``)."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word == "--config":
            skip = True
        elif not word.startswith("-"):
            return next((family for family in FAMILIES if family.name == word), None)
    return None


def register_family(commands: argparse._SubParsersAction[Parser], family: Family) -> None:
    """Import a family's module and let it add its parsers."""
    module = importlib.import_module(f"{__package__}.{family.module}")
    getattr(module, family.function)(commands)


def build_parser(argv: Sequence[str] | None = None, *, full: bool = False) -> argparse.ArgumentParser:
    """The ``vcsdk`` parser: every family when ``full``, else only the one ``argv`` names."""
    parser = Parser(
        prog="vcsdk",
        description="Issue and verify mobile official-ID QR credentials.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=VersionAction, help="print versions (package, backends) and exit")
    parser.add_argument(
        "--config",
        dest="cli_config",
        metavar="PATH",
        help="TOML file with defaults for --db, --keyring, --trust, ... (or VCSDK_CONFIG); before the command",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser, metavar="COMMAND")
    named = None if full else _family_named(sys.argv[1:] if argv is None else argv)
    for family in FAMILIES:
        if full or family is named:
            register_family(commands, family)
        else:
            commands.add_parser(family.name, help=family.help, add_help=False)
    decorate(parser)
    return parser


class VersionAction(argparse.Action):
    """``--version``: the package, Python and crypto backend versions, and the fast path in use."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object, **__: object) -> None:
        from .version import version_text

        print(version_text())
        parser.exit(EXIT_OK)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``vcsdk`` console script."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(args_list)
        configured = prepare(parser, args_list)
        args = parser.parse_args(args_list)
        fill(args, configured)
        func: Callable[[argparse.Namespace], int] = args.func
        return func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # every failure is one line with a code, never a traceback
        return report(exc)


def report(exc: Exception) -> int:
    """Print ``vcsdk: CODE: message`` for any exception and return the exit code."""
    from vcsdk.errors import CredentialInvalid, KeyPassphraseRequired, VCError

    if isinstance(exc, KeyPassphraseRequired):
        print(f"vcsdk: {exc} (use --passphrase-env or --passphrase-file)", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(exc, VCError):
        print(f"vcsdk: {exc.code}: {iso_times(_one_line(Exception(exc.message)))}", file=sys.stderr)
        return EXIT_INVALID if isinstance(exc, CredentialInvalid) else EXIT_USAGE
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"vcsdk: FILE_ERROR: {where}{exc.strerror or _one_line(exc)}", file=sys.stderr)
    elif isinstance(exc, json.JSONDecodeError):
        print(f"vcsdk: USAGE_ERROR: not valid JSON ({_one_line(exc)})", file=sys.stderr)
    elif isinstance(exc, UnicodeError):
        print(f"vcsdk: USAGE_ERROR: input is not UTF-8 text ({_one_line(exc)})", file=sys.stderr)
    else:
        print(f"vcsdk: INTERNAL_ERROR: unexpected {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
