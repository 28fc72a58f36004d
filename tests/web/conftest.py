"""Browser-test harness: the issuer service under uvicorn on 127.0.0.1 (a free port, a fresh SQLite
registry), the system Chromium driven by Playwright, axe-core on every page a person sees, and a
full-page screenshot of each in ``.artifacts/screenshots/<test>/``.

Chromium comes from the system package manager (``scripts/bootstrap.sh`` installs ``chromium``);
Playwright never downloads a browser here. axe-core comes from the npm registry (``npm ci`` in
``vcsdk/service/web/assets``).
"""

from __future__ import annotations

import functools
import io
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright", reason="the browser tests need playwright (test dependency group)")

import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, ViewportSize, sync_playwright

from tests.conftest import page_settings
from vcsdk.service.app import create_app
from vcsdk.service.core import Service
from vcsdk.service.settings import Settings
from vcsdk.service.web import AXE_SCRIPT, KRDS_RESOURCES

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / ".artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
FEES = {1741000: 10_000, 1051000: 0}
PASSWORD = "correct horse battery"
SERIOUS = ("serious", "critical")


class Clock:
    """The service clock: real time plus an offset the tests move (to make an old application)."""

    def __init__(self) -> None:
        self.offset = 0

    def __call__(self) -> int:
        return int(time.time()) + self.offset


@dataclass
class Server:
    """A running service: its base URL, its service object (for seeding and checking) and clock."""

    base_url: str
    service: Service
    clock: Clock
    settings: Settings


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="package")
def server() -> Iterator[Server]:
    """The issuer service with the web pages, on a fresh SQLite registry, in a uvicorn thread."""
    if not KRDS_RESOURCES.is_dir() or not AXE_SCRIPT.is_file():
        pytest.fail("web assets missing: run scripts/bootstrap.sh (npm ci in vcsdk/service/web/assets)")
    folder = Path(tempfile.mkdtemp(prefix="vcsdk-web-"))
    sock = _free_socket()
    port = sock.getsockname()[1]
    settings = page_settings(folder, f"http://127.0.0.1:{port}", fees=FEES, republish_interval=3600)
    clock = Clock()
    app = create_app(settings, clock=clock, schedule=False)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    service: Service = app.state.service
    service.accounts.create("reviewer1", PASSWORD, "reviewer", created_by="test")
    service.accounts.create("operator1", PASSWORD, "operator", created_by="test")
    try:
        yield Server(settings.base_url, service, clock, settings)
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        sock.close()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail("chromium missing: run scripts/bootstrap.sh (apt-get install chromium)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """The system Chromium, headless, a new empty profile (Playwright makes a fresh user-data-dir)."""
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()


@dataclass
class Person:
    """One browser context (one person), checking and photographing every page it lands on."""

    name: str
    context: BrowserContext
    page: Page
    base_url: str
    folder: Path
    counter: Callable[[], int]
    visited: list[str] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)
    violations: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def check(self, label: str) -> None:
        """axe-core on the current page (serious and critical violations fail the test at the
        end) and a full-page screenshot."""
        page = self.page
        page.wait_for_load_state("load")
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(_axe_source() + "\n;0")
        result: dict[str, Any] = page.evaluate("""async () => await axe.run(document, {resultTypes: ['violations']})""")
        for violation in result["violations"]:
            if violation.get("impact") in SERIOUS:
                targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]][:5]
                self.violations.append(f"{label} ({page.url}): {violation['id']} [{violation['impact']}] {targets}")
        self.checked.add(_strip(page.url))
        number = self.counter()
        page.screenshot(path=str(self.folder / f"{number:02d}-{self.name}-{_slug(label)}.png"), full_page=True)

    def visit(self, path: str, label: str) -> None:
        self.page.goto(self.url(path))
        self.check(label)

    def submit(self, selector: str, label: str) -> None:
        """Click a button that sends a form, wait for the next page, check it."""
        with self.page.expect_navigation():
            self.page.click(selector)
        self.check(label)


@functools.cache
def _axe_source() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8")


def _strip(url: str) -> str:
    return url.split("#", 1)[0]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


@pytest.fixture
def people(browser: Browser, server: Server, request: pytest.FixtureRequest) -> Iterator[Callable[..., Person]]:
    """Make a person (a browser context); at the end every page they saw must have been checked
    by axe-core with no serious violation."""
    folder = SHOTS / _slug(request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    made: list[Person] = []
    count = [0]

    def counter() -> int:
        count[0] += 1
        return count[0]

    def make(name: str, *, phone: bool = False, lang: str = "ko") -> Person:
        context = browser.new_context(
            viewport=PHONE if phone else DESKTOP,
            device_scale_factor=1,
            locale="ko-KR" if lang == "ko" else "en-GB",
            is_mobile=phone,
            has_touch=phone,
            bypass_csp=True,  # axe-core styles its probes inline; test_pages_obey_their_csp covers the policy
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        person = Person(name, context, page, server.base_url, folder, counter)
        page.on(
            "framenavigated",
            lambda frame: person.visited.append(_strip(frame.url)) if frame == page.main_frame else None,
        )
        made.append(person)
        return person

    yield make
    problems: list[str] = []
    for person in made:
        unchecked = [u for u in person.visited if u.startswith(server.base_url) and u not in person.checked]
        problems.extend(f"{person.name}: page not checked by axe: {u}" for u in unchecked)
        problems.extend(person.violations)
        person.context.close()
    assert not problems, "\n".join(problems)


def png_photo(width: int = 350, height: int = 450) -> bytes:
    """An ID photo of the given size (a plain portrait-like picture)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (246, 246, 246))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.3, height * 0.18, width * 0.7, height * 0.55), fill=(224, 190, 160))
    draw.rectangle((width * 0.18, height * 0.6, width * 0.82, height), fill=(40, 60, 110))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
