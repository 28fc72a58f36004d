"""Route a QR text to the verifier of its profile by its prefix (``HC1:`` EU DCC, else official ID)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..clock import Clock, system_clock
from ..trust.store import TrustedKey

if TYPE_CHECKING:
    from .hc1 import HC1Verifier

HC1_PREFIX = "HC1:"


class Checker(Protocol):
    """Anything with ``check(text) -> Verification``."""

    def check(self, text: str) -> Any: ...


class PrefixDispatch:
    """Sends ``HC1:`` texts to an EU DCC verifier (built on first use) and the rest to ``official``."""

    def __init__(
        self,
        official: Checker,
        certificates: Sequence[TrustedKey] = (),
        *,
        clock: Clock = system_clock,
        leeway: int = 60,
    ) -> None:
        self.official = official
        self._certificates = tuple(certificates)
        self._clock = clock
        self._leeway = leeway
        self._hc1: HC1Verifier | None = None

    @property
    def hc1(self) -> HC1Verifier:
        """The EU DCC verifier (imports its X.509 machinery only when first needed)."""
        if self._hc1 is None:
            from .hc1 import HC1Verifier

            self._hc1 = HC1Verifier(list(self._certificates), clock=self._clock, leeway=self._leeway)
        return self._hc1

    def check(self, text: str) -> Any:
        """The verdict of the verifier that ``text``'s prefix selects."""
        return (self.hc1 if text.startswith(HC1_PREFIX) else self.official).check(text)

    def check_many(self, texts: Sequence[str]) -> list[Any]:
        """The verdicts of a batch, in order: official IDs through ``official``'s batch API if it has one."""
        many = getattr(self.official, "check_many", None)
        if many is None or any(text.startswith(HC1_PREFIX) for text in texts):
            return [self.check(text) for text in texts]
        return list(many(texts))
