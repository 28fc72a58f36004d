"""Hostile cases for the compiled lane's claims reader (``vcsdk/_native/claims.c``) and the gate's verdict
template (``verdict_text``).

The payloads here are written head by head (not through cbor2, which cannot write a map with a
repeated key), so each one is exactly the CBOR the case names. Every refusal must be the reference
verifier's: the C reader may only hand a payload over, never accept what the Python checks refuse.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tests import forge
from tests.conftest import NOW, ROOT, SEED, lane_flag
from vcsdk import Ed25519PrivateKey, StatusPolicy, TrustStore, Verifier, fixed_clock
from vcsdk.codec.cbor import StrictDecoder
from vcsdk.errors import CredentialInvalid
from vcsdk.gate.loop import verdict_text
from vcsdk.keys.ed25519 import Ed25519PublicKey
from vcsdk.limits import DEFAULT_LIMITS, Limits
from vcsdk.trust.store import KeyState, TrustedKey
from vcsdk.verify import Verification
from vcsdk.verify.checks import PAYLOAD_TAGS, CWTClaims, parse_claims
from vcsdk.verify.fast import FastVerifier

KEY = Ed25519PrivateKey(SEED)
IAT = NOW - 100
DECODER = StrictDecoder(DEFAULT_LIMITS, PAYLOAD_TAGS)


# ------------------------------------------------------------------ CBOR by hand


def _head(major: int, arg: int) -> bytes:
    if arg < 24:
        return bytes((major << 5 | arg,))
    for width, info in ((1, 24), (2, 25), (4, 26), (8, 27)):
        if arg < 1 << (8 * width):
            return bytes((major << 5 | info,)) + arg.to_bytes(width, "big")
    raise ValueError(arg)


def _int(value: int) -> bytes:
    return _head(0, value) if value >= 0 else _head(1, -1 - value)


def _text(value: str) -> bytes:
    raw = value.encode()
    return _head(3, len(raw)) + raw


def _bytes(value: bytes) -> bytes:
    return _head(2, len(value)) + value


def _map(entries: list[tuple[bytes, bytes]], count: int | None = None) -> bytes:
    """A map of already encoded (key, value) pairs; ``count`` overrides the head's entry count."""
    return _head(5, len(entries) if count is None else count) + b"".join(k + v for k, v in entries)


def _status(entries: list[tuple[bytes, bytes]] | None = None, count: int | None = None) -> bytes:
    inner = entries if entries is not None else [(_text("idx"), _int(7)), (_text("uri"), _text("u"))]
    return _map([(_text("status_list"), _map(inner, count))])


OFFICIAL = [
    (_int(1), _text("김민준")),
    (_int(3), _head(6, 100) + _int(6681)),  # 1988-04-17
    (_int(4), _int(1_741_000)),
    (_int(5), _text("행정안전부")),
    (_int(7), _text("행정주사")),
    (_int(8), _text("주무관")),
    (_int(9), _text("2019-174-00123")),
    (_int(10), _bytes(bytes(range(16)))),
]


def _claims(
    official: list[tuple[bytes, bytes]] | None = None, status: bytes | None = None, extra: bytes = b"", count: int = 0
) -> bytes:
    """The canonical payload, official-ID entries replaced by ``official``, the status claim's value
    by ``status``, raw entries ``extra`` appended with ``count`` more in the top map's head."""
    top = [
        (_int(1), _text("KR-MOIS")),
        (_int(4), _int(IAT + 86_400)),
        (_int(6), _int(IAT)),
        (_int(7), _bytes(b"c" * 16)),
        (_int(65535), _status() if status is None else status),
        (_int(-65537), _map(OFFICIAL if official is None else official)),
    ]
    return _map(top, len(top) + count) + extra


def _python(payload: bytes) -> CWTClaims | None:
    try:
        return parse_claims(DECODER.decode(payload))
    except CredentialInvalid:
        return None


@pytest.fixture(scope="module")
def native() -> Any:
    lane_flag("compiled")
    from vcsdk.verify.native import NativeLane

    return NativeLane(DEFAULT_LIMITS, "GID1:")


def _verifiers(trust: TrustStore | None = None, **options: Any) -> tuple[Verifier, FastVerifier]:
    lane_flag("compiled")
    store = trust or TrustStore([KEY.public_key])
    options = {"clock": fixed_clock(NOW), "status_policy": StatusPolicy.ALLOW_UNKNOWN, **options}
    return Verifier(store, **options), FastVerifier(Verifier(store, **options), compiled=True, cache_size=0)


def _verdict(result: Verification[Any]) -> tuple[Any, ...]:
    return result.valid, result.code, result.message, result.kid


def test_the_hand_written_payload_is_read_in_c(native: Any) -> None:
    """The cases below change one thing of a payload that both readers take."""
    payload = _claims()
    python = _python(payload)
    assert python is not None and native.claims(payload) == python


# ------------------------------------------------------------------ repeated keys

DUPLICATES = {
    "iss twice": _claims(extra=_int(1) + _text("KR-OTHER"), count=1),
    "exp twice": _claims(extra=_int(4) + _int(IAT + 10), count=1),
    "iat twice (same value)": _claims(extra=_int(6) + _int(IAT), count=1),
    "iat twice (another value)": _claims(extra=_int(6) + _int(IAT - 10**6), count=1),
    "nbf twice": _claims(extra=_int(5) + _int(IAT) + _int(5) + _int(IAT + 10**6), count=2),
    "cti twice": _claims(extra=_int(7) + _bytes(b"d" * 16), count=1),
    "status twice": _claims(extra=_int(65535) + _status(), count=1),
    "official-ID map twice": _claims(extra=_int(-65537) + _map(OFFICIAL), count=1),
    "name twice": _claims(official=[*OFFICIAL, (_int(1), _text("홍길동"))]),
    "birth_date twice": _claims(official=[*OFFICIAL, (_int(3), _head(6, 100) + _int(0))]),
    "agency_code twice": _claims(official=[*OFFICIAL, (_int(4), _int(1_000_000))]),
    "position twice": _claims(official=[*OFFICIAL, (_int(8), _text("팀장"))]),
    "photo_digest twice": _claims(official=[*OFFICIAL, (_int(10), _bytes(b"\xff" * 16))]),
    "status idx twice, no uri": _claims(status=_status([(_text("idx"), _int(7)), (_text("idx"), _int(8))])),
    "status uri twice, no idx": _claims(status=_status([(_text("uri"), _text("u")), (_text("uri"), _text("v"))])),
}


@pytest.mark.parametrize("payload", DUPLICATES.values(), ids=DUPLICATES.keys())
def test_a_repeated_key_is_never_read_in_c(native: Any, payload: bytes) -> None:
    """The strict decoder refuses every repeated map key; so must the C reader (no test held its
    four repeat checks: each could be removed with every other test still passing)."""
    assert _python(payload) is None
    assert native.claims(payload) is None


@pytest.mark.parametrize("payload", DUPLICATES.values(), ids=DUPLICATES.keys())
def test_a_repeated_key_gets_the_reference_verdict(payload: bytes) -> None:
    reference, fast = _verifiers()
    text = forge.text(payload, key=KEY)
    expected = reference.check(text)
    got = fast.check(text)
    assert not expected.valid and expected.code == "CBOR_MALFORMED"
    assert _verdict(got) == _verdict(expected)


def test_a_status_member_cannot_leak_into_the_top_map(native: Any) -> None:
    """A status map of three members whose third one reads as a top-level nbf if the C reader took
    only two: the top map counts it, so only a reader that miscounts sees a well-formed payload."""
    inner = [(_text("idx"), _int(7)), (_text("uri"), _text("u")), (_int(5), _int(IAT))]
    payload = _claims(status=_status(inner), count=1)
    assert _python(payload) is None
    assert native.claims(payload) is None


_ENTRY = st.sampled_from(
    [
        *((_int(1) + v, "iss") for v in (_text("KR-MOIS"), _text("KR-X"))),
        *((_int(k) + _int(v), str(k)) for k in (4, 5, 6) for v in (IAT, IAT + 86_400, 2**62 - 1)),
        (_int(7) + _bytes(b"d" * 16), "cti"),
        (_int(8) + _map([]), "cnf"),
        (_int(65535) + _status(), "status"),
        (_int(-65537) + _map(OFFICIAL), "official"),
        (_int(2) + _int(1), "unknown"),
    ]
)


def _widen(payload: bytes, at: int) -> bytes:
    """The head at ``at`` (if it is a small one) in its one-byte-argument form: not the shortest."""
    byte = payload[at]
    if byte & 0x1F < 24 and byte >> 5 in (0, 1, 2, 3, 4, 5):
        return payload[:at] + bytes((byte & 0xE0 | 24, byte & 0x1F)) + payload[at + 1 :]
    return payload


_OFFICIAL_ENTRY = st.sampled_from([*OFFICIAL, (_int(2), _text("KIM")), (_int(6), _text("팀")), (_int(11), _int(1))])


@settings(max_examples=400, deadline=None)
@given(
    extra=st.lists(_ENTRY, max_size=2),
    official=st.lists(_OFFICIAL_ENTRY, max_size=2),
    widen=st.lists(st.integers(0, 400), max_size=1),
    indefinite=st.booleans(),
)
def test_repeats_longer_heads_and_indefinite_maps_never_read_differently(
    native: Any,
    extra: list[tuple[bytes, str]],
    official: list[tuple[bytes, bytes]],
    widen: list[int],
    indefinite: bool,
) -> None:
    """Written head by head (cbor2 cannot write a repeated key): the canonical payload with claims
    and official-ID fields appended (often repeats), a head in a longer form, the top map of
    indefinite length."""
    payload = _claims([*OFFICIAL, *official], extra=b"".join(entry for entry, _ in extra), count=len(extra))
    if indefinite:
        payload = b"\xbf" + payload[1:] + b"\xff"
    for at in widen:
        payload = _widen(payload, at % len(payload))
    python = _python(payload)
    read = native.claims(payload)
    assert read is None or read == python, payload.hex()
    event(f"python {'accepts' if python else 'refuses'}, C {'reads' if read else 'leaves it'}")


# ------------------------------------------------------------------ limits


@pytest.mark.parametrize("limits", [Limits(max_cbor_items=20), Limits(max_cbor_items=127)], ids=["20", "127"])
def test_a_tight_item_cap_leaves_the_payload_to_the_strict_decoder(limits: Limits) -> None:
    """Under an item cap the payload exceeds, the strict decoder says LIMIT_EXCEEDED; the C reader
    must not read it (no test covered the item half of the gate: only max_cbor_depth was tried)."""
    from vcsdk.verify.native import NativeLane

    text = forge.text(_claims(), key=KEY)
    assert NativeLane(limits, "GID1:").claims(_claims()) is None
    reference, fast = _verifiers(limits=limits)
    expected, got = reference.check(text), fast.check(text)
    if limits.max_cbor_items == 20:
        assert expected.code == "LIMIT_EXCEEDED"
    assert (got.valid, got.code) == (expected.valid, expected.code)


# ------------------------------------------------------------------ key windows


def _other(
    state: KeyState = KeyState.ACTIVE, not_before: int | None = None, not_after: int | None = None
) -> TrustedKey:
    """Another key under the signer's kid."""
    raw = Ed25519PrivateKey(bytes(range(1, 33))).public_key.raw
    key = Ed25519PublicKey(raw, kid=KEY.public_key.kid)
    return TrustedKey(key, state=state, not_before=not_before, not_after=not_after)


TRUST = {
    "window holds iat": [TrustedKey(KEY.public_key, not_before=IAT, not_after=IAT)],
    "window ended before iat": [TrustedKey(KEY.public_key, not_after=IAT - 1)],
    "window opens after iat": [TrustedKey(KEY.public_key, not_before=IAT + 1)],
    "signer compromised": [TrustedKey(KEY.public_key, state=KeyState.COMPROMISED)],
    "signer retired, window holds iat": [TrustedKey(KEY.public_key, state=KeyState.RETIRED, not_after=IAT)],
    "signer's window ended, another key's holds": [TrustedKey(KEY.public_key, not_after=IAT - 1), _other()],
    "another key's window ended, the signer has none": [_other(not_after=IAT - 1), TrustedKey(KEY.public_key)],
    "another key compromised": [_other(KeyState.COMPROMISED), TrustedKey(KEY.public_key, not_before=IAT)],
    "only another key, window holds": [_other(not_before=IAT)],
    "issuer named otherwise": [TrustedKey(KEY.public_key, issuer="KR-OTHER")],
}


@pytest.mark.parametrize("keys", TRUST.values(), ids=TRUST.keys())
def test_key_windows_on_claims_read_in_c_match_the_reference(native: Any, keys: list[TrustedKey]) -> None:
    assert native.claims(_claims()) is not None  # the C reader takes this payload: its iat picks the window
    reference, fast = _verifiers(TrustStore(keys))
    text = forge.text(_claims(), key=KEY)
    expected, got = reference.check(text), fast.check(text)
    assert _verdict(got) == _verdict(expected)
    if expected.valid:
        assert got.credential == expected.credential


# ------------------------------------------------------------------ verdict_text

LINE: dict[str, Any] = {
    "valid": True,
    "code": "VALID",
    "message": "credential is valid",
    "kid": "56475aa75463474c",
    "claims": {"name": "김민준"},
    "source": "stdin#1",
    "at": "2026-05-28T20:26:40Z",
    "latency_ms": 0.25,
}


@pytest.mark.parametrize("latency", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_verdict_text_writes_non_finite_latency_as_json_dumps(latency: float) -> None:
    """json.dumps writes NaN and Infinity; the template wrote Python's nan and inf."""
    line = {**LINE, "latency_ms": latency}
    assert verdict_text(line) == json.dumps(line, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("key", [1, 2.5, True, None], ids=["int", "float", "bool", "None"])
def test_verdict_text_takes_claims_keys_that_are_not_text(key: Any) -> None:
    """json.dumps turns such keys into strings; the template raised TypeError on them."""
    line = {**LINE, "claims": {key: "x", "name": "김민준"}}
    assert verdict_text(line) == json.dumps(line, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------ a stale compiled module


def test_a_compiled_module_built_before_the_claims_reader_is_named_out_of_date(monkeypatch: pytest.MonkeyPatch) -> None:
    """A module built from older sources loads, but no verifier can use it (NativeLane refuses it):
    ``lane()`` (and so ``vcsdk --version`` and the benchmarks' lane line) said "compiled" while every
    FastVerifier silently ran the pure lane."""
    from types import SimpleNamespace

    from vcsdk import _native

    stale = SimpleNamespace(ffi=object(), lib=SimpleNamespace(vl_init=lambda: 0))  # no VL_CLAIM_SLOTS
    monkeypatch.setitem(sys.modules, "vcsdk._native._fastlane", stale)
    monkeypatch.setattr(_native, "_fastlane", stale, raising=False)
    ffi, lib, why = _native._import()
    assert (ffi, lib) == (None, None)
    assert why == "compiled module out of date: reinstall vcsdk to rebuild it"
    monkeypatch.delenv(_native.ENV_PURE, raising=False)
    monkeypatch.setattr(_native, "LIB", lib)
    monkeypatch.setattr(_native, "_IMPORT_ERROR", why)
    assert str(_native.lane()) == f"pure Python ({why})"


# ------------------------------------------------------------------ the AddressSanitizer fuzz run


def test_the_asan_run_reaches_every_c_reader(tmp_path: Path) -> None:
    """``python -m fuzz.native`` (CI's 20 s and the documented long run) feeds the C code inputs
    near valid ones: each entry point gets inputs the C code accepts (and Python then checks), not
    only near-empty ones. (libFuzzer under GCC's preloaded ASan runtime got no coverage and shrank
    its corpus to one 1-byte input; the run now mutates valid inputs itself.)"""
    from fuzz.native import ENTRY_POINTS, libasan

    if libasan() is None:
        pytest.skip("no gcc with libasan.so: scripts/bootstrap.sh installs gcc")
    command = [sys.executable, "-m", "fuzz.native", "--seconds", "3", "--seed", "7", "--work", str(tmp_path)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    counts = json.loads((tmp_path / "native_asan.log").read_text().strip().splitlines()[-1])
    assert len(counts["runs"]) == len(ENTRY_POINTS)
    for name, runs, accepted in zip(ENTRY_POINTS, counts["runs"], counts["accepted"], strict=True):
        assert runs > 1000 and 0 < accepted < runs, (name, runs, accepted)
    assert "seed 7" in result.stdout and "0 escapes" in result.stdout


def test_mutations_stay_near_the_valid_inputs() -> None:
    """The same seed gives the same inputs; most are changed, none is empty of an entry point."""
    import random

    from fuzz.native import seeds, variants

    initial = seeds()
    first = list(itertools.islice(variants(initial, random.Random(1)), 500))
    assert first == list(itertools.islice(variants(initial, random.Random(1)), 500))
    changed = sum(1 for data in first if data not in initial)
    assert changed > 450
    assert {data[0] % 5 for data in first if data} == {0, 1, 2, 3, 4}
