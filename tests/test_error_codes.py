"""The published code list (schemas/error-codes.json) and the Code enum agree."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from vcsdk import errors
from vcsdk.errors import CREDENTIAL_ERRORS, Code, CredentialInvalid, UsageError, VCError
from vcsdk.profiles.schema import load_schema


def _exception_classes() -> list[type[VCError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, VCError) and cls not in (VCError, CredentialInvalid)
    ]


def test_published_codes_equal_the_enum() -> None:
    published = [entry["const"] for entry in load_schema("error-codes.json")["oneOf"]]
    assert len(published) == len(set(published))
    assert set(published) == {code.value for code in Code}


def test_families_and_exit_codes_match_the_classes() -> None:
    entries = {entry["const"]: entry for entry in load_schema("error-codes.json")["oneOf"]}
    assert entries["VALID"]["x-family"] == "success"
    for code in Code:
        if code is Code.VALID:
            continue
        family = "credential" if code in CREDENTIAL_ERRORS else "usage"
        assert entries[code]["x-family"] == family, code
        assert entries[code]["x-exit-code"] == (1 if family == "credential" else 2)


def test_every_code_has_an_exception_class_and_each_class_one_code() -> None:
    classes = _exception_classes()
    codes = {cls.code for cls in classes}
    assert codes == set(Code) - {Code.VALID}
    for cls in classes:
        assert issubclass(cls, (CredentialInvalid, UsageError))
        assert cls.__doc__, cls
    for code, cls in CREDENTIAL_ERRORS.items():
        assert cls.code == code


def test_verify_steps_are_numbered_in_design_order() -> None:
    steps = {
        entry["const"]: entry["x-verify-step"]
        for entry in load_schema("error-codes.json")["oneOf"]
        if entry.get("x-verify-step", 0) > 0  # step 0: reading a QR code from an image
    }
    assert sorted(steps, key=steps.__getitem__)[:4] == [
        "LIMIT_EXCEEDED",
        "INVALID_SCHEME_PREFIX",
        "BASE45_DECODING_FAILED",
        "DECOMPRESSION_FAILED",
    ]
    assert steps["SIGNATURE_INVALID"] < steps["CLAIMS_INVALID"] < steps["CWT_EXPIRED"] < steps["STATUS_REVOKED"]


def test_usage_errors_are_value_errors_and_str_carries_the_code() -> None:
    error = errors.KeyInvalid("bad key")
    assert isinstance(error, ValueError)
    assert str(error) == "KEY_INVALID: bad key"
    assert error.code == "KEY_INVALID"


def test_every_credential_code_the_library_raises_is_asserted_by_some_test() -> None:
    """Derived from the sources, not a hand-written list: every credential error class that
    vcsdk/ raises must be named by another test module (``Code.NAME``, ``"NAME"`` or the class)."""
    here = Path(__file__).resolve()
    library = "".join(p.read_text(encoding="utf-8") for p in (here.parent.parent / "vcsdk").rglob("*.py"))
    tests = "".join(p.read_text(encoding="utf-8") for p in here.parent.glob("test_*.py") if p != here)
    raised = {code: cls for code, cls in CREDENTIAL_ERRORS.items() if re.search(rf"raise {cls.__name__}\(", library)}
    assert Code.SIGNATURE_INVALID in raised and Code.STATUS_UNKNOWN in raised  # the scan itself works
    missing = sorted(
        code.value
        for code, cls in raised.items()
        if not re.search(rf"Code\.{code.name}\b|\"{code.value}\"|\b{cls.__name__}\b", tests)
    )
    assert missing == [], f"no test asserts these credential codes: {missing}"
