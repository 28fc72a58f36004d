"""The shipped conformance runner (``vcsdk conformance``): the public suites on ../shared, and
the runner's own behaviour (failures counted, absence loud) on small folders made here."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from vcsdk_cli.main import main

from tests.conftest import CONFORMANCE, conformance_file
from vcsdk.conformance import SUITES, Outcome, render_table, run_suites

# (passed, skipped) per suite on the pinned snapshot in ../shared/conformance. Skips are the
# message types and curves the SDK does not implement (COSE_Sign, Ed448, COSE_Mac0 and
# COSE_Encrypt0 CWTs, the JWT form of a Status List Token).
EXPECTED = {
    "rfc9285-base45": (10, 0),
    "rfc8032-ed25519": (5, 0),
    "cose-wg-sign1": (9, 0),
    "cose-wg-eddsa": (1, 3),
    "cose-wg-ecdsa": (4, 4),
    "rfc8392-cwt": (2, 4),
    "ietf-status-list": (8, 1),
    "wycheproof-ed25519": (151, 0),
    "wycheproof-ecdsa": (262, 0),
    "wycheproof-rsa-pss": (216, 0),
}


def test_every_suite_has_an_expectation() -> None:
    assert [s.name for s in SUITES] == list(EXPECTED)


@pytest.mark.parametrize("suite", list(EXPECTED))
def test_public_suite_passes(suite: str) -> None:
    conformance_file()  # loud skip when ../shared/conformance is absent
    report = run_suites(CONFORMANCE, [suite])
    (result,) = report.suites
    failures = [(c.case, c.detail) for c in result.cases if c.outcome is Outcome.FAILED]
    assert failures == []
    assert (result.passed, result.skipped) == EXPECTED[suite]


def test_cli_runs_every_suite_and_prints_the_counts(capsys: pytest.CaptureFixture[str]) -> None:
    conformance_file()
    assert main(["conformance", "--vectors", str(CONFORMANCE)]) == 0
    out = capsys.readouterr().out
    assert "wycheproof-ed25519" in out and "     151       0        0" in out
    assert out.rstrip().endswith("conformance: OK")
    assert main(["conformance", "--vectors", str(CONFORMANCE), "--json", "--suite", "rfc8032-ed25519"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is True
    assert document["totals"] == {"passed": 5, "failed": 0, "skipped": 0}
    assert [c["case"] for c in document["suites"][0]["cases"]][:1] == ["TEST 1"]


# ---------------------------------------------------------------- the runner itself (no ../shared needed)


def _base45_folder(tmp_path: Path, *, encode_output: str = "BB8") -> Path:
    folder = tmp_path / "rfc-vectors"
    folder.mkdir(parents=True)
    document = {
        "encode": [{"input_hex": b"AB".hex(), "output": encode_output}],
        "decode": [{"input": "QED8WEX0", "output_hex": b"ietf!".hex()}],
        "decode_must_fail": [{"input": "GGW"}],
        "decode_must_fail_derived": [{"input": "qed8wex0"}],
    }
    (folder / "rfc9285_base45.json").write_text(json.dumps(document))
    return tmp_path


def test_a_wrong_answer_is_a_failure_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = run_suites(_base45_folder(tmp_path / "good"), ["rfc9285-base45"])
    assert (good.passed, good.failed, good.ok) == (4, 0, True)
    vectors = _base45_folder(tmp_path / "bad", encode_output="BB9")
    bad = run_suites(vectors, ["rfc9285-base45"])
    assert (bad.passed, bad.failed, bad.ok) == (3, 1, False)
    assert "encode gives 'BB8'" in bad.suites[0].cases[0].detail
    assert main(["conformance", "--vectors", str(vectors), "--suite", "rfc9285-base45"]) == 1
    assert "1 FAILED" in capsys.readouterr().out


def test_an_accepted_must_fail_input_is_a_failure(tmp_path: Path) -> None:
    vectors = _base45_folder(tmp_path)
    path = vectors / "rfc-vectors" / "rfc9285_base45.json"
    document = json.loads(path.read_text())
    document["decode_must_fail"].append({"input": "BB8"})  # valid Base45: the runner must notice
    path.write_text(json.dumps(document))
    report = run_suites(vectors, ["rfc9285-base45"])
    assert [c.detail for c in report.suites[0].cases if c.outcome is Outcome.FAILED] == ["'BB8' was accepted"]


def test_a_truncated_wycheproof_file_fails_its_count(tmp_path: Path) -> None:
    source = conformance_file("wycheproof", "ed25519_test.json")
    document = json.loads(source.read_text())
    document["testGroups"][0]["tests"].pop()
    (tmp_path / "wycheproof").mkdir()
    (tmp_path / "wycheproof" / "ed25519_test.json").write_text(json.dumps(document))
    (result,) = run_suites(tmp_path, ["wycheproof-ed25519"]).suites
    assert result.failed == 1 and result.passed == 150


def test_an_unreadable_suite_file_is_a_failure_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "rfc-vectors").mkdir()
    (tmp_path / "rfc-vectors" / "rfc8032_ed25519.json").write_text("{not json")
    report = run_suites(tmp_path, ["rfc8032-ed25519"])
    assert report.failed == 1 and not report.ok
    assert "cannot read the suite" in report.suites[0].cases[0].detail


def test_missing_suite_files_are_skipped_by_name(tmp_path: Path) -> None:
    report = run_suites(_base45_folder(tmp_path), None)
    assert report.ok  # base45 passed; every other suite is absent and says so
    absent = [s for s in report.suites if s.name != "rfc9285-base45"]
    assert all(s.skipped == 1 and s.cases[0].detail.startswith("vectors not present") for s in absent)
    assert "vectors not present: wycheproof/ed25519_test.json" in render_table(report)


def test_absent_vectors_folder_prints_a_banner_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    report = run_suites(missing)
    assert not report.found and not report.ok
    assert main(["conformance", "--vectors", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "CONFORMANCE VECTORS NOT FOUND" in err and str(missing) in err


def test_default_folder_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    vectors = _base45_folder(tmp_path / "env")
    monkeypatch.setenv("VCSDK_CONFORMANCE", str(vectors))
    assert main(["conformance", "--suite", "rfc9285-base45", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["vectors"] == str(vectors)
    monkeypatch.delenv("VCSDK_CONFORMANCE")
    monkeypatch.chdir(tmp_path)  # ../shared/conformance from here does not exist
    assert main(["conformance"]) == 2


def test_copied_snapshot_with_one_edited_signature_fails(tmp_path: Path) -> None:
    """A vector edited after the fact is caught: the runner really verifies each signature."""
    source = conformance_file("rfc-vectors", "rfc8032_ed25519.json")
    shutil.copytree(source.parent, tmp_path / "rfc-vectors")
    path = tmp_path / "rfc-vectors" / "rfc8032_ed25519.json"
    document = json.loads(path.read_text())
    signature = document["vectors"][1]["signature"]
    document["vectors"][1]["signature"] = ("0" if signature[0] != "0" else "1") + signature[1:]
    path.write_text(json.dumps(document))
    (result,) = run_suites(tmp_path, ["rfc8032-ed25519"]).suites
    assert [c.case for c in result.cases if c.outcome is Outcome.FAILED] == ["TEST 2"]
