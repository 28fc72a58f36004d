"""The fuzz kit itself: committed seeds equal what ``fuzz.make_corpus`` writes, and the
``service_json`` target's driver and invariant (a 500, a traceback or a code-less error is an
escape; every JSON endpoint is reached by a seed)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fuzz import make_corpus, service_json
from fuzz.service_json import ENDPOINTS, Answer, Request, ServiceEscape, World, call, check_response, request_of
from fuzz.targets import TARGETS, run_one
from tests.conftest import ROOT

CORPUS = ROOT / "fuzz" / "corpus"
PROBLEM = {b"content-type": b"application/problem+json"}
JSON = {b"content-type": b"application/json"}
GET = Request("GET", "/api/x", b"", (), b"")


def test_committed_seeds_are_exactly_what_make_corpus_writes() -> None:
    """The seeds cannot drift from the wire format again (the gate_bundle seed once did): the
    folder of every target holds exactly make_corpus's bytes, named by their SHA-256."""
    made = make_corpus.seeds()
    assert sorted(made) == sorted(TARGETS)
    for name, items in made.items():
        expected = {hashlib.sha256(d).hexdigest()[:40]: d for d in items}
        committed = {p.name: p.read_bytes() for p in (CORPUS / name).iterdir()}
        assert committed == expected, f"fuzz/corpus/{name} is stale: run python -m fuzz.make_corpus"


def test_make_corpus_is_deterministic() -> None:
    assert make_corpus.seeds() == make_corpus.seeds()


def test_every_json_endpoint_is_a_target_endpoint_and_has_a_seed() -> None:
    paths = {e.path for e in ENDPOINTS}
    for needed in ("/token", "/nonce", "/credential", "/wallet/refresh", "/api/session", "/api/applications"):
        assert needed in paths
    assert "/api/applications/{application_id}/documents" in paths  # the upload endpoint
    seeded = {data[0] for data in service_json.seeds()}
    assert seeded >= set(range(len(ENDPOINTS)))  # one seed per endpoint, plus a free path
    assert len(ENDPOINTS) in seeded


def test_service_seeds_reach_past_authentication() -> None:
    """The seeds are signed in where they must be: they reach real answers, not only 401/403."""
    codes = [run_one(TARGETS["service_json"], data) for data in service_json.seeds()]
    assert codes.count("2xx") >= 8
    assert {"UPLOAD_REFUSED", "APPLICATION_INCOMPLETE", "invalid_grant", "invalid_token"} <= set(codes)


def test_a_fuzzed_sign_out_does_not_end_the_world_s_sessions() -> None:
    """DELETE /api/session signs the applicant out; the next request is signed in again."""
    w = service_json.world()
    sign_out = next(i for i, e in enumerate(ENDPOINTS) if e == service_json.Endpoint("DELETE", "/api/session"))
    mine = next(i for i, e in enumerate(ENDPOINTS) if e == service_json.Endpoint("GET", "/api/applications"))
    assert check_response(*_sent(bytes([sign_out, 0x05]), w)) == "2xx"
    _, answer = _sent(bytes([mine, 0x01]), w)
    assert answer.status == 200 and json.loads(answer.body)["applications"]


def _sent(data: bytes, w: World) -> tuple[Request, Answer]:
    request = request_of(data, w)
    return request, call(request, w)


def test_request_mapping() -> None:
    w = service_json.world()
    token = next(i for i, e in enumerate(ENDPOINTS) if e.path == "/token")
    request = request_of(bytes([token, 0x08 | 0x20]) + b"seg\nq=1\nBearer x\ngrant_type=y", w)
    assert (request.method, request.path, request.query, request.body) == ("POST", "/token", b"q=1", b"grant_type=y")
    headers = dict(request.headers)
    assert headers[b"content-type"] == b"application/x-www-form-urlencoded"
    assert headers[b"authorization"] == b"Bearer x" and b"cookie" not in headers
    free = request_of(bytes([len(ENDPOINTS), 0x07]) + b"a/b", w)
    assert free.path == "/api/a/b" and dict(free.headers)[b"x-csrf-token"]
    status = next(i for i, e in enumerate(ENDPOINTS) if ":int" in e.path)
    assert request_of(bytes([status, 0]) + b"\x01\x02", w).path.endswith("/258")


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        (Answer(500, PROBLEM, b'{"code": "INTERNAL_ERROR", "status": 500, "detail": ""}'), "outside 2xx-4xx"),
        (Answer(302, {}, b""), "redirect off the service"),
        (Answer(307, {b"location": b"//evil.example/api"}, b""), "redirect off the service"),
        (Answer(307, {b"location": b"https://evil.example/"}, b""), "redirect off the service"),
        (Answer(400, PROBLEM, b'{"code": "NOT_A_CODE", "status": 400, "detail": ""}'), "malformed problem"),
        (Answer(400, PROBLEM, b'{"code": "USAGE_ERROR", "status": 404, "detail": ""}'), "malformed problem"),
        (Answer(400, PROBLEM, b'{"code": "USAGE_ERROR", "status": 400}'), "malformed problem"),
        (Answer(400, JSON, b'{"error": "made_up"}'), "without a stable code"),
        (Answer(400, {b"content-type": b"text/plain"}, b"Traceback (most recent call last)"), "not JSON"),
        (Answer(400, JSON, b"[1]"), "not a JSON object"),
        (Answer(200, JSON, b"{"), "not JSON"),
    ],
)
def test_a_bad_answer_is_an_escape(answer: Answer, match: str) -> None:
    with pytest.raises(ServiceEscape, match=match):
        check_response(GET, answer)


def test_good_answers_keep_the_invariant() -> None:
    assert check_response(GET, Answer(404, PROBLEM, b'{"code": "RECORD_NOT_FOUND", "status": 404, "detail": ""}')) == (
        "RECORD_NOT_FOUND"
    )
    assert check_response(GET, Answer(400, JSON, b'{"error": "invalid_proof"}')) == "invalid_proof"
    assert check_response(GET, Answer(200, {b"content-type": b"image/png"}, b"\x89PNG")) == "2xx"
    assert check_response(GET, Answer(307, {b"location": b"http://testserver/api/x"}, b"")) == "3xx"


def _world_of(app: Starlette, tmp_path: Path) -> World:
    real = service_json.world()
    return World(
        app, real.service, real.sessions, real.accounts, real.application_id, tmp_path, asyncio.new_event_loop()
    )


def test_an_exception_out_of_the_app_is_an_escape(tmp_path: Path) -> None:
    """A handler bug becomes a 500 *and* the exception leaves the app: the driver reports it."""

    async def broken(request: StarletteRequest) -> Response:
        raise RuntimeError("bug")

    w = _world_of(Starlette(routes=[Route("/api/x", broken)]), tmp_path)
    with pytest.raises(ServiceEscape, match="raised RuntimeError"):
        call(GET, w)
    w.loop.close()


def test_a_hanging_handler_is_an_escape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def hangs(request: StarletteRequest) -> Response:
        await asyncio.sleep(60)
        return JSONResponse({})

    monkeypatch.setattr(service_json, "REQUEST_SECONDS", 0.05)
    w = _world_of(Starlette(routes=[Route("/api/x", hangs)]), tmp_path)
    with pytest.raises(ServiceEscape, match="no answer"):
        call(GET, w)
    w.loop.close()


@pytest.mark.parametrize("path", ["/api/applications/", "/api/applications", "/healthz"])
def test_a_query_string_that_is_not_utf8_is_a_400_not_a_500(path: str) -> None:
    """Finding of the long service_json run: raw non-UTF-8 bytes in the query of a path with a
    trailing slash made Starlette's redirect raise UnicodeDecodeError (a 500). Refused first now."""
    host = ((b"host", b"testserver"),)
    for query in (b"q=\xfd", b"\xff", b"a=%FD&b=\xc3"):
        answer = call(Request("GET", path, query, host, b""))
        assert answer.status == 400, (path, query, answer.body[:200])
        assert json.loads(answer.body)["detail"] == "the query string is not UTF-8 text"
    encoded = call(Request("GET", path, b"q=%FD%C3%A9", host, b""))  # percent-encoded: not refused for it
    assert encoded.status < 500
    assert encoded.status != 400 or json.loads(encoded.body)["detail"] != "the query string is not UTF-8 text"
