"""Load test of the issuer service on localhost: ``vcsdk serve`` with 1 and 2 workers, on SQLite and
on a throwaway PostgreSQL, driven by an async httpx loop that stops by itself (bounded in count and
time). Usage::

    .venv/bin/python -m benchmarks.load [--json PATH] [--quick]

Measured per configuration:

* status-list GETs per second and their p99 latency (``GET /status/1``, the published token);
* wallet issuances per second and their p99 (one issuance = ``POST /token`` + ``POST /nonce`` +
  ``POST /credential`` with a fresh device-key proof, for an approved application whose offer was
  made beforehand);
* the baseline of the same run: ``GET /healthz`` per second (the server's bare request cost), and
  in-process ``Issuer.issue`` per second (signing without HTTP or database); results are reported
  as ratios to these as well.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from benchmarks import _cli
from vcsdk import Ed25519PrivateKey, Issuer
from vcsdk.holder.proof import make_key_proof
from vcsdk.keys import b64url_encode
from vcsdk.keys.files import save_private_key
from vcsdk.service.core import Service, prepare_database
from vcsdk.service.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
CONCURRENCY = 8


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(folder: Path, database: str, port: int) -> Path:
    for name in ("issuer", "anchor"):
        save_private_key(folder / f"{name}.pem", Ed25519PrivateKey.generate(), None, overwrite=True)
    config = folder / "service.toml"
    config.write_text(
        "[service]\n"
        f'database = "{database}"\nbase_url = "http://127.0.0.1:{port}"\nissuer_id = "KR-MOIS"\n'
        f'data_dir = "{folder / "data"}"\nsession_secret = "{secrets.token_hex(32)}"\n'
        "[keys]\n"
        f'issuer_key = "{folder / "issuer.pem"}"\nanchor_key = "{folder / "anchor.pem"}"\n',
        encoding="utf-8",
    )
    return config


@contextmanager
def _server(config: Path, database: str, port: int, workers: int) -> Iterator[str]:
    command = [sys.executable, "-m", "vcsdk_cli", "serve", "--db", database, "--config", str(config)]
    command += ["--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("vcsdk serve did not become ready")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _prepare_offers(config: Path, count: int) -> list[tuple[str, str]]:
    """``count`` approved applications of one applicant, each with an open offer: (code, tx_code)."""
    from tests.conftest import reference_claims
    from tests.test_service_kit import documents

    settings = load_settings(config)
    service = Service(settings, prepare=False)
    try:
        applicant = service.accounts.create(
            f"load-{secrets.token_hex(4)}", "load test password", "applicant", created_by="bench"
        )
        reviewer = "account:load-reviewer"
        today = datetime.fromtimestamp(service.clock(), tz=UTC)
        offers = []
        for _ in range(count):
            claims = reference_claims()
            for optional in ("photo_digest", "name_latin", "unit", "position"):
                claims.pop(optional, None)
            claims["employee_id"] = f"L-{secrets.token_hex(5)}"
            registry = service.registry
            app = registry.apply(applicant=applicant.actor, claims=claims, contact="load@example.go.kr")
            for kind, _name, content, _media, meta in documents(today):
                registry.attach(app, kind, meta, content, actor=applicant.actor)
            registry.submit(app, actor=applicant.actor)
            registry.review(app, reviewer=reviewer)
            registry.approve(app, reviewer=reviewer)
            offer = service.wallet.create_offer(applicant, app)
            code = offer.credential_offer["grants"][PRE_AUTH]["pre-authorized_code"]
            offers.append((code, offer.tx_code))
        return offers
    finally:
        service.close()


async def _drive(
    work: Callable[[httpx.AsyncClient, int], Awaitable[None]], count: int, seconds: float, base: str
) -> dict[str, float]:
    """Run ``work(client, i)`` for i < count with CONCURRENCY tasks; stop at ``seconds`` too."""
    latencies: list[float] = []
    failures = 0
    next_index = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def worker() -> None:
            nonlocal next_index, failures
            while next_index < count and time.monotonic() < deadline:
                index = next_index
                next_index += 1
                started = time.perf_counter()
                try:
                    await work(client, index)
                except (httpx.HTTPError, AssertionError):
                    failures += 1
                    continue
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    done = len(latencies)
    p99 = statistics.quantiles(latencies, n=100)[98] if done >= 2 else (latencies[0] if latencies else 0.0)
    return {
        "done": done,
        "failed": failures,
        "per_second": round(done / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(statistics.median(latencies) * 1000, 2) if latencies else 0.0,
        "p99_ms": round(p99 * 1000, 2),
    }


def _measure(base: str, offers: list[tuple[str, str]], gets: int, seconds: float) -> dict[str, Any]:
    async def healthz(client: httpx.AsyncClient, _i: int) -> None:
        assert (await client.get("/healthz")).status_code == 200

    async def status(client: httpx.AsyncClient, _i: int) -> None:
        response = await client.get("/status/1")
        assert response.status_code == 200 and response.headers["content-type"] == "application/statuslist+cwt"

    async def issue(client: httpx.AsyncClient, i: int) -> None:
        code, tx_code = offers[i]
        granted = await client.post(
            "/token", data={"grant_type": PRE_AUTH, "pre-authorized_code": code, "tx_code": tx_code}
        )
        assert granted.status_code == 200
        nonce = (await client.post("/nonce")).json()["c_nonce"]
        device = Ed25519PrivateKey.generate()
        proof = b64url_encode(make_key_proof(device, audience=base, nonce=nonce, issued_at=int(time.time())))
        issued = await client.post(
            "/credential",
            json={"credential_configuration_id": "KR-GOV-OfficialID", "proofs": {"cwt": [proof]}},
            headers={"Authorization": f"Bearer {granted.json()['access_token']}"},
        )
        assert issued.status_code == 200

    issuance = asyncio.run(_drive(issue, len(offers), seconds, base))  # first: it opens status list 1
    return {
        "healthz": asyncio.run(_drive(healthz, gets, seconds, base)),
        "status_get": asyncio.run(_drive(status, gets, seconds, base)),
        "issuance": issuance,
    }


def _databases(folder: Path, cluster: str | None) -> dict[str, Callable[[str], str]]:
    from sqlalchemy import create_engine, text

    def sqlite(tag: str) -> str:
        return str(folder / f"{tag}.sqlite")

    def postgresql(tag: str) -> str:
        assert cluster is not None
        name = "load_" + tag.replace("-", "_")
        engine = create_engine(cluster, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        engine.dispose()
        return cluster.replace("/postgres?", f"/{name}?")

    stores: dict[str, Callable[[str], str]] = {"sqlite": sqlite}
    if cluster is not None:
        stores["postgresql"] = postgresql
    return stores


FULL = (("sqlite", 1), ("sqlite", 2), ("postgresql", 1), ("postgresql", 2))
QUICK = (("sqlite", 1), ("postgresql", 2))


def run(quick: bool = False, *, configurations: tuple[tuple[str, int], ...] | None = None) -> dict[str, Any]:
    """The load test; ``quick`` keeps it to a few seconds and two configurations (SQLite with one
    worker, PostgreSQL with two); the full run covers both stores with 1 and 2 workers."""
    from tests.pg import throwaway_cluster

    issuances, gets, seconds = (4, 40, 10.0) if quick else (200, 3000, 60.0)
    key = Ed25519PrivateKey.generate()
    claims = {k: v for k, v in _reference().items() if k not in ("name_latin", "unit", "position")}
    issuer = Issuer(key, "KR-MOIS")
    started = time.perf_counter()
    for _ in range(200):
        issuer.issue(claims, holder_key=Ed25519PrivateKey.generate().public_key)
    bare_issue = 200 / (time.perf_counter() - started)
    chosen = configurations or (QUICK if quick else FULL)
    postgres = any(store == "postgresql" for store, _ in chosen)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, _maybe_cluster(postgres, throwaway_cluster) as cluster:
        folder = Path(tmp)
        stores = _databases(folder, cluster)
        for store, count in chosen:
            make_database = stores[store]
            tag = f"{store}-{count}w"
            port = _free_port()
            database = make_database(tag)
            work = folder / tag
            work.mkdir()
            config = _config(work, database, port)
            prepare_database(load_settings(config))
            offers = _prepare_offers(config, issuances)
            with _server(config, database, port, count) as base:
                results[tag] = _measure(base, offers, gets, seconds)
    ratios = {}
    for tag, result in results.items():
        base_rate = result["healthz"]["per_second"] or 1.0
        ratios[tag] = {
            "status_get_vs_healthz": round(result["status_get"]["per_second"] / base_rate, 3),
            "issuance_vs_in_process_issue": round(result["issuance"]["per_second"] / bare_issue, 4),
        }
    return {
        "benchmark": "service load",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "concurrency": CONCURRENCY,
        "cpus": os.cpu_count(),
        "bounds": {"issuances": issuances, "status_gets": gets, "seconds_per_phase": seconds},
        "in_process_issue_per_second": round(bare_issue, 1),
        "results": results,
        "ratios": ratios,
    }


def _reference() -> dict[str, Any]:
    import json

    data: dict[str, Any] = json.loads((ROOT / "examples" / "reference-claims.json").read_text(encoding="utf-8"))
    return data


@contextmanager
def _maybe_cluster(enabled: bool, factory: Callable[..., Any]) -> Iterator[str | None]:
    if not enabled:
        yield None
        return
    with factory(port=54349) as url:
        yield url


def main(argv: list[str] | None = None) -> int:
    args = _cli.parse("issuer service load test", argv)
    report = run(quick=args.quick)
    print(f"service load test (concurrency {report['concurrency']}, bounds {report['bounds']})")
    print(f"  in-process Issuer.issue: {report['in_process_issue_per_second']}/s")
    for tag, result in report["results"].items():
        for phase in ("healthz", "status_get", "issuance"):
            r = result[phase]
            line = f"  {tag:<16} {phase:<11} {r['per_second']:>8}/s  p50 {r['p50_ms']:>7} ms  p99 {r['p99_ms']:>7} ms"
            print(f"{line}  ({r['done']} done, {r['failed']} failed)")
    _cli.save(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
