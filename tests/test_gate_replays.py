"""The gate's replay book survives a restart: a presentation accepted before the gate restarted is
PRESENTATION_REPLAYED after it, an outstanding challenge can still be answered once, and a damaged
or foreign book stops the gate (FILE_ERROR) instead of being reset silently."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.gateworld import World, make_world, write_anchor
from tests.test_gate_challenge import PHONE, _bound, _keeper
from tests.test_gate_loop_cli import Gate as GateProcess
from vcsdk.errors import FileError
from vcsdk.gate.loop import GateLoop, run
from vcsdk.gate.replays import REPLAY_FILE, ReplayBook, decode_book, encode_book, replay_file_name
from vcsdk.holder import present
from vcsdk.verify.presentation import PresentationGuard

NOW = 1_780_000_000
GATE7 = replay_file_name("gate-7")


def _codes(keeper: Any, texts: list[str]) -> list[str]:
    lines: list[dict[str, Any]] = []
    run(keeper, GateLoop(keeper.check, lines.append, claims="none"), texts=texts, report=lambda _: None)
    return [line["code"] for line in lines]


def test_a_restarted_gate_still_refuses_what_it_accepted_before(tmp_path: Path) -> None:
    world = make_world(NOW)
    credential = _bound(world)
    answer = present(credential, PHONE, now=world.now)
    first = _keeper(tmp_path, world, PresentationGuard("gate-7"))
    challenge = first.gate.challenge()  # shown on the display, answered only after the restart
    assert _codes(first, [answer]) == ["VALID"]  # run() writes the book at the end
    book = tmp_path / "state" / GATE7
    assert book.stat().st_mode & 0o777 == 0o600
    saved = json.loads(book.read_text())
    assert saved["gate_id"] == "gate-7" and len(saved["seen"]) == 1 and len(saved["nonces"]) == 1

    second = _keeper(tmp_path, world, PresentationGuard("gate-7"))  # start() loads the book
    late = present(credential, PHONE, now=world.now, challenge=challenge)
    assert _codes(second, [answer, late, late]) == ["PRESENTATION_REPLAYED", "VALID", "PRESENTATION_REPLAYED"]

    third = _keeper(tmp_path, world, PresentationGuard("gate-7"))
    assert _codes(third, [late, answer]) == ["PRESENTATION_REPLAYED", "PRESENTATION_REPLAYED"]


def test_without_the_book_the_restart_would_accept_the_replay(tmp_path: Path) -> None:
    # the control: the same restart with the file removed accepts the presentation again
    world = make_world(NOW)
    answer = present(_bound(world), PHONE, now=world.now)
    assert _codes(_keeper(tmp_path, world, PresentationGuard("gate-7")), [answer]) == ["VALID"]
    (tmp_path / "state" / GATE7).unlink()
    assert _codes(_keeper(tmp_path, world, PresentationGuard("gate-7")), [answer]) == ["VALID"]


def test_expired_entries_are_dropped_on_load(tmp_path: Path) -> None:
    world = make_world(NOW)
    guard = PresentationGuard("gate-7")
    answer = present(_bound(world), PHONE, now=world.now)
    assert _codes(_keeper(tmp_path, world, guard), [answer]) == ["VALID"]
    saved = decode_book((tmp_path / "state" / GATE7).read_bytes(), "gate-7")
    (presented,) = [when for _, when in saved.seen]
    assert saved.lifetime == 2 * (30 + 60) and presented == world.now  # window 30 s, the bundle's leeway 60 s
    forget_after = presented + saved.lifetime
    later = PresentationGuard("gate-7")
    book = ReplayBook(tmp_path / "state", later, lambda: forget_after + 1)
    book.load()
    assert later.export(0) == ([], [])  # the replay entry was past its time: not restored
    assert book.load() == 0


def _book(**fields: Any) -> bytes:
    document = {
        "format": "vcsdk-replay-book",
        "version": 1,
        "gate_id": "gate-7",
        "lifetime": 60,
        "seen": [],
        "nonces": [],
    }
    return json.dumps({**document, **fields}).encode()


DAMAGED = {
    "json": b"{not json",
    "not-object": b"[]",
    "version": _book(version=2),
    "other-gate": _book(gate_id="gate-8"),  # a hash collision, or a file copied from another gate
    "no-gate": _book(gate_id=None),
    "hex": _book(seen=[["zz", 1]]),
    "negative": _book(seen=[["00" * 32, -1]]),
    "short-row": _book(seen=[["00" * 32]]),
    "no-lifetime": _book(lifetime=None),
    "lifetime-text": _book(lifetime="60"),
    "answered-not-bool": _book(nonces=[["00" * 16, 1, 1]]),
    "seen-map": _book(seen={}),
    "utf8": b"\xff\xfe",
    "deep": b"[" * 100_000,
}


@pytest.mark.parametrize("content", DAMAGED.values(), ids=DAMAGED.keys())
def test_a_damaged_or_foreign_book_stops_the_gate(tmp_path: Path, content: bytes) -> None:
    world = make_world(NOW)
    state = tmp_path / "state"
    state.mkdir()
    (state / GATE7).write_bytes(content)
    with pytest.raises(FileError, match=r"replay book .* refusing to start without it"):
        _keeper(tmp_path, world, PresentationGuard("gate-7"))
    assert (state / GATE7).read_bytes() == content  # never reset silently


def test_the_book_is_written_only_when_it_changed_and_at_most_every_period(tmp_path: Path) -> None:
    world = make_world(NOW)
    guard = PresentationGuard("gate-7")
    ticks = [0.0]
    book = ReplayBook(tmp_path, guard, lambda: world.now, every=5.0, monotonic=lambda: ticks[0])
    assert book.save() is False  # nothing happened yet
    guard.challenge(world.now)
    assert book.save() is True
    guard.challenge(world.now)
    ticks[0] = 4.0
    assert book.save() is False  # changed, but written 4 s ago
    assert book.save(force=True) is True  # shutdown
    ticks[0] = 100.0
    assert book.save() is False  # nothing new since
    assert len(decode_book((tmp_path / GATE7).read_bytes(), "gate-7").nonces) == 2


def test_a_guard_without_gate_id_keeps_replays_but_no_nonces(tmp_path: Path) -> None:
    world = make_world(NOW)
    maker = PresentationGuard("gate-7")
    maker.challenge(world.now)
    saved = decode_book(encode_book(maker, world.now), "gate-7")
    plain = PresentationGuard()
    plain.absorb([(b"\x01" * 32, world.now - 10)], saved.nonces, world.now, 60)
    assert plain.export(world.now) == ([(b"\x01" * 32, world.now - 10)], []) and plain.lifetime == 60
    assert saved.seen == []


def test_absorb_keeps_capacity_and_the_newest_entries(tmp_path: Path) -> None:
    guard = PresentationGuard(replay_capacity=3)
    saved = [(bytes([n]) * 32, NOW - n) for n in range(5)]
    guard.absorb(saved, [], NOW, 60)
    assert [digest[0] for digest, _ in guard.export(NOW)[0]] == [2, 3, 4]


def _wait_for_file(path: Path) -> None:
    deadline = time.monotonic() + 30
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.05)


def test_cli_gate_restart_keeps_the_replay_book(tmp_path: Path) -> None:
    world: World = make_world()
    credential = _bound(world)
    bundle = tmp_path / "gate.bundle"
    bundle.write_bytes(world.bundle(1))
    anchor = write_anchor(tmp_path)
    args = ("--stdin", "--bundle", str(bundle), "--trust-anchor", str(anchor), "--state", str(tmp_path / "s"))
    answer = present(credential, PHONE, now=int(time.time()))
    for expected in ["VALID", "PRESENTATION_REPLAYED"]:
        gate = GateProcess(*args)
        try:
            gate.stderr_until("gate ok: bundle v1")
            gate.send(answer)
            assert gate.verdict()["code"] == expected
            if expected == "VALID":
                _wait_for_file(tmp_path / "s" / REPLAY_FILE)  # written within ~2 s, not only at exit
                os.kill(gate.process.pid, 9)  # a crash, not a clean stop: the book is already on disk
                gate.process.wait(30)
            else:
                gate.stop()
        finally:
            gate.kill()


def test_each_gate_id_has_its_own_file_in_a_shared_state_folder(tmp_path: Path) -> None:
    world = make_world(NOW)
    answer = present(_bound(world), PHONE, now=world.now)
    assert _codes(_keeper(tmp_path, world, PresentationGuard("gate-7")), [answer]) == ["VALID"]
    assert _codes(_keeper(tmp_path, world, PresentationGuard("gate-8")), [answer]) == ["VALID"]  # another gate
    assert _codes(_keeper(tmp_path, world, PresentationGuard()), [answer]) == ["VALID"]
    names = sorted(path.name for path in (tmp_path / "state").glob("presentations*.json"))
    assert names == sorted([GATE7, replay_file_name("gate-8"), REPLAY_FILE]) and len(set(names)) == 3
    assert _codes(_keeper(tmp_path, world, PresentationGuard("gate-8")), [answer]) == ["PRESENTATION_REPLAYED"]
