"""Helpers shared by the registry tests and the registry benchmark (not a test module): a
registry with configured actors, complete applications, and a gate's verdict."""

from __future__ import annotations

import io
import json
from typing import Any

from PIL import Image
from sqlalchemy import Engine, create_engine

from tests.conftest import NOW, ROOT, SEED
from vcsdk import Code, Ed25519PrivateKey, TrustStore, Verifier, fixed_clock
from vcsdk.registry import IssuerRegistry, StatusConfig
from vcsdk.registry.db import url_for
from vcsdk.revocation import StatusListChecker

KEY = Ed25519PrivateKey(SEED)
CONFIG = StatusConfig("https://id.mois.go.kr/sl/{n}", first=7)
CLAIMS = {
    k: v
    for k, v in json.loads((ROOT / "examples" / "reference-claims.json").read_text()).items()
    if k != "photo_digest"
}
REVIEWERS = ("lee",)
OPERATORS = ("lee", "ops", "cron")


def registry(target: str, clock_at: int = NOW, **kwargs: Any) -> IssuerRegistry:
    """Create (or open) a registry on ``target`` with reviewers and operators configured."""
    return IssuerRegistry.create(
        target,
        CONFIG,
        issuer_id="KR-MOIS",
        signer=kwargs.pop("signer", lambda now: KEY),
        clock=kwargs.pop("clock", fixed_clock(clock_at)),
        reviewers=REVIEWERS,
        operators=OPERATORS,
        **kwargs,
    )


def raw_engine(target: str) -> Engine:
    """A plain engine on the same database, for tampering as an attacker with DB access would."""
    return create_engine(url_for(target))


def photo(size: tuple[int, int] = (350, 450)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, format="JPEG")
    return out.getvalue()


OPTIONAL = ("unit", "position", "name_latin")


def complete_application(
    reg: IssuerRegistry, employee: str = "2019-174-00123", applicant: str = "kim", **kwargs: Any
) -> str:
    """A complete application; with a ``device_key`` the optional claims are left out, so that
    the bound credential fits the unbound QR budget whatever the issuer's budget for bound ones."""
    claims = {**CLAIMS, "employee_id": employee}
    if kwargs.get("device_key") is not None:
        claims = {k: v for k, v in claims.items() if k not in OPTIONAL}
    app = reg.apply(applicant=applicant, claims=claims, contact="010-1234-5678", **kwargs)
    reg.attach(
        app,
        "identity_document",
        {"type": "resident_card", "number": "880417-1", "expiry": "2030-01-01"},
        b"id",
        actor=applicant,
    )
    reg.attach(app, "photo", {"captured": "2026-05-01"}, photo(), actor=applicant)
    reg.attach(app, "position_certificate", {"issued_by": "MOIS"}, b"cert", actor=applicant)
    reg.attach(app, "recommendation", {"signed_by": "park"}, b"rec", actor=applicant)
    reg.attach(app, "fee_payment", {"amount": 10000, "method": "card", "receipt": "R-1"}, b"pay", actor=applicant)
    return app


def approved(reg: IssuerRegistry, employee: str = "2019-174-00123", **kwargs: Any) -> str:
    app = complete_application(reg, employee, **kwargs)
    reg.submit(app, actor="kim")
    reg.review(app, reviewer="lee")
    reg.approve(app, reviewer="lee")
    return app


def gate_code(reg: IssuerRegistry, qr: str, uri: str, now: int = NOW) -> Code:
    checker = StatusListChecker(TrustStore([KEY.public_key]))
    checker.load(reg.export_status(uri, KEY), now)
    return Verifier([KEY.public_key], clock=fixed_clock(now), status=checker).check(qr).code
