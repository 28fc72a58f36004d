"""The fuzz targets' invariant, replayed: every seed and every past finding, and the invariant itself.

The coverage-guided runs live in ``fuzz/run.py`` (a short budget in ``scripts/test.sh``, long runs
in docs/fuzzing.md); this replays the inputs kept in the repository on every test run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fuzz.targets import (
    DEFAULT_MAX_SECONDS,
    NOT_YET_FUZZED,
    TARGETS,
    Escape,
    Target,
    presentation_text_of,
    qr_text_of,
    run_one,
)
from tests.conftest import ROOT
from vcsdk import Code, VCError
from vcsdk.errors import ClaimsInvalid, KeyInvalid

CORPUS = ROOT / "fuzz" / "corpus"
REGRESSIONS = ROOT / "fuzz" / "regressions"


def _inputs(folder: Path) -> list[tuple[str, Path]]:
    return [(t.name, p) for t in sorted(folder.iterdir()) if t.is_dir() for p in sorted(t.iterdir()) if p.is_file()]


def test_every_target_has_seeds_made_of_valid_inputs() -> None:
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted(TARGETS)
    accepted = dict.fromkeys(TARGETS, 0)
    for name, path in _inputs(CORPUS):
        if not isinstance(run_one(TARGETS[name], path.read_bytes()), VCError):
            accepted[name] += 1
    assert all(count >= 1 for count in accepted.values()), accepted  # a seed that verifies, per target


@pytest.mark.parametrize(("target", "path"), _inputs(CORPUS), ids=lambda v: v if isinstance(v, str) else v.name[:10])
def test_seed_keeps_the_invariant(target: str, path: Path) -> None:
    run_one(TARGETS[target], path.read_bytes())


def test_past_findings_keep_the_invariant() -> None:
    """Every input a fuzzer ever flagged (``fuzz/regressions/<target>/``) now ends in one VCError
    (``service_json``: in an error answer with one of the service's stable codes)."""
    for target, path in _inputs(REGRESSIONS):
        outcome = run_one(TARGETS[target], path.read_bytes())
        if target == "service_json":
            assert outcome in set(Code), (path, outcome)
        else:
            assert isinstance(outcome, VCError), path


def test_regressions_are_kept_per_target() -> None:
    assert {p.name for p in REGRESSIONS.iterdir() if p.is_dir()} <= set(TARGETS)


# ---------------------------------------------------------------- the invariant itself


def _target(exc: BaseException | None = None, *, seconds: float = DEFAULT_MAX_SECONDS) -> Target:
    def call(data: bytes) -> object:
        if exc is not None:
            raise exc
        return data

    return Target("probe", call, "probe", max_seconds=seconds)


def test_accepted_input_and_credential_error_keep_the_invariant() -> None:
    assert run_one(_target(), b"x") == b"x"
    outcome = run_one(_target(ClaimsInvalid("bad")), b"x")
    assert isinstance(outcome, ClaimsInvalid) and outcome.code == Code.CLAIMS_INVALID


@pytest.mark.parametrize("exc", [ValueError("raw"), IndexError(1), RecursionError(), MemoryError()])
def test_a_foreign_exception_escapes(exc: BaseException) -> None:
    with pytest.raises(type(exc)):
        run_one(_target(exc), b"x")


def test_a_usage_error_from_outside_bytes_is_an_escape() -> None:
    with pytest.raises(Escape, match="usage error KEY_INVALID"):
        run_one(_target(KeyInvalid("the bytes made a bad key")), b"x")


def test_an_exception_group_escapes() -> None:
    group = ExceptionGroup("two", [ClaimsInvalid("a"), ClaimsInvalid("b")])
    with pytest.raises(ExceptionGroup):
        run_one(_target(group), b"x")


def test_a_slow_input_is_an_escape() -> None:
    def spin(data: bytes) -> object:
        total = 0
        for i in range(3_000_000):
            total += i
        return total

    with pytest.raises(Escape, match="of CPU"):
        run_one(Target("slow", spin, "slow", max_seconds=0.001), b"")


def test_qr_text_mapping_reaches_the_inner_layers() -> None:
    assert qr_text_of(b"") == ""
    assert qr_text_of(b"\x00GID1:ABC") == "GID1:ABC"
    wrapped = qr_text_of(b"\x01\xd2\x84")
    assert wrapped.startswith("GID1:") and len(wrapped) > 5


def test_presentation_text_mapping_reaches_the_inner_layers() -> None:
    assert presentation_text_of(b"") == ""
    assert presentation_text_of(b"\x00GIDP1:ABC") == "GIDP1:ABC"
    wrapped, signed = presentation_text_of(b"\x01\xd2\x84"), presentation_text_of(b"\x03\xa0")
    assert wrapped.startswith("GIDP1:") and signed.startswith("GIDP1:") and len(signed) > len(wrapped)


def test_presentation_and_challenge_targets_replace_the_not_yet_fuzzed_entries() -> None:
    """Issue #17: the holder-binding entry points (#12) are fuzzed now."""
    assert {"presentation", "challenge"} <= set(TARGETS)
    assert not {"presentation", "challenge"} & set(NOT_YET_FUZZED)


def test_presentation_target_flags_lanes_that_disagree(monkeypatch: pytest.MonkeyPatch) -> None:
    """The differential check of the presentation target: a fast lane that accepts what the
    reference refuses is an escape, not a pass."""
    from vcsdk.verify import FastVerifier

    seed = next(p for p in sorted((CORPUS / "presentation").iterdir()) if p.read_bytes()[:1] == b"\x00")
    text = seed.read_bytes()[1:].decode("ascii")
    assert not isinstance(run_one(TARGETS["presentation"], seed.read_bytes()), VCError)
    monkeypatch.setattr(FastVerifier, "verify_at", lambda self, t, now: self.reference.verify_at(text, now))
    with pytest.raises(Escape, match="fast lane"):
        run_one(TARGETS["presentation"], b"\x00GIDP1:not-base45")


def test_lanes_target_compares_every_lane_with_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """The differential target runs the pure lane and, where built, the compiled lane; one lane
    that answers differently from the reference is an escape, for credentials and presentations."""
    from fuzz import targets
    from vcsdk import _native
    from vcsdk.verify import FastVerifier, Verification

    assert sorted(targets._LANES) == (["compiled", "pure"] if _native.available() else ["pure"])
    assert [fast.compiled for fast in targets._LANES.values()] == [False, True][: len(targets._LANES)]
    seeds = sorted((CORPUS / "qr_lanes").iterdir())
    assert any(p.read_bytes()[0] & 4 for p in seeds) and any(not p.read_bytes()[0] & 4 for p in seeds)
    original = FastVerifier.check

    def wrong_on_compiled(self: FastVerifier, text: str, now: int | None = None) -> Verification[Any]:
        result = original(self, text, now)
        return Verification(False, Code.CWT_EXPIRED, "wrong") if self.compiled or not _native.available() else result

    monkeypatch.setattr(FastVerifier, "check", wrong_on_compiled)
    for data in (b"\x00" + targets.SEED_TEXT.encode(), b"\x04GIDP1:not-base45"):
        with pytest.raises(Escape, match="lane says"):
            run_one(TARGETS["qr_lanes"], data)


def test_the_c_part_is_fuzzed_under_addresssanitizer(tmp_path: Path) -> None:
    """The ASan build of the fast lane's C code, fuzzed for two seconds through the shipped
    runner (scripts/test.sh runs it for 20 s; docs/fuzzing.md has the long run)."""
    from fuzz.native import libasan

    if libasan() is None:
        pytest.skip("no gcc with libasan.so: scripts/bootstrap.sh installs gcc")
    command = [sys.executable, "-m", "fuzz.native", "--seconds", "2", "--work", str(tmp_path)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    match = re.fullmatch(r"fuzz\.native \(ASan\): ([\d,]+) executions in .* 0 escapes; accepted .*\n", result.stdout)
    assert match, result.stdout
    assert int(match.group(1).replace(",", "")) > 1000
    log = (tmp_path / "native_asan.log").read_text()
    assert '"runs"' in log and "AddressSanitizer" not in log


def test_not_yet_fuzzed_entry_points_are_named() -> None:
    assert set(NOT_YET_FUZZED).isdisjoint(TARGETS)
    assert all("#" in why for why in NOT_YET_FUZZED.values())


def test_runner_fuzzes_a_target_and_reports_executions(tmp_path: Path) -> None:
    """One second of real coverage-guided fuzzing through the shipped runner."""
    command = [sys.executable, "-m", "fuzz.run", "--seconds", "1", "--json", "--work", str(tmp_path), "base45"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    (outcome,) = json.loads(result.stdout)
    assert outcome["target"] == "base45" and outcome["escapes"] == 0
    assert outcome["executions"] > 1000


# ---------------------------------------------------------------- findings, one named test each


def test_gif_frame_far_outside_the_screen_is_image_invalid() -> None:
    """Long-run finding (image target): 53 bytes of GIF whose frame sits at y = 65,534 decode to a
    4 x 65,538 image; zxing-cpp then raised a bare ``ValueError`` out of ``qr.scan``."""
    import base64

    from vcsdk.errors import ImageInvalid
    from vcsdk.qr import scan

    gif = base64.b64decode("R0lGODdhBAAEAIAAAAAAAAAAACwAAP7/BAAEAAAICQABCBxIsCCAgA==")
    assert gif == (REGRESSIONS / "image" / "gif-frame-offset-65534").read_bytes()
    for backend in ("zxing", "pyzbar"):
        with pytest.raises(ImageInvalid, match="a side over"):
            scan(gif, backend=backend)


def test_an_escaping_input_is_kept_before_atheris_reports_it(tmp_path: Path) -> None:
    """The long service_json run died by SIGALRM (exit -14) after its finding, before libFuzzer
    wrote a crash file: the child now keeps the input itself."""
    from fuzz.run import save_escape

    kept = save_escape(f"{tmp_path}/findings/service_json-", b"GET \xfd")
    assert kept is not None and kept.read_bytes() == b"GET \xfd"
    assert kept.name.startswith("service_json-escape-") and kept.parent == tmp_path / "findings"
    assert save_escape(None, b"x") is None
