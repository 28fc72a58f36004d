"""Verify benchmark: full QR-text verification (status checked) against one raw PyNaCl Ed25519
verification.

Both are measured in the same run on the same signed bytes, so the ratio is comparable across
machines. Also breaks the full path into stages. Usage::

    .venv/bin/python -m benchmarks.verify [--json PATH] [--quick]
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.signing

from benchmarks import _cli
from vcsdk import DEFAULT_LIMITS, Ed25519PrivateKey, Issuer, StatusReference, TrustStore, Verifier, fixed_clock
from vcsdk.codec import base45, cbor, cose, deflate
from vcsdk.codec.cbor import TAG_EPOCH_DAYS
from vcsdk.registry.status import MIN_LIST_SIZE
from vcsdk.revocation import StatusListBuilder, StatusListChecker, sign_token
from vcsdk.verify.checks import parse_claims

ROOT = Path(__file__).resolve().parent.parent
NOW = 1_780_000_000


def per_call_us(func: Callable[[], object], *, repeat: int, min_time: float) -> float:
    """Median over ``repeat`` rounds of the per-call time, each round lasting about ``min_time``."""
    timer = timeit.Timer(func)
    number, elapsed = timer.autorange()  # at least 0.2 s
    number = max(1, int(number * min_time / elapsed))
    rounds = timer.repeat(repeat=repeat, number=number)
    return statistics.median(rounds) / number * 1e6


def run(quick: bool = False) -> dict[str, Any]:
    repeat, min_time = (3, 0.05) if quick else (7, 0.2)
    claims = json.loads((ROOT / "examples" / "reference-claims.json").read_text(encoding="utf-8"))
    key = Ed25519PrivateKey(bytes(range(32)))
    uri = "https://id.mois.go.kr/sl/7"
    reference = StatusReference(100_000, uri)
    credential = Issuer(key, "KR-MOIS", clock=fixed_clock(NOW)).issue(claims, status=reference)
    text = credential.qr_text
    status_list = StatusListBuilder(MIN_LIST_SIZE, 2)
    status_list.update((i, 1) for i in range(0, MIN_LIST_SIZE, 97))  # ~1 % revoked, not our index
    trust = TrustStore([key.public_key])
    signer = trust.candidates(key.kid)[0]
    checker = StatusListChecker(trust)
    checker.load(sign_token(status_list.freeze(), uri, key, issued_at=NOW - 60), NOW)
    verifier = Verifier([key.public_key], clock=fixed_clock(NOW + 1), status=checker)
    assert verifier.verify(text).status_check is not None  # warm up; valid with status checked

    # Baseline: one raw PyNaCl verification of exactly the bytes the credential signs.
    message = cose.decode_sign1(credential.cose, DEFAULT_LIMITS)
    to_be_signed, signature = message.to_be_signed(), message.signature
    raw_key = nacl.signing.VerifyKey(key.public_key.raw)
    raw_key.verify(to_be_signed, signature)

    body = text[5:]
    compressed = base45.b45decode(body)
    inflated = deflate.decompress(compressed, DEFAULT_LIMITS.max_inflated_bytes)
    payload = cbor.loads_strict(message.payload, DEFAULT_LIMITS, frozenset({TAG_EPOCH_DAYS}))

    measure = {
        "raw_pynacl_verify": lambda: raw_key.verify(to_be_signed, signature),
        "full_verify": lambda: verifier.verify(text),
        "stage_base45_decode": lambda: base45.b45decode(body),
        "stage_zlib_inflate": lambda: deflate.decompress(compressed, DEFAULT_LIMITS.max_inflated_bytes),
        "stage_cose_decode": lambda: cose.decode_sign1(inflated, DEFAULT_LIMITS),
        "stage_payload_cbor": lambda: cbor.loads_strict(message.payload, DEFAULT_LIMITS, frozenset({TAG_EPOCH_DAYS})),
        "stage_claims_check": lambda: parse_claims(payload),
        "stage_status_check": lambda: checker.check(reference, NOW + 1, issuer="KR-MOIS", signer=signer),
    }
    results = {name: per_call_us(func, repeat=repeat, min_time=min_time) for name, func in measure.items()}
    raw = results["raw_pynacl_verify"]
    return {
        "benchmark": "verify",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpu": platform.processor()},
        "credential": {"qr_chars": len(text), "cose_bytes": len(credential.cose), "status_checked": True},
        "us_per_call": {k: round(v, 2) for k, v in results.items()},
        "ratios": {
            "full_verify_throughput_vs_raw_verify": round(raw / results["full_verify"], 3),
            "overhead_us_beyond_signature": round(results["full_verify"] - raw, 2),
            "base45_vs_raw_verify": round(results["stage_base45_decode"] / raw, 3),
            "status_check_us": round(results["stage_status_check"], 3),
        },
        "targets": {
            "full_verify_throughput_vs_raw_verify": ">= 0.75 (DESIGN section 8; tuned path is a later issue)",
            "base45_vs_raw_verify": "<= 0.2",
            "status_check_us": "<= 1",
        },
    }


def main(argv: list[str] | None = None) -> int:
    args = _cli.parse("verify benchmark", argv)
    report = run(quick=args.quick)
    width = max(map(len, report["us_per_call"]))
    print(
        f"verify benchmark ({report['credential']['qr_chars']}-character QR text, Python {report['machine']['python']})"
    )
    for name, value in report["us_per_call"].items():
        print(f"  {name:<{width}}  {value:9.2f} µs")
    for name, value in report["ratios"].items():
        target = report["targets"].get(name, "")
        print(f"  {name:<{width}}  {value:9.3f}    {target}")
    _cli.save(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
