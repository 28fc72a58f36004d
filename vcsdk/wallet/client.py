"""An OpenID for Verifiable Credential Issuance 1.0 client (pre-authorized code flow) for the wallet.

The contract with the issuer service:

1. offer: ``openid-credential-offer://?credential_offer=<JSON>`` (by value) or
   ``?credential_offer_uri=<URL>`` (by reference, fetched with GET); it names
   ``credential_issuer`` (the service's base URL), the configuration ``KR-GOV-OfficialID`` and the
   ``urn:ietf:params:oauth:grant-type:pre-authorized_code`` grant with its ``tx_code`` (6 digits,
   delivered separately);
2. ``GET {issuer}/.well-known/openid-credential-issuer`` and
   ``GET {issuer}/.well-known/oauth-authorization-server``: endpoints must lie under the issuer's
   base URL (a token is never sent elsewhere);
3. ``POST token_endpoint`` (form): grant_type, pre-authorized_code, tx_code -> ``access_token``;
4. ``POST nonce_endpoint`` -> ``c_nonce`` (single use);
5. ``POST credential_endpoint`` with ``Authorization: Bearer``, JSON
   ``{"credential_configuration_id": "KR-GOV-OfficialID", "proofs": {"cwt": [base64url(proof)]}}``
   where the proof is :func:`vcsdk.holder.make_key_proof` (aud = issuer, nonce = c_nonce) ->
   ``{"credentials": [{"credential": "GID1:..."}]}``;
6. refresh (extension): ``POST {issuer}/wallet/refresh`` with the held credential and a fresh proof.

The wallet files a credential only if its ``cnf`` is the wallet's own device key. Transport is a
seam (:class:`Transport`); :class:`UrllibTransport` speaks HTTP(S) with timeouts, no redirects and
capped response sizes.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import IssuanceRequestFailed, UsageError
from ..holder.proof import MAX_NONCE_CHARS, make_key_proof
from ..keys import Ed25519PrivateKey
from ..limits import QR_MAX_ALPHANUMERIC

OFFER_SCHEME = "openid-credential-offer://"
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
CONFIGURATION_ID = "KR-GOV-OfficialID"
FORMAT_ID = "vcsdk_gid1"
MAX_RESPONSE_BYTES = 256 * 1024
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Response:
    """One HTTP response."""

    status: int
    body: bytes


class Transport(Protocol):
    """HTTP for the client (tests may plug in an in-process one)."""

    def request(self, method: str, url: str, body: bytes | None, headers: Mapping[str, str]) -> Response: ...


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class UrllibTransport:
    """HTTP(S) with the standard library: timeouts, no redirects, bounded bodies."""

    def __init__(self, timeout: float = TIMEOUT_SECONDS) -> None:
        self._timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirect())

    def request(self, method: str, url: str, body: bytes | None, headers: Mapping[str, str]) -> Response:
        check_url(url)
        req = urllib.request.Request(url, data=body, headers=dict(headers), method=method)  # noqa: S310 (checked above)
        try:
            with self._opener.open(req, timeout=self._timeout) as resp:
                return Response(resp.status, resp.read(MAX_RESPONSE_BYTES + 1))
        except urllib.error.HTTPError as exc:
            return Response(exc.code, exc.read(MAX_RESPONSE_BYTES + 1))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise IssuanceRequestFailed(f"cannot reach {url}: {exc}") from None


@dataclass(frozen=True, slots=True)
class Offer:
    """A parsed credential offer."""

    credential_issuer: str
    pre_authorized_code: str
    tx_code_required: bool


class IssuerClient:
    """Talks to one credential issuer on behalf of a device key."""

    def __init__(self, transport: Transport | None = None) -> None:
        self._http = transport or UrllibTransport()

    # ------------------------------------------------------------------ offer

    def read_offer(self, offer: str) -> Offer:
        """Parse an offer link (by value or by reference) or the offer JSON itself."""
        if not isinstance(offer, str) or not offer.strip():
            raise UsageError("an offer is an openid-credential-offer:// link or its JSON")
        offer = offer.strip()
        if offer.startswith("{"):
            return _parse_offer(_json(offer.encode("utf-8"), "the offer"))
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(offer).query)
        if "credential_offer" in query:
            return _parse_offer(_json(query["credential_offer"][0].encode("utf-8"), "the offer"))
        if "credential_offer_uri" in query:
            uri = query["credential_offer_uri"][0]
            return _parse_offer(self._get_json(uri, "the offer"))
        raise UsageError("the offer has neither credential_offer nor credential_offer_uri")

    # ------------------------------------------------------------------ flow

    def request(self, offer: Offer, device_key: Ed25519PrivateKey, *, tx_code: str | None, now: int) -> str:
        """Run the pre-authorized code flow; return the issued ``GID1:`` text."""
        if offer.tx_code_required and not tx_code:
            raise UsageError("this offer needs the transaction code (tx_code) delivered separately")
        base = offer.credential_issuer
        credential_endpoint, nonce_endpoint = self._issuer_metadata(base)
        token_endpoint = self._token_endpoint(base)
        form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": offer.pre_authorized_code}
        if tx_code:
            form["tx_code"] = tx_code
        token = self._post(
            token_endpoint,
            urllib.parse.urlencode(form).encode("ascii"),
            {"Content-Type": "application/x-www-form-urlencoded"},
            "the token request",
        )
        access = token.get("access_token")
        if not isinstance(access, str) or not access or str(token.get("token_type", "")).lower() != "bearer":
            raise IssuanceRequestFailed("the token response has no bearer access_token")
        proof = self._proof(base, nonce_endpoint, device_key, now)
        body = {"credential_configuration_id": CONFIGURATION_ID, "proofs": {"cwt": [proof]}}
        answer = self._post(
            credential_endpoint,
            json.dumps(body).encode("utf-8"),
            {"Content-Type": "application/json", "Authorization": f"Bearer {access}"},
            "the credential request",
        )
        return _credential_from(answer)

    def refresh(self, issuer: str, credential: str, device_key: Ed25519PrivateKey, *, now: int) -> str:
        """Ask the issuer for a fresh credential for the one held (same device key)."""
        base = _issuer_url(issuer)
        _, nonce_endpoint = self._issuer_metadata(base)
        proof = self._proof(base, nonce_endpoint, device_key, now)
        answer = self._post(
            base + "/wallet/refresh",
            json.dumps({"credential": credential, "proofs": {"cwt": [proof]}}).encode("utf-8"),
            {"Content-Type": "application/json"},
            "the refresh request",
        )
        return _credential_from(answer)

    # ------------------------------------------------------------------ internals

    def _issuer_metadata(self, base: str) -> tuple[str, str]:
        meta = self._get_json(base + "/.well-known/openid-credential-issuer", "the issuer metadata")
        if meta.get("credential_issuer") != base:
            raise IssuanceRequestFailed("the issuer metadata names another credential_issuer")
        configs = meta.get("credential_configurations_supported")
        config = configs.get(CONFIGURATION_ID) if isinstance(configs, dict) else None
        if not isinstance(config, dict) or config.get("format") != FORMAT_ID:
            raise IssuanceRequestFailed(f"the issuer does not offer {CONFIGURATION_ID} in format {FORMAT_ID}")
        return _endpoint(meta, "credential_endpoint", base), _endpoint(meta, "nonce_endpoint", base)

    def _token_endpoint(self, base: str) -> str:
        meta = self._get_json(base + "/.well-known/oauth-authorization-server", "the authorization server metadata")
        if meta.get("issuer") != base:
            raise IssuanceRequestFailed("the authorization server metadata names another issuer")
        return _endpoint(meta, "token_endpoint", base)

    def _proof(self, base: str, nonce_endpoint: str, device_key: Ed25519PrivateKey, now: int) -> str:
        nonce = self._post(nonce_endpoint, b"", {}, "the nonce request").get("c_nonce")
        if not isinstance(nonce, str) or not 1 <= len(nonce) <= MAX_NONCE_CHARS:
            raise IssuanceRequestFailed(f"the nonce response has no c_nonce of 1 to {MAX_NONCE_CHARS} characters")
        proof = make_key_proof(device_key, audience=base, nonce=nonce, issued_at=now)
        return base64.urlsafe_b64encode(proof).rstrip(b"=").decode("ascii")

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        return _answer(self._http.request("GET", url, None, {"Accept": "application/json"}), what)

    def _post(self, url: str, body: bytes, headers: Mapping[str, str], what: str) -> dict[str, Any]:
        return _answer(self._http.request("POST", url, body, {"Accept": "application/json", **headers}), what)


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def check_url(url: str) -> None:
    """HTTPS, or plain HTTP to this machine only (development): tokens never cross a network in clear."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return
    raise IssuanceRequestFailed(f"refusing {url[:100]!r}: https only (plain http only to localhost)")


def _issuer_url(value: object) -> str:
    if not isinstance(value, str):
        raise IssuanceRequestFailed("credential_issuer must be a URL")
    parts = urllib.parse.urlsplit(value)
    if not parts.netloc or parts.query or parts.fragment:
        raise IssuanceRequestFailed(f"credential_issuer {value[:100]!r} is not a URL without query or fragment")
    check_url(value)
    return value.rstrip("/")


def _clean(value: object) -> str:
    """Server-supplied text made safe to print (no control characters), at most 200 characters."""
    return "".join(c if c.isprintable() else "?" for c in str(value))[:200]


def _endpoint(meta: Mapping[str, Any], name: str, base: str) -> str:
    url = meta.get(name)
    if not isinstance(url, str) or not url.startswith(base + "/"):
        raise IssuanceRequestFailed(f"{name} must lie under the credential issuer {base}")
    return url


def _parse_offer(offer: dict[str, Any]) -> Offer:
    base = _issuer_url(offer.get("credential_issuer"))
    ids = offer.get("credential_configuration_ids")
    if not isinstance(ids, list) or CONFIGURATION_ID not in ids:
        raise IssuanceRequestFailed(f"the offer is not for {CONFIGURATION_ID}")
    grants = offer.get("grants")
    grant = grants.get(PRE_AUTHORIZED_GRANT) if isinstance(grants, dict) else None
    code = grant.get("pre-authorized_code") if isinstance(grant, dict) else None
    if not isinstance(code, str) or not code:
        raise IssuanceRequestFailed("the offer has no pre-authorized code grant")
    assert isinstance(grant, dict)
    return Offer(base, code, isinstance(grant.get("tx_code"), dict))


def _json(body: bytes, what: str) -> dict[str, Any]:
    if len(body) > MAX_RESPONSE_BYTES:
        raise IssuanceRequestFailed(f"{what} is larger than {MAX_RESPONSE_BYTES} bytes")
    try:
        value = json.loads(body)
    except ValueError:
        raise IssuanceRequestFailed(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise IssuanceRequestFailed(f"{what} is not a JSON object")
    return value


def _answer(response: Response, what: str) -> dict[str, Any]:
    if response.status != 200:
        try:
            error = _json(response.body, what)
        except IssuanceRequestFailed:
            error = {}
        reason = _clean(error.get("code") or error.get("error") or "no error code")
        detail = _clean(error.get("error_description") or error.get("detail") or "")
        raise IssuanceRequestFailed(
            f"{what} failed: HTTP {response.status} {reason}" + (f": {detail}" if detail else "")
        )
    return _json(response.body, what)


def _credential_from(answer: Mapping[str, Any]) -> str:
    items = answer.get("credentials")
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        raise IssuanceRequestFailed("the response must hold exactly one credential")
    text = items[0].get("credential")
    if not isinstance(text, str) or not text.startswith("GID1:") or len(text) > QR_MAX_ALPHANUMERIC:
        raise IssuanceRequestFailed("the issued credential is not a GID1: text")
    return text
