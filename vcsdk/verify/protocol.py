"""The one verifier protocol: what :class:`~vcsdk.verify.Verifier`, :class:`~vcsdk.verify.FastVerifier`,
:class:`~vcsdk.gate.Gate`, :class:`~vcsdk.profiles.hc1.HC1Verifier` and
:class:`~vcsdk.verify.parallel.ParallelVerifier` all implement."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar, runtime_checkable

from .result import Credential, Verification

C_co = TypeVar("C_co", bound=Credential, covariant=True)


@runtime_checkable
class CredentialVerifier(Protocol[C_co]):
    """Verify QR texts of one credential type ``C_co``.

    ``verify``/``verify_at`` raise one :class:`vcsdk.errors.CredentialInvalid` with a stable
    code; ``check``/``check_many`` return :class:`Verification` results (truthy only when
    valid). Misuse (:class:`vcsdk.errors.UsageError`) always raises.
    """

    def verify(self, text: str | bytes) -> C_co: ...

    def verify_at(self, text: str | bytes, now: int) -> C_co: ...

    def check(self, text: str | bytes, now: int | None = None) -> Verification[C_co]: ...

    def check_many(self, texts: Iterable[str | bytes], now: int | None = None) -> Sequence[Verification[C_co]]: ...
