"""Issuance benchmark: ``Issuer.issue`` per credential (the reference claims, a status reference),
as a ratio to one bare Ed25519 signature measured in the same process, and, with ``--baseline
DIR``, against older code (a checkout of vcsdk, e.g. a ``git worktree`` of the main branch) timed
in the same run: each code base runs in child processes, alternating, median of rounds. Usage::

    .venv/bin/python -m benchmarks.issue [--json PATH] [--quick] [--baseline DIR] [--instructions]

``--instructions`` also counts instructions per issuance under callgrind (steady on a busy machine).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import _baseline, _cli

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys, time
from vcsdk import Ed25519PrivateKey, Issuer, StatusReference, fixed_clock
count = int(sys.argv[1])
claims = json.loads(open(sys.argv[2], encoding="utf-8").read())
key = Ed25519PrivateKey(bytes(range(32)))
issuer = Issuer(key, "KR-MOIS", clock=fixed_clock(1_780_000_000))
status = StatusReference(1234, "https://id.mois.go.kr/sl/7")
message = issuer.issue(claims, status=status).cose[:300]
for _ in range(50):
    issuer.issue(claims, status=status)
    key.sign(message)
def timed(func):
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        func()
    return (time.perf_counter() - wall) / count * 1e6, (time.process_time() - cpu) / count * 1e6
sign = timed(lambda: key.sign(message))
issue = timed(lambda: issuer.issue(claims, status=status))
sign_after = timed(lambda: key.sign(message))
print(json.dumps({"issue": issue, "sign": [min(a, b) for a, b in zip(sign, sign_after)]}))
"""


COUNT_PROBE = """
import json, sys
from vcsdk import Ed25519PrivateKey, Issuer, StatusReference, fixed_clock
claims = json.loads(open(sys.argv[2], encoding="utf-8").read())
issuer = Issuer(Ed25519PrivateKey(bytes(range(32))), "KR-MOIS", clock=fixed_clock(1_780_000_000))
status = StatusReference(1234, "https://id.mois.go.kr/sl/7")
for _ in range(int(sys.argv[1])):
    issuer.issue(claims, status=status)
"""


def _collected(count: int, code: Path | None) -> int:
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", COUNT_PROBE,
         str(count), str(ROOT / "examples" / "reference-claims.json")],
        capture_output=True, text=True, timeout=1800, check=True,
        env={**(_baseline.env(code) or os.environ), "PYTHONHASHSEED": "0"}, cwd=_baseline.cwd(code),
    )  # fmt: skip
    match = re.search(r"Collected : (\d+)", done.stderr)
    assert match, done.stderr[-500:]
    return int(match.group(1))


def instructions_per_issue(code: Path | None) -> int:
    """Instructions per ``Issuer.issue`` under callgrind: (400 issuances - 100) / 300."""
    return (_collected(400, code) - _collected(100, code)) // 300


def probe(count: int, code: Path | None) -> dict[str, Any]:
    """One child process: microseconds (wall, CPU) per issuance and per bare signature."""
    claims = ROOT / "examples" / "reference-claims.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(count), str(claims)],
        capture_output=True, text=True, timeout=600, check=True, env=_baseline.env(code), cwd=_baseline.cwd(code),
    )  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def run(quick: bool = False, baseline: Path | None = None, instructions: bool = False) -> dict[str, Any]:
    count, rounds = (400, 3) if quick else (1500, 5)
    names = ["current", *(["baseline"] if baseline else [])]
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for _ in range(rounds):  # alternating, so that a busy spell on the machine hits both
        for name in names:
            samples[name].append(probe(count, baseline if name == "baseline" else None))
    out: dict[str, Any] = {}
    for name, runs in samples.items():
        out[name] = {
            "issue_us": {
                kind: round(statistics.median(r["issue"][i] for r in runs), 1) for i, kind in enumerate(("wall", "cpu"))
            },
            "sign_us": {
                kind: round(statistics.median(r["sign"][i] for r in runs), 1) for i, kind in enumerate(("wall", "cpu"))
            },
            "issue_per_second": round(1e6 / statistics.median(r["issue"][0] for r in runs)),
            "sign_ratio_cpu": round(statistics.median(r["sign"][1] / r["issue"][1] for r in runs), 3),
        }
    report: dict[str, Any] = {
        "benchmark": "issuance",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": sys.version.split()[0], "cores": os.cpu_count()},
        "credentials_per_round": count,
        "rounds": rounds,
        "baseline": str(baseline) if baseline else None,
        "code": out,
    }
    if instructions and shutil.which("valgrind"):
        for name in names:
            out[name]["instructions_per_issue"] = instructions_per_issue(baseline if name == "baseline" else None)
    if baseline:
        before, after = out["baseline"], out["current"]
        report["speedup"] = {
            "cpu": round(before["issue_us"]["cpu"] / after["issue_us"]["cpu"], 2),
            "wall": round(before["issue_us"]["wall"] / after["issue_us"]["wall"], 2),
            "normalised_by_signing": round(after["sign_ratio_cpu"] / before["sign_ratio_cpu"], 2),
        }
        if "instructions_per_issue" in after:
            report["speedup"]["instructions"] = round(
                before["instructions_per_issue"] / after["instructions_per_issue"], 2
            )
        report["targets"] = {"speedup.cpu": ">= 2", "speedup.wall": ">= 2"}
    return report


def main(argv: list[str] | None = None) -> int:
    return _cli.baseline_main("issuance benchmark", run, argv, "issuance")


if __name__ == "__main__":
    raise SystemExit(main())
