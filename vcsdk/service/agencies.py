"""Agencies and their fees, editable by operators: ``<data_dir>/agencies.json``.

The file holds ``{"agencies": [{"code": 1741000, "name_ko": "...", "name_en": "...", "fee": 10000,
"active": true, "updated_at": 1764600000}, ...]}``. On start every built-in agency and every
agency code of the configured ``[fees]`` table that the file does not name yet is added (an
operator's edits are never overwritten by the configuration). Changes are written atomically
under an exclusive ``flock``, re-reading the file first, so several workers never lose each other's
edits; readers re-read the file when it changed. Each change lands in the audit chain.

A deactivated agency is no longer offered in the application form; applications already made for
it keep their agency and fee rules. The fee check of the registry reads :meth:`Agencies.fees`, a
live view, so a new fee applies to the next check.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from ..clock import Clock
from ..errors import FileError, RecordNotFound, UsageError
from ..keys.files import atomic_write
from ..registry import audit
from ..registry.workflow import DEFAULT_FEE_KRW

BUILT_IN: dict[int, tuple[str, str]] = {
    1741000: ("행정안전부", "Ministry of the Interior and Safety"),
    1051000: ("기획재정부", "Ministry of Economy and Finance"),
    1270000: ("법무부", "Ministry of Justice"),
    1342000: ("교육부", "Ministry of Education"),
    1480000: ("환경부", "Ministry of Environment"),
}
"""Agencies offered before an operator edits the list."""
MAX_FEE_KRW = 1_000_000
"""The largest fee an operator may set (KRW); 0 is allowed."""
MAX_NAME = 60
FILE = "agencies.json"
_CODE = re.compile(r"[1-9][0-9]{6}")


@dataclass(frozen=True, slots=True)
class Agency:
    """One agency: its 7-digit code, names, fee in KRW (may be 0), whether it is offered."""

    code: int
    name_ko: str
    name_en: str
    fee: int
    active: bool = True
    updated_at: int = 0

    def name(self, lang: str) -> str:
        """The name in the page language (the claim always carries the Korean name)."""
        return self.name_en if lang == "en" and self.name_en else self.name_ko


class AgencyInvalid(UsageError):
    """An agency edit that does not pass the checks; ``field`` names the form field."""

    def __init__(self, field: str, key: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.key = key


def parse_code(value: str) -> int:
    """A 7-digit government agency code (행정기관코드)."""
    value = value.strip()
    if not _CODE.fullmatch(value):
        raise AgencyInvalid("code", "v.agency_code", f"agency code {value[:20]!r} is not 7 digits")
    return int(value)


def parse_fee(value: str) -> int:
    """A fee in KRW: digits (commas allowed), 0 to :data:`MAX_FEE_KRW`."""
    cleaned = value.strip().replace(",", "")
    if not cleaned.isascii() or not cleaned.isdigit():
        raise AgencyInvalid("fee", "v.fee_number", f"fee {value[:20]!r} is not a whole number of won")
    if len(cleaned.lstrip("0")) > 12 or int(cleaned) > MAX_FEE_KRW:  # no int() of a huge string
        raise AgencyInvalid("fee", "v.fee_range", f"fee {cleaned[:20]} is above {MAX_FEE_KRW}")
    return int(cleaned)


def parse_name(value: str, field: str, *, required: bool) -> str:
    """An agency name: printable, at most :data:`MAX_NAME` characters."""
    value = " ".join(value.split())
    if not value:
        if required:
            raise AgencyInvalid(field, "v.enter", f"{field} is required")
        return ""
    if len(value) > MAX_NAME or not value.isprintable():
        raise AgencyInvalid(field, "v.agency_name", f"{field} must be printable and at most {MAX_NAME} characters")
    return value


class _Fees(Mapping[int, int]):
    """The fee table as the registry reads it (live)."""

    def __init__(self, agencies: Agencies) -> None:
        self._agencies = agencies

    def __getitem__(self, code: int) -> int:
        for agency in self._agencies.all():
            if agency.code == code:
                return agency.fee
        raise KeyError(code)

    def __iter__(self) -> Iterator[int]:
        return iter([a.code for a in self._agencies.all()])

    def __len__(self) -> int:
        return len(self._agencies.all())


class Agencies:
    """The editable agency list of one service."""

    def __init__(self, data_dir: Path, fees: Mapping[int, int], engine: Engine, clock: Clock) -> None:
        self.path = Path(data_dir) / FILE
        self._engine = engine
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: tuple[tuple[int, int], tuple[Agency, ...]] | None = None
        self.fees: Mapping[int, int] = _Fees(self)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._change() as current:
            named = {a.code for a in current}
            seeds = dict.fromkeys(fees, None) | dict.fromkeys(BUILT_IN, None)
            for code in seeds:
                if int(code) not in named:
                    ko, en = BUILT_IN.get(int(code), (str(code), ""))
                    current.append(Agency(int(code), ko, en, int(fees.get(code, DEFAULT_FEE_KRW)), True, clock()))

    # ------------------------------------------------------------------ reading

    def all(self) -> tuple[Agency, ...]:
        """Every agency, active or not, by code."""
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return ()
        except OSError as exc:
            raise FileError(f"cannot read {self.path}: {exc.strerror}") from None
        stamp = (info.st_mtime_ns, info.st_size)
        with self._lock:
            if self._cache is None or self._cache[0] != stamp:
                self._cache = (stamp, self._read())
            return self._cache[1]

    def _read(self) -> tuple[Agency, ...]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return tuple(sorted((Agency(**item) for item in data["agencies"]), key=lambda a: a.code))
        except FileNotFoundError:
            return ()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise FileError(f"agency list {self.path} is damaged ({type(exc).__name__})") from None

    def get(self, code: int) -> Agency:
        """One agency by code (``RecordNotFound`` when there is none)."""
        for agency in self.all():
            if agency.code == code:
                return agency
        raise RecordNotFound("no such agency")

    def offered(self, lang: str) -> dict[int, str]:
        """Active agencies: code -> name in ``lang``, sorted by name."""
        names = {a.code: a.name(lang) for a in self.all() if a.active}
        return dict(sorted(names.items(), key=lambda item: item[1]))

    def check_claims(self, claims: Mapping[str, Any]) -> None:
        """Refuse (``USAGE_ERROR``) claims whose ``agency_code`` is not offered now or whose
        ``agency`` is not that agency's Korean name (the JSON API's counterpart of the form's list)."""
        offered = self.offered("ko")
        code = claims.get("agency_code")
        if not isinstance(code, int) or isinstance(code, bool) or code not in offered:
            raise UsageError("agency_code must be an agency offered now (see the application form)")
        if claims.get("agency") != offered[code]:
            raise UsageError(f"agency must be the agency's Korean name, {offered[code]!r}")

    def fee_of(self, code: int) -> int:
        """The agency's fee in KRW (the default fee for an agency not on the list)."""
        return int(self.fees.get(code, DEFAULT_FEE_KRW))

    # ------------------------------------------------------------------ changes

    @contextmanager
    def _change(self) -> Iterator[list[Agency]]:
        """Hold the file lock, yield the current list to edit, write it back atomically."""
        try:
            fd = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise FileError(f"cannot lock {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            current = list(self._read())
            before = list(current)
            yield current
            if current != before:
                body = {"agencies": [asdict(a) for a in sorted(current, key=lambda a: a.code)]}
                atomic_write(self.path, (json.dumps(body, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
        finally:
            os.close(fd)

    def _audit(self, actor: str, action: str, code: int, data: dict[str, Any]) -> None:
        with self._engine.begin() as conn:
            audit.append(conn, self._clock(), actor, action, f"agency:{code}", data)

    def add(self, code: int, name_ko: str, name_en: str, fee: int, *, actor: str) -> Agency:
        """A new agency (``AgencyInvalid`` on field ``code`` when the code is taken)."""
        agency = Agency(code, name_ko, name_en, fee, True, self._clock())
        with self._change() as current:
            if any(a.code == code for a in current):
                raise AgencyInvalid("code", "v.agency_taken", f"agency {code} exists already")
            current.append(agency)
        self._audit(actor, "agency_add", code, {"name": name_ko, "fee": fee})
        return agency

    def update(
        self, code: int, *, actor: str, fee: int | None = None, active: bool | None = None, name_en: str | None = None
    ) -> Agency:
        """Change an agency's fee, English name or whether it is offered."""
        with self._change() as current:
            index = next((i for i, a in enumerate(current) if a.code == code), None)
            if index is None:
                raise RecordNotFound("no such agency")
            old = current[index]
            new = replace(
                old,
                fee=old.fee if fee is None else fee,
                active=old.active if active is None else active,
                name_en=old.name_en if name_en is None else name_en,
                updated_at=self._clock(),
            )
            current[index] = new
        changed = {
            k: [getattr(old, k), getattr(new, k)]
            for k in ("fee", "active", "name_en")
            if getattr(old, k) != getattr(new, k)
        }
        if changed:
            self._audit(actor, "agency_update", code, changed)
        return new
