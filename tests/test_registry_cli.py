"""``vcsdk registry ...`` and the ``status`` commands' refusal of a registry database, end to end."""

from __future__ import annotations

import datetime
import io
import json
import sqlite3
import stat
from pathlib import Path

import pytest
from PIL import Image
from vcsdk_cli.main import main

from tests.conftest import NOW, ROOT
from vcsdk import Ed25519PrivateKey
from vcsdk.holder import make_key_proof
from vcsdk.registry import IssuerRegistry
from vcsdk.registry.stores import SQLStatusStore

CLAIMS = ROOT / "examples" / "reference-claims.json"
SHORT = {k: v for k, v in json.loads(CLAIMS.read_text()).items() if k not in ("unit", "position", "name_latin")}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def office(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """An initialised registry with one approved application."""
    db, key = str(tmp_path / "r.sqlite"), str(tmp_path / "k.pem")
    run(capsys, "keys", "generate", "--out", key, "--jwks", str(tmp_path / "k.jwks"))
    init = ["registry", "init", "--db", db, "--iss", "KR-MOIS", "--uri-template", "https://x/sl/{n}"]
    with pytest.raises(SystemExit) as refused:
        run(capsys, *init)  # reviewers and operators are required
    assert refused.value.code == 2
    assert run(capsys, *init, "--reviewer", "lee", "--operator", "ops")[0] == 0
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps(SHORT, ensure_ascii=False))
    code, out, _ = run(
        capsys, "registry", "apply", "--db", db, "--actor", "kim", "--claims", str(claims), "--contact", "0"
    )
    app = out.strip()
    photo = tmp_path / "p.jpg"
    Image.new("RGB", (350, 450), "white").save(photo)
    docs = {
        "identity_document": '{"type": "passport", "number": "M1", "expiry": "2031-01-01"}',
        "photo": json.dumps({"captured": datetime.date.today().isoformat()}),
        "position_certificate": "{}",
        "recommendation": '{"signed_by": "park"}',
        "fee_payment": '{"amount": 10000, "method": "transfer", "receipt": "T-9"}',
    }
    for kind, meta in docs.items():
        assert (
            run(capsys, "registry", "attach", "--db", db, "--actor", "kim", app, kind, str(photo), "--meta", meta)[0]
            == 0
        )
    assert run(capsys, "registry", "submit", "--db", db, "--actor", "kim", app)[0] == 0
    code, _, err = run(capsys, "registry", "review", "--db", db, "--actor", "ops", app)
    assert (code, "ACTOR_NOT_AUTHORIZED" in err) == (2, True)  # an operator is not a reviewer
    assert run(capsys, "registry", "review", "--db", db, "--actor", "lee", app)[0] == 0
    assert run(capsys, "registry", "approve", "--db", db, "--actor", "lee", app)[0] == 0
    return {"db": db, "key": key, "jwks": str(tmp_path / "k.jwks"), "app": app, "dir": str(tmp_path)}


def test_issue_with_holder_proof_files_0600_and_lifecycle(
    office: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, key, folder = office["db"], office["key"], Path(office["dir"])
    code, out, _ = run(capsys, "registry", "nonce", "--db", db, "--json")
    nonce = json.loads(out)["nonce"]
    device = Ed25519PrivateKey(bytes(range(5, 37)))
    proof = folder / "proof.cbor"
    proof.write_bytes(make_key_proof(device, audience="KR-MOIS", nonce=nonce, issued_at=NOW))
    png, qr = folder / "id.png", folder / "id.txt"
    issue = ["registry", "issue", "--db", db, "--actor", "ops", "--key", key, office["app"], "--at", str(NOW)]
    code, _, err = run(capsys, *issue[:-2], "--actor", "mallory")
    assert (code, "ACTOR_NOT_AUTHORIZED" in err) == (2, True)
    code, out, err = run(capsys, *issue, "--holder-proof", str(proof), "--png", str(png), "--out", str(qr), "--json")
    assert code == 0, err
    cti = json.loads(out)["cti"]
    assert (_mode(png), _mode(qr), _mode(Path(db))) == (0o600, 0o600, 0o600)
    assert qr.read_text().startswith("GID1:")
    code, _, err = run(capsys, *issue, "--holder-proof", str(proof))  # the nonce is spent
    assert code == 2
    reg = IssuerRegistry.open(db)
    found = reg.lookup(cti)
    assert found is not None and found.device_key is not None and found.device_key.raw == device.public_key.raw
    code, out, _ = run(capsys, "registry", "renew", "--db", db, "--actor", "ops", "--key", key, cti, "--set", "rank=X")
    assert code == 2  # a change of rank goes through 'change' and review
    code, out, _ = run(capsys, "registry", "change", "--db", db, "--actor", "kim", cti, "--set", "rank=행정사무관")
    assert code == 0 and len(out.strip()) == 36
    code, _, _ = run(capsys, "registry", "revoke", "--db", db, "--actor", "ops", cti, "--reason", "fraud")
    assert code == 0
    assert reg.credential(cti)["reason"] == "fraud"
    exported = folder / "audit.jsonl"
    assert run(capsys, "registry", "audit", "export", "--db", db, "--out", str(exported))[0] == 0
    entries = [json.loads(line) for line in exported.read_text().splitlines()]
    assert entries[-1]["action"] == "revoke" and entries[-1]["data"]["reason"] == "fraud"
    assert _mode(exported) == 0o600
    code, out, _ = run(capsys, "registry", "audit", "show", "--db", db, "--subject", cti)
    assert [json.loads(line)["action"] for line in out.splitlines()] == ["credential_issued", "revoke"]


def test_audit_checkpoint_verify_and_tampering(office: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    db, key, folder = office["db"], office["key"], Path(office["dir"])
    run(capsys, "registry", "issue", "--db", db, "--actor", "ops", "--key", key, office["app"])
    checkpoint = str(folder / "head.cose")
    assert run(capsys, "registry", "audit", "checkpoint", "--db", db, "--key", key, "--out", checkpoint)[0] == 0
    verify = ["registry", "audit", "verify", "--db", db, "--checkpoint", checkpoint, "--trust", office["jwks"]]
    code, out, _ = run(capsys, *verify)
    assert (code, "intact" in out) == (0, True)
    assert run(capsys, "registry", "audit", "verify", "--db", db, "--checkpoint", checkpoint)[0] == 2  # no --trust
    with sqlite3.connect(db) as raw:
        (seq,) = raw.execute("SELECT seq FROM audit_head").fetchone()
        (kept,) = raw.execute("SELECT hash FROM audit_log WHERE seq = ?", (seq - 3,)).fetchone()
        raw.execute("DELETE FROM audit_log WHERE seq > ?", (seq - 3,))
        raw.execute("UPDATE audit_head SET seq = ?, hash = ?", (seq - 3, kept))
    code, out, _ = run(capsys, *verify, "--json")
    report = json.loads(out)
    assert (code, report["ok"]) == (1, False)
    assert any("truncated" in p for p in report["problems"])


def test_status_commands_refuse_the_registry_database(
    office: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, key = office["db"], office["key"]
    code, out, _ = run(capsys, "registry", "issue", "--db", db, "--actor", "ops", "--key", key, office["app"], "--json")
    issued = json.loads(out)
    run(capsys, "registry", "suspend", "--db", db, "--actor", "ops", issued["cti"])
    uri, idx = issued["status"]["uri"], str(issued["status"]["idx"])
    create = ["create", "--uri-template", "https://x/sl/{n}"]  # re-initialising it as a status database
    for command in (create, ["set", "--uri", uri, idx, "valid"], ["get", "--uri", uri, idx], ["list"], ["allocate"]):
        code, _, err = run(capsys, "status", command[0], "--db", db, *command[1:])
        assert (code, "registry" in err) == (2, True), command
    assert IssuerRegistry.open(db).credential(issued["cti"])["state"] == "suspended"
    assert IssuerRegistry.open(db).audit_verify().ok


def test_export_status_without_n_refuses_several_lists(
    office: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, key, folder = office["db"], office["key"], Path(office["dir"])
    run(capsys, "registry", "issue", "--db", db, "--actor", "ops", "--key", key, office["app"])
    single = str(folder / "list.cwt")
    assert run(capsys, "registry", "export-status", "--db", db, "--key", key, "--out", single)[0] == 0
    from vcsdk.registry.db import open_engine

    SQLStatusStore(open_engine(db)).add_list(2, "https://x/sl/2", 2, 131_072, NOW)  # as if list 1 had filled
    code, _, err = run(capsys, "registry", "export-status", "--db", db, "--key", key, "--out", single)
    assert (code, "{n}" in err) == (2, True)
    pattern = str(folder / "sl{n}.cwt")
    assert run(capsys, "registry", "export-status", "--db", db, "--key", key, "--out", pattern)[0] == 0
    assert (folder / "sl1.cwt").exists() and (folder / "sl2.cwt").exists()
    code, _, _ = run(
        capsys, "registry", "export-status", "--db", db, "--key", key, "--uri", "https://x/sl/2", "--out", single
    )
    assert code == 0  # one chosen list: a fixed name is fine


def test_bad_input_is_one_line_with_a_code(office: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    db, folder = office["db"], Path(office["dir"])
    attach = ["registry", "attach", "--db", db, "--actor", "kim", office["app"], "photo", office["key"]]
    code, _, err = run(capsys, *attach, "--meta", "{not json")
    assert (code, err.count("\n"), "USAGE_ERROR" in err) == (2, 1, True)
    code, _, err = run(capsys, "registry", "import", "--db", db, str(folder / "missing.csv"))
    assert (code, "FILE_ERROR" in err) == (2, True)
    cp949 = folder / "cp949.csv"
    cp949.write_bytes("name,agency_code\n홍길동,1741000\n".encode("cp949"))
    code, _, err = run(capsys, "registry", "import", "--db", db, str(cp949))
    assert (code, "UTF-8" in err) == (2, True)
    rows = folder / "rows.csv"
    header = "name,birth_date,agency_code,agency,rank,employee_id,contact,applicant"
    rows.write_text(
        header + "\n홍길동,1990-01-01,1741000,행정안전부,주무관,E-77,010,hong\n김,1990-01-01,MOIS,x,y,E-78,0,q\n"
    )
    code, out, err = run(capsys, "registry", "import", "--db", db, str(rows), "--json")
    assert (code, json.loads(out)) == (1, {"created": 1, "failed": 1})
    assert "agency_code" in err


def test_export_status_and_status_refusal_on_both_databases(
    target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """#11.7 and #11.10 through the CLI with ``--db`` a SQLite path and a PostgreSQL URL."""
    from tests.registry_world import KEY, approved, registry
    from vcsdk.keys.files import save_private_key
    from vcsdk.registry.db import open_engine

    key = str(tmp_path / "k.pem")
    save_private_key(key, KEY)
    reg = registry(target)
    record = reg.issue(approved(reg), actor="ops")
    reg.suspend(record.cti, actor="ops")
    uri, idx = record.status.uri, str(record.status.idx)
    code, _, err = run(capsys, "status", "set", "--db", target, "--uri", uri, idx, "valid")
    assert (code, "registry" in err) == (2, True)
    SQLStatusStore(open_engine(target)).add_list(8, "https://id.mois.go.kr/sl/8", 2, 131_072, NOW)  # list 7 "filled"
    code, _, err = run(
        capsys, "registry", "export-status", "--db", target, "--key", key, "--out", str(tmp_path / "sl.cwt")
    )
    assert (code, "{n}" in err) == (2, True)
    assert not (tmp_path / "sl.cwt").exists()
    assert (
        run(capsys, "registry", "export-status", "--db", target, "--key", key, "--out", str(tmp_path / "sl{n}.cwt"))[0]
        == 0
    )
    assert sorted(p.name for p in tmp_path.glob("sl*.cwt")) == ["sl7.cwt", "sl8.cwt"]
    assert reg.credential(record.cti)["state"] == "suspended"


def test_issue_many_from_a_file_one_line_per_application_in_order(
    office: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, key, folder = office["db"], office["key"], Path(office["dir"])
    ids = folder / "ids.txt"
    ids.write_text(f"nope\n\n{office['app']}\n")
    many = ["registry", "issue-many", "--db", db, "--actor", "ops", "--key", key, "--at", str(NOW), "--json"]
    code, out, err = run(capsys, *many, "--from", str(ids), "--batch-size", "1")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and "1 issued, 1 refused" in err
    assert [(line["application"], line["issued"]) for line in lines] == [("nope", False), (office["app"], True)]
    assert lines[0]["code"] == "RECORD_NOT_FOUND" and lines[1]["qr_text"].startswith("GID1:")
    monkeypatch.setattr("sys.stdin", io.StringIO(office["app"] + "\n"))
    code, out, _ = run(capsys, *many[:-1], "--from", "-")
    assert code == 1 and "REFUSED REGISTRY_TRANSITION_REFUSED" in out  # issued already
    code, _, err = run(capsys, *many)
    assert code == 2 and "give application ids" in err
    code, _, err = run(capsys, *many, office["app"], "--batch-size", "0")
    assert code == 2 and "USAGE_ERROR" in err
