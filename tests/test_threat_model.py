"""docs/threat-model.md: every row names a test that exists, or says which issue will close it."""

from __future__ import annotations

import importlib
import re

from tests.conftest import ROOT

MODEL = ROOT / "docs" / "threat-model.md"
TEST_ID = re.compile(r"`(tests/(test_\w+)\.py)::(test_\w+)(?:\[([^\]]+)\])?`")
OPEN = re.compile(r"open -- planned in #\d+")


def _threat_rows() -> list[list[str]]:
    """The rows of the attacker tables (between "Attackers and threats" and the timeline)."""
    text = MODEL.read_text(encoding="utf-8")
    section = text[text.index("## Attackers and threats") : text.index("## Lost-phone timeline")]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| threat")]
    return [[c.strip() for c in row.strip().strip("|").split("|")] for row in rows]


def test_every_threat_row_names_a_test_or_an_open_issue() -> None:
    rows = _threat_rows()
    assert len(rows) >= 40
    for cells in rows:
        assert len(cells) == 3, cells
        threat, rule, proof = cells
        assert threat and rule, cells
        assert TEST_ID.search(proof) or OPEN.search(proof), cells


def test_every_named_test_exists() -> None:
    named = TEST_ID.findall(MODEL.read_text(encoding="utf-8"))
    assert len(named) >= 50
    for _path, module_name, function, parameter in named:
        module = importlib.import_module(f"tests.{module_name}")
        assert callable(getattr(module, function, None)), f"{module_name}::{function} does not exist"
        if parameter:  # parameter ids live in the test module or in a case table beside it
            sources = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("*.py"))
            assert parameter in sources or parameter in _collected_suites(module_name), (
                f"{module_name}::{function}[{parameter}] names no parameter"
            )


def _collected_suites(module_name: str) -> set[str]:
    if module_name != "test_conformance_runner":
        return set()
    from tests.test_conformance_runner import EXPECTED

    return set(EXPECTED)
