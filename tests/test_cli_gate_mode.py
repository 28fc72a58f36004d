"""``vcsdk verify -`` (gate mode): batches of the lines already read, each answered before the next
read; verdict lines byte for byte as ``json.dumps`` writes them; SIGTERM and a closed reader."""

from __future__ import annotations

import io
import json
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from vcsdk_cli.main import main
from vcsdk_cli.verify_cmds import Report, Reporting, gate_mode, verdict_line

from tests.conftest import ROOT
from vcsdk import Ed25519PrivateKey, Issuer, StatusReference, Verifier, fixed_clock
from vcsdk.errors import Code
from vcsdk.gate.sources import text_batches
from vcsdk.verify import FastVerifier, Verification

CLAIMS = json.loads((ROOT / "examples" / "reference-claims.json").read_text(encoding="utf-8"))
AT = "2026-06-01T00:00:00Z"
NOW = 1_780_000_000


class Chunks:
    """A stand-in for ``sys.stdin``: its byte buffer's ``read1`` returns the given chunks in turn."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)
        self.reads = 0
        self.buffer = self

    def read1(self, size: int) -> bytes:
        self.reads += 1
        return self.chunks.pop(0) if self.chunks else b""


def batches(chunks: list[bytes], **kwargs: int) -> list[list[str]]:
    return list(text_batches(Chunks(chunks), **kwargs))  # type: ignore[arg-type]


def test_each_chunk_of_complete_lines_is_one_batch() -> None:
    assert batches([b"a\nb\n", b"c\n"]) == [["a", "b"], ["c"]]


def test_a_line_split_across_reads_waits_for_its_end() -> None:
    assert batches([b"a\nbb", b"b\nc", b"\n"]) == [["a"], ["bbb"], ["c"]]


def test_crlf_split_across_reads_is_one_line_break_and_cr_alone_ends_a_line() -> None:
    assert batches([b"a\r", b"\nb\r\n", b"c\rd\n"]) == [["a"], ["b"], ["c", "d"]]  # "a" answered at its CR
    assert batches([b"a\r"]) == [["a"]]  # a CR at the very end still ends its line


def test_empty_lines_and_a_last_line_without_break_are_scans() -> None:
    assert batches([b"\n\nx"]) == [["", ""], ["x"]]


def test_a_line_that_is_not_utf8_stays_one_text() -> None:
    assert batches([b"\xff\xfeGID1:\x80\nok\n"]) == [["\ufffd\ufffdGID1:\ufffd", "ok"]]


def test_an_over_long_line_is_cut_and_its_rest_dropped_without_being_held() -> None:
    out = batches([b"x" * 10, b"y" * 10, b"z" * 5 + b"\nnext\n"], max_line=8)
    assert out == [["xxxxxxxx", "next"]]
    assert batches([b"x" * 20 + b"\nn\n"], max_line=8) == [["xxxxxxxx", "n"]]  # a complete line is cut too


def test_a_text_stream_without_a_byte_buffer_gives_one_line_per_batch() -> None:
    assert list(text_batches(io.StringIO("a\r\nb\n"))) == [["a"], ["b"]]


@pytest.fixture(scope="module")
def world() -> tuple[Reporting, list[str]]:
    key = Ed25519PrivateKey(bytes(range(32)))
    issuer = Issuer(key, "KR-MOIS", clock=fixed_clock(NOW))
    hangul = {**CLAIMS, "name": '홍길동 "따옴표" \\ é', "rank": "주무관 </"}
    texts = [
        issuer.issue(CLAIMS).qr_text,
        issuer.issue(hangul).qr_text,
        issuer.issue(CLAIMS, status=StatusReference(3, "https://x/sl/1")).qr_text,  # status unknown: refused
        "garbage",
        "",
    ]
    expired = Issuer(key, "KR-MOIS", clock=fixed_clock(NOW - 10 * 366 * 86400)).issue(CLAIMS).qr_text
    texts.append(expired)
    verifier = FastVerifier(Verifier([key.public_key], clock=fixed_clock(NOW + 1), require_status=False))
    return Reporting(verifier, "minimal"), texts


@pytest.mark.parametrize("claims", ["none", "minimal", "all"])
def test_verdict_lines_are_json_dumps_byte_for_byte(world: tuple[Reporting, list[str]], claims: str) -> None:
    reporting, texts = world
    reports = [Report(reporting.checker.check(text), claims) for text in texts]
    assert [r.valid for r in reports] == [True, True, False, False, False, False]
    assert {str(r.result.code) for r in reports[2:]} == {"STATUS_UNKNOWN", "INVALID_SCHEME_PREFIX", "CWT_EXPIRED"}
    for report in reports:
        line = verdict_line(report)
        assert line == json.dumps(report.to_json(), ensure_ascii=False) + "\n"
        assert json.loads(line)["valid"] is report.valid
    assert "홍길동" in verdict_line(reports[1]) or claims == "none"


def test_a_verdict_without_credential_but_with_kid_and_times_in_its_message() -> None:
    result: Verification[Any] = Verification(False, Code.CWT_EXPIRED, "expired at 1780000000", b"\x01\x02")
    report = Report(result, "minimal")
    assert verdict_line(report) == json.dumps(report.to_json(), ensure_ascii=False) + "\n"
    assert "2026-05-28T" in verdict_line(report)


def test_each_batch_is_written_and_flushed_before_the_next_read(world: tuple[Reporting, list[str]]) -> None:
    reporting, texts = world
    out = io.StringIO()
    flushed: list[str] = []
    out.flush = lambda: flushed.append(out.getvalue())  # type: ignore[method-assign]
    source = Chunks([(texts[0] + "\n" + texts[3] + "\n").encode(), (texts[1] + "\n").encode()])
    seen_at_read: list[int] = []

    def tracked() -> Iterator[list[str]]:
        for batch in text_batches(source):  # type: ignore[arg-type]
            yield batch
            seen_at_read.append(len(flushed[-1].splitlines()) if flushed else 0)

    assert gate_mode(reporting, tracked(), out) == 1
    assert seen_at_read == [2, 3]  # both verdicts of the first read were out before the second read
    assert [json.loads(line)["valid"] for line in out.getvalue().splitlines()] == [True, False, True]


def test_line_buffered_mode_writes_the_same_lines(world: tuple[Reporting, list[str]]) -> None:
    reporting, texts = world
    batched, single = io.StringIO(), io.StringIO()
    assert gate_mode(reporting, [texts[:3], texts[3:]], batched) == 1
    assert gate_mode(reporting, [texts[:3], texts[3:]], single, line_buffered=True) == 1
    assert batched.getvalue() == single.getvalue()
    assert len(batched.getvalue().splitlines()) == len(texts)


def test_all_valid_exits_0(world: tuple[Reporting, list[str]]) -> None:
    reporting, texts = world
    assert gate_mode(reporting, [texts[:2]], io.StringIO()) == 0


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[list[str], str]:
    key, jwks = str(tmp_path / "issuer.key"), str(tmp_path / "trust.jwks")
    assert main(["keys", "generate", "--out", key, "--jwks", jwks]) == 0
    assert main(["issue", "--key", key, "--iss", "KR-MOIS", "--claims", str(ROOT / "examples/reference-claims.json"),
                 "--at", AT]) == 0  # fmt: skip
    qr = capsys.readouterr().out.strip().splitlines()[-1]
    argv = [sys.executable, "-m", "vcsdk_cli", "verify", "--trust", jwks, "--at", AT, "--allow-no-status-claim", "-"]
    return argv, qr


def _readline(stream: io.BufferedReader, timeout: float = 30.0) -> bytes:
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, "no verdict line while the gate waits for its next input line"
    return stream.readline()


def test_a_pipe_fed_line_by_line_gets_each_answer_before_the_next_line(cli: tuple[list[str], str]) -> None:
    argv, qr = cli
    with subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as gate:
        assert gate.stdin is not None and gate.stdout is not None
        for text, valid in ((qr, True), ("nope", False), (qr, True)):
            gate.stdin.write(text.encode() + b"\n")
            gate.stdin.flush()
            verdict = json.loads(_readline(gate.stdout))  # type: ignore[arg-type]
            assert verdict["valid"] is valid, verdict
        gate.send_signal(signal.SIGTERM)  # while waiting for input: stops at once
        assert gate.wait(timeout=30) == 128 + signal.SIGTERM
        assert gate.stdout.read() == b""
        assert b"Traceback" not in (gate.stderr.read() if gate.stderr else b"")


def test_a_reader_that_goes_away_ends_the_run_quietly(cli: tuple[list[str], str]) -> None:
    argv, qr = cli
    read, write = os.pipe()
    with subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=write, stderr=subprocess.PIPE) as gate:
        os.close(write)
        os.close(read)  # nobody reads the verdicts
        assert gate.stdin is not None
        gate.stdin.write((qr + "\n").encode() * 50)
        gate.stdin.close()
        assert gate.wait(timeout=60) == 0
        assert gate.stderr is not None and gate.stderr.read() == b""
