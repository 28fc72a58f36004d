"""``vcsdk wallet ...`` end to end: init, lock-out, request from an in-test OpenID4VCI issuer, show
(terminal text and PNG), respond, and ``vcsdk verify`` on the presentations it makes."""

from __future__ import annotations

import io
import json
import re
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from vcsdk_cli.main import main

from tests.oid4vci_issuer import running_issuer
from vcsdk.holder import Challenge
from vcsdk.keys.files import save_jwks
from vcsdk.qr import scan
from vcsdk.wallet import Wallet

PIN = "864209"


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = ""
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def wallet(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    opts = ["--wallet", str(tmp_path / "w.json")]
    code, out, _ = run(capsys, monkeypatch, "wallet", "init", *opts, "--pin-stdin", "--kdf", "min", stdin=PIN + "\n")
    assert code == 0 and json.loads(out)["device_key"]["crv"] == "Ed25519"
    return opts


def test_whole_holder_flow(
    wallet: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(capsys, monkeypatch, "wallet", "show", *wallet, "--count", "1")
    assert code == 2 and "WALLET_LOCKED" in err  # show refuses while locked
    assert run(capsys, monkeypatch, "wallet", "unlock", *wallet, "--pin-stdin", "--kdf", "min", stdin=PIN)[0] == 0
    with running_issuer() as issuer:
        issuer.now = int(time.time())
        _, offer_id = issuer.offer()
        link = "openid-credential-offer://?credential_offer_uri=" + urllib.parse.quote(
            f"{issuer.base}/offers/{offer_id}"
        )
        code, out, err = run(capsys, monkeypatch, "wallet", "request", *wallet, link, "--tx-code", "123456")
        assert code == 0, err
        assert json.loads(out)["stored"] is True
        jwks = str(tmp_path / "trust.jwks")
        save_jwks(jwks, [issuer.key.public_key])
        before = json.loads(out)["cti"]
        code, out, err = run(capsys, monkeypatch, "wallet", "refresh", *wallet)
        assert code == 0, err
        assert json.loads(out)["cti"] != before  # a fresh credential for the same device key

    status = json.loads(run(capsys, monkeypatch, "wallet", "status", *wallet)[1])
    assert status["unlocked"] and status["credential"]["bound"] and status["credential"]["valid_now"]

    code, out, _ = run(capsys, monkeypatch, "wallet", "show", *wallet, "--count", "2", "--every", "1", "--text")
    first, second = out.splitlines()  # Base45 has spaces: one text per line
    assert code == 0 and first.startswith("GIDP1:") and second.startswith("GIDP1:") and first != second
    verify = ["verify", "--trust", jwks, "--allow-unknown-status", "--json"]
    assert json.loads(run(capsys, monkeypatch, *verify, second)[1])["code"] == "VALID"
    code, out, _ = run(capsys, monkeypatch, *verify[:-1], first)  # human output names the presentation
    assert code == 0 and "presented by its phone at" in out

    # gate mode keeps one replay cache: the same presentation twice is a replay
    code, out, _ = run(capsys, monkeypatch, *verify, "-", stdin=f"{second}\n{second}\n")
    assert [json.loads(line)["code"] for line in out.splitlines()] == ["VALID", "PRESENTATION_REPLAYED"]

    png = tmp_path / "p.png"
    assert run(capsys, monkeypatch, "wallet", "show", *wallet, "--count", "1", "--png", str(png))[0] == 0
    (shown,) = scan(png)
    assert shown.text.startswith("GIDP1:")

    code, out, _ = run(capsys, monkeypatch, "wallet", "show", *wallet, "--count", "1")
    version = re.search(r"QR version (\d+) at ECC Q", out)
    assert code == 0 and version is not None and int(version.group(1)) <= 22  # the terminal QR
    assert "█" in out

    challenge = Challenge.new("gate-9", int(time.time())).to_text()
    code, out, _ = run(capsys, monkeypatch, "wallet", "respond", *wallet, challenge)
    assert code == 0 and out.startswith("GIDP1:")
    # a one-shot verify issued no challenge, so it cannot accept an answer to one
    assert json.loads(run(capsys, monkeypatch, *verify, out.strip())[1])["code"] == "CHALLENGE_MISMATCH"

    held = json.loads((tmp_path / "w.json").read_text())  # the raw file: nothing readable
    assert "GID1:" not in json.dumps(held)

    assert run(capsys, monkeypatch, "wallet", "lock", *wallet)[0] == 0
    code, _, err = run(capsys, monkeypatch, "wallet", "show", *wallet, "--count", "1")
    assert code == 2 and "WALLET_LOCKED" in err
    code, _, err = run(capsys, monkeypatch, "wallet", "respond", *wallet, challenge)
    assert code == 2 and "WALLET_LOCKED" in err


def test_bare_bound_credential_needs_a_presentation_at_the_cli(
    wallet: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, monkeypatch, "wallet", "unlock", *wallet, "--pin-stdin", "--kdf", "min", stdin=PIN)
    with running_issuer() as issuer:
        issuer.now = int(time.time())
        body, _ = issuer.offer()
        link = "openid-credential-offer://?credential_offer=" + urllib.parse.quote(json.dumps(body))
        assert run(capsys, monkeypatch, "wallet", "request", *wallet, link, "--tx-code", "123456")[0] == 0
        jwks = str(tmp_path / "trust.jwks")
        save_jwks(jwks, [issuer.key.public_key])
    # import the same credential again through stdin: accepted because it is bound to this wallet
    text = Wallet(wallet[1]).resume(int(time.time())).contents.credential
    assert text is not None
    assert run(capsys, monkeypatch, "wallet", "import", *wallet, "-", stdin=text + "\n")[0] == 0
    verify = ["verify", "--trust", jwks, "--allow-unknown-status", "--json"]
    code, out, _ = run(capsys, monkeypatch, *verify, text)
    assert code == 1 and json.loads(out)["code"] == "PRESENTATION_REQUIRED"
    assert json.loads(run(capsys, monkeypatch, *verify, "--holder-binding", "off", text)[1])["code"] == "VALID"


def test_five_wrong_pins_at_the_cli_destroy_the_key(
    wallet: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    unlock = ["wallet", "unlock", *wallet, "--pin-stdin", "--kdf", "min"]
    for _ in range(4):
        code, _, err = run(capsys, monkeypatch, *unlock, stdin="000000")
        assert code == 2 and "WALLET_PIN_INVALID" in err
    code, _, err = run(capsys, monkeypatch, *unlock, stdin="000000")
    assert code == 2 and "WALLET_KEY_DESTROYED" in err
    code, _, err = run(capsys, monkeypatch, *unlock, stdin=PIN)
    assert code == 2 and "WALLET_KEY_DESTROYED" in err
    assert json.loads(run(capsys, monkeypatch, "wallet", "status", *wallet)[1])["destroyed"] is True


def test_change_pin_at_the_cli(
    wallet: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pins = ["--pin-stdin", "--kdf", "min"]
    assert run(capsys, monkeypatch, "wallet", "change-pin", *wallet, *pins, stdin=f"{PIN}\n112233\n")[0] == 0
    assert run(capsys, monkeypatch, "wallet", "unlock", *wallet, *pins, stdin=PIN)[0] == 2
    assert run(capsys, monkeypatch, "wallet", "unlock", *wallet, *pins, stdin="112233")[0] == 0


def test_init_never_overwrites_and_creates_its_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    opts = ["--wallet", str(tmp_path / "new" / "dir" / "w.json"), "--pin-stdin", "--kdf", "min"]
    assert run(capsys, monkeypatch, "wallet", "init", *opts, stdin=PIN)[0] == 0
    code, _, err = run(capsys, monkeypatch, "wallet", "init", *opts, stdin=PIN)
    assert code == 2 and "FILE_ERROR" in err  # a second init would destroy the first device key
    code, _, err = run(capsys, monkeypatch, "wallet", "init", *opts, stdin="12")
    assert code == 2 and "USAGE_ERROR" in err
    code, _, err = run(capsys, monkeypatch, "wallet", "respond", "--wallet", opts[1], "GIDX1:00")
    assert code == 2 and "WALLET_LOCKED" in err
