"""An example for every command (shown at the end of ``vcsdk COMMAND --help``) and the help formatter."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

EXAMPLES: dict[str, str] = {
    "keys": "vcsdk keys generate --out issuer.key --jwks trust.jwks",
    "keys generate": "vcsdk keys generate --out issuer.key --public issuer.pub.pem --jwks trust.jwks "
    "--passphrase-env KEY_PASS",
    "keys show": "vcsdk keys show issuer.key --json",
    "keys rotate": "vcsdk keys rotate --keyring keys/KR-MOIS --iss KR-MOIS",
    "keys retire": "vcsdk keys retire --keyring keys/KR-MOIS 3f2a",
    "keys compromise": "vcsdk keys compromise --keyring keys/KR-MOIS 3f2a",
    "keys list": "vcsdk keys list --keyring keys/KR-MOIS --json",
    "issue": "vcsdk issue --key issuer.key --iss KR-MOIS --claims examples/reference-claims.json --png id.png",
    "status": "vcsdk status create --db status.sqlite --uri-template 'https://id.mois.go.kr/sl/{n}'",
    "status create": "vcsdk status create --db status.sqlite --uri-template 'https://id.mois.go.kr/sl/{n}' --first 7",
    "status list": "vcsdk status list --db status.sqlite --json",
    "status allocate": "vcsdk status allocate --db status.sqlite",
    "status set": "vcsdk status set --db status.sqlite --uri https://id.mois.go.kr/sl/7 100000 suspended",
    "status get": "vcsdk status get --db status.sqlite --uri https://id.mois.go.kr/sl/7 100000",
    "status publish": "vcsdk status publish --db status.sqlite --uri https://id.mois.go.kr/sl/7 --keyring keys/KR-MOIS "
    "--out sl7.cwt",
    "status inspect": "vcsdk status inspect sl7.cwt --trust trust.jwks",
    "trust": "vcsdk trust build --keyring keys/KR-MOIS --version 2 --out trust.json",
    "trust build": "vcsdk trust build --keyring keys/KR-MOIS --keyring keys/KR-MND --version 2 --out trust.json",
    "trust sign": "vcsdk trust sign --in trust.json --anchor anchor.key --out trust.cose",
    "trust inspect": "vcsdk trust inspect trust.cose --trust-anchor anchor.pub.pem",
    "bundle": "vcsdk bundle build --trust-list trust.cose --status-list sl7.cwt --anchor anchor.key --version 5 "
    "--out bundle.cose",
    "bundle build": "vcsdk bundle build --trust-list trust.cose --status-list sl7.cwt --anchor anchor.key "
    "--version 5 --out bundle.cose",
    "bundle inspect": "vcsdk bundle inspect bundle.cose --trust-anchor anchor.pub.pem",
    "qr": 'vcsdk qr render "$(cat credential.txt)" --png id.png --mm 45',
    "qr render": 'vcsdk qr render "$(cat credential.txt)" --png id.png --svg id.svg --mm 45 --dpi 300',
    "qr scan": "vcsdk qr scan photo1.jpg photo2.png --text | vcsdk verify --trust trust.jwks -",
    "inspect": 'vcsdk inspect "$(cat credential.txt)"      vcsdk inspect --image photo.jpg --json',
    "registry": "vcsdk registry init --db registry.sqlite --iss KR-MOIS --uri-template 'https://id.mois.go.kr/sl/{n}'",
    "registry init": "vcsdk registry init --db registry.sqlite --iss KR-MOIS --uri-template "
    "'https://id.mois.go.kr/sl/{n}' --reviewer lee --operator ops",
    "registry apply": "vcsdk registry apply --db registry.sqlite --actor kim --claims claims.json "
    "--contact 010-1234-5678",
    "registry attach": "vcsdk registry attach --db registry.sqlite --actor kim APP photo photo.jpg "
    '--meta \'{"captured": "2026-11-20"}\'',
    "registry submit": "vcsdk registry submit --db registry.sqlite --actor kim APP",
    "registry review": "vcsdk registry review --db registry.sqlite --actor lee APP",
    "registry approve": "vcsdk registry approve --db registry.sqlite --actor lee APP",
    "registry reject": "vcsdk registry reject --db registry.sqlite --actor lee APP --reason 'photo too old'",
    "registry request-documents": "vcsdk registry request-documents --db registry.sqlite --actor lee APP "
    "--reason 'signed recommendation missing'",
    "registry issue": "vcsdk registry issue --db registry.sqlite --actor ops --key issuer.key APP "
    "--holder-proof proof.cbor --png credential.png",
    "registry issue-many": "vcsdk registry issue-many --db registry.sqlite --actor ops --key issuer.key "
    "--from approved.txt --json > issued.jsonl",
    "registry suspend": "vcsdk registry suspend --db registry.sqlite --actor ops CTI --reason 'phone lost'",
    "registry reinstate": "vcsdk registry reinstate --db registry.sqlite --actor ops CTI",
    "registry revoke": "vcsdk registry revoke --db registry.sqlite --actor ops CTI --reason 'left the service'",
    "registry reissue": "vcsdk registry reissue --db registry.sqlite --actor ops --key issuer.key CTI "
    "--holder-proof new-phone.cbor",
    "registry renew": "vcsdk registry renew --db registry.sqlite --actor ops --key issuer.key CTI",
    "registry show": "vcsdk registry show --db registry.sqlite APP --json",
    "registry list": "vcsdk registry list --db registry.sqlite --state submitted",
    "registry audit": "vcsdk registry audit verify --db registry.sqlite --checkpoint head.cose --trust issuer.jwks",
    "registry export-status": "vcsdk registry export-status --db registry.sqlite --key issuer.key --out 'sl{n}.cwt'",
    "registry import": "vcsdk registry import --db registry.sqlite applications.csv",
    "registry actors": "vcsdk registry actors --db registry.sqlite --reviewer lee --reviewer park --operator ops",
    "registry nonce": "vcsdk registry nonce --db registry.sqlite --json",
    "registry report-lost": "vcsdk registry report-lost --db registry.sqlite --actor kim CTI",
    "registry refresh": "vcsdk registry refresh --db registry.sqlite --actor ops --key issuer.key CTI --png id.png",
    "registry change": "vcsdk registry change --db registry.sqlite --actor kim CTI --set rank=행정사무관",
    "completion": 'eval "$(vcsdk completion bash)"',
    "gate": "vcsdk gate run --video gate.mp4 --bundle bundle.cose --trust-anchor anchor.pub.pem --state gate-state",
    "gate run": "vcsdk gate run --camera 0 --bundle-url https://id.mois.go.kr/gate/bundle.cose "
    "--trust-anchor anchor.pub.pem --state /var/lib/vcsdk --on-valid 'relay open'",
    "wallet": "vcsdk wallet init --wallet my.wallet",
    "wallet init": "vcsdk wallet init --wallet my.wallet",
    "wallet unlock": "vcsdk wallet unlock --wallet my.wallet",
    "wallet lock": "vcsdk wallet lock --wallet my.wallet",
    "wallet change-pin": "vcsdk wallet change-pin --wallet my.wallet",
    "wallet request": "vcsdk wallet request --wallet my.wallet --tx-code 123456 'openid-credential-offer://?credential_offer=...'",
    "wallet refresh": "vcsdk wallet refresh --wallet my.wallet",
    "wallet import": 'vcsdk wallet import --wallet my.wallet "$(cat credential.txt)"',
    "wallet show": "vcsdk wallet show --wallet my.wallet --every 10      vcsdk wallet show --count 1 --png id.png",
    "wallet respond": 'vcsdk wallet respond --wallet my.wallet "GIDC1:..." --png answer.png',
    "wallet status": "vcsdk wallet status --wallet my.wallet",
    "serve": "vcsdk serve --db registry.sqlite --data-dir office --host 127.0.0.1 --port 8080",
    "conformance": "vcsdk conformance --vectors ../shared/conformance --json",
}


COMMON_HELP: dict[str, str] = {
    "--json": "print the result as JSON (one object per line)",
    "--at": "act as of TIME (ISO 8601 or Unix seconds; default now)",
    "--db": "database file (SQLite; default from VCSDK_DB or the config file)",
    "--keyring": "issuer keyring directory (default from VCSDK_KEYRING or the config file)",
    "--trust": "trust file: JWKS, JWK or public-key PEM (repeatable; default from VCSDK_TRUST)",
    "--trust-anchor": "pinned trust-anchor public key, PEM or JWK (repeatable; default from VCSDK_TRUST_ANCHOR)",
    "--uri": "the status list URI",
    "--out": "output file (written atomically)",
    "--version": "version number, higher than the last one published",
    "--leeway": "clock-skew leeway in seconds",
    "--anchor": "trust-anchor private key file",
}


POSITIONAL_HELP: dict[str, str] = {  # registry arguments, by destination
    "application": "application id (uuid)",
    "cti": "credential id (cti, hex)",
    "id": "application id (uuid) or credential id (cti)",
    "kind": "document kind",
    "file": "input file",
    "csv": "CSV file of applications (UTF-8)",
    "verify": "verify the chain",
    "audit_command": "verify the chain, show or export entries, or sign a checkpoint of the head",
}
OPTION_HELP: dict[str, str] = {
    "--iss": "issuing authority id (iss), e.g. KR-MOIS",
    "--first": "number of the first status list",
    "--contact": "the applicant's contact (e-mail or phone)",
    "--reason": "reason, recorded in the audit log",
    "--png": "also write the QR image (PNG, or SVG by extension)",
    "--device-jwk": "the phone's public key (JWK file)",
    "--set": "changed claim FIELD=VALUE (repeatable)",
    "--state": "only applications in this state",
    "--reviewer": "an account that may review (repeatable)",
    "--host": "address to listen on",
    "--port": "TCP port to listen on",
    "--forwarded-allow-ips": "proxies whose X-Forwarded-* headers are trusted (with --proxy-headers)",
    "--operator": "an account that may issue (repeatable)",
}


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' layout and appends an option's default when it has a meaningful one."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            action.option_strings
            and default not in (None, False, [], argparse.SUPPRESS)
            and "default" not in text
            and not isinstance(action, argparse._HelpAction)
        ):
            text += " (default: %(default)s)"
        return text


def parsers(parser: argparse.ArgumentParser, path: str = "") -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every ``(command path, parser)`` under ``parser``, depth first."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from parsers(sub, f"{path} {name}".strip())


def decorate(parser: argparse.ArgumentParser) -> None:
    """Give every registered command the shared formatter and its example."""
    for path, sub in parsers(parser):
        sub.formatter_class = Formatter
        for action in sub._actions:
            if not action.help and action.option_strings:
                action.help = COMMON_HELP.get(action.option_strings[-1]) or OPTION_HELP.get(action.option_strings[-1])
            elif not action.help and not isinstance(action, argparse._SubParsersAction):
                action.help = POSITIONAL_HELP.get(action.dest)
        example = EXAMPLES.get(path) or EXAMPLES.get(path.split(" ")[0] if path else "")
        if path.startswith("registry ") and path not in EXAMPLES:
            example = None  # a new registry command: its own example, not the family's
        if path and not sub.epilog and example:
            sub.epilog = f"example:\n  {example}"
