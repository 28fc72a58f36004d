"""Trust sources as a verifier receives them: sniff each file's kind and open it.

``open_trust_sources`` reads the files (this module is part of the file shell, not the pure
core). A source is one of: an anchor-signed gate bundle or trust list (checked against pinned anchors),
an X.509 signer certificate (for EU DCC ``HC1:`` texts), or unsigned keys (a JWKS, one JWK or a
public-key PEM). Bundles and trust lists that fail their checks raise: a verifier never runs on
an untrusted source.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from ..clock import Clock, system_clock
from ..errors import CredentialInvalid, UsageError
from ..keys import PublicKey
from .store import TrustedKey

if TYPE_CHECKING:
    from ..gate.core import Gate
    from .floors import VersionFloors


class SourceKind(Enum):
    """What a trust file holds."""

    BUNDLE = "bundle"
    TRUST_LIST = "trust-list"
    CERTIFICATE = "certificate"
    KEYS = "keys"


def sniff(data: bytes) -> SourceKind:
    """The kind of a trust file, from its bytes alone (never from its name)."""
    from ..codec import cose
    from ..errors import VCError
    from ..limits import DEFAULT_LIMITS

    try:
        typ = cose.decode_sign1(data, DEFAULT_LIMITS).protected.get(cose.HEADER_TYP)
    except VCError:
        typ = None
    if typ is not None:  # only anchor-signed documents need their modules
        from .bundle import BUNDLE_TYP
        from .trustlist import TRUST_LIST_TYP
    if typ is not None and typ == BUNDLE_TYP:
        return SourceKind.BUNDLE
    if typ is not None and typ == TRUST_LIST_TYP:
        return SourceKind.TRUST_LIST
    if b"CERTIFICATE" in data or data[:1] == b"\x30":
        return SourceKind.CERTIFICATE
    return SourceKind.KEYS


@dataclass(frozen=True)
class TrustSources:
    """Everything the trust files gave: unsigned or list keys, HC1 signer certificates, a gate."""

    keys: tuple[TrustedKey, ...]
    certificates: tuple[TrustedKey, ...]
    gate: Gate | None
    expires_at: int | None = None
    """The earliest expiry of the signed trust lists the keys came from (None: no signed list)."""


def open_trust_sources(
    paths: Sequence[str | os.PathLike[str]],
    anchors: Sequence[PublicKey] = (),
    *,
    clock: Clock = system_clock,
    state_dir: str | os.PathLike[str] | None = None,
    holder_binding: str = "off",
) -> TrustSources:
    """Read and open trust files; anchor-signed ones are checked against ``anchors`` and against the
    rollback floors persisted in ``state_dir`` (default :func:`vcsdk.trust.floors.default_state_dir`).
    ``holder_binding`` is the gate's own setting for a bundle: it can only tighten the bundle's policy."""
    from ..keys.files import load_trust, read_bytes

    keys: list[TrustedKey] = []
    certificates: list[TrustedKey] = []
    gate: Gate | None = None
    floors: VersionFloors | None = None  # opened only when a signed source needs its rollback floors
    expiries: list[int] = []
    for path in paths:
        name, data = os.fspath(path), read_bytes(path)
        kind = sniff(data)
        if kind in (SourceKind.BUNDLE, SourceKind.TRUST_LIST):
            if not anchors:
                raise UsageError(f"{name} is signed by a trust anchor: give --trust-anchor")
            from .floors import VersionFloors, default_state_dir

            floors = floors or VersionFloors(state_dir or default_state_dir())
            try:
                if kind is SourceKind.BUNDLE:
                    from ..gate.core import Gate

                    gate = Gate(list(anchors), clock=clock, state=floors, holder_binding=holder_binding)
                    gate.load(data)
                else:
                    from .trustlist import verify_trust_list

                    listed = verify_trust_list(data, list(anchors), now=clock(), floors=floors)
                    keys.extend(listed.keys)
                    expiries.append(listed.expires_at)
            except CredentialInvalid as exc:  # a verifier cannot run on an untrusted source
                raise UsageError(f"{name} refused: {exc}") from None
        elif kind is SourceKind.CERTIFICATE:
            from ..profiles.hc1 import signer_certificates

            certificates.extend(signer_certificates(data))
        else:
            keys.extend(load_trust(path))
    return TrustSources(tuple(keys), tuple(certificates), gate, min(expiries) if expiries else None)
