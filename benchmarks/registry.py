"""Bulk issuance benchmark: credentials per second through the issuer registry (SQLite and a
throwaway PostgreSQL), as a ratio to bare Ed25519 signing measured in the same run. Usage::

    .venv/bin/python -m benchmarks.registry [--json PATH] [--quick]
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from benchmarks import _cli
from vcsdk import Ed25519PrivateKey, Issuer, fixed_clock
from vcsdk.registry import IssuerRegistry, StatusConfig

ROOT = Path(__file__).resolve().parent.parent
NOW = 1_780_000_000
KEY = Ed25519PrivateKey(bytes(range(32)))
BATCH = 100


def _approved(reg: IssuerRegistry, count: int) -> list[str]:
    from tests.registry_world import approved  # the same complete application the tests use

    return [approved(reg, f"B-{uuid.uuid4().hex[:10]}") for _ in range(count)]


def _rates(target: str, count: int) -> dict[str, float]:
    """Credentials/s issued one transaction each (``issue``) and in batches (``issue_many``)."""
    reg = IssuerRegistry.create(
        target, StatusConfig("https://id.mois.go.kr/sl/{n}"), issuer_id="KR-MOIS", signer=lambda now: KEY,
        clock=fixed_clock(NOW), reviewers=["lee"], operators=["bench"],
    )  # fmt: skip
    singles, batched = _approved(reg, count), _approved(reg, count)
    start = time.perf_counter()
    for app in singles:
        reg.issue(app, actor="bench")
    single = count / (time.perf_counter() - start)
    start = time.perf_counter()
    results = reg.issue_many(batched, actor="bench", batch_size=BATCH)
    batch = count / (time.perf_counter() - start)
    assert not any(isinstance(result, Exception) for result in results)
    return {"one_transaction_each": single, f"batches_of_{BATCH}": batch}


def run(quick: bool = False) -> dict[str, Any]:
    from tests.pg import throwaway_cluster

    count = 100 if quick else 400
    claims = json.loads((ROOT / "examples" / "reference-claims.json").read_text(encoding="utf-8"))
    message = b"x" * 400
    start = time.perf_counter()
    for _ in range(count * 20):
        KEY.sign(message)
    sign_rate = count * 20 / (time.perf_counter() - start)
    issuer = Issuer(KEY, "KR-MOIS", clock=fixed_clock(NOW))
    start = time.perf_counter()
    for _ in range(count * 5):
        issuer.issue(claims)
    issue_rate = count * 5 / (time.perf_counter() - start)
    rates = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, value in _rates(str(Path(folder) / "bench.sqlite"), count).items():
            rates[f"sqlite_{name}"] = value
    with throwaway_cluster(port=54339) as url:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("CREATE DATABASE bench"))
        engine.dispose()
        for name, value in _rates(url.replace("/postgres?", "/bench?"), count).items():
            rates[f"postgresql_{name}"] = value
    return {
        "benchmark": "bulk issuance",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "credentials": count,
        "per_second": {
            "bare_ed25519_sign": round(sign_rate),
            "issuer_no_database": round(issue_rate),
            **{k: round(v, 1) for k, v in rates.items()},
        },
        "ratio_to_bare_signing": {k: round(v / sign_rate, 4) for k, v in rates.items()},
    }


def main(argv: list[str] | None = None) -> int:
    args = _cli.parse("bulk issuance benchmark", argv)
    report = run(quick=args.quick)
    print(f"bulk issuance ({report['credentials']} credentials per store)")
    for name, value in report["per_second"].items():
        print(f"  {name:<20} {value:>10} /s")
    for name, value in report["ratio_to_bare_signing"].items():
        print(f"  {name:<20} {value:>10.4f} x bare signing")
    _cli.save(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
