"""Decode every layer of a QR text and show what it holds and where it fails.

For people debugging a credential. An inspection never checks a signature or trust and never
reports a credential as valid: use :class:`vcsdk.Verifier` for that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import cbor2

from .clock import format_time
from .codec import base45, cbor, cose, cwt, deflate
from .codec.cbor import ARRAY_TYPES, MAP_TYPES, TAG_COSE_SIGN1, TAG_EPOCH_DAYS
from .errors import Code, CredentialInvalid, InvalidSchemePrefix, LimitExceeded
from .keys import ALGORITHM_NAMES
from .limits import DEFAULT_LIMITS, Limits
from .profiles.base import OFFICIAL_ID, Profile
from .profiles.official_id import OFFICIAL_ID_CLAIM, OfficialID

NOT_VERIFIED = "signature and trust NOT checked: an inspection never says a credential is valid"


@dataclass(frozen=True, slots=True)
class Layer:
    """One decoding stage: what it found, or the code it failed with."""

    name: str
    info: dict[str, Any] = field(default_factory=dict)
    error: Code | None = None
    message: str = ""


@dataclass(frozen=True, slots=True)
class Inspection:
    """Every stage that ran, in order. ``failed_at`` is the first failure's code, if any."""

    layers: tuple[Layer, ...]
    failed_at: Code | None
    note: str = NOT_VERIFIED

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "note": self.note,
            "failed_at": None if self.failed_at is None else str(self.failed_at),
            "layers": [
                {
                    "layer": layer.name,
                    **({"error": str(layer.error), "message": layer.message} if layer.error else {}),
                    **layer.info,
                }
                for layer in self.layers
            ],
        }


def jsonable(value: Any) -> Any:
    """A decoded CBOR value made printable: bytes as hex, tags spelled out, keys as text."""
    if isinstance(value, bytes):
        return {"bstr": value.hex()}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, cbor2.CBORTag):
        return {"tag": value.tag, "value": jsonable(value.value)}
    if isinstance(value, MAP_TYPES):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, ARRAY_TYPES):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN or Infinity
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _time(seconds: int) -> str:
    """ISO 8601, or the number itself when no calendar date matches it (e.g. 2**62)."""
    return format_time(seconds)


def inspect_text(text: str, *, profile: Profile = OFFICIAL_ID, limits: Limits = DEFAULT_LIMITS) -> Inspection:
    """Decode ``text`` layer by layer; stop at the first layer that fails."""
    layers: list[Layer] = []
    try:
        _run(text, profile, limits, layers)
    except CredentialInvalid as exc:
        failed = layers.pop()  # the placeholder of the stage that raised
        layers.append(Layer(failed.name, error=exc.code, message=exc.message))
        return Inspection(tuple(layers), exc.code)
    return Inspection(tuple(layers), None)


def _start(layers: list[Layer], name: str) -> None:
    layers.append(Layer(name))  # placeholder: replaced by the result or the failure


def _done(layers: list[Layer], name: str, info: dict[str, Any]) -> None:
    layers[-1] = Layer(name, info)


def _run(text: str, profile: Profile, limits: Limits, layers: list[Layer]) -> None:
    _start(layers, "text")
    if len(text) > limits.max_text_chars:
        raise LimitExceeded(f"{len(text)} characters exceed {limits.max_text_chars}")
    if not text.startswith(profile.prefix):
        raise InvalidSchemePrefix(f"expected prefix {profile.prefix!r}, got {text[: len(profile.prefix)]!r}")
    _done(layers, "text", {"characters": len(text), "prefix": profile.prefix, "profile": profile.name})

    _start(layers, "base45")
    compressed = base45.b45decode(text[len(profile.prefix) :])
    _done(layers, "base45", {"bytes": len(compressed)})

    _start(layers, "zlib")
    raw = deflate.decompress(compressed, limits.max_inflated_bytes)
    _done(layers, "zlib", {"compressed": len(compressed), "inflated": len(raw)})

    _start(layers, "cbor")
    value = cbor.loads_strict(raw, limits, frozenset({TAG_COSE_SIGN1}))
    _done(
        layers,
        "cbor",
        {"top": f"tag {value.tag}" if isinstance(value, cbor2.CBORTag) else type(value).__name__},
    )

    _start(layers, "cose")
    message = cose.from_cbor_value(value, limits)
    alg = message.alg
    _done(
        layers,
        "cose",
        {
            "protected_hex": message.protected_bytes.hex(),
            "protected": jsonable(message.protected),
            "unprotected": jsonable(message.unprotected),
            "alg": ALGORITHM_NAMES.get(alg, alg) if isinstance(alg, int) else alg,
            "kid": None if message.kid is None else message.kid.hex(),
            "payload_bytes": len(message.payload),
            "signature_hex": message.signature.hex(),
        },
    )

    _start(layers, "cwt")
    payload = cbor.loads_strict(message.payload, limits, frozenset({TAG_EPOCH_DAYS}))
    info: dict[str, Any] = {"claims": jsonable(payload)}
    if isinstance(payload, MAP_TYPES):
        for key in (cwt.IAT, cwt.NBF, cwt.EXP):
            if cwt.is_int(payload.get(key)):
                info[cwt.CLAIM_NAMES[key]] = _time(payload[key])
        if OFFICIAL_ID_CLAIM in payload:
            try:
                info["official_id"] = OfficialID.from_cbor(payload[OFFICIAL_ID_CLAIM]).to_json()
            except CredentialInvalid as exc:
                info["official_id_problem"] = f"{exc.code}: {exc.message}"
    _done(layers, "cwt", info)
