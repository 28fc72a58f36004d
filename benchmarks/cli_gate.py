"""CLI gate mode benchmark: ``vcsdk verify -`` and ``vcsdk gate run --stdin`` end to end (QR texts on
stdin, JSON lines out) against one raw PyNaCl Ed25519 verification of the same signed bytes,
measured in the same run; CPU time (user + system of the child) and wall time.

End to end: the real command in a fresh process, stdin from a file of N distinct credentials,
stdout to a file; the per-line cost is the difference between a run of 3N and of N lines (start-up
and loading the trust and status files cancel out), median of rounds. Also in process: the
verifier alone, the loop as it was (``json.dumps`` of each verdict and a flush per line) and the
gate-mode loop, each writing to a file. Usage::

    .venv/bin/python -m benchmarks.cli_gate [--json PATH] [--quick] [--baseline DIR]

``--baseline DIR`` also times both commands of an older checkout (e.g. a ``git worktree`` of the
main branch) in the same run. CPU time is the steadier figure on a shared machine.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from vcsdk_cli.verify_cmds import Reporting, gate_mode, verdict_line

from benchmarks import _baseline, _cli
from benchmarks.gate import NOW, URI, world
from vcsdk.keys.files import save_jwks
from vcsdk.verify import FastVerifier

ROOT = Path(__file__).resolve().parent.parent
AT = str(NOW + 1)


def _files(folder: Path, count: int) -> tuple[list[str], Any, list[str]]:
    """Credentials, the raw-verify inputs, and the CLI arguments (trust, status list, time)."""
    from vcsdk import Ed25519PrivateKey
    from vcsdk.registry.status import MIN_LIST_SIZE
    from vcsdk.revocation import StatusListBuilder, sign_token

    verifier, texts, raw = world(count)
    key = Ed25519PrivateKey(bytes(range(32)))
    save_jwks(folder / "trust.jwks", [key.public_key])
    builder = StatusListBuilder(MIN_LIST_SIZE, 2)
    builder.update((i, 1) for i in range(0, MIN_LIST_SIZE, 100))
    (folder / "sl.cwt").write_bytes(sign_token(builder.freeze(), URI, key, issued_at=NOW - 60))
    args = ["--trust", str(folder / "trust.jwks"), "--status-list", str(folder / "sl.cwt"), "--at", AT]
    return texts, (verifier, raw), args


def _gate_args(folder: Path) -> list[str]:
    """``gate run --stdin`` on a bundle (trust list and the same status list) signed by an anchor."""
    from vcsdk import Ed25519PrivateKey, TrustedKey
    from vcsdk.trust.bundle import build_bundle
    from vcsdk.trust.trustlist import TrustList, sign_trust_list

    key, anchor = Ed25519PrivateKey(bytes(range(32))), Ed25519PrivateKey(bytes(range(100, 132)))
    listed = TrustList(1, NOW - 86400, NOW + 30 * 86400, (TrustedKey(key.public_key, issuer="KR-MOIS"),))
    token = (folder / "sl.cwt").read_bytes()
    bundle = build_bundle(
        sign_trust_list(listed, anchor), [token], anchor, version=1, issued_at=NOW - 60, expires_at=NOW + 86400
    )
    (folder / "gate.bundle").write_bytes(bundle)
    (folder / "anchor.pem").write_bytes(anchor.public_key.to_pem())
    return ["gate", "run", "--stdin", "--bundle", str(folder / "gate.bundle"), "--trust-anchor",
            str(folder / "anchor.pem"), "--state", str(folder / "state"), "--at", AT]  # fmt: skip


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cli_seconds(folder: Path, command: list[str], texts: list[str], code: Path | None = None) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, the child's own) of one ``vcsdk COMMAND`` run on ``texts``."""
    source = folder / f"in-{len(texts)}.txt"
    source.write_text("".join(text + "\n" for text in texts), encoding="ascii")
    with source.open("rb") as stdin, (folder / "out.jsonl").open("wb") as stdout:
        cpu = _cpu_children()
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "vcsdk_cli", *command],
            stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, timeout=600, check=False,
            env=_baseline.env(code), cwd=_baseline.cwd(code),
        )  # fmt: skip
        elapsed = time.perf_counter() - start
        cpu = _cpu_children() - cpu
    assert done.returncode == 0, done.stderr
    assert len((folder / "out.jsonl").read_bytes().splitlines()) == len(texts)
    return elapsed, cpu


def _instructions(folder: Path, command: list[str], texts: list[str], code: Path | None = None) -> int:
    """Instructions callgrind counts for one ``vcsdk COMMAND`` run on ``texts``."""
    source = folder / f"in-{len(texts)}.txt"
    source.write_text("".join(text + "\n" for text in texts), encoding="ascii")
    with source.open("rb") as stdin, (folder / "out.jsonl").open("wb") as stdout:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-m", "vcsdk_cli",
             *command],
            stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, text=False, timeout=1800, check=False,
            env={**(_baseline.env(code) or os.environ), "PYTHONHASHSEED": "0"}, cwd=_baseline.cwd(code),
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    match = re.search(rb"Collected : (\d+)", done.stderr)
    assert match, done.stderr[-500:]
    return int(match.group(1))


def instructions_per_line(
    folder: Path, commands: dict[str, tuple[list[str], Path | None]], texts: list[str]
) -> dict[str, int]:
    """Per line: (instructions for 3N lines - for N lines) / 2N, for each command; and raw verify."""
    from benchmarks.instructions import _collected

    third = len(texts) // 3
    out = {"raw_pynacl_verify": (_collected("raw", 400) - _collected("raw", 100)) // 300}
    for name, (command, code) in commands.items():
        short = _instructions(folder, command, texts[:third], code)
        out[name] = (_instructions(folder, command, texts[: 3 * third], code) - short) // (2 * third)
    return out


def end_to_end_us(
    folder: Path, command: list[str], texts: list[str], rounds: int, code: Path | None = None
) -> tuple[float, float]:
    """Per line, wall and CPU: (time for 3N lines - time for N lines) / 2N, median over rounds."""
    third = len(texts) // 3
    wall, cpu = [], []
    for _ in range(rounds):
        short = _cli_seconds(folder, command, texts[:third], code)
        long = _cli_seconds(folder, command, texts[: 3 * third], code)
        wall.append((long[0] - short[0]) / (2 * third) * 1e6)
        cpu.append((long[1] - short[1]) / (2 * third) * 1e6)
    return statistics.median(wall), statistics.median(cpu)


def raw_us(raw: Any, rounds: int) -> tuple[float, float]:
    """One raw PyNaCl verification, wall and CPU microseconds (median of rounds of 2,000)."""
    key, message, signature = raw
    wall, cpu = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(2000):
            key.verify(message, signature)
        wall.append((time.perf_counter() - start) / 2000 * 1e6)
        cpu.append((time.process_time() - start_cpu) / 2000 * 1e6)
    return statistics.median(wall), statistics.median(cpu)


def in_process_us(verifier: Any, texts: list[str], folder: Path, rounds: int) -> dict[str, float]:
    """The verifier alone, the former loop and the gate-mode loop, per line (files as output)."""
    reporting = Reporting(FastVerifier(verifier, cache_size=0), "minimal")

    def former() -> None:  # as before #16: one json.dumps of the verdict's dict and one flush per line
        with (folder / "former.jsonl").open("w", encoding="utf-8") as out:
            for text in texts:
                out.write(json.dumps(reporting.check(text).to_json(), ensure_ascii=False) + "\n")
                out.flush()

    def current() -> None:
        with (folder / "current.jsonl").open("w", encoding="utf-8") as out:
            gate_mode(reporting, [texts[i : i + 100] for i in range(0, len(texts), 100)], out)

    def verifier_only() -> None:
        for text in texts:
            reporting.checker.check(text)

    funcs = {"verifier_check": verifier_only, "former_loop": former, "gate_mode_loop": current}
    cpu: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(rounds):  # interleaved, so that a busy spell on the machine hits all three
        for name, func in funcs.items():
            start = time.process_time()
            func()
            cpu[name].append((time.process_time() - start) / len(texts) * 1e6)
    out = {name: statistics.median(values) for name, values in cpu.items()}
    assert (folder / "former.jsonl").read_bytes() == (folder / "current.jsonl").read_bytes()
    return out


def run(
    quick: bool = False, baseline: Path | None = None, lines: int | None = None, instructions: bool = False
) -> dict[str, Any]:
    count, rounds = (1200, 3) if quick else (2400, 5)
    count = lines or count  # status indices i * 50 + 1 stay inside the list
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        texts, (verifier, (raw_key, to_be_signed, signature)), args = _files(folder, count)
        raw = (raw_key, to_be_signed, signature)
        raw_wall, raw_cpu = raw_us(raw, 7)
        loops = in_process_us(verifier, texts, folder, rounds)
        verify, gate = ["verify", *args, "-"], _gate_args(folder)
        cli = end_to_end_us(folder, verify, texts, rounds)
        cli_line = end_to_end_us(folder, ["verify", *args, "--line-buffered", "-"], texts, rounds)
        gate_run = end_to_end_us(folder, gate, texts, rounds)
        before = end_to_end_us(folder, verify, texts, rounds, baseline) if baseline else None
        gate_before = end_to_end_us(folder, gate, texts, rounds, baseline) if baseline else None
        raw_wall_after, raw_cpu_after = raw_us(raw, 7)
        raw_wall, raw_cpu = min(raw_wall, raw_wall_after), min(raw_cpu, raw_cpu_after)
        counted = None
        if instructions and shutil.which("valgrind"):
            commands: dict[str, tuple[list[str], Path | None]] = {"cli_gate_mode": (verify, None),
                                                                   "gate_run_stdin": (gate, None)}  # fmt: skip
            if baseline:
                commands |= {"cli_gate_mode_baseline": (verify, baseline), "gate_run_stdin_baseline": (gate, baseline)}
            counted = instructions_per_line(folder, commands, texts[:300])
        sample = Reporting(FastVerifier(verifier), "minimal").check(texts[0])
        assert verdict_line(sample) == json.dumps(sample.to_json(), ensure_ascii=False) + "\n"
    ends = {"cli_gate_mode": cli, "cli_gate_mode_line_buffered": cli_line, "gate_run_stdin": gate_run}
    if before is not None and gate_before is not None:
        ends |= {"cli_gate_mode_baseline": before, "gate_run_stdin_baseline": gate_before}
    cpu = {"raw_pynacl_verify": raw_cpu, **loops, **{name: value[1] for name, value in ends.items()}}
    wall = {"raw_pynacl_verify": raw_wall, **{name: value[0] for name, value in ends.items()}}
    return {
        "benchmark": "cli gate mode",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": sys.version.split()[0], "cores": os.cpu_count()},
        "lines": count,
        "baseline": str(baseline) if baseline else None,
        "cpu_us_per_line": {k: round(v, 2) for k, v in cpu.items()},
        "wall_us_per_line": {k: round(v, 2) for k, v in wall.items()},
        "ratios_cpu": {f"{k}_vs_raw": round(raw_cpu / v, 3) for k, v in cpu.items() if k != "raw_pynacl_verify"},
        "ratios_wall": {f"{k}_vs_raw": round(raw_wall / v, 3) for k, v in wall.items() if k != "raw_pynacl_verify"},
        "instructions_per_line": counted,
        "ratios_instructions": None
        if counted is None
        else {
            f"{k}_vs_raw": round(counted["raw_pynacl_verify"] / v, 3)
            for k, v in counted.items()
            if k != "raw_pynacl_verify"
        },
        "overhead_us_per_line": {
            "former_loop": round(loops["former_loop"] - loops["verifier_check"], 2),
            "gate_mode_loop": round(loops["gate_mode_loop"] - loops["verifier_check"], 2),
        },
        "targets": {
            "ratios_cpu.cli_gate_mode_vs_raw": ">= 0.75",
            "ratios_wall.cli_gate_mode_vs_raw": ">= 0.75",
            "ratios_cpu.gate_run_stdin_vs_raw": ">= 0.75",
        },
    }


def main(argv: list[str] | None = None) -> int:
    return _cli.baseline_main("CLI gate mode benchmark", run, argv, "line")


if __name__ == "__main__":
    raise SystemExit(main())
