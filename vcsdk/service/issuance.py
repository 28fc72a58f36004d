"""Issuance to the wallet: OpenID for Verifiable Credential Issuance 1.0, pre-authorized code flow,
plus our refresh extension. Database side; the HTTP routes live in ``oid4vci.py``.

* An approved application's owner asks for an **offer**: a random single-use pre-authorized code
  (default 15 minutes) and a 6-digit transaction code shown to them apart from the offer. Asking
  again burns the previous open offer. When the application already has an active credential,
  the offer re-issues it to a new device (the old credential is retired on redemption).
* ``/token`` trades code + transaction code for a single-use access token (default 5 minutes);
  a few wrong transaction codes burn the offer.
* ``/nonce`` hands out a ``c_nonce``, usable once (default 5 minutes).
* ``/credential`` needs the access token and a ``cwt`` key proof over ``{aud, iat, nonce}`` made by
  the device key; that key becomes the credential's ``cnf``.
* ``/wallet/refresh`` re-issues an active credential to the same device key, proven afresh.

It stays one module on purpose: the steps above are one flow of single-use codes, tokens and
nonces, read and reviewed together.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import delete, insert, select, update

from ..errors import (
    AccessDenied,
    KeyProofInvalid,
    RecordNotFound,
    RegistryTransitionRefused,
    StatusNeedsRenewal,
    StatusRevoked,
    StatusSuspended,
    UsageError,
    VCError,
)
from ..holder.proof import KeyProof, verify_key_proof
from ..keys import b64url_decode
from ..registry import IssuedRecord, IssuerRegistry
from ..verify import StatusPolicy, Verifier
from . import tables as t
from .accounts import Account, token_digest

if TYPE_CHECKING:
    from .core import Service

CONFIGURATION_ID = "KR-GOV-OfficialID"
FORMAT_ID = "vcsdk_gid1"
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFER_SCHEME = "openid-credential-offer://"
TX_CODE_DIGITS = 6
ACTIVE_STATES = ("issued", "suspended", "needs_renewal")


class WalletError(Exception):
    """An OAuth / OpenID4VCI error response: ``{"error": ..., "error_description": ...}``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description


@dataclass(frozen=True, slots=True)
class Offer:
    """A fresh credential offer; ``tx_code`` is shown to the applicant once, apart from the offer."""

    offer_id: str
    kind: str
    credential_offer: dict[str, Any]
    tx_code: str
    expires_at: int
    offer_uri: str
    """``openid-credential-offer://?credential_offer_uri=...`` (by reference: short, for a QR)."""
    offer_uri_by_value: str
    """``openid-credential-offer://?credential_offer=...`` (the JSON inline)."""


def issuer_metadata(base: str) -> dict[str, Any]:
    """``/.well-known/openid-credential-issuer``."""
    return {
        "credential_issuer": base,
        "credential_endpoint": base + "/credential",
        "nonce_endpoint": base + "/nonce",
        "credential_configurations_supported": {
            CONFIGURATION_ID: {
                "format": FORMAT_ID,
                "cryptographic_binding_methods_supported": ["cose_key"],
                "credential_signing_alg_values_supported": [-8],
                "proof_types_supported": {"cwt": {"proof_signing_alg_values_supported": [-8]}},
                "display": [
                    {"name": "모바일 공무원증", "locale": "ko"},
                    {"name": "Mobile official ID", "locale": "en"},
                ],
            }
        },
    }


def authorization_server_metadata(base: str) -> dict[str, Any]:
    """``/.well-known/oauth-authorization-server``."""
    return {"issuer": base, "token_endpoint": base + "/token", "pre-authorized_grant_anonymous_access_supported": True}


def offer_document(base: str, code: str) -> dict[str, Any]:
    """The credential offer JSON (never contains the transaction code)."""
    return {
        "credential_issuer": base,
        "credential_configuration_ids": [CONFIGURATION_ID],
        "grants": {
            PRE_AUTHORIZED_GRANT: {
                "pre-authorized_code": code,
                "tx_code": {
                    "input_mode": "numeric",
                    "length": TX_CODE_DIGITS,
                    "description": "신청 화면에 표시된 6자리 숫자 / the 6-digit code shown on your application page",
                },
            }
        },
    }


def vouch(registry: IssuerRegistry, proof: KeyProof) -> KeyProof:
    """The proof to hand the registry for a key the service has verified.

    The service checks the wallet's proof against the OpenID4VCI contract (audience = the
    credential issuer identifier, nonce = the service's single-use ``c_nonce``); the registry binds
    a key only with a proof over one of its own nonces and its issuer id as audience. The service
    vouches for the proved key with a fresh registry nonce, so both checks hold."""
    return KeyProof(
        device_key=proof.device_key, audience=registry.issuer_id, nonce=registry.nonce(), issued_at=proof.issued_at
    )


def issue_bound(registry: IssuerRegistry, application_id: str, proof: KeyProof, actor: str) -> IssuedRecord:
    """Issue an approved application's first credential, bound to the proved device key."""
    return registry.issue(application_id, actor=actor, key_proof=vouch(registry, proof))


def reissue_bound(registry: IssuerRegistry, cti: str, proof: KeyProof, actor: str) -> IssuedRecord:
    """Re-issue ``cti`` to the proved (new or same) device key; the old credential is superseded."""
    return registry.reissue(cti, actor=actor, key_proof=vouch(registry, proof))


class WalletIssuance:
    """Offers, tokens, nonces and the credential endpoint, in the service tables."""

    def __init__(self, service: Service) -> None:
        self._service = service

    @property
    def _base(self) -> str:
        return self._service.settings.base_url

    def _tx_digest(self, tx_code: str) -> str:
        return hmac.new(self._service.settings.session_secret, b"tx:" + tx_code.encode(), hashlib.sha256).hexdigest()

    # ------------------------------------------------------------------ offers (applicant side)

    def create_offer(self, account: Account, application_id: str) -> Offer:
        """A new offer for the owner of an approved application (or of one with an active
        credential: then the offer re-issues it to a new device)."""
        service = self._service
        shown = service.registry.show(application_id)
        if shown["applicant"] != account.actor:
            raise RecordNotFound(f"no application {application_id}")  # never confirm another's id
        active = [c for c in shown["credentials"] if c["state"] in ACTIVE_STATES]
        if active:
            kind, cti = "reissue", str(active[0]["cti"])
            self._check_self_service(cti, str(active[0]["state"]))
        elif shown["state"] == "approved":
            kind, cti = "issue", None
        else:
            raise RegistryTransitionRefused(
                f"no credential can be offered for an application in state {shown['state']}"
            )
        now = service.clock()
        code = secrets.token_urlsafe(32)
        tx_code = "".join(secrets.choice("0123456789") for _ in range(TX_CODE_DIGITS))
        offer_id = secrets.token_urlsafe(24)
        expires = now + service.settings.offer_ttl
        with service.engine.begin() as conn:
            conn.execute(
                update(t.offers)
                .where(t.offers.c.application_id == application_id, t.offers.c.state == "open")
                .values(state="burned", code=None)
            )
            conn.execute(
                insert(t.offers).values(
                    id=offer_id,
                    code=code,
                    tx_code_hash=self._tx_digest(tx_code),
                    account_id=account.id,
                    application_id=application_id,
                    kind=kind,
                    cti=cti,
                    created_at=now,
                    expires_at=expires,
                    attempts=0,
                    state="open",
                )
            )
        document = offer_document(self._base, code)
        by_value = OFFER_SCHEME + "?credential_offer=" + quote(json.dumps(document, separators=(",", ":")), safe="")
        by_reference = OFFER_SCHEME + "?credential_offer_uri=" + quote(f"{self._base}/offers/{offer_id}", safe="")
        return Offer(offer_id, kind, document, tx_code, expires, by_reference, by_value)

    def _check_self_service(self, cti: str, state: str) -> None:
        """A holder may move their credential to a new phone while it is valid or after they
        reported the phone lost themselves; never out of an operator's suspension or a renewal."""
        if state == "issued":
            return
        if state == "suspended" and self.suspended_by(cti) == "holder":
            return
        raise AccessDenied("the office suspended this ID or must renew it: contact the ID office")

    def suspended_by(self, cti: str) -> str | None:
        """Who suspended ``cti`` last (``holder`` or ``operator``), None if not recorded."""
        with self._service.engine.connect() as conn:
            value = conn.execute(select(t.suspensions.c.by_role).where(t.suspensions.c.cti == cti)).scalar()
        return None if value is None else str(value)

    def record_suspension(self, cti: str, by_role: str | None) -> None:
        """Remember who suspended ``cti`` (``None``: reinstated, forget it)."""
        with self._service.engine.begin() as conn:
            conn.execute(delete(t.suspensions).where(t.suspensions.c.cti == cti))
            if by_role is not None:
                conn.execute(insert(t.suspensions).values(cti=cti, by_role=by_role, at=self._service.clock()))

    def offer_by_reference(self, offer_id: str) -> dict[str, Any]:
        """The offer JSON behind a by-reference URI, while it is open."""
        now = self._service.clock()
        with self._service.engine.connect() as conn:
            row = conn.execute(select(t.offers).where(t.offers.c.id == offer_id)).mappings().first()
        if row is None or row["state"] != "open" or row["expires_at"] <= now or not row["code"]:
            raise RecordNotFound("no open credential offer with that id")
        return offer_document(self._base, row["code"])

    def offer_uri_for(self, account: Account, offer_id: str) -> str:
        """The by-reference offer URI of an open offer of ``account`` (for its QR image)."""
        now = self._service.clock()
        with self._service.engine.connect() as conn:
            row = conn.execute(select(t.offers).where(t.offers.c.id == offer_id)).mappings().first()
        if row is None or row["account_id"] != account.id:
            raise RecordNotFound("no such offer")
        if row["state"] != "open" or row["expires_at"] <= now:
            raise RegistryTransitionRefused("the offer was used or has expired: ask for a new one")
        return OFFER_SCHEME + "?credential_offer_uri=" + quote(f"{self._base}/offers/{offer_id}", safe="")

    # ------------------------------------------------------------------ token and nonce

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        """``POST /token``: pre-authorized code + transaction code -> access token."""
        if form.get("grant_type") != PRE_AUTHORIZED_GRANT:
            raise WalletError(400, "unsupported_grant_type", "only the pre-authorized code grant is supported")
        code, tx_code = form.get("pre-authorized_code", ""), form.get("tx_code", "")
        if not code or len(code) > 64:
            raise WalletError(400, "invalid_grant", "unknown, used or expired pre-authorized code")
        service = self._service
        now = service.clock()
        with service.engine.begin() as conn:
            query = select(t.offers).where(t.offers.c.code == code)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            row = conn.execute(query).mappings().first()
            if row is None or row["state"] != "open" or row["expires_at"] <= now:
                raise WalletError(400, "invalid_grant", "unknown, used or expired pre-authorized code")
            if not hmac.compare_digest(self._tx_digest(tx_code), row["tx_code_hash"]):
                attempts = int(row["attempts"]) + 1
                burned = attempts >= service.settings.tx_code_attempts
                conn.execute(
                    update(t.offers)
                    .where(t.offers.c.id == row["id"])
                    .values(attempts=attempts, **({"state": "burned", "code": None} if burned else {}))
                )
                detail = "wrong transaction code" + ("; the offer is now void" if burned else "")
                error = WalletError(400, "invalid_grant", detail)
            else:
                error = None
                done = conn.execute(
                    update(t.offers)
                    .where(t.offers.c.id == row["id"], t.offers.c.state == "open")
                    .values(state="redeemed", code=None)
                )
                if done.rowcount != 1:
                    raise WalletError(400, "invalid_grant", "unknown, used or expired pre-authorized code")
                access = secrets.token_urlsafe(32)
                conn.execute(
                    insert(t.access_tokens).values(
                        token_hash=token_digest(access),
                        offer_id=row["id"],
                        expires_at=now + service.settings.token_ttl,
                        used=0,
                    )
                )
        if error is not None:
            raise error  # after the commit: the attempt counts
        return {"access_token": access, "token_type": "Bearer", "expires_in": service.settings.token_ttl}

    def nonce(self) -> dict[str, str]:
        """``POST /nonce``: a fresh single-use ``c_nonce``."""
        service = self._service
        now = service.clock()
        value = secrets.token_urlsafe(24)
        with service.engine.begin() as conn:
            conn.execute(delete(t.nonces).where(t.nonces.c.expires_at < now - 3600))
            conn.execute(insert(t.nonces).values(nonce=value, expires_at=now + service.settings.nonce_ttl, used=0))
        return {"c_nonce": value}

    def _consume_nonce(self, nonce: str) -> None:
        now = self._service.clock()
        with self._service.engine.begin() as conn:
            done = conn.execute(
                update(t.nonces)
                .where(t.nonces.c.nonce == nonce, t.nonces.c.used == 0, t.nonces.c.expires_at > now)
                .values(used=1)
            )
        if done.rowcount != 1:
            raise WalletError(400, "invalid_nonce", "the proof's nonce is unknown, used or expired: get a new c_nonce")

    def _proof(self, proofs: Any) -> KeyProof:
        """Check ``{"cwt": ["<b64url proof>"]}``: signature, audience, age, then the nonce."""
        if not isinstance(proofs, dict) or set(proofs) != {"cwt"}:
            raise WalletError(400, "invalid_credential_request", 'proofs must be {"cwt": ["<proof>"]}')
        items = proofs["cwt"]
        if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], str) or len(items[0]) > 2048:
            raise WalletError(400, "invalid_credential_request", "exactly one cwt proof (base64url text) is expected")
        try:
            raw = b64url_decode(items[0], "proof")
            proof = verify_key_proof(raw, audience=self._base, now=self._service.clock())
        except VCError as exc:
            raise WalletError(400, "invalid_proof", exc.message) from None
        self._consume_nonce(proof.nonce)
        return proof

    # ------------------------------------------------------------------ credential

    def credential(self, authorization: str | None, body: Any) -> str:
        """``POST /credential``: the QR text of a credential bound to the proved device key."""
        service = self._service
        token = (authorization or "")[7:] if (authorization or "").startswith("Bearer ") else ""
        now = service.clock()
        with service.engine.connect() as conn:
            row = (
                conn.execute(select(t.access_tokens).where(t.access_tokens.c.token_hash == token_digest(token)))
                .mappings()
                .first()
                if token
                else None
            )
        if row is None or row["used"] or row["expires_at"] <= now:
            raise WalletError(401, "invalid_token", "the access token is missing, used or expired")
        if not isinstance(body, dict) or body.get("credential_configuration_id") != CONFIGURATION_ID:
            raise WalletError(
                400, "invalid_credential_request", f"credential_configuration_id must be {CONFIGURATION_ID!r}"
            )
        proof = self._proof(body.get("proofs"))
        with service.engine.begin() as conn:
            claimed = conn.execute(
                update(t.access_tokens)
                .where(t.access_tokens.c.token_hash == row["token_hash"], t.access_tokens.c.used == 0)
                .values(used=1)
            )
            offer = conn.execute(select(t.offers).where(t.offers.c.id == row["offer_id"])).mappings().one()
        if claimed.rowcount != 1:
            raise WalletError(401, "invalid_token", "the access token is missing, used or expired")
        actor = f"account:{offer['account_id']}"
        try:
            if offer["kind"] == "issue":
                record = issue_bound(service.registry, offer["application_id"], proof, actor)
            else:  # the state may have changed since the offer (an operator suspended it meanwhile)
                self._check_self_service(offer["cti"], str(service.registry.credential(offer["cti"])["state"]))
                record = reissue_bound(service.registry, offer["cti"], proof, actor)
        except VCError as exc:
            with service.engine.begin() as conn:  # let the wallet retry with the same token
                conn.execute(
                    update(t.access_tokens).where(t.access_tokens.c.token_hash == row["token_hash"]).values(used=0)
                )
            raise WalletError(400, "invalid_credential_request", f"{exc.code}: {exc.message}") from None
        replaced = offer["kind"] == "reissue" or bool(service.registry.show(offer["application_id"]).get("replaces"))
        if replaced or service.publisher.lists_changed():
            service.publisher.publish()  # the replaced credential is revoked now: gates must know
        return record.qr_text

    # ------------------------------------------------------------------ refresh (our extension)

    def refresh(self, body: Any) -> str:
        """``POST /wallet/refresh``: a fresh credential for an active record, to the same device key."""
        service = self._service
        if not isinstance(body, dict) or not isinstance(body.get("credential"), str):
            raise UsageError('the body must be {"credential": "GID1:...", "proofs": {"cwt": ["..."]}}')
        try:
            proof = self._proof(body.get("proofs"))
        except WalletError as exc:
            raise KeyProofInvalid(f"{exc.error}: {exc.description}") from None
        verifier = Verifier(  # the bare held credential: possession is shown by the key proof below
            service.keys.verify_keys(service.clock()),
            clock=service.clock,
            status_policy=StatusPolicy.ALLOW_UNKNOWN,
            holder_binding="off",
        )
        held = verifier.verify(body["credential"])
        try:
            record = service.registry.credential(held.credential_id.hex())
        except RecordNotFound:
            raise StatusRevoked("this credential is not on record") from None
        state = record["state"]
        if state == "suspended":
            raise StatusSuspended("the credential is suspended: it cannot be refreshed")
        if state == "needs_renewal":
            raise StatusNeedsRenewal("the credential needs renewal by the office: it cannot be refreshed")
        if state != "issued":
            raise StatusRevoked(f"the credential is {state}: it cannot be refreshed")
        if held.holder_key is None or held.holder_key.to_jwk() != proof.device_key.to_jwk():
            raise KeyProofInvalid("the proof is not signed by the device key the credential is bound to")
        application = service.registry.show(record["application_id"])
        fresh = reissue_bound(service.registry, record["cti"], proof, str(application["applicant"]))
        service.publisher.publish()
        return fresh.qr_text

    # ------------------------------------------------------------------ lifecycle (holder side)

    def owned_credential(self, account: Account, cti: str) -> dict[str, Any]:
        """A credential record of ``account`` (``RECORD_NOT_FOUND`` for anyone else's)."""
        try:
            record = self._service.registry.credential(cti)
            application = self._service.registry.show(record["application_id"])
        except RecordNotFound:
            raise RecordNotFound("no such credential") from None
        if application["applicant"] != account.actor and not account.is_staff:
            raise RecordNotFound("no such credential")
        return record
