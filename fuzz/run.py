"""Run the fuzz targets under atheris (libFuzzer), each in its own bounded child process.

    python -m fuzz.run                          # every target, 5 s each (the test command's budget)
    python -m fuzz.run --seconds 600 qr_fast    # a long run of one target
    python -m fuzz.run --list

Each child runs ``atheris.Fuzz`` over ``fuzz/corpus/<target>`` (read only) plus a scratch
corpus (``--work DIR``, default a temporary folder) with libFuzzer's own bounds
(``-rss_limit_mb``, ``-timeout``) on top of the invariant asserted by every target
(:func:`fuzz.targets.run_one`). A crashing input is written to ``--artifacts`` (default
``fuzz/findings/``) and the run fails. The summary is one table: target, executions, seconds,
corpus growth, escapes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
FINDINGS = HERE / "findings"
_DONE = re.compile(r"Done (\d+) runs in (\d+) second")
_STAT = re.compile(r"#(\d+)\s+(?:pulse|NEW|REDUCE|INITED|DONE)\s+cov: (\d+)")


@dataclass
class Outcome:
    """What one target's run reached."""

    target: str
    executions: int
    seconds: float
    coverage: int
    new_inputs: int
    escapes: int
    exit_code: int


def _child(name: str, libfuzzer_args: list[str]) -> None:  # pragma: no cover - runs under atheris
    import atheris

    with atheris.instrument_imports(include=["vcsdk"]):
        from fuzz import targets

    target = targets.TARGETS[name]
    prefix = next((a.split("=", 1)[1] for a in libfuzzer_args if a.startswith("-artifact_prefix=")), None)

    def one_input(data: bytes) -> None:
        try:
            targets.run_one(target, data)
        except BaseException:
            save_escape(prefix, data)
            raise

    atheris.Setup([sys.argv[0], *libfuzzer_args], one_input)
    atheris.Fuzz()


def save_escape(prefix: str | None, data: bytes) -> Path | None:
    """Keep an input that broke the invariant as ``<prefix>escape-<sha1>`` before atheris reports
    it: libFuzzer writes its own crash file only when the process dies cleanly, and a target
    with threads or exit handlers (``service_json``) can be killed first (exit -14, no file)."""
    if prefix is None:
        return None
    import hashlib

    path = Path(f"{prefix}escape-{hashlib.sha1(data).hexdigest()}")  # noqa: S324 - a name, not security
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def run_target(name: str, seconds: int, work: Path, artifacts: Path, rss_mb: int, nice: bool) -> Outcome:
    """Fuzz one target for ``seconds`` in a child process; parse libFuzzer's report."""
    scratch = work / name
    scratch.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    before = len(list(scratch.iterdir()))
    args = [
        str(scratch),
        str(CORPUS / name),
        f"-max_total_time={seconds}",
        f"-rss_limit_mb={rss_mb}",
        "-timeout=20",
        "-max_len=8192",
        f"-artifact_prefix={artifacts}/{name}-",
        "-print_final_stats=1",
    ]
    command = [sys.executable, "-m", "fuzz.run", "--child", name, "--", *args]
    if nice:
        command = ["nice", "-n", "19", *command]
    started = time.monotonic()
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False, cwd=HERE.parent)  # noqa: S603
    elapsed = time.monotonic() - started
    log = result.stderr
    (work / f"{name}.log").write_text(log, encoding="utf-8")
    done = _DONE.search(log)
    executions = int(done.group(1)) if done else 0
    if not done:
        stats = re.findall(r"stat::number_of_executed_units:\s+(\d+)", log)
        executions = int(stats[-1]) if stats else 0
    coverage = max((int(m.group(2)) for m in _STAT.finditer(log)), default=0)
    escapes = 0 if result.returncode == 0 else 1
    return Outcome(name, executions, round(elapsed, 1), coverage, len(list(scratch.iterdir())) - before, escapes,
                   result.returncode)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:  # pragma: no cover - the child process
        _child(argv[1], argv[3:] if argv[2:3] == ["--"] else argv[2:])
        return 0
    from fuzz.targets import NOT_YET_FUZZED, TARGETS

    parser = argparse.ArgumentParser(prog="python -m fuzz.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="default: every target")
    parser.add_argument("--seconds", type=int, default=5, help="fuzzing time per target (default 5)")
    parser.add_argument("--work", type=Path, help="scratch corpus and logs (default: a temporary folder)")
    parser.add_argument("--artifacts", type=Path, default=FINDINGS, help="where crashing inputs go")
    parser.add_argument("--rss-mb", type=int, default=1536, help="libFuzzer -rss_limit_mb (default 1536)")
    parser.add_argument("--nice", action="store_true", help="run the children under nice -n 19")
    parser.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    parser.add_argument("--list", action="store_true", help="list the targets and what is not fuzzed yet")
    args = parser.parse_args(argv)
    if args.list:
        for name, target in TARGETS.items():
            print(f"{name:14} {target.doc}")
        for name, why in NOT_YET_FUZZED.items():
            print(f"{name:14} NOT FUZZED: {why}")
        return 0
    names = args.targets or list(TARGETS)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {unknown}; --list shows them")
    with tempfile.TemporaryDirectory(prefix="vcsdk-fuzz-") as tmp:
        work = args.work or Path(tmp)
        outcomes = [run_target(n, args.seconds, work, args.artifacts, args.rss_mb, args.nice) for n in names]
        failed = [o for o in outcomes if o.exit_code != 0]
        for o in failed:
            kept = sorted(str(p) for p in args.artifacts.glob(f"{o.target}-*"))
            print(f"--- {o.target} (exit {o.exit_code}), inputs kept: {kept or 'none'}; log tail:", file=sys.stderr)
            print("\n".join((work / f"{o.target}.log").read_text().splitlines()[-40:]), file=sys.stderr)
    if args.json:
        print(json.dumps([asdict(o) for o in outcomes], indent=1))
    else:
        print(f"{'target':14} {'execs':>9} {'secs':>6} {'cov':>6} {'new':>5} escapes")
        for o in outcomes:
            print(f"{o.target:14} {o.executions:>9} {o.seconds:>6} {o.coverage:>6} {o.new_inputs:>5} {o.escapes}")
        total = sum(o.executions for o in outcomes)
        print(f"fuzz: {len(outcomes)} targets, {total} executions, {sum(o.escapes for o in outcomes)} escapes")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
