"""Review rv7 of the batch path's shared steps (``FastVerifier._check_opened``), the pre-pass's
device-key read, the slotted ``Report`` of ``vcsdk verify -`` and the heap arrays of
``batch25519.c``: a regression for what broke, and the adversarial cases that held, pinned.

Broke (fixed): the worker paths of the stdin gate modes read their lines otherwise than the
single-process paths. ``vcsdk verify - --workers N`` held an over-long line whole in memory (no
bound) and named its real length where one process names the cut line's;
``vcsdk gate run --stdin --workers N`` did not end a line at a bare CR (one verdict for two
lines) and read bytes that are not UTF-8 as surrogate escapes (another message). Both now read
through :func:`vcsdk.gate.sources.text_batches`, as the single-process modes do.

Held: ``check_many`` equal to ``check`` one by one (codes, result objects, order, nothing raised)
over hostile batches (malformed Base45, zlib, COSE, CBOR at every layer of credentials and of
presentations and their inner credentials, bytes, str subclasses, lone surrogates, over-long
texts, duplicates, texts cached mid-batch, chunks over 64) under cache sizes 0, 1 and 4096, every
holder-binding setting, expired trust, a compromised key and keys with validity windows;
``Report`` made by the slot maker equal to the dataclass's and picklable under every protocol;
``vcb_verify_joined`` refusing lengths that overrun or do not fill the buffer."""

from __future__ import annotations

import json
import os
import pickle
import random
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from vcsdk_cli.verify_cmds import Report, _report, verdict_line

from tests import forge
from tests.conftest import NOW, lane_flag, reference_claims
from tests.test_batch_verify import ISSUER, URI, _phone
from vcsdk import Issuer, StatusReference, TrustedKey, TrustStore, Verifier, fixed_clock
from vcsdk.codec import base45, cbor
from vcsdk.errors import Code
from vcsdk.holder import present
from vcsdk.revocation import StatusListChecker, pack, sign_token
from vcsdk.trust.store import KeyState
from vcsdk.verify import FastVerifier, Verification, batch

TIMEOUT = 120

# ---------------------------------------------------------------------- broke: the worker paths' lines


def _hostile_input() -> bytes:
    issuer = Issuer(ISSUER, "KR-MOIS", clock=fixed_clock(NOW - 100))
    good = issuer.issue(reference_claims()).qr_text
    return (
        good.encode()
        + b"\n"
        + b"x" * 20_000  # over-long: cut at the line limit in every mode
        + b"\n"
        + b"\xff\xfeGID1:\x80\n"  # not UTF-8
        + b"a\rb\r\n"  # a bare CR ends a line
        + good.encode()
        + b"\n"
    )


def _cli(args: list[str], data: bytes) -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "vcsdk_cli.main", *args],
        input=data,
        capture_output=True,
        timeout=TIMEOUT,
        env=env,
        check=False,
    )
    assert b"Traceback" not in done.stderr, done.stderr.decode(errors="replace")
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    return [{k: v for k, v in line.items() if k not in ("at", "latency_ms")} for line in lines]


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rv7") / "issuer.pub.pem"
    path.write_bytes(ISSUER.public_key.to_pem())
    return path


def test_verify_workers_read_lines_as_one_process_does(key_file: Path) -> None:
    args = ["verify", "--allow-no-status-claim", "--trust", str(key_file), "--at", str(NOW), "-"]
    single = _cli(args, _hostile_input())
    assert len(single) == 6 and [line["valid"] for line in single] == [True, False, False, False, False, True]
    assert _cli([*args[:-1], "--line-buffered", "-"], _hostile_input()) == single
    assert _cli([*args[:-1], "--workers", "2", "-"], _hostile_input()) == single


def test_gate_workers_read_lines_as_one_process_does(tmp_path: Path) -> None:
    from tests.gateworld import make_world, write_anchor

    world = make_world(NOW)
    bundle = tmp_path / "gate.bundle"
    bundle.write_bytes(world.bundle(1))
    anchor = write_anchor(tmp_path)
    data = _hostile_input().replace(b"\n", b"\n" + world.text.encode() + b"\n", 1)
    args = ["gate", "run", "--stdin", "--bundle", str(bundle), "--trust-anchor", str(anchor), "--at", str(NOW)]
    single = _cli([*args, "--state", str(tmp_path / "one")], data)
    assert len(single) == 7 and single[1]["code"] == "VALID"
    assert _cli([*args, "--state", str(tmp_path / "two"), "--workers", "2"], data) == single


# ---------------------------------------------------------------------- held: check_many == check


@pytest.fixture(autouse=True)
def _compiled() -> None:
    lane_flag("compiled")


def _verifier(binding: str, **store: Any) -> Verifier:
    checker = StatusListChecker(TrustStore([ISSUER.public_key]))
    checker.load(sign_token(pack([0] * 8 + [1] * 8, 2), URI, ISSUER, issued_at=NOW - 60), NOW)
    keys = store.pop("keys", [ISSUER.public_key])
    return Verifier(TrustStore(keys, **store), clock=fixed_clock(NOW), status=checker, holder_binding=binding)


def _bound(i: int, **overrides: Any) -> dict[int, Any]:
    return forge.claims(cnf={1: {1: 1, -1: 6, -2: _phone(i).public_key.raw}}, **overrides)


class _Str(str):
    __slots__ = ()


def _pool() -> list[str | bytes]:
    issuer = Issuer(ISSUER, "KR-MOIS", clock=fixed_clock(NOW - 100))
    plain = [issuer.issue(reference_claims(), status=StatusReference(i, URI)).qr_text for i in range(10)]
    inner_bad = [b"\xff", b"\x01", b"\xa0", cbor.dumps(_bound(2)) + b"\x00", cbor.dumps(_bound(2))[:-1]]
    texts: list[str | bytes] = [
        *plain,
        *(present(forge.sign1_bytes(_bound(i), key=ISSUER), _phone(i), now=NOW - 5) for i in range(4)),
        present(forge.sign1_bytes(_bound(5), key=ISSUER), _phone(6), now=NOW - 5),  # another phone
        *(forge.text(_bound(i), key=ISSUER) for i in range(2)),  # bound, bare
        *(present(plain[i], _phone(1), now=NOW - 5) for i in range(2)),  # unbound, presented
        *(present(forge.sign1_bytes(p, key=ISSUER), _phone(2), now=NOW - 5) for p in inner_bad),
        *(forge.text(p, key=ISSUER) for p in inner_bad),
        *("", "GID1:", "GIDP1:", "GIDP1:JUNK", "junk", "GID1:\ud800", "GIDP1:\ud800", "GID1:é"),
        *("GIDP1:" + "A" * 5000, "GID1:" + "0" * 5000, b"GID1:", plain[0].encode()),
        _Str(plain[1]),
    ]
    rng = random.Random(7)
    for text in [plain[2], texts[10], texts[11]]:
        assert isinstance(text, str)
        prefix = "GIDP1:" if text.startswith("GIDP1:") else "GID1:"
        raw = zlib.decompress(base45.b45decode(text[len(prefix) :]))
        for _ in range(4):
            mutated = bytearray(raw)
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            texts.append(prefix + base45.b45encode(zlib.compress(bytes(mutated))))
            texts.append(prefix + base45.b45encode(zlib.compress(raw[: rng.randrange(len(raw))])))
    return texts


_STORES: dict[str, dict[str, Any]] = {
    "plain": {},
    "expired": {"expires_at": NOW - 1},
    "compromised": {"keys": [TrustedKey(ISSUER.public_key, state=KeyState.COMPROMISED)]},
    "window-after-iat": {"keys": [TrustedKey(ISSUER.public_key, not_before=NOW - 50)]},
    "window-around-iat": {"keys": [TrustedKey(ISSUER.public_key, not_before=NOW - 150, not_after=NOW - 50)]},
}


@pytest.mark.parametrize("binding", ["off", "if-bound", "required"])
@pytest.mark.parametrize("cache_size", [0, 1, 4096])
@pytest.mark.parametrize("store", sorted(_STORES))
def test_check_many_equals_check_on_hostile_batches(binding: str, cache_size: int, store: str) -> None:
    pool = _pool()
    rng = random.Random(f"{binding}{cache_size}{store}")
    texts = [rng.choice(pool) for _ in range(150)]  # three chunks, duplicates, repeats cached mid-batch
    single = FastVerifier(_verifier(binding, **dict(_STORES[store])), compiled=True, cache_size=cache_size)
    expected = [single.check(text) for text in texts]
    batched = FastVerifier(_verifier(binding, **dict(_STORES[store])), compiled=True, cache_size=cache_size)
    assert batched.batching
    assert batched.check_many(texts) == expected
    if store == "plain" and binding == "if-bound":
        assert {Code.VALID, Code.CBOR_MALFORMED, Code.DEVICE_SIGNATURE_INVALID} <= {r.code for r in expected}


# ---------------------------------------------------------------------- held: Report, vcb_verify_joined


def test_reports_from_the_slot_maker_are_the_dataclass_and_pickle() -> None:
    result: Verification[Any] = Verification(False, Code.CWT_EXPIRED, "expired at 1780000000", b"\x01\x02")
    made, built = _report(result, "minimal"), Report(result, "minimal")
    assert made == built and verdict_line(made) == json.dumps(built.to_json(), ensure_ascii=False) + "\n"
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(made, protocol)) == built


def test_the_joined_entry_refuses_lengths_that_do_not_fill_the_buffer() -> None:
    lib, ffi = batch._native_lib, batch._ffi
    if lib is None:
        pytest.skip("the batch verifier is not built")
    ok = ffi.new("unsigned char[]", 2)
    signatures, keys = bytes(128), bytes(64)
    for joined, lengths in [(b"ab", [1, 2]), (b"abc", [1, 1]), (b"ab", [2**64 - 1, 3]), (b"ab", [1, 2**64 - 1])]:
        assert lib.vcb_verify_joined(2, joined, len(joined), ffi.new("size_t[]", lengths), signatures, keys, ok) == -1
    assert lib.vcb_verify_joined(2, b"", 0, ffi.new("size_t[]", [0, 0]), signatures, keys, ok) == 0
    assert lib.vcb_verify_joined(257, b"", 0, ffi.new("size_t[]", [0]), b"", b"", ok) == -1
