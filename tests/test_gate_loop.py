"""The gate loop's parts through their public API: bundles kept fresh (file, HTTP with ETag and
back-off, persisted floor, fail closed when stale), a generated video with debounce, a folder
of images, hooks."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gateworld import ANCHOR, DAY, BundleServer, World, make_world, phone_video, qr_pixels, replace
from vcsdk import Code, fixed_clock
from vcsdk.errors import UsageError
from vcsdk.gate.fetch import BundleKeeper, FetchFailed, FileSource, HttpSource, max_bundle_bytes
from vcsdk.gate.loop import GateLoop, Hooks
from vcsdk.gate.sources import Frame, folder_images, video_frames
from vcsdk.qr import render_png
from vcsdk.qr.ladder import ScanLadder
from vcsdk.trust.bundle import GatePolicy
from vcsdk.trust.floors import KIND_BUNDLE, STATE_FILE

CAP = max_bundle_bytes()


@pytest.fixture
def world() -> World:
    return make_world()


def _flip_last_bit(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


def _keeper(source: Any, state: Path, world: World, **options: Any) -> BundleKeeper:
    return BundleKeeper([ANCHOR.public_key], source, state_dir=state, clock=fixed_clock(world.now), **options)


# ------------------------------------------------------------------ bundle from a file


def test_file_bundle_replaced_is_picked_up_rollbacks_refused_and_restart_keeps_the_floor(
    tmp_path: Path, world: World
) -> None:
    path, state = tmp_path / "gate.bundle", tmp_path / "state"
    path.write_bytes(world.bundle(1))
    keeper = _keeper(FileSource(path, max_bytes=CAP), state, world)
    assert keeper.start().state == "ok"
    assert keeper.check(world.text).code == Code.VALID
    assert keeper.refresh() is None  # unchanged file: nothing read again

    world.registry.suspend(world.reference)
    replace(path, world.bundle(2))
    assert keeper.refresh() is not None
    assert keeper.check(world.text).code == Code.STATUS_SUSPENDED

    refused = {
        "rolled back": world.bundle(1),
        "same version, other content": world.bundle(2, issued_at=world.now - 30),
        "expired": world.bundle(3, expires_at=world.now - 1),
        "trust list rolled back": world.bundle(4, list_version=0),
        "edited": _flip_last_bit(world.bundle(5)),
    }
    for name, data in refused.items():
        replace(path, data)
        assert keeper.refresh() is None, name
        assert keeper.gate.bundle is not None and keeper.gate.bundle.version == 2, name  # the old one stays
        assert keeper.check(world.text).code == Code.STATUS_SUSPENDED, name
        assert keeper.state().last_error, name
    assert keeper.refusals == len(refused)

    # a restart: a new keeper on the same state folder keeps the floor and the last good bundle
    replace(path, world.bundle(1))
    restarted = _keeper(FileSource(path, max_bytes=CAP), state, world)
    floor = restarted.gate.floors.get(ANCHOR.kid, KIND_BUNDLE)
    assert floor is not None and floor.version == 2
    state_line = restarted.start()
    assert state_line.bundle_version == 2  # started on the saved bundle; the file's v1 refused
    assert "TRUST_LIST_ROLLBACK" in (state_line.last_error or "")
    assert restarted.check(world.text).code == Code.STATUS_SUSPENDED

    world.registry.reinstate(world.reference)
    replace(path, world.bundle(7))
    assert restarted.refresh() is not None
    assert restarted.check(world.text).code == Code.VALID
    assert json.loads((state / STATE_FILE).read_text())  # the shared rollback state, persisted


def test_damaged_floor_file_refuses_to_start(tmp_path: Path, world: World) -> None:
    path, state = tmp_path / "gate.bundle", tmp_path / "state"
    path.write_bytes(world.bundle(1))
    state.mkdir()
    (state / STATE_FILE).write_text("{not json")
    with pytest.raises(UsageError, match="rollback state"):
        _keeper(FileSource(path, max_bytes=CAP), state, world)


def test_stale_bundle_fails_closed_with_a_state_line(tmp_path: Path, world: World) -> None:
    path = tmp_path / "gate.bundle"
    path.write_bytes(world.bundle(1, policy=GatePolicy(max_status_age=3600)))
    clock = {"now": world.now}
    keeper = BundleKeeper(
        [ANCHOR.public_key], FileSource(path, max_bytes=CAP), state_dir=tmp_path / "s", clock=lambda: clock["now"]
    )
    keeper.start()
    assert keeper.check(world.text).code == Code.VALID
    clock["now"] = world.now + 3600  # the bundle's policy says the status lists are too old now
    state = keeper.state()
    assert state.state == "stale" and "STALE" in state.line() and "refusing every scan" in state.line()
    assert keeper.check(world.text).code == Code.GATE_STALE
    assert [r.code for r in keeper.check_many([world.text, "nope"])] == [Code.GATE_STALE] * 2
    world.publish_time[0] = clock["now"] - 10  # the issuer publishes a fresh list
    replace(path, world.bundle(2, issued_at=clock["now"] - 10, expires_at=clock["now"] + DAY))
    keeper.refresh()
    assert keeper.state().state == "ok"
    assert keeper.check(world.text).code == Code.VALID


def test_no_bundle_fails_closed(tmp_path: Path, world: World) -> None:
    keeper = _keeper(FileSource(tmp_path / "missing.bundle", max_bytes=CAP), tmp_path / "s", world)
    state = keeper.start()
    assert state.state == "none" and "NO BUNDLE" in state.line() and state.last_error
    assert keeper.check(world.text).code == Code.GATE_STALE
    assert [r.code for r in keeper.check_many([world.text])] == [Code.GATE_STALE]


# ------------------------------------------------------------------ bundle over HTTP


@pytest.fixture
def server(world: World) -> Iterator[BundleServer]:
    running = BundleServer(world.bundle(1))
    yield running
    running.close()


def test_http_bundle_polled_with_etag_backs_off_offline_and_keeps_the_last_good(
    tmp_path: Path, world: World, server: BundleServer
) -> None:
    ticks = {"t": 0.0}
    source = HttpSource(server.url, max_bytes=CAP, timeout=2)
    keeper = _keeper(source, tmp_path / "s", world, poll_interval=10, max_backoff=80, monotonic=lambda: ticks["t"])
    assert keeper.start().bundle_version == 1
    assert keeper.refresh() is None and server.not_modified == 1  # If-None-Match answered 304
    assert not keeper.due()
    ticks["t"] = 10
    assert keeper.due()

    world.registry.suspend(world.reference)
    server.data = world.bundle(2)
    assert keeper.refresh() is not None
    assert keeper.check(world.text).code == Code.STATUS_SUSPENDED

    server.data = world.bundle(1)  # a rolled-back bundle on the server
    assert keeper.refresh() is None
    assert "TRUST_LIST_ROLLBACK" in (keeper.state().last_error or "")
    assert keeper.check(world.text).code == Code.STATUS_SUSPENDED

    server.close()  # offline: back off, keep answering on the last good bundle
    delays = []
    for _ in range(5):
        before = ticks["t"]
        keeper.refresh()
        ticks["t"] = before
        while not keeper.due():
            ticks["t"] += 1
        delays.append(ticks["t"] - before)
    assert delays == [20, 40, 80, 80, 80]
    assert keeper.check(world.text).code == Code.STATUS_SUSPENDED
    assert keeper.state().state == "ok" and keeper.state().last_error


def test_http_source_caps_the_body_and_refuses_other_schemes(world: World, server: BundleServer) -> None:
    source = HttpSource(server.url, max_bytes=100)
    with pytest.raises(Exception, match="larger than 100"):
        source.fetch()
    with pytest.raises(UsageError):
        HttpSource("file:///etc/passwd", max_bytes=CAP)
    with pytest.raises(FetchFailed):
        HttpSource("http://127.0.0.1:9/none", max_bytes=CAP, timeout=0.5).fetch()


# ------------------------------------------------------------------ the loop


def _no_time() -> float:
    """A ladder clock that never moves: every frame gets every ladder step, so which frames of a
    video decode depends on their pixels, not on how loaded the machine is."""
    return 0.0


def test_generated_video_gives_valid_lines_with_the_right_debounce(tmp_path: Path, world: World) -> None:
    path = tmp_path / "phone.avi"
    phone_video(path, world.text)
    bundle = tmp_path / "gate.bundle"
    bundle.write_bytes(world.bundle(1))
    keeper = _keeper(FileSource(bundle, max_bytes=CAP), tmp_path / "s", world)
    keeper.start()
    lines: list[dict[str, Any]] = []
    loop = GateLoop(keeper.check, lines.append, ladder=ScanLadder(budget=0.2, timer=_no_time), debounce=0.9)
    for frame in video_frames(path):
        loop.scan_frame(frame)
    assert [line["code"] for line in lines] == ["VALID", "VALID"]  # one per presentation, not per frame
    assert lines[0]["source"].startswith("video:phone.avi#")
    assert lines[0]["claims"] == {
        "name": "김민준",
        "agency": "행정안전부",
        "rank": "행정주사",
        "expires": lines[0]["claims"]["expires"],
    }
    assert int(lines[1]["source"].rsplit("#", 1)[1]) >= 25  # the second: after the phone came back
    summary = loop.summary()
    assert summary["frames"] == 40 and summary["verdicts"] == {"VALID": 2}
    assert summary["decoded"] >= 20 and summary["debounced"] == summary["decoded"] - 2

    held: list[dict[str, Any]] = []  # held still for the whole video with a long debounce: one line
    loop = GateLoop(keeper.check, held.append, ladder=ScanLadder(timer=_no_time), debounce=5.0, claims="none")
    for frame in video_frames(path):
        loop.scan_frame(frame)
    assert [line["code"] for line in held] == ["VALID"] and held[0]["claims"] is None


def test_same_text_again_after_the_debounce_and_a_different_qr_at_once(world: World, tmp_path: Path) -> None:
    lines: list[dict[str, Any]] = []
    keeper = _keeper(FileSource(tmp_path / "b", max_bytes=CAP), tmp_path / "s", world)
    (tmp_path / "b").write_bytes(world.bundle(1))
    keeper.start()
    loop = GateLoop(keeper.check, lines.append, ladder=ScanLadder(), debounce=1.0)
    other = world.issue()
    image_a, image_b = qr_pixels(world.text), qr_pixels(other)
    for at, image in [(0.0, image_a), (0.5, image_a), (0.6, image_b), (1.4, image_a), (2.6, image_a)]:
        loop.scan_frame(Frame(image, at, f"t={at}"))
    assert [line["source"] for line in lines] == ["t=0.0", "t=0.6", "t=2.6"]


def test_images_folder_fed_while_watching(tmp_path: Path, world: World) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    stop = threading.Event()
    frames = folder_images(folder, stop=stop, poll=0.02)
    (folder / "a.png").write_bytes(render_png(world.text))
    first = next(frames)
    assert first.origin == "images:a.png"
    (folder / ".partial.png").write_bytes(b"ignored")  # hidden: a writer's temporary name
    (folder / "notes.txt").write_text("ignored")
    (folder / "b.png").write_bytes(b"not a png")
    second = next(frames)
    assert second.origin == "images:b.png"
    stop.set()
    assert list(frames) == []

    keeper = _keeper(FileSource(tmp_path / "bundle", max_bytes=CAP), tmp_path / "s", world)
    (tmp_path / "bundle").write_bytes(world.bundle(1))
    keeper.start()
    lines: list[dict[str, Any]] = []
    loop = GateLoop(keeper.check, lines.append, ladder=ScanLadder())
    for frame in (first, second):
        loop.scan_frame(frame, report_misses=True, debounce=False)
    assert [line["code"] for line in lines] == ["VALID", "IMAGE_INVALID"]


def test_hooks_get_the_verdict_line(tmp_path: Path) -> None:
    out = tmp_path / "relay.log"
    hooks = Hooks(f"sh -c 'cat >> {out}'", None)
    hooks({"valid": True, "code": "VALID"})
    hooks({"valid": False, "code": "SIGNATURE_INVALID"})  # no --on-invalid: nothing runs
    hooks.close()
    assert [json.loads(line)["code"] for line in out.read_text().splitlines()] == ["VALID"]
    assert hooks.started == 1


def test_loop_refuses_bad_settings(world: World) -> None:
    with pytest.raises(UsageError):
        GateLoop(lambda text: None, print, claims="everything")  # type: ignore[arg-type, return-value]
    with pytest.raises(UsageError):
        GateLoop(lambda text: None, print).scan_frame(Frame(None, 0.0, "x"))  # type: ignore[arg-type, return-value]


def test_gate_loop_benchmark_reports_ratios_at_both_resolutions() -> None:
    from benchmarks import gate_loop

    report = gate_loop.run(quick=True)
    assert set(report["resolutions"]) == {"640x480", "1280x720"}
    for row in report["resolutions"].values():
        assert row["loop_time_vs_bare_decoder"] > 0 and row["latency_vs_bare_decoder"] > 0
        assert row["loop_frames_per_second"] > 0 and row["empty_frame_frames_per_second"] > 0


def test_an_over_long_stdin_line_is_cut_and_refused_and_the_next_line_still_answered(
    tmp_path: Path, world: World
) -> None:
    from vcsdk.gate.sources import MAX_LINE_CHARS, text_lines

    stream = io.StringIO("GID1:" + "A" * 1_000_000 + "\n" + world.text + "\n")
    lines = list(text_lines(stream))
    assert len(lines) == 2 and len(lines[0]) == MAX_LINE_CHARS and lines[1] == world.text
    (tmp_path / "b").write_bytes(world.bundle(1))
    keeper = _keeper(FileSource(tmp_path / "b", max_bytes=CAP), tmp_path / "s", world)
    keeper.start()
    assert [keeper.check(line).code for line in lines] == [Code.LIMIT_EXCEEDED, Code.VALID]


def test_cli_defaults_match_the_library() -> None:
    from vcsdk_cli.gate_cmds import CLAIMS_CHOICES, DEFAULT_SCAN_BUDGET_MS

    from vcsdk.gate.loop import CLAIMS_MODES
    from vcsdk.qr.ladder import DEFAULT_BUDGET_SECONDS

    assert CLAIMS_CHOICES == CLAIMS_MODES and DEFAULT_SCAN_BUDGET_MS == DEFAULT_BUDGET_SECONDS * 1000


def test_a_state_folder_that_cannot_be_written_keeps_the_old_bundle_and_says_so(tmp_path: Path, world: World) -> None:
    path, state = tmp_path / "gate.bundle", tmp_path / "state"
    path.write_bytes(world.bundle(1))
    keeper = _keeper(FileSource(path, max_bytes=CAP), state, world)
    assert keeper.start().bundle_version == 1
    state.rename(tmp_path / "moved")
    state.write_text("a file where the state folder should be")  # e.g. a broken mount
    world.registry.suspend(world.reference)
    replace(path, world.bundle(2))
    assert keeper.refresh() is None  # a floor that cannot be persisted is no floor: not swapped in
    line = keeper.state()
    assert line.state == "ok" and line.bundle_version == 1 and "refused" in (line.last_error or "")
    assert keeper.check(world.text).code == Code.VALID  # still the old bundle
    with pytest.raises(UsageError):  # at start, a state path that is not a folder is refused
        _keeper(FileSource(path, max_bytes=CAP), state, world)


def test_a_server_trickling_the_body_cannot_hold_the_poll() -> None:
    ticks = {"t": 0.0}

    class Trickle:
        def __init__(self) -> None:
            self.headers: dict[str, str] = {}

        def read(self, size: int) -> bytes:
            ticks["t"] += 5.0  # every chunk "takes" five seconds
            return b"x"

        def __enter__(self) -> Trickle:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

    source = HttpSource(
        "https://gate.example/bundle",
        max_bytes=CAP,
        timeout=10,
        opener=lambda r, t: Trickle(),
        monotonic=lambda: ticks["t"],
    )
    with pytest.raises(FetchFailed, match="not received within 30"):
        source.fetch()
    assert ticks["t"] <= 35


def test_hooks_never_pile_up_and_are_cleaned_up() -> None:
    from vcsdk.gate.loop import MAX_HOOKS_RUNNING

    hooks = Hooks(None, "sleep 30")
    for _ in range(MAX_HOOKS_RUNNING + 2):
        hooks({"valid": False, "code": "SIGNATURE_INVALID"})
    assert (hooks.started, hooks.skipped) == (MAX_HOOKS_RUNNING, 2)
    hooks.close(timeout=0.1)  # still running: killed, none left behind
    missing = Hooks("/nonexistent/relay", None)
    missing({"valid": True, "code": "VALID"})
    assert missing.skipped == 1


def test_texts_read_together_are_answered_in_order_with_one_flush(world: World, tmp_path: Path) -> None:
    lines: list[dict[str, Any]] = []
    flushed: list[int] = []
    keeper = _keeper(FileSource(tmp_path / "b", max_bytes=CAP), tmp_path / "s", world)
    (tmp_path / "b").write_bytes(world.bundle(1))
    keeper.start()
    loop = GateLoop(keeper.check, lines.append, flush=lambda: flushed.append(len(lines)))
    answered = loop.answer_many([world.text, "nope", world.text])
    assert [line["code"] for line in answered] == ["VALID", "INVALID_SCHEME_PREFIX", "VALID"] and answered == lines
    assert flushed == [3]  # one flush, after the batch's three lines
    loop.answer("nope")
    assert flushed == [3, 4]
    assert loop.summary()["verdicts"] == {"INVALID_SCHEME_PREFIX": 2, "VALID": 2}


def test_texts_read_together_go_through_the_batch_api(world: World, tmp_path: Path) -> None:
    """With ``check_many`` (as ``gate run --stdin`` passes it), a batch of lines is one call of the
    keeper's batch API (one batch of signatures), with the same verdicts in order and one flush."""
    keeper = _keeper(FileSource(tmp_path / "b", max_bytes=CAP), tmp_path / "s", world)
    (tmp_path / "b").write_bytes(world.bundle(1))
    keeper.start()
    batches: list[list[str]] = []

    def check_many(texts: list[str]) -> list[Any]:
        batches.append(texts)
        return keeper.check_many(texts)

    lines: list[dict[str, Any]] = []
    flushed: list[int] = []
    loop = GateLoop(keeper.check, lines.append, flush=lambda: flushed.append(len(lines)), check_many=check_many)
    texts = [world.text, "nope", world.text]
    answered = loop.answer_many(iter(texts))
    assert batches == [texts] and flushed == [3] and answered == lines
    expected = [keeper.check(text).code for text in texts]
    assert [line["code"] for line in answered] == [str(code) for code in expected]
    assert [line["code"] for line in answered] == ["VALID", "INVALID_SCHEME_PREFIX", "VALID"]
    short = GateLoop(keeper.check, lines.append, check_many=lambda texts: [])
    with pytest.raises(UsageError, match="one result per text"):
        short.answer_many(["nope"])


@pytest.mark.parametrize("mode", ["none", "minimal", "all"])
def test_shown_claims_of_an_official_id_match_its_json_claims(world: World, tmp_path: Path, mode: str) -> None:
    from vcsdk.clock import format_time
    from vcsdk.gate.loop import shown_claims

    keeper = _keeper(FileSource(tmp_path / "b", max_bytes=CAP), tmp_path / "s", world)
    (tmp_path / "b").write_bytes(world.bundle(1))
    keeper.start()
    result = keeper.check(world.text)
    assert result.valid and result.credential is not None
    everything = result.credential.claims_json()
    expected = {
        "none": None,
        "minimal": {k: everything[k] for k in ("name", "agency", "rank")}
        | {"expires": format_time(result.credential.expires_at)},
        "all": everything,
    }[mode]
    shown = shown_claims(result, mode)
    assert shown == expected and json.dumps(shown, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)
