"""``vcsdk wallet init|request|import|refresh|show|respond|lock|unlock|change-pin|status``.

The reference wallet as a command: the file (``--wallet PATH``, default ``$VCSDK_WALLET`` or
``~/.vcsdk/wallet.json``) holds the device key and the credential, sealed under the PIN. PINs are
read from the terminal without echo, or from stdin with ``--pin-stdin`` (one per line: for
``change-pin`` the old one, then the new one).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from pathlib import Path

from vcsdk.clock import format_time, system_clock
from vcsdk.errors import UsageError
from vcsdk.holder import decode_challenge
from vcsdk.keys.files import atomic_write
from vcsdk.qr import plan, render_png
from vcsdk.wallet import KDF_PROFILES, IssuerClient, OpenWallet, PinUnlocker, Wallet
from vcsdk.wallet.store import DEFAULT_SESSION_SECONDS, REFRESH_INTERVAL_SECONDS

from .common import EXIT_OK, Parser, emit_json

DEFAULT_REFRESH_SECONDS = 10


def _path(args: argparse.Namespace) -> Path:
    if args.wallet:
        return Path(args.wallet)
    env = os.environ.get("VCSDK_WALLET")
    return Path(env) if env else Path.home() / ".vcsdk" / "wallet.json"


def _pins(args: argparse.Namespace, prompts: list[str]) -> list[str]:
    if args.pin_stdin:
        lines = sys.stdin.read().splitlines()
        if len(lines) < len(prompts):
            raise UsageError(f"--pin-stdin expects {len(prompts)} line(s) on stdin")
        return [line.strip() for line in lines[: len(prompts)]]
    if not sys.stdin.isatty():
        raise UsageError("no terminal to ask for the PIN: use --pin-stdin")
    return [getpass.getpass(prompt) for prompt in prompts]


def _unlocker(args: argparse.Namespace, pin: str) -> PinUnlocker:
    return PinUnlocker(pin, kdf=args.kdf)


def _open(args: argparse.Namespace) -> OpenWallet:
    """The open session (``vcsdk wallet unlock``); :class:`WalletLocked` otherwise."""
    return Wallet(_path(args)).resume(system_clock())


def cmd_init(args: argparse.Namespace) -> int:
    first, *again = _pins(args, ["New PIN (6+ digits): "] + ([] if args.pin_stdin else ["Repeat it: "]))
    if again and again[0] != first:
        raise UsageError("the two PINs differ")
    opened = Wallet.create(_path(args), _unlocker(args, first), now=system_clock())
    emit_json({"wallet": str(_path(args)), "device_key": opened.device_public_key.to_jwk()})
    return EXIT_OK


def cmd_unlock(args: argparse.Namespace) -> int:
    (pin,) = _pins(args, ["PIN: "])
    opened = Wallet(_path(args)).unlock(_unlocker(args, pin))
    opened.start_session(system_clock(), args.minutes * 60)
    print(f"unlocked for {args.minutes} minute(s); `vcsdk wallet lock` ends it", file=sys.stderr)
    return EXIT_OK


def cmd_lock(args: argparse.Namespace) -> int:
    Wallet(_path(args)).lock()
    print("locked", file=sys.stderr)
    return EXIT_OK


def cmd_change_pin(args: argparse.Namespace) -> int:
    old, new = _pins(args, ["Current PIN: ", "New PIN: "])
    opened = Wallet(_path(args)).unlock(_unlocker(args, old))
    opened.change_unlocker(_unlocker(args, new))
    print("PIN changed", file=sys.stderr)
    return EXIT_OK


def cmd_request(args: argparse.Namespace) -> int:
    opened = _open(args)
    client = IssuerClient()
    offer = client.read_offer(args.offer)
    tx_code = args.tx_code
    if tx_code is None and offer.tx_code_required:
        if not sys.stdin.isatty():
            raise UsageError("this offer needs its 6-digit transaction code: give --tx-code")
        tx_code = getpass.getpass("Transaction code: ")
    text = client.request(offer, opened.contents.device_key, tx_code=tx_code, now=system_clock())
    held = opened.store_credential(text, offer.credential_issuer)
    emit_json({"stored": True, "cti": held.credential_id.hex(), "expires": format_time(held.expires_at)})
    return EXIT_OK


def cmd_refresh(args: argparse.Namespace) -> int:
    opened = _open(args)
    contents = opened.contents
    if contents.credential is None or contents.issuer is None:
        raise UsageError("the wallet holds no requested credential to refresh")
    text = IssuerClient().refresh(contents.issuer, contents.credential, contents.device_key, now=system_clock())
    held = opened.store_credential(text)
    emit_json({"stored": True, "cti": held.credential_id.hex(), "expires": format_time(held.expires_at)})
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    opened = _open(args)
    text = sys.stdin.readline().strip() if args.credential == "-" else args.credential
    held = opened.store_credential(text)
    emit_json({"stored": True, "cti": held.credential_id.hex(), "expires": format_time(held.expires_at)})
    return EXIT_OK


def _terminal_qr(text: str) -> str:
    import io

    import qrcode
    from qrcode import util

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=2)
    code.add_data(util.QRData(text, mode=util.MODE_ALPHA_NUM))
    code.make(fit=True)
    out = io.StringIO()
    code.print_ascii(out=out, invert=True)
    return out.getvalue()


def _show_one(text: str, args: argparse.Namespace) -> None:
    if args.png:
        atomic_write(args.png, render_png(text))
    if args.text:
        print(text, flush=True)
    elif not args.png:
        sys.stdout.write("\x1b[2J\x1b[H" if sys.stdout.isatty() else "")
        sys.stdout.write(_terminal_qr(text))
        print(
            f"QR version {plan(text)['Q']} at ECC Q, {len(text)} characters; refreshes every {args.every}s", flush=True
        )


def cmd_show(args: argparse.Namespace) -> int:
    opened = _open(args)  # refuses while locked
    if args.every < 1:
        raise UsageError("--every is at least 1 second")
    shown = 0
    while True:
        _show_one(opened.present(system_clock()), args)
        shown += 1
        if args.count and shown >= args.count:
            return EXIT_OK
        time.sleep(args.every)
        opened = _open(args)  # a lock (or the session's end) stops the display


def cmd_respond(args: argparse.Namespace) -> int:
    opened = _open(args)
    challenge = decode_challenge(args.challenge)
    text = opened.present(system_clock(), challenge)
    args.text = args.text or not args.png
    if args.text:
        print(text)
    if args.png:
        atomic_write(args.png, render_png(text))
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    wallet = Wallet(_path(args))
    now = system_clock()
    state = wallet.status(now)
    report = {"wallet": str(wallet.path), **state.to_json(), "credential": None}
    if state.unlocked:
        held = wallet.resume(now).credential
        if held is not None:
            report["credential"] = {
                "cti": held.credential_id.hex(),
                "issuer": held.issuer,
                "issued": format_time(held.issued_at),
                "expires": format_time(held.expires_at),
                "valid_now": held.issued_at <= now < held.expires_at,
                "next_refresh": format_time(min(held.issued_at + REFRESH_INTERVAL_SECONDS, held.expires_at)),
                "bound": held.holder_key is not None,
            }
    emit_json(report)
    return EXIT_OK


def register_wallet(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``vcsdk wallet ...``."""
    wallet = commands.add_parser("wallet", help="the reference holder wallet (device key, PIN, presentations)")
    sub = wallet.add_subparsers(dest="wallet_command", required=True, parser_class=Parser)

    def command(name: str, help_text: str, func: object, *, pins: bool = False) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help_text)
        parser.add_argument(
            "--wallet", metavar="PATH", help="wallet file (default $VCSDK_WALLET or ~/.vcsdk/wallet.json)"
        )
        if pins:
            parser.add_argument("--pin-stdin", action="store_true", help="read the PIN(s) from stdin, one per line")
            parser.add_argument(
                "--kdf", choices=sorted(KDF_PROFILES), default="moderate", help="Argon2id cost (min: tests only)"
            )
        parser.set_defaults(func=func)
        return parser

    command("init", "create a wallet: a new device key sealed under a new PIN", cmd_init, pins=True)
    unlock = command("unlock", "unlock with the PIN for a while (5 wrong PINs destroy the key)", cmd_unlock, pins=True)
    unlock.add_argument("--minutes", type=int, default=DEFAULT_SESSION_SECONDS // 60, help="session length")
    command("lock", "lock now (log out before lending the phone)", cmd_lock)
    command("change-pin", "change the PIN (old, then new)", cmd_change_pin, pins=True)
    request = command("request", "fetch a credential from an OpenID4VCI offer", cmd_request)
    request.add_argument("offer", metavar="OFFER", help="openid-credential-offer:// link or the offer JSON")
    request.add_argument("--tx-code", metavar="CODE", help="the transaction code delivered with the offer")
    command("refresh", "ask the issuer for a fresh credential (same device key)", cmd_refresh)
    imported = command("import", "store a GID1: credential bound to this wallet's key", cmd_import)
    imported.add_argument("credential", metavar="QR_TEXT", help="the GID1: text, or - for stdin")
    show = command("show", "show a presentation QR that refreshes (refuses while locked)", cmd_show)
    show.add_argument("--every", type=int, default=DEFAULT_REFRESH_SECONDS, metavar="SECONDS", help="refresh period")
    show.add_argument("--count", type=int, default=0, help="stop after this many presentations (0: until Ctrl-C)")
    show.add_argument("--png", metavar="PATH", help="write the presentation QR as a PNG")
    show.add_argument("--text", action="store_true", help="print the GIDP1: text instead of a terminal QR")
    respond = command("respond", "answer a gate's GIDC1: challenge with a presentation", cmd_respond)
    respond.add_argument("challenge", metavar="CHALLENGE", help="the GIDC1: text scanned from the gate")
    respond.add_argument("--png", metavar="PATH", help="write the answer as a PNG")
    respond.add_argument("--text", action="store_true", help="print the GIDP1: text (default without --png)")
    command("status", "locked or not, attempts left, credential validity and next refresh", cmd_status)
