"""A small provisioned world for the gate-loop tests: an anchor, an issuer, a status registry,
and signed bundles made at the real time (the CLI and its workers read the system clock)."""

from __future__ import annotations

import http.server
import io
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tests.conftest import reference_claims
from vcsdk import Ed25519PrivateKey, Issuer, StatusReference, TrustedKey, fixed_clock
from vcsdk.qr import render_png
from vcsdk.revocation import MemoryStatusStore, RegistryConfig, StatusRegistry
from vcsdk.trust.bundle import GatePolicy, build_bundle
from vcsdk.trust.trustlist import TrustList, sign_trust_list

DAY = 86400
ANCHOR = Ed25519PrivateKey(bytes(range(100, 132)))
ISSUING = Ed25519PrivateKey(bytes(range(200, 232)))


@dataclass
class World:
    now: int
    publish_time: list[int]
    """The status registry's clock (one mutable cell): lists are published as of this time."""
    registry: StatusRegistry
    reference: StatusReference
    text: str

    def bundle(self, version: int, *, list_version: int = 1, **options: Any) -> bytes:
        """A bundle with the current status list, signed by the anchor."""
        token = self.registry.publish(self.reference.uri, ISSUING)
        keys = (TrustedKey(ISSUING.public_key, issuer="KR-MOIS", not_before=self.now - 10 * DAY),)
        signed = sign_trust_list(TrustList(list_version, self.now - DAY, self.now + 30 * DAY, keys), ANCHOR)
        settings: dict[str, Any] = {
            "version": version,
            "issued_at": self.now - 60,
            "expires_at": self.now + 2 * DAY,
            "policy": GatePolicy(),
        }
        settings.update(options)
        return build_bundle(signed, [token], ANCHOR, **settings)

    def issue(self, **options: Any) -> str:
        issuer = Issuer(ISSUING, "KR-MOIS", clock=fixed_clock(self.now - 60))
        return issuer.issue(reference_claims(), status=self.registry.allocate(), **options).qr_text


def make_world(now: int | None = None) -> World:
    now = int(time.time()) if now is None else now
    cell = [now - 120]
    registry = StatusRegistry.create(
        MemoryStatusStore(), RegistryConfig("https://id.mois.go.kr/sl/{n}", first=7), clock=lambda: cell[0]
    )
    reference = registry.allocate()
    text = Issuer(ISSUING, "KR-MOIS", clock=fixed_clock(now - 60)).issue(reference_claims(), status=reference).qr_text
    return World(now, cell, registry, reference, text)


def write_anchor(folder: Path) -> Path:
    path = folder / "anchor.pub.pem"
    path.write_bytes(ANCHOR.public_key.to_pem())
    return path


def replace(path: Path, data: bytes) -> None:
    """Replace a file atomically, as a provisioning tool would."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


class BundleServer:
    """127.0.0.1 on a free port, serving one bundle with an ETag; counts requests and 304s."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.requests = 0
        self.not_modified = 0
        self.closed = False
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                etag = f'"{hash(outer.data) & 0xFFFFFFFF:x}"'
                if self.headers.get("If-None-Match") == etag:
                    outer.not_modified += 1
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(outer.data)))
                self.end_headers()
                self.wfile.write(outer.data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/gate.bundle"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def qr_pixels(text: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(render_png(text, module_px=3))).convert("L"))


def phone_video(path: Path, text: str, fps: int = 10) -> None:
    """A phone screen (QR on a bright panel) moving and tilting across the frame, away for a
    second in the middle, then back: 640x480, MJPG.

    The phone is away for frames 15-24, so the two appearances are 1.1 s apart. The most tilted
    frames fail to decode for some QR contents (3 in a row in a sample of 80 credentials), so
    tests debounce at 0.9 s: one verdict per appearance whatever the content (a 0.5 s debounce
    split one appearance in two when 5 frames in a row missed)."""
    import cv2 as opencv

    cv2: Any = opencv  # typed loosely: the stubs do not know every constructor
    code = qr_pixels(text)
    side = code.shape[0]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (640, 480), False)
    assert writer.isOpened()
    src = np.array([[0, 0], [side, 0], [side, side], [0, side]], dtype=np.float32)
    for index in range(40):
        frame: Any = np.full((480, 640), 90, np.uint8)
        if not 15 <= index < 25:  # frames 15-24: the phone is taken away
            phase = index / 40 * 2 * math.pi
            x0, y0 = 140 + 40 * math.sin(phase), 60 + 20 * math.cos(phase)
            tilt = 0.12 * side * math.sin(phase * 2)  # one edge nearer the camera
            dst = np.array(
                [[x0, y0 + tilt], [x0 + side, y0 - tilt], [x0 + side, y0 + side + tilt], [x0, y0 + side - tilt]],
                dtype=np.float32,
            )
            matrix = cv2.getPerspectiveTransform(src, dst)
            warped = cv2.warpPerspective(code, matrix, (640, 480), borderValue=0)
            mask = cv2.warpPerspective(np.full_like(code, 255), matrix, (640, 480), borderValue=0)
            frame = np.where(mask > 0, warped, frame).astype(np.uint8)
            frame = cv2.GaussianBlur(frame, (3, 3), 0.8)
        writer.write(frame)
    writer.release()
