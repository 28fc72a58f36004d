"""The examples in examples/ and the README run as documented."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def test_quickstart_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "without a status list: STATUS_UNKNOWN" in done.stdout
    assert "VALID: 김민준 행정주사, 행정안전부" in done.stdout
    assert re.search(r"damaged: (DECOMPRESSION_FAILED|BASE45_DECODING_FAILED)", done.stdout)


def test_tamper_example_is_refused_with_signature_invalid() -> None:
    from vcsdk import Ed25519PrivateKey, Issuer, Verifier

    sys.path.insert(0, str(ROOT / "examples"))
    try:
        from tamper import forge
    finally:
        sys.path.pop(0)
    key = Ed25519PrivateKey.generate()
    claims = __import__("json").loads((ROOT / "examples" / "reference-claims.json").read_text())
    text = Issuer(key, "KR-MOIS").issue(claims).qr_text
    forged = forge(text, "행정사무관")
    assert forged != text
    assert Verifier([key.public_key]).check(forged).code == "SIGNATURE_INVALID"


def test_readme_python_blocks_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    assert blocks, "README has no python examples"
    namespace: dict[str, object] = {"__name__": "readme"}  # blocks build on each other, in order
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
