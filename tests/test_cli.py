"""The vcsdk command line: DESIGN section 7's contract (JSON shape, exit codes, gate mode)."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from vcsdk_cli.main import main

from tests.conftest import ROOT
from vcsdk import Ed25519PrivateKey

CLAIMS = ROOT / "examples" / "reference-claims.json"
AT = "2026-06-01T00:00:00Z"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def issue_args(setup: dict[str, str]) -> list[str]:
    return ["issue", "--key", setup["key"], "--iss", "KR-MOIS", "--claims", str(CLAIMS), "--at", AT]


@pytest.fixture
def setup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    key, jwks = str(tmp_path / "issuer.key"), str(tmp_path / "trust.jwks")
    assert run(capsys, "keys", "generate", "--out", key, "--jwks", jwks)[0] == 0
    code, out, _ = run(capsys, "issue", "--key", key, "--iss", "KR-MOIS", "--claims", str(CLAIMS), "--at", AT)
    assert code == 0
    return {"key": key, "jwks": jwks, "qr": out.strip(), "dir": str(tmp_path)}


def test_keys_generate_writes_0600_key_and_jwks(setup: dict[str, str]) -> None:
    assert stat.S_IMODE(os.stat(setup["key"]).st_mode) == 0o600
    jwks = json.loads(Path(setup["jwks"]).read_text())
    assert jwks["keys"][0]["kty"] == "OKP"


def test_keys_generate_refuses_to_overwrite(setup: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "keys", "generate", "--out", setup["key"])
    assert code == 2
    assert err.startswith("vcsdk: FILE_ERROR:")
    assert err.count("\n") == 1


def test_verify_valid_text_json_and_exit_0(setup: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "verify", "--allow-no-status-claim", "--trust", setup["jwks"], "--at", AT, "--json", setup["qr"]
    )
    assert code == 0
    result = json.loads(out)
    assert list(result) == ["valid", "code", "message", "kid", "claims", "status_checked", "exp"]
    assert result["valid"] is True
    assert result["code"] == "VALID"
    assert result["claims"] == json.loads(CLAIMS.read_text())
    assert len(result["kid"]) == 16


def test_verify_human_output(setup: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "verify", "--allow-no-status-claim", "--trust", setup["jwks"], "--at", "1780300000", setup["qr"]
    )
    assert code == 0
    assert out.startswith("VALID")
    assert "김민준" in out


def test_verify_invalid_exit_1(setup: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "verify",
        "--allow-no-status-claim",
        "--trust",
        setup["jwks"],
        "--at",
        "2031-01-01",
        "--json",
        setup["qr"],
    )
    assert code == 1
    result = json.loads(out)
    assert (result["valid"], result["code"], result["claims"]) == (False, "CWT_EXPIRED", None)
    assert result["kid"] is not None
    code, out, _ = run(capsys, "verify", "--trust", setup["jwks"], "XYZ1:ABC")
    assert code == 1
    assert "INVALID_SCHEME_PREFIX" in out


def test_status_claim_fails_closed_without_a_list(setup: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        *issue_args(setup),
        "--status-uri",
        "https://id.mois.go.kr/sl/7",
        "--status-idx",
        "100000",
    )
    assert code == 0
    qr = out.strip()
    code, out, _ = run(capsys, "verify", "--allow-no-status-claim", "--trust", setup["jwks"], "--at", AT, "--json", qr)
    assert (code, json.loads(out)["code"]) == (1, "STATUS_UNKNOWN")
    code, out, _ = run(
        capsys, "verify", "--allow-no-status-claim", "--trust", setup["jwks"], "--at", AT, "--allow-unknown-status", qr
    )
    assert code == 0
    assert "status was not checked" in out


@pytest.mark.parametrize(
    "args",
    [
        ["verify", "GID1:ABC"],  # no --trust
        ["verify", "--trust", "/nonexistent.jwks", "GID1:ABC"],
        ["verify", "--trust", "{jwks}", "--at", "not-a-time", "GID1:ABC"],
        ["verify", "--trust", "{key}", "GID1:ABC"],  # a private key is not a trust source
        ["issue", "--key", "{key}", "--iss", "KR-MOIS", "--claims", "/nonexistent.json"],
        ["issue", "--key", "{key}", "--iss", "KR-MOIS", "--claims", str(CLAIMS), "--status-idx", "3"],
        ["issue", "--key", "{jwks}", "--iss", "KR-MOIS", "--claims", str(CLAIMS)],
    ],
)
def test_usage_errors_exit_2_with_one_line(
    setup: dict[str, str], capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, out, err = run(capsys, *[a.format(**setup) for a in args])
    assert code == 2
    assert out == ""
    assert err.startswith("vcsdk: ")
    assert err.count("\n") == 1


@pytest.mark.parametrize("args", [["verify", "--bogus-flag", "x"], [], ["keys"]])
def test_argument_errors_exit_2(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    assert "USAGE_ERROR" in capsys.readouterr().err


def test_bad_claims_exit_2_listing_violations(setup: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    bad = Path(setup["dir"]) / "bad.json"
    bad.write_text(json.dumps({"name": "", "agency_code": 1}))
    code, _, err = run(capsys, "issue", "--key", setup["key"], "--iss", "KR-MOIS", "--claims", str(bad))
    assert code == 2
    assert err.startswith("vcsdk: CLAIMS_INVALID:")
    assert "agency_code" in err
    assert "birth_date" in err


def test_gate_mode_one_json_line_per_input_line(
    setup: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [setup["qr"], "garbage", _damaged(setup["qr"]), "", setup["qr"]]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    code, out, _ = run(capsys, "verify", "--allow-no-status-claim", "--trust", setup["jwks"], "--at", AT, "-")
    results = [json.loads(line) for line in out.splitlines()]
    assert len(results) == len(lines)
    assert [r["valid"] for r in results] == [True, False, False, False, True]
    assert results[1]["code"] == "INVALID_SCHEME_PREFIX"
    assert code == 1


def test_encrypted_key_with_passphrase_env(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = str(tmp_path / "k.pem")
    monkeypatch.setenv("ISSUER_PASS", "s3cret")
    assert run(capsys, "keys", "generate", "--out", key, "--passphrase-env", "ISSUER_PASS")[0] == 0
    assert b"ENCRYPTED" in Path(key).read_bytes()
    code, _, err = run(capsys, "issue", "--key", key, "--iss", "KR-MOIS", "--claims", str(CLAIMS))
    assert code == 2
    assert "KEY_PASSPHRASE_REQUIRED" in err
    monkeypatch.setenv("WRONG", "nope")
    code, _, err = run(
        capsys, "issue", "--key", key, "--iss", "X", "--claims", str(CLAIMS), "--passphrase-env", "WRONG"
    )
    assert (code, "KEY_DECRYPTION_FAILED" in err) == (2, True)
    code, out, _ = run(
        capsys, "issue", "--key", key, "--iss", "KR-MOIS", "--claims", str(CLAIMS), "--passphrase-env", "ISSUER_PASS"
    )
    assert code == 0
    assert out.startswith("GID1:")


def test_keys_show(setup: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "keys", "show", "--json", setup["key"])
    info = json.loads(out)
    key = Ed25519PrivateKey.from_pem(Path(setup["key"]).read_bytes())
    assert code == 0
    assert info["kid"] == key.kid.hex()
    assert info["jwk"] == key.public_key.to_jwk()


def test_issue_json_and_out(setup: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    out_file = Path(setup["dir"]) / "cred.txt"
    code, out, _ = run(
        capsys,
        *issue_args(setup),
        "--validity-days",
        "30",
        "--json",
        "--out",
        str(out_file),
    )
    info = json.loads(out)
    assert code == 0
    assert info["qr_text"] == out_file.read_text().strip()
    assert info["iat"] == "2026-06-01T00:00:00Z"
    assert info["exp"] == "2026-07-01T00:00:00Z"


def test_inspect_never_says_valid(setup: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "inspect", "--json", setup["qr"])
    report = json.loads(out)
    assert code == 0
    assert report["failed_at"] is None
    assert "NOT checked" in report["note"]
    assert [layer["layer"] for layer in report["layers"]] == ["text", "base45", "zlib", "cbor", "cose", "cwt"]
    assert report["layers"][-1]["official_id"]["name"] == "김민준"
    assert "valid" not in report
    assert all("valid" not in layer for layer in report["layers"])
    code, out, _ = run(capsys, "inspect", setup["qr"][:-3] + "A")
    assert code == 1
    assert "FAILED" in out


def test_console_script_is_installed(setup: dict[str, str]) -> None:
    exe = shutil.which("vcsdk", path=str(Path(sys.executable).parent))
    assert exe is not None
    done = subprocess.run(
        [exe, "verify", "--allow-no-status-claim", "--trust", setup["jwks"], "--at", AT, "--json", setup["qr"]],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["valid"] is True
    module = subprocess.run(
        [sys.executable, "-m", "vcsdk_cli", "verify", "--trust", setup["jwks"], "--at", AT, "GID1:"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert module.returncode == 1


def _damaged(qr: str) -> str:
    """The QR text with its last character replaced by a different one."""
    return qr[:-1] + ("0" if qr[-1] != "0" else "1")


def test_status_registry_commands(setup: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    db = str(Path(setup["dir"]) / "status.sqlite")
    token = str(Path(setup["dir"]) / "sl7.cwt")
    uri = "https://id.mois.go.kr/sl/7"
    code, out, _ = run(
        capsys,
        "status",
        "create",
        "--db",
        db,
        "--uri-template",
        "https://id.mois.go.kr/sl/{n}",
        "--first",
        "7",
        "--json",
    )
    assert (code, json.loads(out)["lists"][0]["uri"]) == (0, uri)
    code, out, _ = run(capsys, *issue_args(setup), "--status-db", db, "--json")
    issued = json.loads(out)
    idx = issued["status"]["idx"]
    assert issued["status"]["uri"] == uri

    def verify() -> tuple[int, str]:
        assert (
            run(
                capsys, "status", "publish", "--db", db, "--uri", uri, "--key", setup["key"], "--out", token, "--at", AT
            )[0]
            == 0
        )
        code, out, _ = run(
            capsys, "verify", "--trust", setup["jwks"], "--status-list", token, "--at", AT, "--json", issued["qr_text"]
        )
        return code, json.loads(out)["code"]

    assert verify() == (0, "VALID")
    assert run(capsys, "status", "set", "--db", db, "--uri", uri, str(idx), "suspended")[0] == 0
    assert verify() == (1, "STATUS_SUSPENDED")
    assert run(capsys, "status", "set", "--db", db, "--uri", uri, str(idx), "valid")[0] == 0
    assert verify() == (0, "VALID")
    assert run(capsys, "status", "set", "--db", db, "--uri", uri, str(idx), "needs-renewal")[0] == 0
    assert verify() == (1, "STATUS_NEEDS_RENEWAL")
    assert run(capsys, "status", "set", "--db", db, "--uri", uri, str(idx), "revoked")[0] == 0
    assert verify() == (1, "STATUS_REVOKED")
    code, _, err = run(capsys, "status", "set", "--db", db, "--uri", uri, str(idx), "valid")
    assert (code, err.split(":")[1].strip()) == (2, "STATUS_TRANSITION_REFUSED")
    code, out, _ = run(capsys, "status", "get", "--db", db, "--uri", uri, str(idx), "--json")
    assert json.loads(out)["status"] == "REVOKED"
    code, out, _ = run(capsys, "status", "inspect", token, "--trust", setup["jwks"], "--at", AT, "--json")
    info = json.loads(out)
    assert (info["uri"], info["bits"], info["entries"], info["non_valid"]) == (uri, 2, 131072, {"REVOKED": 1})
    code, out, _ = run(capsys, "status", "inspect", token)
    assert "NOT checked" in out
    code, _, err = run(capsys, "status", "set", "--db", db, "--uri", uri, "5", "bogus")
    assert code == 2
    assert "unknown status" in err


def test_refused_status_list_fails_closed(setup: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    db = str(Path(setup["dir"]) / "status.sqlite")
    run(capsys, "status", "create", "--db", db, "--uri-template", "https://x/sl/{n}")
    code, out, _ = run(capsys, *issue_args(setup), "--status-db", db)
    bogus = Path(setup["dir"]) / "bogus.cwt"
    bogus.write_bytes(b"\xd2\x84\x40\xa0\x40\x40")
    code, out, err = run(
        capsys, "verify", "--trust", setup["jwks"], "--status-list", str(bogus), "--at", AT, out.strip()
    )
    assert code == 1
    assert "STATUS_UNKNOWN" in out
    assert "warning: status list" in err
    code, _, err = run(capsys, "verify", "--trust", setup["jwks"], "--status-list", "/missing.cwt", "GID1:")
    assert code == 2
    code, _, err = run(capsys, "status", "allocate", "--db", str(Path(setup["dir"]) / "none.sqlite"))
    assert (code, "FILE_ERROR" in err) == (2, True)


def test_demo_script_runs(tmp_path: Path) -> None:
    """The README's first command, end to end (into a temporary folder)."""
    env = {**os.environ, "VCSDK_DEMO_OUT": str(tmp_path / "demo")}
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh")], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "VALID  kid=" in done.stdout
    assert "SIGNATURE_INVALID" in done.stdout
    assert "STATUS_SUSPENDED" in done.stdout
    assert "audit chain intact" in done.stdout


def test_key_rotation_trust_list_and_gate_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path
    ring, anchor, anchor_pub = str(d / "ring"), str(d / "anchor.key"), str(d / "anchor.pub")
    db, token = str(d / "status.sqlite"), str(d / "sl1.cwt")
    assert run(capsys, "keys", "rotate", "--keyring", ring)[0] == 2  # no keyring yet and no --iss
    code, out, _ = run(capsys, "keys", "rotate", "--keyring", ring, "--iss", "KR-MOIS", "--at", "2026-01-01", "--json")
    first = json.loads(out)["kid"]
    assert run(capsys, "keys", "generate", "--out", anchor, "--public", anchor_pub)[0] == 0
    run(capsys, "status", "create", "--db", db, "--uri-template", "https://id.mois.go.kr/sl/{n}")
    code, out, _ = run(capsys, "issue", "--keyring", ring, "--iss", "KR-MOIS", "--claims", str(CLAIMS),
                       "--at", "2026-02-01", "--status-db", db)  # fmt: skip
    old_qr = out.strip()
    assert run(capsys, "keys", "rotate", "--keyring", ring, "--at", "2026-03-01")[0] == 0
    code, out, _ = run(capsys, "keys", "list", "--keyring", ring, "--json")
    states = {k["kid"]: k["state"] for k in json.loads(out)["keys"]}
    assert states[first] == "retired"
    assert sorted(states.values()) == ["active", "retired"]

    def provision(version: int) -> str:
        """Trust list from the keyring, status list signed by the active key, one gate bundle."""
        bundle = str(d / f"gate{version}.bundle")
        _, listing, _ = run(capsys, "keys", "list", "--keyring", ring, "--json")
        active = next(k["kid"] for k in json.loads(listing)["keys"] if k["state"] == "active")
        signer = str(Path(ring) / f"{active}.pem")
        assert (
            run(
                capsys,
                "trust",
                "build",
                "--keyring",
                ring,
                "--version",
                str(version),
                "--out",
                str(d / "t.json"),
                "--at",
                AT,
            )[0]
            == 0
        )
        assert (
            run(capsys, "trust", "sign", "--in", str(d / "t.json"), "--anchor", anchor, "--out", str(d / "t.cose"))[0]
            == 0
        )
        assert (
            run(
                capsys,
                "status",
                "publish",
                "--db",
                db,
                "--uri",
                "https://id.mois.go.kr/sl/1",
                "--key",
                signer,
                "--out",
                token,
                "--at",
                AT,
            )[0]
            == 0
        )
        assert (
            run(
                capsys,
                "bundle",
                "build",
                "--trust-list",
                str(d / "t.cose"),
                "--status-list",
                token,
                "--anchor",
                anchor,
                "--version",
                str(version),
                "--out",
                bundle,
                "--at",
                AT,
            )[0]
            == 0
        )
        return bundle

    bundle = provision(1)
    code, out, _ = run(capsys, "bundle", "inspect", bundle, "--trust-anchor", anchor_pub, "--at", AT, "--json")
    assert json.loads(out)["trust_list_version"] == 1
    code, out, _ = run(
        capsys, "trust", "inspect", str(d / "t.cose"), "--trust-anchor", anchor_pub, "--json", "--at", AT
    )
    assert len(json.loads(out)["keys"]) == 2
    verify = ["verify", "--trust", bundle, "--trust-anchor", anchor_pub, "--at", AT, "--json", old_qr]
    code, out, _ = run(capsys, *verify)
    assert (code, json.loads(out)["code"]) == (0, "VALID")  # signed by the retired key, inside its window
    assert run(capsys, "keys", "compromise", "--keyring", ring, first[:8])[0] == 0
    bundle = provision(2)
    code, out, _ = run(capsys, *verify[:2], bundle, *verify[3:])
    assert (code, json.loads(out)["code"]) == (1, "PUBLIC_KEY_COMPROMISED")
    code, _, err = run(capsys, "verify", "--trust", bundle, "--at", AT, old_qr)
    assert code == 2
    assert "--trust-anchor" in err
    code, _, err = run(
        capsys, "verify", "--trust", bundle, "--trust-anchor", str(d / "anchor.pub"), "--at", "2030-01-01", old_qr
    )
    assert (code, "TRUST_LIST_EXPIRED" in err) == (2, True)


def test_verify_hc1_with_a_signer_certificate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.hc1_forge import certificate as _certificate
    from tests.hc1_forge import hc1_text as _hc1

    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _certificate(key)
    cert_path = tmp_path / "dsc.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    der_path = tmp_path / "dsc.der"
    der_path.write_bytes(certificate.public_bytes(serialization.Encoding.DER))
    text = _hc1(key, certificate)
    for trust in (cert_path, der_path):
        code, out, _ = run(capsys, "verify", "--trust", str(trust), "--at", "1780000000", "--json", text)
        result = json.loads(out)
        assert (code, result["code"]) == (0, "VALID")
        assert result["claims"]["nam"]["gn"] == "Minjun"
    code, out, _ = run(capsys, "verify", "--trust", str(cert_path), "--at", "1780000000", text)
    assert "EU DCC" in out


def test_qr_commands_and_verify_image(setup: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    d = Path(setup["dir"])
    png, svg = str(d / "c.png"), str(d / "c.svg")
    code, _, err = run(capsys, "qr", "render", setup["qr"], "--png", png, "--svg", svg, "--mm", "45")
    assert code == 0
    assert "QR version" in err
    assert Path(svg).read_bytes().startswith(b"<?xml")
    code, out, _ = run(capsys, "qr", "scan", png, "--json")
    assert (code, json.loads(out)["codes"][0]["text"]) == (0, setup["qr"])
    code, out, _ = run(
        capsys, "verify", "--allow-no-status-claim", "--trust", setup["jwks"], "--at", AT, "--json", "--image", png
    )
    assert (code, json.loads(out)["code"]) == (0, "VALID")
    blank = d / "blank.png"
    Image.new("L", (320, 240), 255).save(blank)
    code, out, _ = run(capsys, "verify", "--trust", setup["jwks"], "--json", "--image", str(blank))
    assert (code, json.loads(out)["code"]) == (1, "QR_NOT_FOUND")
    code, out, _ = run(capsys, "qr", "scan", png, str(blank), "--json")
    assert code == 1
    assert [json.loads(line).get("code") for line in out.splitlines()] == [None, "QR_NOT_FOUND"]
    issued_png = str(d / "issued.png")
    assert run(capsys, *issue_args(setup), "--png", issued_png)[0] == 0
    code, out, _ = run(
        capsys, "verify", "--allow-no-status-claim", "--trust", setup["jwks"], "--at", AT, "--image", issued_png
    )
    assert code == 0
    assert run(capsys, "verify", "--trust", setup["jwks"])[0] == 2  # neither text nor image


def test_gate_mode_on_two_worker_processes(
    setup: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [setup["qr"], "garbage", setup["qr"]] * 5
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    code, out, _ = run(
        capsys, "verify", "--allow-no-status-claim", "--trust", setup["jwks"], "--at", AT, "--workers", "2", "-"
    )
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["valid"] for r in results] == [True, False, True] * 5
    assert code == 1
