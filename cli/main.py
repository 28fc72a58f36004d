"""``vcsdk``: a thin command-line shell over the public API.

Exit codes: 0 valid / done, 1 not valid, 2 usage or configuration error. Errors print as one
line ``vcsdk: CODE: message`` on stderr. ``--json`` where the output is data.

Each command family lives in its own ``*_cmds`` module with one ``register_*(commands)``
function; this module only assembles the parser and maps errors to exit codes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from vcsdk import UsageError, VCError
from vcsdk.errors import FileError, KeyPassphraseRequired

from .bundle_cmds import register_bundle
from .common import EXIT_INVALID, EXIT_OK, EXIT_USAGE, Parser
from .conformance_cmds import register_conformance
from .gate_cmds import register_gate
from .inspect_cmds import register_inspect
from .issue_cmds import register_issue
from .keys_cmds import register_keys
from .qr_cmds import register_qr
from .registry_cmds import register_registry
from .serve_cmds import register_serve
from .status_cmds import register_status
from .trust_cmds import register_trust
from .verify_cmds import register_verify
from .wallet_cmds import register_wallet


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="vcsdk", description="Issue and verify mobile official-ID QR credentials.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    register_keys(commands)
    register_issue(commands)
    register_verify(commands)
    register_status(commands)
    register_trust(commands)
    register_bundle(commands)
    register_qr(commands)
    register_registry(commands)
    register_serve(commands)
    register_inspect(commands)
    register_conformance(commands)
    register_gate(commands)
    register_wallet(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``vcsdk`` console script."""
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except KeyPassphraseRequired as exc:
        print(f"vcsdk: {exc} (use --passphrase-env or --passphrase-file)", file=sys.stderr)
        return EXIT_USAGE
    except (UsageError, FileError) as exc:
        print(f"vcsdk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except VCError as exc:
        print(f"vcsdk: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
