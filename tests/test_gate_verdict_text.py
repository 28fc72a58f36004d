"""The gate's verdict lines are written from a template: byte for byte what ``json.dumps`` writes,
for every line the loop makes, and for any line it does not expect (it then uses json.dumps)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.gateworld import ISSUING, make_world
from vcsdk import Code, StatusPolicy, Verifier, fixed_clock
from vcsdk.gate.loop import _LINE_KEYS, GateLoop, verdict_text
from vcsdk.verify import Verification

_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=30) | st.sampled_from(
    ['"', "\\", "\x00", "\x1f", "\x7f", "\u2028", "\ud7a3", "김민준", "\U0001f600"]
)
_KEYS = st.one_of(_TEXT, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())
"""Claims keys json.dumps turns into text."""
_LINE = st.fixed_dictionaries(
    {
        "valid": st.booleans(),
        "code": _TEXT,
        "message": _TEXT,
        "kid": st.none() | _TEXT,
        "claims": st.none() | st.dictionaries(_TEXT, _TEXT, max_size=5) | st.dictionaries(_KEYS, _TEXT, max_size=3),
        "source": _TEXT,
        "at": _TEXT,
        "latency_ms": st.floats(),  # NaN and infinities too: json.dumps writes NaN and Infinity
    }
).map(lambda line: {key: line[key] for key in _LINE_KEYS})
"""Lines in the loop's key order (fixed_dictionaries does not keep it: in its own order, 98 % of
the lines took the json.dumps fallback and the template was hardly tested)."""


@settings(max_examples=500, deadline=None)
@given(line=_LINE)
def test_template_equals_json_dumps(line: dict[str, Any]) -> None:
    assert verdict_text(line) == json.dumps(line, ensure_ascii=False) + "\n"


@settings(max_examples=200, deadline=None)
@given(
    line=_LINE,
    change=st.sampled_from(["claims", "latency_ms", "kid", "valid", "extra", "order", "code"]),
    value=st.one_of(
        st.integers(), st.floats(), st.lists(st.integers(), max_size=2), st.dictionaries(_TEXT, st.integers())
    ),
)
def test_unexpected_lines_go_through_json_dumps(line: dict[str, Any], change: str, value: Any) -> None:
    if change == "extra":
        line["extra"] = value
    elif change == "order":
        line = dict(reversed(line.items()))
    else:
        line[change] = value
    assert verdict_text(line) == json.dumps(line, ensure_ascii=False) + "\n"


def test_the_loops_own_lines() -> None:
    """Valid and refused verdicts with each claims mode, as GateLoop.line makes them."""
    world = make_world()
    verifier = Verifier([ISSUING.public_key], clock=fixed_clock(world.now), status_policy=StatusPolicy.ALLOW_UNKNOWN)
    valid = verifier.check(world.text)
    assert valid.valid
    results: tuple[Verification[Any], ...] = (
        valid,
        verifier.check(world.text[:-3]),
        Verification(False, Code.QR_NOT_FOUND, "no QR code", None, None),
    )
    for claims in ("none", "minimal", "all"):
        emitted: list[dict[str, Any]] = []
        loop = GateLoop(verifier.check, emitted.append, claims=claims)
        for result in results:
            line = loop.line(result, "video:phone.avi#3", 0.0)
            assert verdict_text(line) == json.dumps(line, ensure_ascii=False) + "\n"
