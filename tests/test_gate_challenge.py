"""Challenge mode of the gate loop: the current ``GIDC1:`` challenge written to files (PNG and
text, atomically) and rotated; phones answer it with a ``GIDP1:`` presentation through the same
loop and verdict lines: the current or a still-outstanding earlier challenge is VALID, an answer
shown twice is PRESENTATION_REPLAYED, an answer to a nonce this gate never made is
CHALLENGE_MISMATCH."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.gateworld import ANCHOR, World, make_world, write_anchor
from tests.test_gate_loop_cli import TIMEOUT
from tests.test_gate_loop_cli import Gate as GateProcess
from vcsdk import Ed25519PrivateKey, fixed_clock
from vcsdk.gate.challenge import ChallengeBoard, ChallengeRotator
from vcsdk.gate.fetch import BundleKeeper, FileSource
from vcsdk.gate.loop import GateLoop, run
from vcsdk.holder import decode_challenge, make_key_proof, present, verify_key_proof
from vcsdk.qr import scan
from vcsdk.verify.presentation import PresentationGuard

PHONE = Ed25519PrivateKey(bytes(range(50, 82)))
NOW = 1_780_000_000


def _bound(world: World) -> str:
    proof = make_key_proof(PHONE, audience="a", nonce="n", issued_at=world.now)
    return world.issue(holder=verify_key_proof(proof, audience="a", now=world.now))


def _keeper(tmp_path: Path, world: World, guard: PresentationGuard) -> BundleKeeper:
    bundle = tmp_path / "gate.bundle"
    bundle.write_bytes(world.bundle(1))
    keeper = BundleKeeper(
        [ANCHOR.public_key],
        FileSource(bundle, max_bytes=1 << 20),
        state_dir=tmp_path / "state",
        clock=fixed_clock(world.now),
        presentations=guard,
    )
    keeper.start()
    return keeper


def test_challenge_files_rotate_and_answers_go_through_the_loop(tmp_path: Path) -> None:
    world = make_world(NOW)
    credential = _bound(world)
    keeper = _keeper(tmp_path, world, PresentationGuard("gate-7"))
    png, text = tmp_path / "challenge.png", tmp_path / "challenge.txt"
    board = ChallengeBoard(keeper.gate.challenge, png=png, text=text)
    first = board.rotate()
    shown = text.read_text().strip()
    assert shown == first.to_text() and shown.startswith("GIDC1:")
    assert [code.text for code in scan(png.read_bytes())] == [shown]  # the PNG is that QR
    answer = present(credential, PHONE, now=world.now, challenge=decode_challenge(shown))

    board.rotate()  # a new QR on show; the first nonce is still outstanding
    second_text = text.read_text().strip()
    assert second_text != shown and [code.text for code in scan(png.read_bytes())] == [second_text]
    second = present(credential, PHONE, now=world.now, challenge=decode_challenge(second_text))
    stranger = PresentationGuard("gate-7").challenge(world.now)  # same gate id, a nonce this gate never made
    unknown = present(credential, PHONE, now=world.now, challenge=stranger)
    elsewhere = present(credential, PHONE, now=world.now, challenge=PresentationGuard("gate-8").challenge(world.now))

    lines: list[dict[str, Any]] = []
    loop = GateLoop(keeper.check, lines.append, claims="none")
    summary = run(keeper, loop, texts=[answer, answer, second, unknown, elsewhere], report=lambda _: None)
    assert [line["code"] for line in lines] == [
        "VALID",  # the earlier, still outstanding challenge
        "PRESENTATION_REPLAYED",
        "VALID",  # the current one
        "CHALLENGE_MISMATCH",
        "CHALLENGE_MISMATCH",
    ]
    assert all(line["source"] == "stdin" for line in lines)
    assert summary["verdicts"] == {"CHALLENGE_MISMATCH": 2, "PRESENTATION_REPLAYED": 1, "VALID": 2}
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".")]  # no temporary left behind


def test_answer_to_a_challenge_is_single_use_across_presentations(tmp_path: Path) -> None:
    world = make_world(NOW)
    credential = _bound(world)
    keeper = _keeper(tmp_path, world, PresentationGuard("gate-7"))
    board = ChallengeBoard(keeper.gate.challenge, text=tmp_path / "c.txt")
    board.rotate()
    challenge = decode_challenge((tmp_path / "c.txt").read_text().strip())
    lines: list[dict[str, Any]] = []
    loop = GateLoop(keeper.check, lines.append)
    loop.answer(present(credential, PHONE, now=world.now, challenge=challenge))
    loop.answer(present(credential, PHONE, now=world.now + 1, challenge=challenge))  # another answer, same nonce
    assert [line["code"] for line in lines] == ["VALID", "PRESENTATION_REPLAYED"]


def test_rotator_writes_at_start_and_stops(tmp_path: Path) -> None:
    made: list[int] = []
    guard = PresentationGuard("gate-7")

    def make() -> Any:
        made.append(1)
        return guard.challenge(NOW)

    rotator = ChallengeRotator(ChallengeBoard(make, text=tmp_path / "c.txt"), every=3600)
    rotator.start()
    assert made == [1] and (tmp_path / "c.txt").read_text().startswith("GIDC1:")  # before any scan
    rotator.close()
    assert made == [1]


def _wait_for(path: Path) -> str:
    deadline = time.monotonic() + TIMEOUT
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never written")
        time.sleep(0.05)
    return path.read_text().strip()


def test_cli_challenge_mode_over_stdin(tmp_path: Path) -> None:
    world = make_world()
    credential = _bound(world)
    bundle = tmp_path / "gate.bundle"
    bundle.write_bytes(world.bundle(1))
    anchor = write_anchor(tmp_path)
    text_file, png_file = tmp_path / "c.txt", tmp_path / "c.png"
    gate = GateProcess(
        "--stdin",
        "--bundle",
        str(bundle),
        "--trust-anchor",
        str(anchor),
        "--state",
        str(tmp_path / "s"),
        "--gate-id",
        "gate-7",
        "--challenge-text",
        str(text_file),
        "--challenge-png",
        str(png_file),
        "--challenge-every",
        "3600",
    )
    try:
        gate.stderr_until("gate ok: bundle v1")
        shown = _wait_for(text_file)
        assert [code.text for code in scan(png_file.read_bytes())] == [shown]
        answer = present(credential, PHONE, now=int(time.time()), challenge=decode_challenge(shown))
        unknown = present(
            credential, PHONE, now=int(time.time()), challenge=PresentationGuard("gate-7").challenge(world.now)
        )
        for text, code in [(answer, "VALID"), (answer, "PRESENTATION_REPLAYED"), (unknown, "CHALLENGE_MISMATCH")]:
            gate.send(text)
            line = gate.verdict()
            assert line["code"] == code and line["source"] == "stdin"
        exit_code, summary = gate.stop()
        assert exit_code == 1
        assert summary["verdicts"] == {"CHALLENGE_MISMATCH": 1, "PRESENTATION_REPLAYED": 1, "VALID": 1}
    finally:
        gate.kill()


@pytest.mark.parametrize(
    "extra",
    [["--challenge-text", "c.txt"], ["--gate-id", "g", "--challenge-text", "c.txt", "--workers", "2"]],
)
def test_cli_challenge_usage_errors(tmp_path: Path, extra: list[str]) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "vcsdk_cli.main",
            "gate",
            "run",
            "--stdin",
            "--bundle",
            "b",
            "--trust-anchor",
            "a",
            *extra,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 2 and "USAGE_ERROR" in result.stderr
    assert not (tmp_path / "c.txt").exists()


def test_workers_share_one_replay_book(tmp_path: Path) -> None:
    # any of the workers may verify any line: the same answer sent four times at once, and again
    # after a bundle reload, is VALID once and PRESENTATION_REPLAYED every other time
    world = make_world()
    credential = _bound(world)
    bundle = tmp_path / "gate.bundle"
    bundle.write_bytes(world.bundle(1))
    anchor = write_anchor(tmp_path)
    gate = GateProcess(
        "--stdin", "--bundle", str(bundle), "--trust-anchor", str(anchor), "--state", str(tmp_path / "s"),
        "--workers", "2", "--poll", "3600",
    )  # fmt: skip
    try:
        gate.stderr_until("gate ok: bundle v1")
        answer = present(credential, PHONE, now=int(time.time()))
        other = present(credential, PHONE, now=int(time.time()) + 1)
        for text in [answer] * 4 + [other]:
            gate.send(text)
        codes = [gate.verdict()["code"] for _ in range(5)]
        assert sorted(codes) == ["PRESENTATION_REPLAYED"] * 3 + ["VALID"] * 2
        bundle.write_bytes(world.bundle(2))
        gate.process.send_signal(signal.SIGHUP)
        gate.stderr_until("gate ok: bundle v2")
        gate.send(answer)
        assert gate.verdict()["code"] == "PRESENTATION_REPLAYED"  # the book outlives the reload
        gate.stop()
    finally:
        gate.kill()
