"""Instruction counts per verification under callgrind: a noise-free companion to the timings.

Wall-clock ratios on a shared machine move by tens of percent between runs; instructions
executed do not. Each mode runs in a fresh interpreter twice (100 and 400 verifications) and
the difference / 300 is the cost of one verification, import and set-up cancelled out.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import sys
sys.path.insert(0, {root!r})
from benchmarks.gate import world
from vcsdk.verify import FastVerifier
verifier, texts, (raw_key, to_be_signed, signature) = world(1)
import gc
gc.collect()
gc.freeze()  # the set-up's objects (a 1.2 M-entry list) out of the collector's reach: a full
             # collection during one run but not the other would add ~10^8 instructions to a mode
mode = sys.argv[1]
lane = {{"compiled": True, "pure": False}}.get(mode)
fast = FastVerifier(verifier, cache_size=0, compiled=lane)
text = texts[0]
run = {{"raw": lambda: raw_key.verify(to_be_signed, signature), "tuned": lambda: fast.verify(text),
       "compiled": lambda: fast.verify(text), "pure": lambda: fast.verify(text),
       "reference": lambda: verifier.verify(text)}}[mode]
for _ in range(int(sys.argv[2])):
    run()
"""


def _collected(mode: str, count: int) -> int:
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c",
         PROBE.format(root=str(ROOT)), mode, str(count)],
        capture_output=True, text=True, check=True, timeout=900,
        env={**os.environ, "PYTHONHASHSEED": "0"},  # set and dict order: same work every run
    )  # fmt: skip
    match = re.search(r"Collected : (\d+)", done.stderr)
    assert match, done.stderr[-500:]
    return int(match.group(1))


def per_verification(modes: tuple[str, ...] = ("raw", "tuned", "reference")) -> dict[str, int] | None:
    """Instructions per verification for each mode, None without valgrind.

    Modes: ``raw`` (one PyNaCl verify), ``tuned`` (FastVerifier, lane chosen automatically),
    ``compiled`` / ``pure`` (FastVerifier forced onto that lane), ``reference`` (Verifier).
    """
    if shutil.which("valgrind") is None:
        return None
    return {mode: (_collected(mode, 400) - _collected(mode, 100)) // 300 for mode in modes}
