"""One verifier protocol (#10.3): every verifier offers verify, verify_at, check and check_many
with results typed by credential, and Verifier refuses a profile whose claims it cannot parse."""

from __future__ import annotations

from typing import Any

import pytest

from tests import forge
from tests.conftest import NOW, SEED, lane_flag
from vcsdk import (
    Code,
    CredentialVerifier,
    Ed25519PrivateKey,
    FastVerifier,
    Gate,
    HC1Verifier,
    ParallelVerifier,
    StatusPolicy,
    Verification,
    VerifiedCredential,
    Verifier,
    fixed_clock,
)
from vcsdk.errors import CWTExpired, UsageError
from vcsdk.profiles.hc1 import HC1

KEY = Ed25519PrivateKey(SEED)


def lenient_verifier() -> Verifier:
    """Module level: picklable as a ParallelVerifier factory."""
    return Verifier([KEY.public_key], clock=fixed_clock(NOW), status_policy=StatusPolicy.ALLOW_UNKNOWN)


def test_every_verifier_implements_the_protocol() -> None:
    verifiers: list[Any] = [
        lenient_verifier(),
        FastVerifier(lenient_verifier()),
        Gate([KEY.public_key]),
        HC1Verifier([]),
    ]
    for verifier in verifiers:
        assert isinstance(verifier, CredentialVerifier), verifier
    with ParallelVerifier[VerifiedCredential](lenient_verifier, workers=1) as pool:
        assert isinstance(pool, CredentialVerifier)
        texts = [forge.text(), "junk", forge.text(forge.claims(exp=NOW - 3600, iat=NOW - 7200))]
        results = pool.check_many(texts)
        assert [r.code for r in results] == [Code.VALID, Code.INVALID_SCHEME_PREFIX, Code.CWT_EXPIRED]
        assert isinstance(results[0], Verification)
        assert isinstance(results[0].credential, VerifiedCredential)
        assert pool.verify_at(texts[0], NOW).claims.name == "김민준"
        assert pool.check(texts[1], NOW).code == Code.INVALID_SCHEME_PREFIX
        with pytest.raises(CWTExpired):
            pool.verify(texts[2])


@pytest.mark.parametrize("kind", ["reference", "pure", "compiled"])
def test_check_many_checks_every_text_at_one_time(kind: str) -> None:
    verifier: Any = (
        lenient_verifier() if kind == "reference" else FastVerifier(lenient_verifier(), compiled=lane_flag(kind))
    )
    results = verifier.check_many([forge.text(), forge.text(forge.claims(exp=NOW + 10))], NOW + 100)
    assert [r.code for r in results] == [Code.VALID, Code.CWT_EXPIRED]
    assert results[0] and not results[1]


def test_verifier_refuses_a_profile_with_other_claims() -> None:
    with pytest.raises(UsageError, match="HC1Verifier"):
        Verifier([KEY.public_key], profile=HC1)
