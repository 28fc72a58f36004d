"""The conformance results (case, suite, report), a suite's definition, and the helpers every
suite's checks use: a case raises :class:`_Mismatch` (or anything else) to fail and
:class:`_Skip` to be skipped with a reason."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class Outcome(StrEnum):
    """A case's result."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One vector's result; ``detail`` says why for a failure or a skip."""

    case: str
    outcome: Outcome
    detail: str = ""


@dataclass(frozen=True, slots=True)
class SuiteResult:
    """One suite's cases and counts."""

    name: str
    source: str
    cases: tuple[CaseResult, ...]

    def count(self, outcome: Outcome) -> int:
        """How many cases ended with ``outcome``."""
        return sum(1 for c in self.cases if c.outcome is outcome)

    @property
    def passed(self) -> int:
        return self.count(Outcome.PASSED)

    @property
    def failed(self) -> int:
        return self.count(Outcome.FAILED)

    @property
    def skipped(self) -> int:
        return self.count(Outcome.SKIPPED)


@dataclass(frozen=True, slots=True)
class Report:
    """Every suite's result; ``ok`` when nothing failed and the vectors were there."""

    vectors: str
    found: bool
    suites: tuple[SuiteResult, ...] = field(default=())

    @property
    def failed(self) -> int:
        return sum(s.failed for s in self.suites)

    @property
    def passed(self) -> int:
        return sum(s.passed for s in self.suites)

    @property
    def skipped(self) -> int:
        return sum(s.skipped for s in self.suites)

    @property
    def ok(self) -> bool:
        return self.found and self.failed == 0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary with every case."""
        return {
            "vectors": self.vectors,
            "found": self.found,
            "ok": self.ok,
            "totals": {"passed": self.passed, "failed": self.failed, "skipped": self.skipped},
            "suites": [
                {
                    "name": s.name,
                    "source": s.source,
                    "passed": s.passed,
                    "failed": s.failed,
                    "skipped": s.skipped,
                    "cases": [asdict(c) for c in s.cases],
                }
                for s in self.suites
            ],
        }


class _Mismatch(Exception):
    """The SDK's answer is not the suite's."""


class _Skip(Exception):
    """The case is outside what the SDK implements."""


def _expect(condition: bool, detail: str) -> None:
    if not condition:
        raise _Mismatch(detail)


def _run_case(case: str, check: Callable[[], None]) -> CaseResult:
    try:
        check()
    except _Skip as skip:
        return CaseResult(case, Outcome.SKIPPED, str(skip))
    except _Mismatch as mismatch:
        return CaseResult(case, Outcome.FAILED, str(mismatch))
    except Exception as exc:  # a broken vector or an SDK bug: a failure, never a crash
        return CaseResult(case, Outcome.FAILED, f"unexpected {type(exc).__name__}: {exc}")
    return CaseResult(case, Outcome.PASSED)


def _load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


Cases = Iterator[tuple[str, Callable[[], None]]]


@dataclass(frozen=True, slots=True)
class Suite:
    """A public suite: its name, where it comes from, the files it needs, its cases."""

    name: str
    source: str
    files: tuple[str, ...]
    cases: Callable[[Path], Cases]

    def run(self, root: Path) -> SuiteResult:
        """Run every case under ``root`` (the whole suite skipped when a file is absent)."""
        missing = [f for f in self.files if not (root / f).exists()]
        if missing:
            skipped = CaseResult("*", Outcome.SKIPPED, f"vectors not present: {', '.join(missing)}")
            return SuiteResult(self.name, self.source, (skipped,))
        try:
            results = tuple(_run_case(case, check) for case, check in self.cases(root))
        except Exception as exc:  # an unreadable suite file
            results = (CaseResult("*", Outcome.FAILED, f"cannot read the suite: {type(exc).__name__}: {exc}"),)
        return SuiteResult(self.name, self.source, results)
