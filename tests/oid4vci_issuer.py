"""A tiny OpenID4VCI issuer that follows the wallet <-> service contract exactly, for wallet tests.

It runs ``http.server`` on 127.0.0.1 with a port the OS picks, in a thread the test stops.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.conftest import reference_claims
from vcsdk import Ed25519PrivateKey, Issuer, StatusReference, fixed_clock
from vcsdk.errors import VCError
from vcsdk.holder import verify_key_proof
from vcsdk.wallet import read_credential

CONFIG = "KR-GOV-OfficialID"
GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


@dataclass
class IssuerState:
    base: str = ""
    key: Ed25519PrivateKey = field(default_factory=lambda: Ed25519PrivateKey(bytes(range(32))))
    now: int = 1_780_000_000
    offers: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> {tx_code, used, tries}
    offer_ids: dict[str, str] = field(default_factory=dict)  # offer id -> code
    tokens: dict[str, bool] = field(default_factory=dict)  # token -> used
    nonces: set[str] = field(default_factory=set)
    active: dict[bytes, bytes] = field(default_factory=dict)  # cti -> device key raw
    suspended: set[bytes] = field(default_factory=set)
    evil_endpoints: bool = False
    next_idx: int = 0

    def offer(self, tx_code: str = "123456") -> tuple[dict[str, Any], str]:
        code = secrets.token_urlsafe(16)
        self.offers[code] = {"tx_code": tx_code, "used": False, "tries": 0}
        offer_id = secrets.token_urlsafe(8)
        self.offer_ids[offer_id] = code
        return _offer_json(self, code), offer_id

    def issue(self, device: Any) -> str:
        self.next_idx += 1
        issuer = Issuer(self.key, "KR-MOIS", clock=fixed_clock(self.now))
        status = StatusReference(self.next_idx, "https://id.mois.go.kr/sl/7")
        credential = issuer.issue(reference_claims(), status=status, holder=device)
        self.active[credential.credential_id] = device.device_key.raw
        return credential.qr_text


class _Handler(BaseHTTPRequestHandler):
    state: IssuerState

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, error: str, detail: str = "") -> None:
        self._send(status, {"error": error, "error_description": detail})

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        s, base = self.state, self.state.base
        if self.path == "/.well-known/openid-credential-issuer":
            endpoint = "http://evil.example" if s.evil_endpoints else base
            self._send(
                200,
                {
                    "credential_issuer": base,
                    "credential_endpoint": endpoint + "/credential",
                    "nonce_endpoint": base + "/nonce",
                    "credential_configurations_supported": {
                        CONFIG: {
                            "format": "vcsdk_gid1",
                            "cryptographic_binding_methods_supported": ["cose_key"],
                            "credential_signing_alg_values_supported": [-8],
                            "proof_types_supported": {"cwt": {"proof_signing_alg_values_supported": [-8]}},
                            "display": [{"name": "모바일 공무원증", "locale": "ko"}],
                        }
                    },
                },
            )
        elif self.path == "/.well-known/oauth-authorization-server":
            self._send(
                200,
                {
                    "issuer": base,
                    "token_endpoint": base + "/token",
                    "pre-authorized_grant_anonymous_access_supported": True,
                },
            )
        elif self.path.startswith("/offers/") and self.path[8:] in s.offer_ids:
            code = s.offer_ids[self.path[8:]]
            self._send(200, _offer_json(s, code))
        else:
            self._send(404, {"type": "about:blank", "title": "Not Found", "status": 404, "code": "RECORD_NOT_FOUND"})

    def do_POST(self) -> None:
        s = self.state
        body = self._body()
        if self.path == "/token":
            form = urllib.parse.parse_qs(body.decode("ascii"))
            code = form.get("pre-authorized_code", [""])[0]
            offer = s.offers.get(code)
            if form.get("grant_type") != [GRANT] or offer is None or offer["used"] or offer["tries"] >= 3:
                return self._error(400, "invalid_grant")
            if form.get("tx_code", [""])[0] != offer["tx_code"]:
                offer["tries"] += 1
                return self._error(400, "invalid_grant", "wrong tx_code")
            offer["used"] = True
            token = secrets.token_urlsafe(24)
            s.tokens[token] = False
            return self._send(200, {"access_token": token, "token_type": "Bearer", "expires_in": 300})
        if self.path == "/nonce":
            nonce = secrets.token_urlsafe(16)
            s.nonces.add(nonce)
            return self._send(200, {"c_nonce": nonce})
        if self.path == "/credential":
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            if s.tokens.get(token) is not False:
                return self._error(401, "invalid_token")
            request = json.loads(body)
            if request.get("credential_configuration_id") != CONFIG:
                return self._error(400, "invalid_credential_request")
            proof = self._proof(request)
            if proof is None:
                return None
            s.tokens[token] = True
            return self._send(200, {"credentials": [{"credential": s.issue(proof)}]})
        if self.path == "/wallet/refresh":
            request = json.loads(body)
            held = read_credential(request["credential"])
            proof = self._proof(request)
            if proof is None:
                return None
            if held.credential_id not in s.active or held.credential_id in s.suspended:
                return self._problem(409, "STATUS_SUSPENDED")
            if s.active[held.credential_id] != proof.device_key.raw:
                return self._problem(400, "KEY_PROOF_INVALID")
            del s.active[held.credential_id]
            return self._send(200, {"credentials": [{"credential": s.issue(proof)}]})
        return self._error(404, "not_found")

    def _problem(self, status: int, code: str) -> None:
        body = {"type": "about:blank", "title": code, "status": status, "detail": code, "code": code}
        self._send(status, body, "application/problem+json")

    def _proof(self, request: dict[str, Any]) -> Any:
        s = self.state
        try:
            raw = request["proofs"]["cwt"][0]
            proof = verify_key_proof(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)), audience=s.base, now=s.now)
        except (VCError, KeyError, IndexError, TypeError, ValueError):
            self._error(400, "invalid_proof")
            return None
        if proof.nonce not in s.nonces:
            self._error(400, "invalid_nonce")
            return None
        s.nonces.discard(proof.nonce)
        return proof


def _offer_json(state: IssuerState, code: str) -> dict[str, Any]:
    return {
        "credential_issuer": state.base,
        "credential_configuration_ids": [CONFIG],
        "grants": {GRANT: {"pre-authorized_code": code, "tx_code": {"input_mode": "numeric", "length": 6}}},
    }


@contextmanager
def running_issuer() -> Iterator[IssuerState]:
    """Serve a fresh issuer on 127.0.0.1 (a free port) for the duration of the block."""
    state = IssuerState()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
