"""The batch's pre-pass over a chunk of texts (FastVerifier._signed_triples) only picks which
signatures to verify together: whatever it skips (bytes, over-long, expired trust, a broken
presentation, a cached credential, a presentation of an unbound credential, a credential under an
unknown kid) is verified singly, with the verdict check() gives."""

from __future__ import annotations

import pytest

from tests import forge
from tests.conftest import NOW, lane_flag, reference_claims
from tests.test_batch_verify import ISSUER, URI, _phone
from vcsdk import Issuer, StatusReference, TrustStore, Verifier, fixed_clock
from vcsdk.codec import cbor
from vcsdk.holder import present
from vcsdk.revocation import StatusListChecker, pack, sign_token
from vcsdk.verify import FastVerifier


def _verifier(**store: object) -> Verifier:
    checker = StatusListChecker(TrustStore([ISSUER.public_key]))
    checker.load(sign_token(pack([0] * 16, 2), URI, ISSUER, issued_at=NOW - 60), NOW)
    keys = store.pop("keys", [ISSUER.public_key])
    return Verifier(TrustStore(keys, **store), clock=fixed_clock(NOW), status=checker)  # type: ignore[arg-type]


def _texts() -> list[str | bytes]:
    issuer = Issuer(ISSUER, "KR-MOIS", clock=fixed_clock(NOW - 100))
    plain = [issuer.issue(reference_claims(), status=StatusReference(i, URI)).qr_text for i in range(3)]
    unbound_presented = present(plain[0], _phone(3), now=NOW - 5)  # the credential binds no device key
    return [
        *plain,
        plain[0].encode("ascii"),  # bytes: the reference path
        "GID1:" + "A" * 5000,  # longer than the limit
        "GIDP1:JUNK",  # a presentation whose outer layers do not decode
        unbound_presented,
        present(forge.sign1_bytes(tag=None), _phone(4), now=NOW - 5),  # an untagged credential inside
        plain[1],  # a repeat scan: cached after the first
    ]


def _same(verifier_factory: object, texts: list[str | bytes]) -> None:
    make = verifier_factory  # a fresh reference per side: the replay guard and caches start empty
    single = FastVerifier(make(), compiled=True)  # type: ignore[operator]
    expected = [single.check(text) for text in texts]
    batched = FastVerifier(make(), compiled=True, batch=True)  # type: ignore[operator]
    assert batched.batching
    got = batched.check_many(texts)
    assert [(r.valid, r.code, r.kid) for r in got] == [(r.valid, r.code, r.kid) for r in expected]
    assert [r.credential for r in got] == [r.credential for r in expected]


@pytest.fixture(autouse=True)
def _compiled() -> None:
    lane_flag("compiled")


def test_texts_the_prepass_skips_get_check_verdicts() -> None:
    _same(_verifier, _texts())


def test_cached_credentials_inside_presentations_are_not_batched_again() -> None:
    issuer = Issuer(ISSUER, "KR-MOIS", clock=fixed_clock(NOW - 100))
    text = issuer.issue(reference_claims(), status=StatusReference(4, URI)).qr_text
    presented = [present(text, _phone(i), now=NOW - 5) for i in (5, 6)]
    verifier = FastVerifier(_verifier(), compiled=True, batch=True)
    first = verifier.check_many([text, presented[0]])
    again = verifier.check_many([text, presented[1], text])  # the credential is cached now
    assert [r.code for r in first] == [r.code for r in again[:2]] and again[2].code == again[0].code


def test_expired_trust_is_verified_singly() -> None:
    _same(lambda: _verifier(expires_at=NOW - 1), _texts())


def test_empty_and_single_chunks() -> None:
    verifier = FastVerifier(_verifier(), compiled=True, batch=True)
    assert verifier.check_many([]) == []
    (only,) = verifier.check_many(_texts()[:1])
    assert only.valid


def test_the_loader_falls_back_when_the_module_is_absent_or_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """No compiled module, or one whose libsodium does not initialise: no batch, single checks."""
    import importlib
    import types

    from vcsdk.verify import batch

    def absent(name: str) -> types.ModuleType:
        raise ImportError(name)

    monkeypatch.setattr(importlib, "import_module", absent)
    assert batch._load() == (None, None)
    failing = types.SimpleNamespace(lib=types.SimpleNamespace(vcb_init=lambda: -1), ffi=object())
    monkeypatch.setattr(importlib, "import_module", lambda name: failing)
    assert batch._load() == (None, None)


def _bound_payload(phone_number: int, **overrides: object) -> dict[int, object]:
    cnf = {1: {1: 1, -1: 6, -2: _phone(phone_number).public_key.raw}}
    return forge.claims(cnf=cnf, **overrides)


def test_presented_credentials_the_c_reader_leaves_to_python() -> None:
    """Inside presentations: inner credentials whose payload is malformed CBOR (the pre-pass once
    raised CBOR_MALFORMED out of check_many: one hostile line stopped a gate's batch), whose claims
    the C reader leaves to the Python checks (a Hanja name), or whose protected header the C split
    does not take (a 9-byte kid): each gets check()'s verdict, in a batch."""
    official = forge.official_map()
    official[1] = "金民俊"  # name: Hanja, outside the C reader's character set
    good = forge.claims()
    payloads: list[bytes | dict[int, object]] = [
        b"\xff",
        b"\xa1\x08\xff",
        cbor.dumps(good) + b"\x00",  # trailing byte
        cbor.dumps(good)[:-1],  # truncated
        _bound_payload(7, official=official),
        forge.claims(official=official),  # no cnf at all
        b"\x01",  # a payload that is not a map
        forge.claims(cnf=5),  # a cnf that is not a map
        forge.claims(cnf={1: {1: 1, -1: 6, -2: b"short"}}),  # a key of the wrong length
    ]
    texts: list[str | bytes] = [
        present(forge.sign1_bytes(payload, key=ISSUER), _phone(7), now=NOW - 5) for payload in payloads
    ]
    odd_kid = {1: -8, 4: ISSUER.kid + b"x"}  # a 9-byte kid
    texts.append(present(forge.sign1_bytes(_bound_payload(8), key=ISSUER, protected=odd_kid), _phone(8), now=NOW - 5))
    texts.append(present(forge.sign1_bytes(_bound_payload(9), key=ISSUER), _phone(9), now=NOW - 5))  # valid
    _same(_verifier, texts)
    verdicts = FastVerifier(_verifier(), compiled=True, batch=True).check_many(texts)
    assert [r.code.value for r in verdicts[:4]] == ["CBOR_MALFORMED"] * 4
    assert verdicts[4].valid and verdicts[-1].valid


def test_a_presentation_names_whether_it_answers_a_challenge() -> None:
    from vcsdk.holder.presentation import Presentation

    plain = Presentation(b"c", 1, None, None, b"t", b"s")
    challenged = Presentation(b"c", 1, b"n" * 16, "gate-1", b"t", b"s")
    assert (plain.challenged, challenged.challenged) == (False, True)
