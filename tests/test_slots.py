"""slot_constructor: the same frozen objects as the dataclass constructors, made cheaper, and the
verifier's positional use of it puts every value in its field."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from tests.conftest import reference_claims
from vcsdk import Ed25519PrivateKey, Issuer, StatusReference, TrustStore, Verifier, fixed_clock
from vcsdk._slots import COMPILED, python_slot_constructor, slot_constructor
from vcsdk.profiles.official_id import OfficialID
from vcsdk.revocation import StatusListChecker, pack, sign_token
from vcsdk.verify.checks import CWTClaims
from vcsdk.verify.result import PresentationInfo, VerifiedCredential
from vcsdk.verify.status import StatusCheck

OFFICIAL = OfficialID("김민준", date(1988, 4, 17), 1741000, "행정안전부", "행정주사", "2019-174-00123", b"d" * 16)


@pytest.mark.parametrize(
    ("cls", "values"),
    [
        (OfficialID, dataclasses.astuple(OFFICIAL)),
        (StatusReference, (7, "https://id.mois.go.kr/sl/7")),
        (PresentationInfo, (1_780_000_000, True, "gate-1")),
        (CWTClaims, ("KR-MOIS", 1, 2, None, b"c" * 16, None, StatusReference(7, "u"), OFFICIAL)),
    ],
)
@pytest.mark.parametrize("constructor", [slot_constructor, python_slot_constructor], ids=["default", "python"])
def test_same_objects_as_the_dataclass_constructor(cls: type[Any], values: tuple[Any, ...], constructor: Any) -> None:
    made, expected = constructor(cls)(*values), cls(*values)
    assert type(made) is cls
    assert made == expected and hash(made) == hash(expected) and repr(made) == repr(expected)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.__setattr__(dataclasses.fields(cls)[0].name, None)
    with pytest.raises(TypeError):
        constructor(cls)(*values[:-1])  # every field, no defaults
    with pytest.raises(TypeError):
        constructor(cls)(*values, None)
    with pytest.raises(TypeError):
        constructor(cls)(*values[:-1], **{dataclasses.fields(cls)[-1].name: values[-1]})  # positional only


def test_the_compiled_maker_is_built_with_the_fast_lane() -> None:
    """CI builds the compiled part; the constructor the verifier uses is then the C maker."""
    from vcsdk import _native

    assert COMPILED is _native.available()
    if COMPILED:
        assert type(slot_constructor(StatusReference)).__name__ == "Maker"


@pytest.mark.parametrize("constructor", [slot_constructor, python_slot_constructor], ids=["default", "python"])
def test_refuses_classes_it_cannot_fill(constructor: Any) -> None:
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclasses.dataclass(slots=True)
    class NotFrozen:
        a: int

    for cls in (NoSlots, NotFrozen, int):
        with pytest.raises(TypeError, match="not a frozen dataclass with slots"):
            constructor(cls)


def test_the_verifier_puts_every_value_in_its_field() -> None:
    """finish_claims fills VerifiedCredential positionally: each field holds its own value."""
    key = Ed25519PrivateKey(bytes(range(32)))
    status = StatusReference(42, "https://id.mois.go.kr/sl/7")
    issued = Issuer(key, "KR-MOIS", clock=fixed_clock(1_780_000_000)).issue(
        reference_claims(), status=status, not_before=1_780_000_100, expires_at=1_790_000_000, credential_id=b"i" * 16
    )
    checker = StatusListChecker(TrustStore([key.public_key]))
    checker.load(sign_token(pack([0] * 64, 2), status.uri, key, issued_at=1_780_000_150), 1_780_000_200)
    verifier = Verifier([key.public_key], clock=fixed_clock(1_780_000_200), status=checker)
    got = verifier.verify(issued.qr_text)
    assert isinstance(got.status_check, StatusCheck)
    expected = VerifiedCredential(
        profile="official-id-v1",
        kid=key.public_key.kid,
        issuer="KR-MOIS",
        credential_id=b"i" * 16,
        issued_at=1_780_000_000,
        not_before=1_780_000_100,
        expires_at=1_790_000_000,
        claims=OfficialID.from_json(reference_claims()),
        status=status,
        status_check=got.status_check,
        status_list_age=50,  # 1_780_000_200 - the list's iat
        holder_key=None,
        trust_source=got.signer.source,
        signer=got.signer,
    )
    assert got == expected and got.presentation is None and got.signer.key == key.public_key
