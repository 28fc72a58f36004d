"""Defects a hostile review found in the compiled fast lane (against the reference Verifier) and
in the gate's replay book; every test here failed before its fix, and each names the defect."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import cbor2
import pytest

from tests.conftest import lane_flag
from tests.test_presentation import BOUND, GATE, ISSUER, PHONE, T, _checker
from vcsdk import Code, Verifier, fixed_clock
from vcsdk.codec import cose, qrtext
from vcsdk.errors import UsageError, VCError
from vcsdk.gate.replays import REPLAY_FILE, ReplayBook
from vcsdk.holder import present
from vcsdk.holder.presentation import PRESENTATION_PREFIX, Presentation, credential_bytes
from vcsdk.limits import Limits
from vcsdk.verify import FastVerifier
from vcsdk.verify.presentation import PresentationGuard

CREDENTIAL = credential_bytes(BOUND)


def _signed(payload: dict[Any, Any]) -> str:
    """A presentation whose payload map is exactly ``payload``, signed by the phone's device key."""
    return qrtext.pack(cose.sign1(cbor2.dumps(payload), {1: -8}, PHONE.sign), PRESENTATION_PREFIX)


def _make(lane: str) -> Verifier | FastVerifier:
    verifier = Verifier(
        [ISSUER.public_key], clock=fixed_clock(T), status=_checker(), presentations=PresentationGuard(GATE)
    )
    return verifier if lane == "reference" else FastVerifier(verifier, compiled=lane_flag(lane))


@pytest.mark.parametrize("lane", ["reference", "pure", "compiled"])
@pytest.mark.parametrize(
    "payload",
    [
        {1: CREDENTIAL, 2: T, 3: None},  # key 3 without key 4
        {1: CREDENTIAL, 2: T, 4: None},  # key 4 without key 3
        {1: CREDENTIAL, 2: T, 3: None, 4: None},  # challenge keys present, null values
        {True: CREDENTIAL, 2: T},  # a non-integer key (true == 1 in Python)
        {1.0: CREDENTIAL, 2: T},  # a non-integer key (1.0 == 1 in Python)
    ],
    ids=["nonce-null", "gate-null", "both-null", "key-true", "key-1.0"],
)
def test_malformed_presentation_payload_is_claims_invalid_on_every_lane(lane: str, payload: dict[Any, Any]) -> None:
    """The module text: keys 3 and 4 come together (nonce bstr 16, gate tstr), unknown keys refused.
    Both fast lanes accept the first two (the reference says CLAIMS_INVALID); every lane accepts the
    last three."""
    assert _make(lane).check(_signed(payload)).code == Code.CLAIMS_INVALID


def test_limits_above_the_c_buffers_take_the_pure_lane_instead_of_failing() -> None:
    """fastlane.h: 'larger limits: the pure lane'; but the default (auto) lane raises USAGE_ERROR,
    so a gate or verifier with such limits works only under VCSDK_PURE=1."""
    lane_flag("compiled")
    big = Limits(max_inflated_bytes=32 * 1024 * 1024)
    fast = FastVerifier(Verifier([ISSUER.public_key], clock=fixed_clock(T), limits=big))
    assert not fast.compiled
    with pytest.raises(UsageError, match="16 MiB"):  # asked for explicitly: said, not silently pure
        FastVerifier(Verifier([ISSUER.public_key], clock=fixed_clock(T), limits=big), compiled=True)


def _answer(i: int) -> Presentation:
    return Presentation(b"c", T, None, None, b"tbs", bytes([i]) * 64)


def test_two_gates_without_gate_id_in_one_folder_do_not_lose_each_others_book(tmp_path: Path) -> None:
    """Two gates without --gate-id sharing a state folder (the default one is per user) write the
    same presentations.json: the last writer wins, and gate A's accepted presentation passes again
    after A restarts."""
    first, second = PresentationGuard(), PresentationGuard()
    book_a, book_b = ReplayBook(tmp_path, first, lambda: T), ReplayBook(tmp_path, second, lambda: T)
    book_a.load(), book_b.load()
    first.check_and_record(_answer(1), T, 60)
    book_a.save(force=True)
    second.check_and_record(_answer(2), T, 60)
    book_b.save(force=True)
    restarted = PresentationGuard()
    try:
        ReplayBook(tmp_path, restarted, lambda: T).load()
    except VCError:
        return  # refusing a shared book is a fix too
    with pytest.raises(VCError):
        restarted.check_and_record(_answer(1), T, 60)


def test_a_wider_leeway_in_a_new_bundle_does_not_reopen_the_replay_window() -> None:
    """The guard forgets an answer at its time + the lifetime in force when it was accepted; the
    gate keeps its guard across bundles, and a bundle with a larger leeway widens the freshness
    window past that: the same presentation is VALID again."""
    guard = PresentationGuard(GATE)
    answer = present(BOUND, PHONE, now=T)
    old = Verifier([ISSUER.public_key], clock=fixed_clock(T), status=_checker(), presentations=guard, leeway=0)
    assert old.check(answer).code == Code.VALID
    new = Verifier([ISSUER.public_key], clock=fixed_clock(T), status=_checker(), presentations=guard, leeway=300)
    assert new.check(answer, T + 100).code == Code.PRESENTATION_REPLAYED


def test_a_fifo_in_place_of_the_book_is_file_error_not_a_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / REPLAY_FILE)
    outcome: list[str] = []

    def load() -> None:
        try:
            ReplayBook(tmp_path, PresentationGuard(), lambda: T).load()
            outcome.append("loaded")
        except VCError as exc:
            outcome.append(str(exc.code))

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(3)
    hung = thread.is_alive()
    if hung:  # unblock the reader so the thread ends
        with open(tmp_path / REPLAY_FILE, "wb"):
            pass
        thread.join(3)
    assert not hung and outcome == ["FILE_ERROR"]


class _SlowSource:
    """A keeper whose bundle poll hangs (a server trickling bytes, a DNS lookup without timeout)."""

    def __init__(self) -> None:
        self.saves: list[float] = []
        self.release = threading.Event()

    def due(self) -> bool:
        return True

    def refresh(self, force: bool = False) -> None:
        self.release.wait(10)

    def state(self) -> Any:
        class State:
            state, bundle_version, last_error = "ok", 1, None

            def line(self) -> str:
                return "ok"

        return State()

    def save_replays(self, force: bool = False) -> None:
        self.saves.append(time.monotonic())


def test_a_hanging_bundle_poll_does_not_stop_the_replay_book_saves() -> None:
    """docs/gate.md: 'a crash loses at most the last 2 s'. The book is saved by the poller thread
    between polls, and a poll may take 3 x 10 s (or hang in DNS): meanwhile nothing is saved."""
    from vcsdk.gate.loop import Poller

    keeper = _SlowSource()
    poller = Poller(keeper, lambda _: None, tick=0.05)  # type: ignore[arg-type]
    poller.start()
    try:
        time.sleep(3)
        saved_recently = any(time.monotonic() - at < 2.5 for at in keeper.saves)
    finally:
        keeper.release.set()
        poller.close()
    assert saved_recently
