"""Which QR version a QR text needs at each error-correction level (alphanumeric mode).

Pure arithmetic on the ISO/IEC 18004 data capacities (the ``qrcode`` package's tables): a QR text
is Base45 plus a prefix, all within the QR alphanumeric set, 11 bits per pair of characters.
"""

from __future__ import annotations

from qrcode import constants, util

from ..errors import QRSizeBudgetExceeded, UsageError
from ..profiles.base import OFFICIAL_ID, Profile

ECC_LEVELS: dict[str, int] = {
    "L": constants.ERROR_CORRECT_L,
    "M": constants.ERROR_CORRECT_M,
    "Q": constants.ERROR_CORRECT_Q,
    "H": constants.ERROR_CORRECT_H,
}
_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def _bits(length: int, version: int) -> int:
    count_bits = int(util.length_in_bits(util.MODE_ALPHA_NUM, version))
    return 4 + count_bits + 11 * (length // 2) + 6 * (length % 2)


def version_for(length: int, ecc: str = "Q") -> int | None:
    """The smallest QR version holding ``length`` alphanumeric characters, None if none does."""
    if ecc not in ECC_LEVELS:
        raise UsageError(f"ECC level must be one of L, M, Q, H, not {ecc!r}")
    limits = util.BIT_LIMIT_TABLE[ECC_LEVELS[ecc]]
    for version in range(1, 41):
        if _bits(length, version) <= limits[version]:
            return version
    return None


def plan(text: str) -> dict[str, int | None]:
    """The QR version ``text`` needs at each ECC level (None: does not fit any QR code)."""
    if not _ALPHANUMERIC.issuperset(text):
        raise UsageError("the text is not all QR alphanumeric characters (0-9 A-Z space $%*+-./:)")
    return {level: version_for(len(text), level) for level in ECC_LEVELS}


def fits(text: str, profile: Profile = OFFICIAL_ID) -> int:
    """The QR version ``text`` takes at the profile's ECC level; refuse text over its budget."""
    if len(text) > profile.qr_budget_chars:
        raise QRSizeBudgetExceeded(
            f"{len(text)} characters exceed the {profile.name} budget of {profile.qr_budget_chars} "
            f"(QR version {profile.qr_version}, ECC {profile.qr_ecc})"
        )
    version = plan(text)[profile.qr_ecc]
    assert version is not None  # within the budget, so within version 40
    return version
