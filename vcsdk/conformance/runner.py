"""The conformance suites and their runner (a thin file-reading shell over pure checks).

Each suite reads its published files under a vectors folder and yields one :class:`CaseResult`
per case. A case's check raises :class:`_Mismatch` (or anything else) to fail and
:class:`_Skip` to be skipped with a reason; the runner never lets a broken vector file crash it.
The results and those helpers are in :mod:`.results`, the suites' cases in :mod:`.cases`; this
module holds the suite table, the run and the printed table.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .cases import (
    _base45_cases,
    _cose_ecdsa_cases,
    _cose_eddsa_cases,
    _cose_sign1_cases,
    _cwt_cases,
    _rfc8032_cases,
    _status_list_cases,
    _wycheproof_ecdsa,
    _wycheproof_ed25519,
    _wycheproof_rsa_pss,
)
from .results import Outcome, Report, Suite

ENV_VECTORS = "VCSDK_CONFORMANCE"
"""Environment variable naming the vectors folder when ``--vectors`` is not given."""


SUITES: tuple[Suite, ...] = (
    Suite("rfc9285-base45", "RFC 9285 examples and section 6 rejects", ("rfc-vectors/rfc9285_base45.json",),
          _base45_cases),
    Suite("rfc8032-ed25519", "RFC 8032 section 7.1 tests 1-5", ("rfc-vectors/rfc8032_ed25519.json",), _rfc8032_cases),
    Suite("cose-wg-sign1", "COSE WG Examples sign1-tests", ("cose-wg/sign1-tests",), _cose_sign1_cases),
    Suite("cose-wg-eddsa", "COSE WG Examples eddsa-examples", ("cose-wg/eddsa-examples",), _cose_eddsa_cases),
    Suite("cose-wg-ecdsa", "COSE WG Examples ecdsa-examples", ("cose-wg/ecdsa-examples",), _cose_ecdsa_cases),
    Suite("rfc8392-cwt", "RFC 8392 Appendix A and COSE WG CWT examples",
          ("rfc-vectors/rfc8392_cwt.json", "cose-wg/CWT"), _cwt_cases),
    Suite("ietf-status-list", "draft-ietf-oauth-status-list-20 vectors and example tokens",
          ("ietf-status-list/vectors.json",), _status_list_cases),
    Suite("wycheproof-ed25519", "Wycheproof ed25519_test.json", ("wycheproof/ed25519_test.json",),
          _wycheproof_ed25519),
    Suite("wycheproof-ecdsa", "Wycheproof ecdsa_secp256r1_sha256_p1363_test.json",
          ("wycheproof/ecdsa_secp256r1_sha256_p1363_test.json",), _wycheproof_ecdsa),
    Suite("wycheproof-rsa-pss", "Wycheproof rsa_pss_{2048,3072}_sha256_mgf1_32_test.json",
          ("wycheproof/rsa_pss_2048_sha256_mgf1_32_test.json", "wycheproof/rsa_pss_3072_sha256_mgf1_32_test.json"),
          _wycheproof_rsa_pss),
)  # fmt: skip
"""Every suite, in the order the table prints them."""


def default_vectors_dir(cwd: Path | None = None) -> Path:
    """``$VCSDK_CONFORMANCE``, else ``../shared/conformance`` from ``cwd`` (the project's layout)."""
    env = os.environ.get(ENV_VECTORS)
    if env:
        return Path(env)
    return (cwd or Path.cwd()).resolve().parent / "shared" / "conformance"


def run_suites(vectors: Path, names: Sequence[str] | None = None) -> Report:
    """Run the named suites (default all) on the folder ``vectors``."""
    chosen = [s for s in SUITES if names is None or s.name in names]
    if not vectors.is_dir():
        return Report(str(vectors), False, ())
    return Report(str(vectors), True, tuple(s.run(vectors) for s in chosen))


BANNER_ABSENT = """\
#####################################################################################
#  CONFORMANCE VECTORS NOT FOUND: {path}
#  No public suite (RFC 9285, RFC 8032, COSE WG, IETF status list, Wycheproof) was
#  checked. Pass --vectors DIR or set VCSDK_CONFORMANCE to the conformance folder.
#####################################################################################"""


def render_table(report: Report) -> str:
    """The human report: a table of passed / failed / skipped per suite, then the failures."""
    if not report.found:
        return BANNER_ABSENT.format(path=report.vectors)
    lines = [f"conformance vectors: {report.vectors}", ""]
    lines.append(f"{'suite':22} {'passed':>7} {'failed':>7} {'skipped':>8}  source")
    for suite in report.suites:
        lines.append(f"{suite.name:22} {suite.passed:>7} {suite.failed:>7} {suite.skipped:>8}  {suite.source}")
    lines.append(f"{'total':22} {report.passed:>7} {report.failed:>7} {report.skipped:>8}")
    skipped = [(s.name, c) for s in report.suites for c in s.cases if c.outcome is Outcome.SKIPPED]
    if skipped:
        lines += ["", "skipped:"] + [f"  {name} {c.case}: {c.detail}" for name, c in skipped]
    failed = [(s.name, c) for s in report.suites for c in s.cases if c.outcome is Outcome.FAILED]
    if failed:
        lines += ["", "FAILED:"] + [f"  {name} {c.case}: {c.detail}" for name, c in failed]
    lines += ["", "conformance: " + ("OK" if report.ok else f"{report.failed} FAILED")]
    return "\n".join(lines)
