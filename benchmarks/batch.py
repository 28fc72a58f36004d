"""Batch benchmark: ``FastVerifier.check_many`` over a queue of distinct scans (credentials, then
presentations with one phone each) against raw single PyNaCl Ed25519 verifications of the same
signed bytes, measured in the same run; plus the signature layer alone (compiled batch against
libsodium one by one).

Every round verifies the whole queue once with a fresh gate (no cached credential, no replay);
device keys are each seen once. Baseline
and subject alternate in short rounds and the median of the per-round ratios is reported (the
load of a shared machine moves between measurements). Usage::

    .venv/bin/python -m benchmarks.batch [--json PATH] [--quick] [--instructions]

``--instructions`` adds callgrind instruction counts per scan (noise-free; several minutes).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.signing

from benchmarks import _cli
from vcsdk import DEFAULT_LIMITS, Ed25519PrivateKey, Issuer, StatusReference, TrustStore, Verifier, fixed_clock
from vcsdk.codec import cose
from vcsdk.holder import decode_presentation, make_key_proof, present, verify_key_proof
from vcsdk.registry.status import MIN_LIST_SIZE
from vcsdk.revocation import StatusListBuilder, StatusListChecker, sign_token
from vcsdk.verify import FastVerifier, batch

ROOT = Path(__file__).resolve().parent.parent
NOW = 1_780_000_000
URI = "https://id.mois.go.kr/sl/7"


def _round_us(func: Callable[[], object], setup: Callable[[], object], items: int, rounds: int) -> list[float]:
    """Per-item µs of ``func`` in each of ``rounds`` rounds, ``setup`` run untimed before each."""
    times = []
    for _ in range(rounds):
        setup()
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) / items * 1e6)
    return times


def _paired(
    base: Callable[[], object], subject: Callable[[], object], setup: Callable[[], object], items: int, rounds: int
) -> dict[str, Any]:
    """Alternate baseline and subject; the median per-item times and the median per-round ratio."""
    base_us, subject_us, ratios = [], [], []
    for _ in range(rounds):
        b = _round_us(base, setup, items, 1)[0]
        s = _round_us(subject, setup, items, 1)[0]
        base_us.append(b)
        subject_us.append(s)
        ratios.append(b / s)
    return {
        "baseline_us": round(statistics.median(base_us), 2),
        "subject_us": round(statistics.median(subject_us), 2),
        "ratio_median": round(statistics.median(ratios), 3),
        "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)],
    }


def world(size: int) -> tuple[dict[str, Callable[[], object]], Callable[[], None]]:
    """The measured modes over a queue of ``size`` scans, and the set-up each round runs first.

    Modes: ``raw_credentials`` (one raw PyNaCl verify per credential), ``credentials_batched``
    (``check_many``), ``credentials_one_by_one`` (``check`` per text), ``raw_presentations`` (two
    raw verifies per presentation), ``presentations_batched``, ``signatures_single`` and
    ``signatures_batched`` (the signature layer alone). Every mode checks its verdicts."""
    claims = json.loads((ROOT / "examples" / "reference-claims.json").read_text(encoding="utf-8"))
    key = Ed25519PrivateKey(bytes(range(32)))
    issuer = Issuer(key, "KR-MOIS", clock=fixed_clock(NOW - 100))
    status_list = StatusListBuilder(MIN_LIST_SIZE, 2)
    status_list.update((i, 1) for i in range(0, MIN_LIST_SIZE, 97))  # ~1 % revoked, not ours
    checker = StatusListChecker(TrustStore([key.public_key]))
    checker.load(sign_token(status_list.freeze(), URI, key, issued_at=NOW - 60), NOW)

    credentials = [issuer.issue(claims, status=StatusReference(1 + 97 * i + 1, URI)) for i in range(size)]
    phones = [Ed25519PrivateKey(i.to_bytes(4, "big") * 8) for i in range(size)]
    presentations = []
    bound_credentials = []
    for i, phone in enumerate(phones):
        proof = verify_key_proof(
            make_key_proof(phone, audience="a", nonce=f"n{i}", issued_at=NOW - 100), audience="a", now=NOW - 100
        )
        bound = issuer.issue(claims, status=StatusReference(1 + 97 * i + 2, URI), holder=proof)
        bound_credentials.append(bound)
        presentations.append(present(bound.qr_text, phone, now=NOW - 5))
    texts = [credential.qr_text for credential in credentials]

    # Baselines: raw PyNaCl verifications of exactly the signed bytes.
    issuer_key = nacl.signing.VerifyKey(key.public_key.raw)
    signed = [cose.decode_sign1(c.cose, DEFAULT_LIMITS) for c in credentials]
    credential_pairs = [(m.to_be_signed(), m.signature) for m in signed]
    device_keys = [nacl.signing.VerifyKey(phone.public_key.raw) for phone in phones]
    presentation_pairs = []
    for bound, shown in zip(bound_credentials, presentations, strict=True):
        inner = cose.decode_sign1(bound.cose, DEFAULT_LIMITS)
        outer = decode_presentation(shown)
        presentation_pairs.append((inner.to_be_signed(), inner.signature, outer.to_be_signed, outer.signature))

    def raw_credentials() -> None:
        for message, signature in credential_pairs:
            issuer_key.verify(message, signature)

    def raw_presentations() -> None:
        for device, (inner_tbs, inner_sig, outer_tbs, outer_sig) in zip(device_keys, presentation_pairs, strict=True):
            issuer_key.verify(inner_tbs, inner_sig)
            device.verify(outer_tbs, outer_sig)

    gates: list[FastVerifier] = []

    def fresh_gate() -> None:
        """New gates (batching, and one that opts out) with empty caches and replay books."""
        verifier = Verifier([key.public_key], clock=fixed_clock(NOW), status=checker)
        gates[:] = [FastVerifier(verifier, cache_size=0, batch=True), FastVerifier(verifier, cache_size=0, batch=False)]

    def credentials_batched() -> None:
        results = gates[0].check_many(texts)
        assert all(r.valid for r in results)

    def credentials_one_by_one() -> None:
        gate = gates[1]  # check per text
        for text in texts:
            assert gate.check(text).valid

    def presentations_batched() -> None:
        results = gates[0].check_many(presentations)
        assert all(r.valid for r in results)

    triples = [(key.public_key.raw, m, s) for m, s in credential_pairs]

    def signatures_batched() -> None:
        assert batch.verify_batch(triples) == [True] * len(triples)

    def signatures_single() -> None:
        assert all(batch.verify_single(*triple) for triple in triples)

    modes: dict[str, Callable[[], object]] = {
        "raw_credentials": raw_credentials,
        "credentials_batched": credentials_batched,
        "credentials_one_by_one": credentials_one_by_one,
        "raw_presentations": raw_presentations,
        "presentations_batched": presentations_batched,
        "signatures_single": signatures_single,
        "signatures_batched": signatures_batched,
    }
    for mode in modes.values():  # warm up, and check every verdict once
        fresh_gate()
        mode()
    return modes, fresh_gate


PROBE = """
import sys
sys.path.insert(0, {root!r})
from benchmarks.batch import world
modes, fresh_gate = world(int(sys.argv[1]))
run = modes[sys.argv[2]]
for _ in range(int(sys.argv[3])):
    fresh_gate()
    run()
"""

PAIRS = {
    "credentials_check_many_vs_raw_single": ("raw_credentials", "credentials_batched"),
    "credentials_check_one_by_one_vs_raw_single": ("raw_credentials", "credentials_one_by_one"),
    "presentations_check_many_vs_two_raw": ("raw_presentations", "presentations_batched"),
    "signature_layer_batch_vs_single": ("signatures_single", "signatures_batched"),
}


def _collected(size: int, mode: str, rounds: int) -> int:
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c",
         PROBE.format(root=str(ROOT)), str(size), mode, str(rounds)],
        capture_output=True, text=True, check=True, timeout=1800,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )  # fmt: skip
    match = re.search(r"Collected : (\d+)", done.stderr)
    assert match, done.stderr[-500:]
    return int(match.group(1))


def instructions_per_scan(size: int) -> dict[str, int] | None:
    """Callgrind instructions per scan of each mode (None without valgrind): each mode runs in a
    fresh interpreter for one round and for three, and the difference / (2 size) is one scan,
    imports and the queue's making cancelled out (a fresh gate per round is counted: a
    verifier's construction per queue)."""
    if shutil.which("valgrind") is None:
        return None
    wanted = sorted({mode for pair in PAIRS.values() for mode in pair})
    return {mode: (_collected(size, mode, 3) - _collected(size, mode, 1)) // (2 * size) for mode in wanted}


def run(quick: bool = False, instructions: bool = False) -> dict[str, Any]:
    size, rounds = (64, 5) if quick else (128, 15)
    modes, fresh_gate = world(size)
    raw_credentials, credentials_batched = modes["raw_credentials"], modes["credentials_batched"]
    credentials_one_by_one, raw_presentations = modes["credentials_one_by_one"], modes["raw_presentations"]
    presentations_batched = modes["presentations_batched"]
    signatures_single, signatures_batched = modes["signatures_single"], modes["signatures_batched"]
    native = batch.native_enabled()
    results = {
        "credentials_check_many_vs_raw_single": _paired(raw_credentials, credentials_batched, fresh_gate, size, rounds),
        "credentials_check_one_by_one_vs_raw_single": _paired(
            raw_credentials, credentials_one_by_one, fresh_gate, size, rounds
        ),
        "presentations_check_many_vs_two_raw": _paired(
            raw_presentations, presentations_batched, fresh_gate, size, rounds
        ),
        "signature_layer_batch_vs_single": _paired(signatures_single, signatures_batched, fresh_gate, size, rounds),
    }
    counted = instructions_per_scan(size) if instructions else None
    report: dict[str, Any] = {
        "benchmark": "batch",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpu": platform.processor()},
        "compiled_batch_verifier": native,
        "queue": {"scans": size, "rounds": rounds},
        "paired": results,
        "ratios": {name: value["ratio_median"] for name, value in results.items()},
        "targets": {
            "credentials_check_many_vs_raw_single": ">= 1.5 (issue #16)",
            "presentations_check_many_vs_two_raw": ">= 1.3 (issue #16)",
        },
    }
    if counted is not None:
        report["instructions_per_scan"] = counted
        report["instruction_ratios"] = {
            name: round(counted[base] / counted[subject], 3) for name, (base, subject) in PAIRS.items()
        }
    return report


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    args = _cli.parse("batch verification benchmark", [a for a in given if a != "--instructions"])
    instructions = "--instructions" in given
    report = run(quick=args.quick, instructions=instructions)
    print(
        f"batch benchmark ({report['queue']['scans']} scans per queue, {report['queue']['rounds']} paired rounds, "
        f"compiled batch verifier: {report['compiled_batch_verifier']})"
    )
    for name, value in report["paired"].items():
        target = report["targets"].get(name, "")
        low, high = value["ratio_range"]
        print(
            f"  {name:<45} {value['ratio_median']:6.3f}  (range {low:.3f}-{high:.3f};"
            f" {value['baseline_us']:.1f} vs {value['subject_us']:.1f} µs per scan)  {target}"
        )
    for name, value in report.get("instruction_ratios", {}).items():
        print(f"  {name:<45} {value:6.3f}  (callgrind instructions)")
    _cli.save(report, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
