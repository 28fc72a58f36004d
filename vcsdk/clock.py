"""Clocks. The core never reads time itself: a clock is injected, the system clock by default."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from .errors import UsageError

Clock = Callable[[], int]
"""A zero-argument callable returning the current time as integer Unix seconds."""


def system_clock() -> int:
    """The machine's wall clock, in whole Unix seconds."""
    return int(time.time())


def fixed_clock(at: int) -> Clock:
    """A clock that always answers ``at`` (tests, ``--at``, replaying a scan)."""
    return lambda: at


def parse_time(text: str) -> int:
    """Parse ISO 8601 (``2026-01-02``, ``2026-01-02T03:04:05Z``) or Unix seconds into seconds.

    A time without a zone is taken as UTC.
    """
    text = text.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(f"not an ISO 8601 time or Unix seconds: {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def format_time(seconds: int) -> str:
    """Unix seconds as ``YYYY-MM-DDTHH:MM:SSZ``; a time outside the years 1 to 9999 (a signed claim
    may hold any integer) as the number itself: ``4611686018427387904 (out of the calendar's range)``."""
    try:
        moment = datetime.fromtimestamp(seconds, tz=UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return f"{seconds} (out of the calendar's range)"
    return moment.isoformat(timespec="seconds") + "Z"  # four-digit years (strftime writes year 1 as "1")
