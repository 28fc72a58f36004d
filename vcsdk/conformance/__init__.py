"""Conformance runner: the public test suites, read in their published formats.

``vcsdk conformance --vectors DIR`` (and :func:`run_suites`) checks the SDK against:

======================  =========================================================================
suite                   source (folder under DIR)
======================  =========================================================================
``rfc9285-base45``      RFC 9285 examples and section 6 rejects (``rfc-vectors/rfc9285_base45.json``)
``rfc8032-ed25519``     RFC 8032 section 7.1 tests 1-5 (``rfc-vectors/rfc8032_ed25519.json``)
``cose-wg-sign1``       COSE WG ``sign1-tests`` pass/fail cases (``cose-wg/sign1-tests/``)
``cose-wg-eddsa``       COSE WG ``eddsa-examples`` (``cose-wg/eddsa-examples/``)
``cose-wg-ecdsa``       COSE WG ``ecdsa-examples`` (``cose-wg/ecdsa-examples/``)
``rfc8392-cwt``         RFC 8392 Appendix A signed CWT (``rfc-vectors/rfc8392_cwt.json``, ``cose-wg/CWT/``)
``ietf-status-list``    draft-ietf-oauth-status-list-20 vectors and example tokens
                        (``ietf-status-list/vectors.json``)
``wycheproof-ed25519``  Wycheproof ``ed25519_test.json``
``wycheproof-ecdsa``    Wycheproof ``ecdsa_secp256r1_sha256_p1363_test.json`` (raw r||s, the COSE form)
``wycheproof-rsa-pss``  Wycheproof ``rsa_pss_{2048,3072}_sha256_mgf1_32_test.json``
======================  =========================================================================

Every case is *passed* (the SDK's verdict is the suite's), *failed*, or *skipped* with the
reason (an algorithm or message type the SDK does not implement, e.g. Ed448 or COSE_Mac0). A
suite whose files are absent is skipped as a whole, and says so.
"""

from .results import CaseResult, Outcome, Report, Suite, SuiteResult
from .runner import SUITES, default_vectors_dir, render_table, run_suites

__all__ = [
    "SUITES",
    "CaseResult",
    "Outcome",
    "Report",
    "Suite",
    "SuiteResult",
    "default_vectors_dir",
    "render_table",
    "run_suites",
]
