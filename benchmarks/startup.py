"""Start-up of the ``vcsdk`` command: ``--help`` and one ``verify``, against a bare interpreter.

Each figure is the median wall time of fresh processes, reported with its ratio to ``python -c
pass`` measured in the same run (absolute times move with the machine's load; the ratio much
less), after one warm-up run with bytecode caching on, as an installed package has it. The heavy
modules each command imports come from ``python -X importtime``.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import _cli

HEAVY = ("jsonschema", "sqlalchemy", "alembic", "cryptography", "PIL", "qrcode", "pyzbar", "zxingcpp")


# As installed: bytecode cached (an installer compiles it; PYTHONDONTWRITEBYTECODE would make every run compile)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _wall(argv: list[str], rounds: int) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds (user + system) of a fresh process."""
    subprocess.run(argv, capture_output=True, check=False, timeout=120, env=ENV)  # warm-up: caches, bytecode
    times, cpu = [], []
    for _ in range(rounds):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False, timeout=120, env=ENV)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times), statistics.median(cpu)


def _imported(argv: list[str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], capture_output=True, text=True, check=False, timeout=120
    )
    top = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    return sorted(name for name in HEAVY if name in top)


def run(quick: bool = False) -> dict[str, Any]:
    rounds = 5 if quick else 15
    with tempfile.TemporaryDirectory() as folder:
        key, jwks = os.path.join(folder, "k"), os.path.join(folder, "trust.jwks")
        cli = [sys.executable, "-m", "vcsdk_cli"]
        subprocess.run([*cli, "keys", "generate", "--out", key, "--jwks", jwks], check=True, capture_output=True)
        claims = str(Path(__file__).resolve().parent.parent / "examples" / "reference-claims.json")
        text = subprocess.run(
            [*cli, "issue", "--key", key, "--iss", "KR-MOIS", "--claims", claims],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        commands = {
            "help": ["-m", "vcsdk_cli", "--help"],
            "verify": ["-m", "vcsdk_cli", "verify", "--trust", jwks, "--allow-no-status-claim", text],
        }
        bare, bare_cpu = _wall([sys.executable, "-c", "pass"], rounds)
        measured = {name: _wall([sys.executable, *argv], rounds) for name, argv in commands.items()}
        seconds = {name: wall for name, (wall, _) in measured.items()}
        imported = {name: _imported(argv) for name, argv in commands.items()}
    return {
        "benchmark": "startup",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": {"bare_python": round(bare, 4), **{k: round(v, 4) for k, v in seconds.items()}},
        "cpu_seconds": {"bare_python": round(bare_cpu, 4), **{k: round(c, 4) for k, (_, c) in measured.items()}},
        "ratios": {f"{name}_vs_bare_python": round(value / bare, 2) for name, value in seconds.items()},
        "heavy_imports": imported,
        "targets": {"seconds.help": "<= 0.25", "seconds.verify": "<= 0.25"},
    }


def main(argv: list[str] | None = None) -> int:
    args = _cli.parse("CLI start-up benchmark", argv)
    report = run(quick=args.quick)
    print(json.dumps({k: v for k, v in report.items() if k not in ("when", "benchmark")}, indent=2))
    _cli.save(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
