"""format_time: any integer a signed claim can hold gives a string (never OverflowError/OSError),
so a trusted credential with an extreme nbf still has a JSON summary and a gate line."""

from __future__ import annotations

import pytest

from tests import forge
from tests.conftest import NOW, SEED
from vcsdk import Ed25519PrivateKey, StatusPolicy, Verifier, fixed_clock
from vcsdk.clock import format_time
from vcsdk.gate.loop import GateLoop


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (1_780_000_000, "2026-05-28T20:26:40Z"),
        (-62_135_596_800, "0001-01-01T00:00:00Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z"),
        (253_402_300_800, "253402300800 (out of the calendar's range)"),
        (-(2**62), "-4611686018427387904 (out of the calendar's range)"),
        (2**62, "4611686018427387904 (out of the calendar's range)"),
        (2**70, "1180591620717411303424 (out of the calendar's range)"),
    ],
)
def test_every_integer_is_shown(seconds: int, shown: str) -> None:
    assert format_time(seconds) == shown


def test_an_extreme_nbf_still_has_a_summary_and_a_gate_line() -> None:
    text = forge.text(forge.claims(nbf=-(2**62)))
    verifier = Verifier(
        [Ed25519PrivateKey(SEED).public_key], clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN
    )
    result = verifier.check(text)
    assert result.valid, result.message
    assert result.credential is not None and result.credential.to_json()["nbf"].startswith("-4611686018427387904 (out")
    lines: list[dict[str, object]] = []
    loop = GateLoop(verifier.check, lines.append, claims="all")
    line = loop.line(result, "stdin", 0.0)
    assert line["code"] == "VALID"
