"""``vcsdk gate run`` as a process: stdin answered line by line (with workers too), an images
folder fed while it runs, SIGHUP reloads, SIGTERM prints the summary and exits cleanly."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from tests.gateworld import BundleServer, World, make_world, phone_video, replace, write_anchor
from vcsdk.qr import render_png

TIMEOUT = 60.0  # generous: the machine is shared; nothing asserts on time


class Gate:
    """A running ``vcsdk gate run`` with line readers on stdout and stderr."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vcsdk_cli.main", "gate", "run", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.out: queue.Queue[str] = queue.Queue()
        self.err: queue.Queue[str] = queue.Queue()
        self.err_lines: list[str] = []
        for stream, target in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, target), daemon=True).start()

    @staticmethod
    def _pump(stream: IO[str] | None, target: queue.Queue[str]) -> None:
        assert stream is not None
        for line in stream:
            target.put(line)

    def send(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def verdict(self) -> dict[str, Any]:
        try:
            line = self.out.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"no verdict line; stderr: {self.stderr_text()}") from None
        result: dict[str, Any] = json.loads(line)
        return result

    def stderr_until(self, needle: str) -> str:
        while True:
            try:
                line = self.err.get(timeout=TIMEOUT)
            except queue.Empty:
                raise AssertionError(f"no {needle!r} on stderr: {self.err_lines}") from None
            self.err_lines.append(line)
            if needle in line:
                return line

    def stderr_text(self) -> str:
        while not self.err.empty():
            self.err_lines.append(self.err.get())
        return "".join(self.err_lines)

    def stop(self) -> tuple[int, dict[str, Any]]:
        """SIGTERM; the exit code and the summary line."""
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=TIMEOUT)
        summary = self.stderr_until('"event": "summary"')
        return code, json.loads(summary)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def provisioned(tmp_path: Path, world: World) -> tuple[Path, Path]:
    bundle = tmp_path / "gate.bundle"
    bundle.write_bytes(world.bundle(1))
    return bundle, write_anchor(tmp_path)


@pytest.fixture
def gates() -> Iterator[list[Gate]]:
    running: list[Gate] = []
    yield running
    for gate in running:
        gate.kill()


@pytest.mark.parametrize("workers", [1, 2])
def test_stdin_answers_each_line_before_the_next_arrives(
    tmp_path: Path, world: World, provisioned: tuple[Path, Path], gates: list[Gate], workers: int
) -> None:
    bundle, anchor = provisioned
    gate = Gate(
        "--stdin",
        "--bundle",
        str(bundle),
        "--trust-anchor",
        str(anchor),
        "--state",
        str(tmp_path / "s"),
        "--workers",
        str(workers),
    )
    gates.append(gate)
    gate.stderr_until("gate ok: bundle v1")
    # the pipe stays open and waits: each answer must come before the next line is written
    for text, code in [(world.text, "VALID"), ("GID1:garbage", "BASE45_DECODING_FAILED"), (world.text, "VALID")]:
        gate.send(text)
        line = gate.verdict()
        assert line["code"] == code and line["source"] == "stdin"
    assert line["claims"] is not None and set(line["claims"]) == {"name", "agency", "rank", "expires"}
    exit_code, summary = gate.stop()
    assert exit_code == 1  # one line was not valid
    assert summary["verdicts"] == {"BASE45_DECODING_FAILED": 1, "VALID": 2}
    assert summary["reason"] == "SIGTERM" and summary["bundle_version"] == 1 and summary["state"] == "ok"
    assert isinstance(summary["bundle_age"], int) and "frames_per_second" in summary


def test_sighup_reloads_the_bundle_and_rollback_is_refused(
    tmp_path: Path, world: World, provisioned: tuple[Path, Path], gates: list[Gate]
) -> None:
    bundle, anchor = provisioned
    state = tmp_path / "s"
    gate = Gate(
        "--stdin",
        "--bundle",
        str(bundle),
        "--trust-anchor",
        str(anchor),
        "--state",
        str(state),
        "--poll",
        "3600",
        "--workers",
        "2",
    )
    gates.append(gate)
    gate.stderr_until("gate ok: bundle v1")
    gate.send(world.text)
    assert gate.verdict()["code"] == "VALID"
    world.registry.suspend(world.reference)
    replace(bundle, world.bundle(2))
    gate.process.send_signal(signal.SIGHUP)  # the poll interval is an hour: only SIGHUP reloads now
    gate.stderr_until("gate ok: bundle v2")
    gate.send(world.text)
    assert gate.verdict()["code"] == "STATUS_SUSPENDED"  # the workers took the new bundle too
    replace(bundle, world.bundle(1))
    gate.process.send_signal(signal.SIGHUP)
    assert "TRUST_LIST_ROLLBACK" in gate.stderr_until("refused")
    gate.send(world.text)
    assert gate.verdict()["code"] == "STATUS_SUSPENDED"
    _, summary = gate.stop()
    assert summary["bundle_reloads"] == 2 and summary["bundle_refusals"] == 1
    # a restart keeps the floor: the v1 file is refused, the saved v2 is in force
    restarted = Gate("--stdin", "--bundle", str(bundle), "--trust-anchor", str(anchor), "--state", str(state))
    gates.append(restarted)
    assert "TRUST_LIST_ROLLBACK" in restarted.stderr_until("gate ok: bundle v2")
    restarted.send(world.text)
    assert restarted.verdict()["code"] == "STATUS_SUSPENDED"
    restarted.stop()


def test_images_folder_fed_while_running_with_hook(
    tmp_path: Path, world: World, provisioned: tuple[Path, Path], gates: list[Gate]
) -> None:
    bundle, anchor = provisioned
    folder, relay = tmp_path / "in", tmp_path / "relay.log"
    folder.mkdir()
    gate = Gate(
        "--images",
        str(folder),
        "--bundle",
        str(bundle),
        "--trust-anchor",
        str(anchor),
        "--state",
        str(tmp_path / "s"),
        "--on-valid",
        f"sh -c 'cat >> {relay}'",
        "--claims",
        "none",
    )
    gates.append(gate)
    gate.stderr_until("gate ok: bundle v1")
    replace(folder / "one.png", render_png(world.text))
    first = gate.verdict()
    assert first["code"] == "VALID" and first["source"] == "images:one.png" and first["claims"] is None
    replace(folder / "two.png", render_png("GID1:NOT A CREDENTIAL"))
    assert gate.verdict()["code"] == "BASE45_DECODING_FAILED"
    replace(folder / "three.png", b"\x89PNG broken")
    assert gate.verdict()["code"] == "IMAGE_INVALID"
    exit_code, summary = gate.stop()
    assert exit_code == 1 and summary["frames"] == 3
    assert [json.loads(line)["code"] for line in relay.read_text().splitlines()] == ["VALID"]


def test_stale_bundle_fails_closed_on_the_command_line(
    tmp_path: Path, world: World, provisioned: tuple[Path, Path], gates: list[Gate]
) -> None:
    bundle, anchor = provisioned
    later = str(world.now + 4 * 86400)  # past the bundle's exp: refused at load, nothing in force
    gate = Gate(
        "--stdin", "--bundle", str(bundle), "--trust-anchor", str(anchor), "--state", str(tmp_path / "s"), "--at", later
    )
    gates.append(gate)
    assert "NO BUNDLE" in gate.stderr_until("refusing every scan")
    gate.send(world.text)
    assert gate.verdict()["code"] == "GATE_STALE"
    gate.stop()


def test_usage_errors_exit_2(tmp_path: Path, provisioned: tuple[Path, Path]) -> None:
    bundle, anchor = provisioned
    for args in (
        ["--stdin", "--images", str(tmp_path)],  # two sources
        ["--stdin"],  # no bundle
        ["--stdin", "--bundle", str(bundle)],  # no anchor
        [
            "--video",
            str(tmp_path / "none.avi"),
            "--bundle",
            str(bundle),
            "--trust-anchor",
            str(anchor),
            "--state",
            str(tmp_path / "s"),
        ],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "vcsdk_cli.main", "gate", "run", *args],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr and "USAGE_ERROR" in result.stderr


def test_bundle_url_polled_and_a_new_bundle_picked_up_without_a_signal(
    tmp_path: Path, world: World, gates: list[Gate]
) -> None:
    server = BundleServer(world.bundle(1))
    try:
        anchor = write_anchor(tmp_path)
        gate = Gate(
            "--stdin",
            "--bundle-url",
            server.url,
            "--trust-anchor",
            str(anchor),
            "--state",
            str(tmp_path / "s"),
            "--poll",
            "0.2",
            "--timeout",
            "5",
        )
        gates.append(gate)
        gate.stderr_until("gate ok: bundle v1")
        gate.send(world.text)
        assert gate.verdict()["code"] == "VALID"
        deadline = time.monotonic() + TIMEOUT
        while server.not_modified < 1 and time.monotonic() < deadline:  # a poll answered 304 first
            time.sleep(0.05)
        assert server.not_modified >= 1
        world.registry.suspend(world.reference)
        server.data = world.bundle(2)
        gate.stderr_until("gate ok: bundle v2")
        gate.send(world.text)
        assert gate.verdict()["code"] == "STATUS_SUSPENDED"
        gate.stop()
    finally:
        server.close()


def test_video_source_end_to_end(tmp_path: Path, world: World, provisioned: tuple[Path, Path]) -> None:
    bundle, anchor = provisioned
    video = tmp_path / "phone.avi"
    phone_video(video, world.text)
    result = subprocess.run(
        [sys.executable, "-m", "vcsdk_cli.main", "gate", "run", "--video", str(video), "--bundle", str(bundle),
         "--trust-anchor", str(anchor), "--state", str(tmp_path / "s"), "--debounce", "0.9", "--claims", "none",
         "--scan-budget", "60000"],  # every ladder step on every frame: the verdicts depend on pixels, not on load
        capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 0, result.stderr
    assert [line["code"] for line in lines] == ["VALID", "VALID"]
    assert [int(line["source"].rsplit("#", 1)[1]) >= 25 for line in lines] == [False, True]  # before and after
    summary = json.loads(result.stderr.strip().splitlines()[-1])
    assert summary["frames"] == 40 and summary["reason"] == "end of input"
