"""The CLI's checks on registry input: document metadata schemas and photos."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from vcsdk_cli.registry_checks import DOCUMENT_KINDS, check_image, check_meta

from vcsdk.errors import UsageError
from vcsdk.profiles.schema import load_schema


def test_every_document_kind_has_a_schema() -> None:
    assert set(load_schema("document-meta.schema.json")["$defs"]) == set(DOCUMENT_KINDS)


@pytest.mark.parametrize(
    ("kind", "meta"),
    [
        ("identity_document", {"type": "resident_card", "number": "880417-1******", "expiry": "2031-04-16"}),
        ("photo", {"captured": "2026-11-20"}),
        ("position_certificate", {}),
        ("recommendation", {"signed_by": "과장 박서연"}),
        ("fee_payment", {"amount": 10000, "method": "card", "receipt": "R-1"}),
    ],
)
def test_good_metadata_passes(kind: str, meta: dict[str, object]) -> None:
    check_meta(kind, meta)


@pytest.mark.parametrize(
    ("kind", "meta", "says"),
    [
        ("photo", {"captured": "2026-13-45"}, "is not a 'date'"),  # a malformed date, not PHOTO_TOO_OLD
        ("photo", {"capturd": "2026-11-20"}, "'captured' is a required property"),
        ("identity_document", {"type": "library_card", "number": "1", "expiry": "2031-01-01"}, "type:"),
        ("fee_payment", {"amount": "10000"}, "amount: '10000' is not of type 'integer'"),
        ("fee_payment", [], "is not of type 'object'"),
        ("diploma", {}, "unknown document kind"),
    ],
)
def test_bad_metadata_is_refused_with_a_clear_message(kind: str, meta: object, says: str) -> None:
    with pytest.raises(UsageError, match=r"refused|unknown") as info:
        check_meta(kind, meta)
    assert says in info.value.message


def test_a_photo_must_be_an_image() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (350, 450), "white").save(buffer, "JPEG")
    check_image(buffer.getvalue(), "photo.jpg")
    with pytest.raises(UsageError, match=r"photo\.pdf is not an image"):
        check_image(b"%PDF-1.7 not a picture", "photo.pdf")
