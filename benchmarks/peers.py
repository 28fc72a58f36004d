"""Peer pipelines for the gate benchmark, run in their own venv (.venv-peers).

python-cwt and pycose pin cbor2 versions of their own, so they live apart from vcsdk's venv:
``python benchmarks/peers.py --setup`` creates .venv-peers and installs them; the gate benchmark
then runs this file there with a JSON job on stdin and reads the timings from stdout. Both
peers do the same work as vcsdk's full verify on the same QR text: Base45 (the base45 package),
zlib, COSE decode, Ed25519 signature, claims decode (no status list: they have none).
"""

from __future__ import annotations

import json
import subprocess
import sys
import timeit
import zlib
from pathlib import Path

VENV = Path(__file__).resolve().parent.parent / ".venv-peers"


def setup() -> None:
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "cwt", "pycose", "base45"], check=True)


def measure() -> dict[str, object]:
    from importlib.metadata import version

    import base45
    import cbor2
    import cwt
    from pycose.keys import OKPKey
    from pycose.messages import Sign1Message

    job = json.loads(sys.stdin.read())
    text, raw_x, kid = job["text"], bytes.fromhex(job["x"]), bytes.fromhex(job["kid"])
    cwt_key = cwt.COSEKey.new({1: 1, 2: kid, 3: -8, -1: 6, -2: raw_x})  # OKP, kid, EdDSA, Ed25519, x
    cose_key = OKPKey(crv="ED25519", x=raw_x)

    def python_cwt() -> object:
        return cwt.decode(zlib.decompress(base45.b45decode(text[5:])), keys=[cwt_key])

    def pycose() -> object:
        message = Sign1Message.decode(zlib.decompress(base45.b45decode(text[5:])))
        message.key = cose_key
        if not message.verify_signature():
            raise ValueError("signature")
        return cbor2.loads(message.payload)

    python_cwt()
    pycose()
    best = {
        name: min(timeit.repeat(func, number=1000, repeat=5)) / 1000 * 1e6
        for name, func in (("python_cwt_us", python_cwt), ("pycose_us", pycose))
    }
    return {
        **{k: round(v, 2) for k, v in best.items()},
        "versions": {name: version(name) for name in ("cwt", "pycose", "cbor2", "base45")},
        "venv": ".venv-peers (separate: the peers pin their own cbor2)",
    }


if __name__ == "__main__":
    if "--setup" in sys.argv:
        setup()
    else:
        print(json.dumps(measure()))
