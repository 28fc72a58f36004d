"""Shared fixtures: the reference official ID, a fixed clock, keys, the conformance folder."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import settings

from vcsdk import Ed25519PrivateKey, Issuer, StatusPolicy, StatusReference, Verifier, _native, fixed_clock

# No per-example deadline: on a loaded 2-core machine a deadline is a wall-clock assertion (flaky);
# the examples stay bounded by their size strategies.
settings.register_profile("vcsdk", deadline=None)
settings.load_profile("vcsdk")

ROOT = Path(__file__).resolve().parent.parent
CONFORMANCE = Path(os.environ.get("VCSDK_CONFORMANCE") or ROOT.parent / "shared" / "conformance")

NOW = 1_780_000_000  # 2026-05-28T20:26:40Z: "now" in every test unless said otherwise
REFERENCE_STATUS = StatusReference(100_000, "https://id.mois.go.kr/sl/7")
SEED = bytes(range(32))  # a fixed issuer key makes failures reproducible


def reference_claims() -> dict[str, Any]:
    """The reference official ID of DESIGN section 3 (JSON form)."""
    claims: dict[str, Any] = json.loads((ROOT / "examples" / "reference-claims.json").read_text(encoding="utf-8"))
    return claims


CONFORMANCE_SKIP = "conformance data not present"


def page_settings(folder: Path, base_url: str = "http://testserver", **overrides: Any) -> Any:
    """Issuer-service settings for page and form tests: fresh keys, data under ``folder`` and
    cheap password hashes (these tests are about pages, not Argon2)."""
    import secrets

    from vcsdk.service.settings import Settings

    fields: dict[str, Any] = {
        "database": str(folder / "registry.db"),
        "base_url": base_url,
        "issuer_id": "KR-MOIS",
        "issuer_key": Ed25519PrivateKey.generate(),
        "anchor_key": Ed25519PrivateKey.generate(),
        "session_secret": secrets.token_bytes(32),
        "data_dir": folder / "data",
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
    }
    return Settings(**{**fields, **overrides})


def conformance_file(*parts: str) -> Path:
    """A file from ../shared/conformance, or a skip naming what is missing (reported loudly)."""
    path = CONFORMANCE.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{CONFORMANCE_SKIP}: {path} (../shared/conformance is optional)")
    return path


def load_conformance_json(*parts: str) -> Any:
    return json.loads(conformance_file(*parts).read_text(encoding="utf-8"))


# ------------------------------------------------------------------ the two fast lanes

LANES = ("pure", "compiled")
NATIVE_SKIP = "COMPILED FAST LANE NOT BUILT"
REQUIRE_NATIVE = os.environ.get("VCSDK_REQUIRE_NATIVE", "") not in ("", "0")
"""scripts/test.sh sets VCSDK_REQUIRE_NATIVE=1: there a missing compiled module fails, never skips."""


@pytest.fixture(scope="session")
def batch_module() -> Any:
    """The compiled batch verifier (``vcsdk._native._batch25519``, initialised): skipped when it is
    not built, a failure under ``VCSDK_REQUIRE_NATIVE=1``."""
    import importlib

    from vcsdk.verify import batch

    if not batch.native_available():
        why = f"{NATIVE_SKIP}: the batch verifier vcsdk._native._batch25519 (scripts/bootstrap.sh builds it)"
        if REQUIRE_NATIVE:
            pytest.fail(f"{why}; VCSDK_REQUIRE_NATIVE=1 requires it")
        pytest.skip(why)
    module: Any = importlib.import_module("vcsdk._native._batch25519")
    assert module.lib.vcb_init() == 0
    return module


T = TypeVar("T")


def lanes_of(make: Callable[[bool], T]) -> dict[bool, T]:
    """``make(compiled)`` for the pure lane and, when it is built, the compiled lane (module-level
    verifiers of hypothesis tests, looked up by the ``lane`` fixture's value)."""
    return {flag: make(flag) for flag in (False, True) if not flag or _native.available()}


def lane_flag(name: str) -> bool:
    """``compiled=`` for the lane called ``name`` ("pure" or "compiled"): the compiled lane skips
    loudly when the module is not built, and fails instead under VCSDK_REQUIRE_NATIVE=1."""
    if name == "compiled" and not _native.available():
        why = f"{NATIVE_SKIP}: {_native.lane().detail} (scripts/bootstrap.sh builds it)"
        if REQUIRE_NATIVE:
            pytest.fail(f"{why}; VCSDK_REQUIRE_NATIVE=1 requires it")
        pytest.skip(why)
    return name == "compiled"


@pytest.fixture(scope="session", params=LANES)
def lane(request: pytest.FixtureRequest) -> bool:
    """The fast lane under test: False for pure Python, True for the compiled module
    (``FastVerifier(..., compiled=lane)``); see :func:`lane_flag`."""
    return lane_flag(request.param)


@pytest.fixture(scope="session")
def issuer_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey(SEED)


@pytest.fixture(scope="session")
def issuer(issuer_key: Ed25519PrivateKey) -> Issuer:
    return Issuer(issuer_key, "KR-MOIS", clock=fixed_clock(NOW))


@pytest.fixture(autouse=True)
def _private_state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's default rollback-state directory ($XDG_STATE_HOME/vcsdk) lives in a temporary
    directory per test, never in the user's home."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture(scope="session")
def verifier(issuer_key: Ed25519PrivateKey) -> Verifier:
    """Trusts the issuer key; status not configured, unknown status allowed, and no status claim
    required (these tests are about claims, not revocation)."""
    return Verifier(
        [issuer_key.public_key],
        clock=fixed_clock(NOW + 10),
        status_policy=StatusPolicy.ALLOW_UNKNOWN,
        require_status=False,
    )


@pytest.fixture(scope="session")
def reference_text(issuer: Issuer) -> str:
    return issuer.issue(reference_claims(), status=REFERENCE_STATUS).qr_text


# ------------------------------------------------------------------ issuer registry databases


@pytest.fixture(scope="session")
def postgres() -> Any:
    """A throwaway PostgreSQL cluster for the whole session (tests/pg.py)."""
    from tests.pg import throwaway_cluster

    with throwaway_cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty registry database: a SQLite file, then a database on the real PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "registry.sqlite")
    import uuid

    from sqlalchemy import create_engine, text

    base: str = request.getfixturevalue("postgres")
    name = "t" + uuid.uuid4().hex[:12]
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return base.replace("/postgres?", f"/{name}?")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Make a missing ../shared/conformance or compiled fast lane impossible to miss in the summary."""
    native = [r for r in terminalreporter.stats.get("skipped", []) if NATIVE_SKIP in str(r.longrepr)]
    if native:
        terminalreporter.write_sep("!", f"{NATIVE_SKIP}: {len(native)} tests skipped", red=True, bold=True)
        terminalreporter.write_line(f"only the pure-Python lane was tested: {_native.lane().detail}")
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if CONFORMANCE_SKIP in str(r.longrepr)]
    if skipped:
        terminalreporter.write_sep("!", f"CONFORMANCE NOT CHECKED: {len(skipped)} tests skipped", red=True, bold=True)
        terminalreporter.write_line(f"the public suites were not run: {CONFORMANCE} is absent.")
        terminalreporter.write_line("Put the conformance folder there (or run `vcsdk conformance --vectors DIR`).")
