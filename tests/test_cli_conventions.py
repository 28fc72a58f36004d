"""CLI conventions: help, version, configuration, passphrase prompt, JSON everywhere, refusals, pipes."""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from multiprocessing import get_context
from pathlib import Path

import pytest
from vcsdk_cli.examples import parsers
from vcsdk_cli.main import FAMILIES, build_parser, main

from tests import forge
from tests.conftest import ROOT
from vcsdk import _native

CLAIMS = str(ROOT / "examples" / "reference-claims.json")
AT = "2026-06-01T00:00:00Z"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vcsdk_cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


# ------------------------------------------------------------------------------------ help, version


def test_every_option_has_help_and_every_command_an_example() -> None:
    missing, no_example = [], []
    for path, parser in parsers(build_parser([], full=True)):
        for action in parser._actions:
            if not action.help and not isinstance(action, argparse._SubParsersAction):
                missing.append(f"{path} {action.option_strings or action.dest}")
        leaf = not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)
        if path and leaf and "example" not in (parser.epilog or ""):
            no_example.append(path)
    assert missing == []
    assert no_example == []


def test_help_lists_every_family_and_shows_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    for family in FAMILIES:
        assert f"    {family.name} " in out
    with pytest.raises(SystemExit):
        main(["status", "publish", "--help"])
    out = capsys.readouterr().out
    assert "(default: 43200)" in out and "example:\n  vcsdk status publish" in out


def test_verify_help_spells_the_status_max_age_default() -> None:
    from vcsdk_cli.verify_cmds import STATUS_MAX_AGE_DEFAULT

    from vcsdk.revocation.checker import DEFAULT_MAX_AGE_SECONDS

    assert STATUS_MAX_AGE_DEFAULT == DEFAULT_MAX_AGE_SECONDS


def test_version_names_backends_and_fast_lane() -> None:
    result = cli("--version", env={"VCSDK_PURE": "0"})
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("vcsdk ")
    for name in ("python", "pynacl", "cryptography", "cbor2", "zlib-ng", "openssl"):
        assert any(line.startswith(name + " ") for line in lines), name
    if _native.available():
        assert re.fullmatch(r"fast lane: compiled \(libsodium [\d.]+, zlib [\d.]+\)", lines[-1]), lines[-1]
        assert lines[-3].startswith("result objects: compiled (vcsdk._native._objects: "), lines[-3]
    else:
        assert lines[-1].startswith("fast lane: pure Python (compiled module not built: "), lines[-1]
    forced = cli("--version", env={"VCSDK_PURE": "1"}).stdout.splitlines()
    assert forced[-1] == "fast lane: pure Python (VCSDK_PURE=1)"


def test_completion_script_is_valid_bash_and_knows_subcommands(tmp_path: Path) -> None:
    result = cli("completion", "bash")
    assert result.returncode == 0 and "keys generate" in result.stdout
    script = tmp_path / "c.bash"
    script.write_text(result.stdout)
    probe = (
        f"source {script}; COMP_WORDS=(vcsdk keys gen); COMP_CWORD=2; _vcsdk; echo ${{COMPREPLY[@]}};"
        f" COMP_WORDS=(vcsdk keys generate --ou); COMP_CWORD=3; _vcsdk; echo ${{COMPREPLY[@]}}"
    )
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30, check=True).stdout
    assert out.splitlines() == ["generate", "--out"]


def test_verify_start_up_imports_no_heavy_modules(tmp_path: Path) -> None:
    """`vcsdk verify` of one text loads no schema, database or imaging library (python -X importtime)."""
    keys = tmp_path / "trust.jwks"
    assert cli("keys", "generate", "--out", str(tmp_path / "k"), "--jwks", str(keys)).returncode == 0
    for argv in (["--help"], ["verify", "--trust", str(keys), "--allow-unknown-status", "GID1:XX"]):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "vcsdk_cli", *argv],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        modules = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}
        assert "vcsdk" in modules or argv == ["--help"]
        assert modules.isdisjoint({"jsonschema", "sqlalchemy", "alembic", "PIL", "qrcode", "pyzbar", "zxingcpp"})
        if argv == ["--help"]:
            assert "cryptography" not in modules and "nacl" not in modules


# ------------------------------------------------------------------------------------ configuration


def _status_db(capsys: pytest.CaptureFixture[str], path: Path, name: str) -> None:
    uri = f"https://{name}.example/sl/{{n}}"
    assert run(capsys, "status", "create", "--db", str(path), "--uri-template", uri)[0] == 0


def test_config_precedence_file_then_env_then_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("file", "env", "flag"):
        _status_db(capsys, tmp_path / f"{name}.sqlite", name)
    config = tmp_path / "vcsdk.toml"
    config.write_text('db = "file.sqlite"\n')  # relative to the config file

    def template(*args: str) -> str:
        code, out, err = run(capsys, *args, "status", "list", "--json")
        assert code == 0, err
        return str(json.loads(out)["uri_template"])

    monkeypatch.delenv("VCSDK_DB", raising=False)
    monkeypatch.setenv("VCSDK_CONFIG", str(config))
    assert template().startswith("https://file.")
    monkeypatch.setenv("VCSDK_DB", str(tmp_path / "env.sqlite"))
    assert template().startswith("https://env.")
    _, out, _ = run(capsys, "status", "list", "--json", "--db", str(tmp_path / "flag.sqlite"))
    assert json.loads(out)["uri_template"].startswith("https://flag.")
    monkeypatch.delenv("VCSDK_DB")
    monkeypatch.delenv("VCSDK_CONFIG")
    assert template("--config", str(config)).startswith("https://file.")
    with pytest.raises(SystemExit) as exit_info:  # nothing configured: --db is required again
        main(["status", "list"])
    assert exit_info.value.code == 2


def test_config_lists_and_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jwks = tmp_path / "trust.jwks"
    assert run(capsys, "keys", "generate", "--out", str(tmp_path / "k"), "--jwks", str(jwks))[0] == 0
    code, qr, _ = run(capsys, "issue", "--key", str(tmp_path / "k"), "--iss", "KR-MOIS", "--claims", CLAIMS)
    config = tmp_path / "c.toml"
    config.write_text('trust = ["trust.jwks"]\n')
    code, out, _ = run(
        capsys,
        "--config",
        str(config),
        "verify",
        "--allow-unknown-status",
        "--allow-no-status-claim",
        "--json",
        qr.strip(),
    )
    assert code == 0 and json.loads(out)["valid"] is True
    config.write_text("trust = [\n")
    code, _, err = run(capsys, "--config", str(config), "verify", qr.strip())
    assert code == 2 and err.startswith("vcsdk: USAGE_ERROR:") and "not valid TOML" in err
    config.write_text('colour = "blue"\n')
    code, _, err = run(capsys, "--config", str(config), "verify", qr.strip())
    assert code == 2 and "unknown key 'colour'" in err
    code, _, err = run(capsys, "--config", str(tmp_path / "none.toml"), "verify", qr.strip())
    assert code == 2 and err.startswith("vcsdk: FILE_ERROR:")


# ------------------------------------------------------------------------------------ keys


def test_passphrase_prompt_through_a_pty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = str(tmp_path / "enc.key")
    os.environ["H8_TEST_PASS"] = "correct horse"
    try:
        assert run(capsys, "keys", "generate", "--out", key, "--passphrase-env", "H8_TEST_PASS")[0] == 0
    finally:
        del os.environ["H8_TEST_PASS"]
    assert run(capsys, "keys", "show", key)[0] == 2  # no terminal here: no prompt, a clear error

    pid, fd = pty.fork()
    if pid == 0:  # the child: vcsdk on the pty (its controlling terminal)
        os.execv(sys.executable, [sys.executable, "-m", "vcsdk_cli", "keys", "show", key, "--json"])
    output = b""
    deadline = time.monotonic() + 30
    answered = False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if not answered and b"passphrase for" in output:
            os.write(fd, b"correct horse\n")
            answered = True
    _, status = os.waitpid(pid, 0)
    text = output.decode()
    assert answered, text
    assert "correct horse" not in text  # never echoed
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert '"kid"' in text


def test_keys_generate_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").write_text("\n")
    code, _, err = run(
        capsys, "keys", "generate", "--out", str(tmp_path / "k"), "--passphrase-file", str(tmp_path / "empty")
    )
    assert code == 2 and "passphrase is empty" in err and not (tmp_path / "k").exists()
    jwks = tmp_path / "trust.jwks"
    jwks.write_text("precious")
    code, _, err = run(capsys, "keys", "generate", "--out", str(tmp_path / "k2"), "--jwks", str(jwks))
    assert code == 2 and "--force" in err
    assert jwks.read_text() == "precious" and not (tmp_path / "k2").exists()  # nothing written
    assert run(capsys, "keys", "generate", "--out", str(tmp_path / "k2"), "--jwks", str(jwks), "--force")[0] == 0
    assert json.loads(jwks.read_text())["keys"][0]["kty"] == "OKP"


def _rotate_many(ring: str, count: int) -> None:
    for _ in range(count):
        assert main(["keys", "rotate", "--keyring", ring]) == 0


def test_keyring_changes_from_two_processes_are_never_lost(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ring = str(tmp_path / "ring")
    assert run(capsys, "keys", "rotate", "--keyring", ring, "--iss", "KR-MOIS")[0] == 0
    context = get_context("spawn")
    workers = [context.Process(target=_rotate_many, args=(ring, 8)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    _, out, _ = run(capsys, "keys", "list", "--keyring", ring, "--json")
    states = [key["state"] for key in json.loads(out)["keys"]]
    assert len(states) == 17 and states.count("active") == 1


# ------------------------------------------------------------------------------------ issue, bundles


def test_issue_refuses_an_iss_that_is_not_the_keyrings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ring = str(tmp_path / "ring")
    assert run(capsys, "keys", "rotate", "--keyring", ring, "--iss", "KR-MOIS")[0] == 0
    code, out, err = run(capsys, "issue", "--keyring", ring, "--iss", "KR-MND", "--claims", CLAIMS)
    assert code == 2 and out == "" and "not the issuer of keyring" in err
    code, out, _ = run(capsys, "issue", "--keyring", ring, "--claims", CLAIMS, "--json")  # iss from the keyring
    assert code == 0 and json.loads(out)["iss"] == "KR-MOIS"


def _provision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    d = tmp_path
    files = {
        "ring": str(d / "ring"),
        "anchor": str(d / "anchor.key"),
        "anchor_pub": str(d / "anchor.pub"),
        "db": str(d / "status.sqlite"),
        "other": str(d / "other.key"),
    }
    assert run(capsys, "keys", "rotate", "--keyring", files["ring"], "--iss", "KR-MOIS", "--at", "2026-01-01")[0] == 0
    assert run(capsys, "keys", "generate", "--out", files["anchor"], "--public", files["anchor_pub"])[0] == 0
    assert run(capsys, "keys", "generate", "--out", files["other"])[0] == 0
    assert (
        run(capsys, "status", "create", "--db", files["db"], "--uri-template", "https://id.mois.go.kr/sl/{n}")[0] == 0
    )
    code, out, _ = run(
        capsys, "trust", "build", "--keyring", files["ring"], "--version", "1", "--out", str(d / "t.json"), "--json"
    )
    assert code == 0 and json.loads(out) == {"version": 1, "keys": 1, "out": str(d / "t.json")}
    code, out, _ = run(
        capsys, "trust", "sign", "--in", str(d / "t.json"), "--anchor", files["anchor"], "--out", str(d / "t.cose"),
        "--json",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["version"] == 1
    files["trust"] = str(d / "t.cose")
    return files


def _publish(capsys: pytest.CaptureFixture[str], files: dict[str, str], key: str, out: str) -> None:
    code, stdout, _ = run(
        capsys, "status", "publish", "--db", files["db"], "--uri", "https://id.mois.go.kr/sl/1", "--key", key,
        "--out", out, "--json",
    )  # fmt: skip
    assert code == 0 and json.loads(stdout)["out"] == out


def _bundle(capsys: pytest.CaptureFixture[str], files: dict[str, str], token: str, out: str) -> tuple[int, str, str]:
    return run(
        capsys, "bundle", "build", "--trust-list", files["trust"], "--status-list", token, "--anchor",
        files["anchor"], "--version", "1", "--out", out, "--json",
    )  # fmt: skip


def test_bundle_build_refuses_what_its_gate_would_refuse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _provision(tmp_path, capsys)
    active = json.loads(run(capsys, "keys", "list", "--keyring", files["ring"], "--json")[1])["keys"][0]["kid"]
    signer = str(Path(files["ring"]) / f"{active}.pem")

    foreign, bad_bundle = str(tmp_path / "foreign.cwt"), tmp_path / "bad.bundle"
    _publish(capsys, files, files["other"], foreign)  # signed by a key outside the trust list
    code, _, err = _bundle(capsys, files, foreign, str(bad_bundle))
    assert code == 2 and "a gate would refuse it" in err and "KEY_NOT_IN_TRUST_LIST" in err
    assert not bad_bundle.exists()

    good, good_bundle = str(tmp_path / "good.cwt"), str(tmp_path / "good.bundle")
    _publish(capsys, files, signer, good)
    code, out, _ = _bundle(capsys, files, good, good_bundle)
    assert code == 0 and json.loads(out)["status_lists"] == 1
    code, out, _ = run(capsys, "bundle", "inspect", good_bundle, "--trust-anchor", files["anchor_pub"], "--json")
    assert code == 0 and json.loads(out)["check"].startswith("verified as a gate loads it")

    # the signer is then marked compromised and a new trust list says so: the old status list is refused
    assert run(capsys, "keys", "compromise", "--keyring", files["ring"], active)[0] == 0
    d = tmp_path
    assert (
        run(capsys, "trust", "build", "--keyring", files["ring"], "--version", "2", "--out", str(d / "t2.json"))[0] == 0
    )
    assert run(capsys, "trust", "sign", "--in", str(d / "t2.json"), "--anchor", files["anchor"],
               "--out", files["trust"])[0] == 0  # fmt: skip
    code, _, err = _bundle(capsys, files, good, str(bad_bundle))
    assert code == 2 and "PUBLIC_KEY_COMPROMISED" in err and not bad_bundle.exists()


# ------------------------------------------------------------------------------------ verify, inspect, pipes


@pytest.fixture
def credential(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    key, jwks = str(tmp_path / "issuer.key"), str(tmp_path / "trust.jwks")
    assert run(capsys, "keys", "generate", "--out", key, "--jwks", jwks)[0] == 0
    png = str(tmp_path / "id.png")
    code, out, _ = run(
        capsys, "issue", "--key", key, "--iss", "KR-MOIS", "--claims", CLAIMS, "--at", AT, "--png", png, "--json",
        "--status-uri", "https://id.mois.go.kr/sl/7", "--status-idx", "5",
    )  # fmt: skip
    assert code == 0
    return {"key": key, "jwks": jwks, "qr": json.loads(out)["qr_text"], "png": png, "dir": str(tmp_path)}


def test_json_says_whether_status_was_checked_and_gate_mode_minimises_claims(
    credential: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["verify", "--trust", credential["jwks"], "--at", AT, "--allow-unknown-status", "--json"]
    code, out, _ = run(capsys, *base, credential["qr"])
    single = json.loads(out)
    assert code == 0 and single["status_checked"] is False and "birth_date" in single["claims"]
    assert single["exp"].endswith("Z")
    code, out, _ = run(capsys, *base, "--claims", "none", credential["qr"])
    assert json.loads(out)["claims"] is None

    import io

    sys_stdin = sys.stdin
    try:
        sys.stdin = io.StringIO(credential["qr"] + "\n")
        code, out, _ = run(capsys, *base, "-")
    finally:
        sys.stdin = sys_stdin
    gate = json.loads(out)
    assert code == 0 and set(gate["claims"]) == {"name", "agency", "rank"} and gate["exp"] == single["exp"]


def test_verify_a_file_argument_suggests_image(credential: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "verify", "--trust", credential["jwks"], credential["png"])
    assert code == 2 and f"--image {credential['png']}" in err and "QR text was expected" in err


def test_scan_text_pipes_into_verify_and_verify_takes_several_images(credential: dict[str, str]) -> None:
    blank = str(Path(credential["dir"]) / "blank.png")
    from PIL import Image

    Image.new("L", (200, 200), 255).save(blank)
    scanned = cli("qr", "scan", credential["png"], "--text")
    assert scanned.returncode == 0 and scanned.stdout == credential["qr"] + "\n"
    verified = cli(
        "verify", "--trust", credential["jwks"], "--at", AT, "--allow-unknown-status", "-", stdin=scanned.stdout
    )
    assert verified.returncode == 0 and json.loads(verified.stdout)["valid"] is True
    several = cli(
        "verify", "--trust", credential["jwks"], "--at", AT, "--allow-unknown-status", "--json",
        "--image", credential["png"], "--image", blank,
    )  # fmt: skip
    lines = [json.loads(line) for line in several.stdout.splitlines()]
    assert several.returncode == 1
    assert [(r["image"], r["valid"]) for r in lines] == [(credential["png"], True), (blank, False)]
    assert lines[1]["code"] == "QR_NOT_FOUND"


def test_inspect_images_hc1_and_huge_times(credential: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "inspect", "--image", credential["png"], "--json")
    assert code == 0 and json.loads(out)["layers"][0]["prefix"] == "GID1:"
    huge = forge.text(forge.claims(iat=2**62, exp=2**63 - 1))
    code, out, _ = run(capsys, "inspect", huge, "--json")
    cwt_layer = json.loads(out)["layers"][-1]
    assert code == 0 and "out of the calendar" in cwt_layer["iat"]
    code, out, _ = run(capsys, "inspect", huge)
    assert code == 0 and "Traceback" not in out
    hc1 = forge.text_from_cose(forge.sign1_bytes({1: "DE", 6: 1, 4: 2}), prefix="HC1:")
    code, out, _ = run(capsys, "inspect", hc1, "--json")
    layers = json.loads(out)["layers"]
    assert code == 0 and layers[0]["prefix"] == "HC1:" and layers[-1]["layer"] == "cwt"


def test_unexpected_failures_are_one_line_with_a_code(tmp_path: Path) -> None:
    cases = [
        (["verify", "--trust", str(tmp_path), "GID1:X"], "vcsdk: FILE_ERROR:"),
        (["issue", "--key", str(tmp_path / "none"), "--iss", "X", "--claims", CLAIMS], "vcsdk: FILE_ERROR:"),
        (["qr", "render", "x" * 8000, "--png", str(tmp_path / "q.png")], "vcsdk: "),
    ]
    for argv, prefix in cases:
        result = cli(*argv)
        assert result.returncode == 2, (argv, result.stderr)
        assert result.stderr.startswith(prefix) and result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.stderr


def test_human_output_shows_no_python_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _provision(tmp_path, capsys)
    active = json.loads(run(capsys, "keys", "list", "--keyring", files["ring"], "--json")[1])["keys"][0]["kid"]
    signer = str(Path(files["ring"]) / f"{active}.pem")
    allocated = json.loads(run(capsys, "status", "allocate", "--db", files["db"], "--json")[1])
    assert run(capsys, "status", "set", "--db", files["db"], "--uri", allocated["uri"], str(allocated["idx"]),
               "suspended")[0] == 0  # fmt: skip
    token, bundle = str(tmp_path / "sl.cwt"), str(tmp_path / "gate.bundle")
    _publish(capsys, files, signer, token)
    outputs = [
        run(capsys, "status", "inspect", token)[1],
        run(capsys, "trust", "inspect", files["trust"], "--trust-anchor", files["anchor_pub"])[1],
    ]
    assert _bundle(capsys, files, token, bundle)[0] == 0
    outputs.append(run(capsys, "bundle", "inspect", bundle, "--trust-anchor", files["anchor_pub"])[1])
    assert "SUSPENDED 1" in outputs[0]
    for out in outputs:
        assert out
        for python_value in ("None", "{'", "True", "False", "[]"):
            assert python_value not in out, (python_value, out)


def test_registry_failures_that_used_to_traceback_are_one_line(tmp_path: Path) -> None:
    db = str(tmp_path / "r.sqlite")
    assert (
        cli(
            "registry",
            "init",
            "--db",
            db,
            "--iss",
            "KR-MOIS",
            "--uri-template",
            "https://x/sl/{n}",
            "--reviewer",
            "lee",
            "--operator",
            "ops",
        ).returncode
        == 0
    )
    app = cli("registry", "apply", "--db", db, "--claims", CLAIMS, "--contact", "a@b").stdout.strip()
    (tmp_path / "cp949.csv").write_bytes("name,contact\n김민준,a@b\n".encode("cp949"))
    (tmp_path / "agency.csv").write_text("name,agency_code,contact\n김민준,ABC,a@b\n", encoding="utf-8")
    cases = [
        ["registry", "attach", "--db", db, app, "photo", CLAIMS, "--meta", "{bad"],
        ["registry", "import", "--db", db, str(tmp_path / "missing.csv")],
        ["registry", "import", "--db", db, str(tmp_path / "cp949.csv")],
        ["registry", "renew", "--db", db, "--key", CLAIMS, "00" * 16, "--set", "rank"],
    ]
    for argv in cases:
        result = cli(*argv)
        assert result.returncode == 2, (argv, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr, (argv, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.startswith("vcsdk: ")]
        assert len(lines) == 1 and lines[0].split(":")[1].strip().isupper(), (argv, result.stderr)
    agency = cli("registry", "import", "--db", db, str(tmp_path / "agency.csv"))  # the row is refused, not the run
    assert agency.returncode == 1 and "Traceback" not in agency.stderr
    assert "USAGE_ERROR: agency_code 'ABC' is not a number" in agency.stderr


def test_inspect_json_is_strict_json_even_for_nan(capsys: pytest.CaptureFixture[str]) -> None:
    weird = forge.text(forge.claims(nbf=float("nan")))
    code, out, _ = run(capsys, "inspect", weird, "--json")

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in JSON output")

    document = json.loads(out, parse_constant=refuse)
    assert document["layers"]
    assert code in (0, 1)


def test_qr_render_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = str(tmp_path / "q.png")
    code, out, _ = run(capsys, "qr", "render", "GID1:ABC", "--png", png, "--json")
    assert code == 0 and json.loads(out) == {"version": 1, "ecc": "Q", "characters": 8, "png": png, "svg": None}


def test_trust_sources_and_prefix_dispatch_live_in_the_sdk(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from vcsdk.profiles.dispatch import PrefixDispatch
    from vcsdk.trust.sources import SourceKind, open_trust_sources, sniff

    files = _provision(tmp_path, capsys)
    jwks = tmp_path / "t.jwks"
    assert run(capsys, "keys", "generate", "--out", str(tmp_path / "k9"), "--jwks", str(jwks))[0] == 0
    assert sniff(Path(files["trust"]).read_bytes()) is SourceKind.TRUST_LIST
    assert sniff(jwks.read_bytes()) is SourceKind.KEYS
    assert sniff(b"-----BEGIN CERTIFICATE-----\n") is SourceKind.CERTIFICATE
    with pytest.raises(Exception, match="give --trust-anchor"):
        open_trust_sources([files["trust"]])
    sources = open_trust_sources([str(jwks)])
    assert len(sources.keys) == 1 and sources.gate is None and sources.certificates == ()

    class Official:
        def check(self, text: str) -> str:
            return "official"

    dispatch = PrefixDispatch(Official())
    assert dispatch.check("GID1:X") == "official"
    assert not dispatch.check("HC1:X").valid  # HC1 texts go to the EU DCC verifier (no certificates: refused)


def test_messages_show_times_in_iso_8601(credential: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    late = "2031-01-01T00:00:00Z"
    base = ["verify", "--trust", credential["jwks"], "--allow-unknown-status", "--at", late]
    code, out, _ = run(capsys, *base, credential["qr"])
    assert code == 1 and "CWT_EXPIRED" in out
    assert re.search(r"expired at 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ", out), out
    assert not re.search(r"\b1[0-9]{9}\b", out), out
    code, out, _ = run(capsys, *base, "--json", credential["qr"])
    assert not re.search(r"\b1[0-9]{9}\b", json.loads(out)["message"])


def test_every_command_that_outputs_data_has_json() -> None:
    without = [
        path
        for path, parser in parsers(build_parser([], full=True))
        if path
        and not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)
        and not any("--json" in a.option_strings for a in parser._actions)
    ]
    always_json = ["gate run", "wallet status"]  # their output is JSON (lines) already
    # the wallet's other commands print a confirmation or a QR code (show/respond have --text), no data
    no_data = [f"wallet {c}" for c in ("change-pin", "import", "init", "lock", "refresh", "request", "respond", "show")]
    no_data += ["wallet unlock"]
    # a shell script; a server (its output is logs)
    assert sorted(without) == sorted(["completion", "serve", *always_json, *no_data])


def _junk_argv(path: str, parser: argparse.ArgumentParser, missing: str) -> list[str]:
    argv = path.split()
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction) or not (action.required or not action.option_strings):
            continue
        if action.choices:
            value = str(next(iter(action.choices)))
        elif action.type is int or action.type is float:
            value = "1"
        else:
            value = missing
        argv += [action.option_strings[0], value] if action.option_strings else [value]
    return argv


def test_every_command_fails_on_missing_files_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attack: every command (but ``serve``, which would start a server), each required argument a path
    that does not exist."""
    monkeypatch.chdir(tmp_path)  # default file names (e.g. the registry's database) land here, not in the repo
    missing = str(tmp_path / "missing" / "file")
    for path, parser in parsers(build_parser([], full=True)):
        if path in ("", "completion", "serve", "conformance") or any(  # a server; a report of its own
            isinstance(a, argparse._SubParsersAction) for a in parser._actions
        ):
            continue
        argv = _junk_argv(path, parser, missing)
        try:
            code = main(argv)
        except SystemExit as exit_info:  # argparse refused the junk itself
            code = int(exit_info.code or 0)
        out, err = capsys.readouterr()
        assert code in (1, 2), (argv, code, err)
        assert "Traceback" not in err + out, argv
        if path == "inspect":  # its output is the layers, the failing one named
            assert "FAILED INVALID_SCHEME_PREFIX" in out
        else:
            assert [line for line in err.splitlines() if line.startswith("vcsdk: ")], (argv, err)
    assert not (tmp_path / "missing").exists()  # nothing created on the way
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["vcsdk-registry.sqlite"])  # only by registry init


def test_gate_mode_survives_a_line_that_is_not_utf8(credential: dict[str, str]) -> None:
    lines = b"\xff\xfeGID1:\x80\n" + credential["qr"].encode() + b"\n"
    done = subprocess.run(
        [sys.executable, "-m", "vcsdk_cli", "verify", "--trust", credential["jwks"], "--at", AT,
         "--allow-unknown-status", "-"],
        input=lines, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    results = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [r["valid"] for r in results] == [False, True]
    assert results[0]["code"] == "INVALID_SCHEME_PREFIX" and done.returncode == 1


def test_registry_commands_never_create_a_database_by_mistake(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nope = tmp_path / "nope.sqlite"
    for argv in (["list"], ["show", "x-y"], ["export"], ["expire"], ["audit", "verify"]):
        code, _, err = run(capsys, "registry", *argv, "--db", str(nope))
        assert code == 2 and "does not exist" in err and "registry init" in err, argv
    assert not nope.exists()


def _init_registry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    db = str(tmp_path / "r.sqlite")
    init = ["init", "--db", db, "--iss", "KR-MOIS", "--uri-template", "https://x/sl/{n}"]
    assert run(capsys, "registry", *init, "--reviewer", "lee", "--operator", "ops")[0] == 0
    return db


def test_registry_attach_checks_metadata_and_photos(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = _init_registry(tmp_path, capsys)
    app = run(capsys, "registry", "apply", "--db", db, "--claims", CLAIMS, "--contact", "a@b")[1].strip()
    pdf = tmp_path / "photo.pdf"
    pdf.write_bytes(b"%PDF-1.7")
    code, _, err = run(capsys, "registry", "attach", "--db", db, app, "photo", str(pdf), "--meta",
                       '{"captured": "2026-11-20"}')  # fmt: skip
    assert code == 2 and "is not an image" in err
    from PIL import Image

    jpg = tmp_path / "photo.jpg"
    Image.new("RGB", (350, 450), "white").save(jpg)
    code, _, err = run(capsys, "registry", "attach", "--db", db, app, "photo", str(jpg), "--meta",
                       '{"captured": "2026-02-30"}')  # fmt: skip
    assert code == 2 and "captured: '2026-02-30' is not a 'date'" in err and "PHOTO_TOO_OLD" not in err
    code, out, _ = run(capsys, "registry", "attach", "--db", db, app, "photo", str(jpg), "--meta",
                       '{"captured": "2026-11-20"}', "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["kind"] == "photo"


def test_registry_import_reads_utf8_with_bom_and_prints_ids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = _init_registry(tmp_path, capsys)
    rows = "name,birth_date,agency_code,agency,rank,employee_id,contact\n"
    rows += "홍길동,1990-01-01,1741000,행정안전부,주무관,E-77,010\n"
    csv_file = tmp_path / "apps.csv"
    csv_file.write_bytes(b"\xef\xbb\xbf" + rows.encode("utf-8"))
    code, out, err = run(capsys, "registry", "import", "--db", db, str(csv_file))
    assert code == 0, err
    created = out.split()
    assert len(created) == 1
    code, out, _ = run(capsys, "registry", "show", "--db", db, created[0], "--json")
    assert json.loads(out)["claims"]["name"] == "홍길동"
    code, out, _ = run(capsys, "registry", "export", "--db", db)
    exported = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in exported] == created and exported[0]["created_at"].endswith("Z")
    out_file = tmp_path / "export.jsonl"
    assert run(capsys, "registry", "export", "--db", db, "--out", str(out_file))[0] == 0
    assert oct(out_file.stat().st_mode & 0o777) == "0o600"


def test_registry_messages_name_no_internal_methods(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "r.sqlite")
    assert run(capsys, "registry", "init", "--db", db, "--iss", "KR-MOIS", "--uri-template", "https://x/sl/{n}",
               "--reviewer", "lee", "--operator", "ops")[0] == 0  # fmt: skip
    app = run(capsys, "registry", "apply", "--db", db, "--actor", "kim", "--claims", CLAIMS, "--contact", "a@b")[1]
    code, _, err = run(capsys, "registry", "request-documents", "--db", db, "--actor", "lee", app.strip(),
                       "--reason", "x")  # fmt: skip
    assert code == 2 and "REGISTRY_TRANSITION_REFUSED" in err
    assert "cannot request documents an application in state draft" in err and "_" not in err.split(":", 2)[2]
