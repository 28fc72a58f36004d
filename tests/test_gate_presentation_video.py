"""The gate loop on a generated video of a phone showing a device-bound credential's presentation
QR (GIDP1:): a fresh presentation is VALID once however many frames show it (debounce); the phone
taken away and shown again with the SAME presentation is a replay; a refreshed presentation (what
the wallet shows every few seconds) is VALID again; the bare credential is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.gateworld import ANCHOR, World, make_world, phone_video
from vcsdk import Ed25519PrivateKey, fixed_clock
from vcsdk.gate.fetch import BundleKeeper, FileSource, max_bundle_bytes
from vcsdk.gate.loop import GateLoop
from vcsdk.gate.sources import video_frames
from vcsdk.holder import make_key_proof, present, verify_key_proof
from vcsdk.qr.ladder import ScanLadder

AUDIENCE = "https://id.mois.go.kr"


def _bound(world: World, phone: Ed25519PrivateKey) -> str:
    proof = make_key_proof(phone, audience=AUDIENCE, nonce="n-1", issued_at=world.now - 60)
    return world.issue(holder=verify_key_proof(proof, audience=AUDIENCE, now=world.now - 60))


def _codes(loop_lines: list[dict[str, Any]]) -> list[str]:
    return [str(line["code"]) for line in loop_lines]


def test_a_presentation_video_is_valid_once_replayed_when_shown_again_and_valid_when_refreshed(
    tmp_path: Path,
) -> None:
    world = make_world()
    phone = Ed25519PrivateKey.generate()
    credential = _bound(world, phone)
    bundle = tmp_path / "gate.bundle"
    bundle.write_bytes(world.bundle(1))
    keeper = BundleKeeper(
        [ANCHOR.public_key],
        FileSource(bundle, max_bytes=max_bundle_bytes()),
        state_dir=tmp_path / "state",
        clock=fixed_clock(world.now),
    )
    keeper.start()

    shown = present(credential, phone, now=world.now)
    first = tmp_path / "first.avi"
    phone_video(first, shown)  # shown, taken away for a second, shown again: the same screen
    lines: list[dict[str, Any]] = []
    loop = GateLoop(
        keeper.check,
        lines.append,
        ladder=ScanLadder(budget=0.2, timer=lambda: 0.0),
        debounce=0.9,
        # a ladder clock that never moves: every step on every frame, so pixels decide, not load
    )
    for frame in video_frames(first):
        loop.scan_frame(frame)
    # one verdict per appearance, not per frame; the second appearance is the same presentation
    assert _codes(lines) == ["VALID", "PRESENTATION_REPLAYED"]
    assert lines[0]["claims"]["name"] == "김민준"

    refreshed = tmp_path / "refreshed.avi"
    phone_video(refreshed, present(credential, phone, now=world.now + 1))  # the wallet's next QR
    lines.clear()
    for frame in video_frames(refreshed):
        loop.scan_frame(frame)
    assert _codes(lines)[0] == "VALID"

    bare = tmp_path / "bare.avi"
    phone_video(bare, credential)  # a screenshot of the credential itself
    lines.clear()
    for frame in video_frames(bare):
        loop.scan_frame(frame)
    assert set(_codes(lines)) == {"PRESENTATION_REQUIRED"}
