"""The ``holder_binding`` gate policy (shared by verifiers, gates and gate bundles)."""

from __future__ import annotations

from enum import StrEnum

from ..errors import UsageError


class HolderBinding(StrEnum):
    """Gate policy for device-bound credentials, from the loosest to the strictest."""

    OFF = "off"
    """Bare credentials pass whether bound or not (presentations are still verified in full)."""
    IF_BOUND = "if-bound"
    """A bound credential (with ``cnf``) must come as a presentation; unbound ones may be bare."""
    REQUIRED = "required"
    """Every credential must come as a presentation."""

    @classmethod
    def parse(cls, value: object) -> HolderBinding:
        """From its text form; :class:`UsageError` for anything else."""
        try:
            if isinstance(value, str):
                return cls(value)
        except ValueError:
            pass
        raise UsageError(f"holder_binding must be one of off, if-bound, required, not {value!r}")

    def tighten(self, other: HolderBinding) -> HolderBinding:
        """The stricter of the two (a gate's own setting can only tighten a bundle's)."""
        order = (HolderBinding.OFF, HolderBinding.IF_BOUND, HolderBinding.REQUIRED)
        return max(self, other, key=order.index)
