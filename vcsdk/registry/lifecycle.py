"""Credentials: issuance (bound to a proven device key), suspension, revocation, re-issue to a
new phone, refresh, and expiry. Each public method is one transaction: the credential row, its
status entry and the audit entry commit together or not at all (bulk issuance, :meth:`LifecycleMixin.issue_many`:
one transaction per batch, one savepoint per credential).

Every credential audit entry records the credential's ``state`` and status ``bit``; issuance
also records the status index and a digest of the credential row, so that ``audit verify`` can
reconcile the tables against the log.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from ..codec.cwt import StatusReference
from ..errors import (
    ActiveCredentialExists,
    ApplicationIncomplete,
    KeyProofInvalid,
    RegistryTransitionRefused,
    UsageError,
    VCError,
)
from ..holder.proof import KeyProof, verify_key_proof
from ..issue import Issuer
from ..keys import Ed25519PublicKey
from ..verify.status import Status
from . import audit
from . import tables as t
from .applications import ApplicationsMixin
from .base import ACTIVE_STATES, IssuedRecord
from .workflow import next_state, spoken

DEFAULT_NONCE_TTL = 300
"""Seconds a key-proof nonce stays usable."""
DEFAULT_BATCH_SIZE = 100
"""Issuances per transaction in :meth:`LifecycleMixin.issue_many`."""


class LifecycleMixin(ApplicationsMixin):
    """Issuance and the credential lifecycle of :class:`~vcsdk.registry.IssuerRegistry`."""

    # ------------------------------------------------------------------ nonces and proofs

    def nonce(self, *, ttl: int = DEFAULT_NONCE_TTL) -> str:
        """A fresh key-proof nonce (OpenID4VCI ``c_nonce``), stored and usable once within ``ttl``."""
        if not 0 < ttl <= 86400:
            raise UsageError("a nonce lives between 1 second and 1 day")
        value = secrets.token_urlsafe(24)
        now = self._clock()
        with self._tx() as conn:
            conn.execute(delete(t.nonces).where(t.nonces.c.expires_at < now - 86400))
            conn.execute(insert(t.nonces).values(nonce=value, issued_at=now, expires_at=now + ttl))
        return value

    def _proven_key(self, conn: Connection, proof: bytes | KeyProof) -> Ed25519PublicKey:
        """Verify a key proof (bytes) or take a verified one, and consume its nonce."""
        now = self._clock()
        checked = proof if isinstance(proof, KeyProof) else verify_key_proof(proof, audience=self._issuer_id, now=now)
        if checked.audience != self._issuer_id:
            raise KeyProofInvalid("the key proof is for another credential issuer (aud)")
        query = select(t.nonces).where(t.nonces.c.nonce == checked.nonce)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).mappings().first()
        if row is None:
            raise KeyProofInvalid("the key proof's nonce was not issued by this registry")
        if row["used_at"] is not None:
            raise KeyProofInvalid("the key proof's nonce was used already (replayed proof)")
        if row["expires_at"] < now:
            raise KeyProofInvalid("the key proof's nonce has expired: ask for a new one")
        conn.execute(update(t.nonces).where(t.nonces.c.nonce == checked.nonce).values(used_at=now))
        return checked.device_key

    # ------------------------------------------------------------------ issuance

    def _sign(
        self,
        conn: Connection,
        application: Mapping[str, Any],
        claims: Mapping[str, Any],
        device: str | None,
        *,
        actor: str,
        replaces: str | None = None,
    ) -> IssuedRecord:
        if self._signer is None:
            raise UsageError("this registry has no signing key configured")
        now = self._clock()
        photo = next((d for d in reversed(self._documents(conn, application["id"])) if d.kind == "photo"), None)
        if photo is None:
            raise ApplicationIncomplete("no photo on file")
        reference = self._status(conn).allocate()
        holder = None if device is None else Ed25519PublicKey.from_jwk(json.loads(device))
        issuer = Issuer(self._signer(now), self._issuer_id, clock=lambda: now)
        credential = issuer.issue({**claims, "photo_digest": photo.sha256[:32]}, status=reference, holder_key=holder)
        row = {
            "cti": credential.credential_id.hex(),
            "application_id": application["id"],
            "person": application["person"],
            "state": "issued",
            "status_uri": reference.uri,
            "status_idx": reference.idx,
            "kid": credential.kid.hex(),
            "issued_at": credential.issued_at,
            "expires_at": credential.expires_at,
            "claims": json.dumps(dict(claims), ensure_ascii=False),
            "device_jwk": device,
        }
        conn.execute(insert(t.credentials).values(**row))
        data = {
            "state": "issued",
            "bit": Status.VALID.value,
            "status": [reference.uri, reference.idx],
            "record": audit.record_digest(row),
            "application": application["id"],
            "bound": device is not None,
            "replaces": replaces,
        }
        self._audit(conn, actor, "credential_issued", row["cti"], data)
        return IssuedRecord(row["cti"], application["id"], credential.qr_text, reference, credential.expires_at)

    def issue(self, application_id: str, *, actor: str, key_proof: bytes | KeyProof | None = None) -> IssuedRecord:
        """Issue the approved application's credential (one active credential per person).

        ``key_proof``: the holder's proof of possession of the device key (the bytes made by
        :func:`vcsdk.holder.make_key_proof` over a :meth:`nonce`, or an already verified
        :class:`~vcsdk.holder.proof.KeyProof`); the credential's ``cnf`` is its key. A device key
        recorded at application must match it, and is never bound without a proof. An approved
        change application supersedes the credential it replaces in the same transaction.
        """
        with self._tx() as conn:
            self._require(conn, "operator", actor)
            return self._issue(conn, application_id, actor, key_proof)

    def issue_many(
        self, application_ids: Iterable[str], *, actor: str, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> list[IssuedRecord | VCError]:
        """Bulk issuance: the approved applications' credentials, ``batch_size`` per transaction.

        Each application is issued as :meth:`issue` would (without a key proof: a device key
        recorded at application is refused, as there) inside a savepoint of its batch's
        transaction: a refused one (its :class:`VCError` in the result, in input order) leaves
        no trace and the others of the batch commit together. A crash or a database error loses
        the batch in progress, never part of an issuance; batches committed before it stay.
        """
        if type(batch_size) is not int or batch_size < 1:
            raise UsageError("batch_size must be a positive integer")
        ids = list(application_ids)
        results: list[IssuedRecord | VCError] = []
        for start in range(0, len(ids), batch_size):
            with self._tx() as conn:
                self._require(conn, "operator", actor)
                for application_id in ids[start : start + batch_size]:
                    savepoint = conn.begin_nested()
                    try:
                        record = self._issue(conn, application_id, actor, None)
                    except VCError as exc:
                        savepoint.rollback()
                        results.append(exc)
                    else:
                        savepoint.commit()
                        results.append(record)
        return results

    def _issue(
        self, conn: Connection, application_id: str, actor: str, key_proof: bytes | KeyProof | None
    ) -> IssuedRecord:
        application = self._application(conn, application_id)
        next_state(application["state"], "issue")
        replaces = application.get("replaces")
        old = self._credential(conn, replaces) if replaces else None
        if old is not None and old["state"] not in ACTIVE_STATES:
            raise RegistryTransitionRefused(f"the credential to replace is {old['state']}: apply anew")
        device = application["device_jwk"]
        if key_proof is not None:
            proven = json.dumps(self._proven_key(conn, key_proof).to_jwk())
            if device is not None and json.loads(device) != json.loads(proven):
                raise KeyProofInvalid("the key proof is for another device key than the application's")
            device = proven
        elif device is not None and (old is None or old["device_jwk"] != device):
            raise KeyProofInvalid("binding a device key needs its proof of possession (registry nonce)")
        for person in {application["person"], *([old["person"]] if old else [])}:
            active = conn.execute(
                select(t.credentials.c.cti).where(
                    t.credentials.c.person == person, t.credentials.c.state.in_(ACTIVE_STATES)
                )
            ).first()
            if active is not None and (old is None or active[0] != old["cti"]):
                raise ActiveCredentialExists(f"{person} already holds {active[0]}: re-issue it instead")
        record = self._sign(
            conn, application, json.loads(application["claims"]), device, actor=actor, replaces=replaces
        )
        if old is not None:
            self._supersede(conn, old, actor, record.cti)
        self._step(conn, application_id, "issue", actor)
        return record

    def _supersede(self, conn: Connection, old: Mapping[str, Any], actor: str, new_cti: str) -> None:
        self._status(conn).set_status(StatusReference(int(old["status_idx"]), old["status_uri"]), Status.REVOKED)
        conn.execute(update(t.credentials).where(t.credentials.c.cti == old["cti"]).values(state="superseded"))
        data = {"from": old["state"], "state": "superseded", "bit": Status.REVOKED.value, "new": new_cti}
        self._audit(conn, actor, "supersede", old["cti"], data)

    def _reissue(
        self, cti: str, *, actor: str, allowed: tuple[str, ...], proof: bytes | KeyProof | None = None
    ) -> IssuedRecord:
        """A new credential for ``cti``'s claims (the proven key, else the old device key) with a
        fresh status index; the old one superseded, in one transaction."""
        with self._tx() as conn:
            self._require(conn, "operator", actor)
            old = self._credential(conn, cti)
            if old["state"] not in allowed:
                raise RegistryTransitionRefused(f"cannot re-issue a credential in state {old['state']}")
            application = self._application(conn, old["application_id"])
            device: str | None = old["device_jwk"]
            if proof is not None:
                device = json.dumps(self._proven_key(conn, proof).to_jwk())
            record = self._sign(conn, application, json.loads(old["claims"]), device, actor=actor, replaces=cti)
            self._supersede(conn, old, actor, record.cti)
            return record

    def reissue(
        self,
        cti: str,
        *,
        actor: str,
        device_key: Ed25519PublicKey | None = None,
        changes: Mapping[str, Any] | None = None,
        key_proof: bytes | KeyProof | None = None,
    ) -> IssuedRecord:
        """Re-issue to a new phone: a new credential bound to the device key of ``key_proof``
        (fresh status index), the old one superseded (REVOKED), in one transaction. Without a
        proof the new credential keeps the old device key (or none).

        ``device_key`` without a proof and ``changes`` are refused: a key is bound only with its
        proof, and changed claims go through review (:meth:`apply_change`).
        """
        if changes:
            raise RegistryTransitionRefused("changed claims go through review: use apply_change, then issue")
        if device_key is not None and key_proof is None:
            raise KeyProofInvalid("a new device key is bound only with its proof of possession (registry nonce)")
        if device_key is not None and isinstance(key_proof, KeyProof) and key_proof.device_key.raw != device_key.raw:
            raise KeyProofInvalid("the key proof is for another device key")
        return self._reissue(cti, actor=actor, allowed=ACTIVE_STATES, proof=key_proof)

    def reissue_to_device(self, cti: str, *, actor: str, key_proof: bytes | KeyProof) -> IssuedRecord:
        """New phone = new device key = re-issue: see :meth:`reissue`."""
        return self.reissue(cti, actor=actor, key_proof=key_proof)

    def refresh(self, cti: str, *, actor: str) -> IssuedRecord:
        """A new credential (new exp, fresh status index) with the same claims and device key,
        while the credential is active (not suspended); the old one is superseded atomically."""
        return self._reissue(cti, actor=actor, allowed=("issued", "needs_renewal"))

    def renew(self, cti: str, *, actor: str, changes: Mapping[str, Any] | None = None) -> IssuedRecord:
        """Renew in one transaction (a failure leaves the credential as it was): the same as
        :meth:`refresh`. Changed claims (rank, agency, employee id, ...) are refused here: they
        go through review with :meth:`apply_change`."""
        if changes:
            raise RegistryTransitionRefused(
                "a change of claims goes through review: apply_change (vcsdk registry change), review, approve, issue"
            )
        return self.refresh(cti, actor=actor)

    # ------------------------------------------------------------------ status changes

    def _set_credential(
        self,
        cti: str,
        *,
        actor: str,
        action: str,
        state: str,
        status: Status,
        allowed: tuple[str, ...],
        role: str | None = "operator",
        reason: str | None = None,
    ) -> str:
        with self._tx() as conn:
            if role is not None:
                self._require(conn, role, actor)
            row = self._credential(conn, cti)
            if row["state"] not in allowed:
                raise RegistryTransitionRefused(f"cannot {spoken(action)} a credential in state {spoken(row['state'])}")
            reference = StatusReference(int(row["status_idx"]), row["status_uri"])
            self._status(conn).set_status(reference, status)
            values: dict[str, Any] = {"state": state}
            if reason is not None:
                values["reason"] = reason
            conn.execute(update(t.credentials).where(t.credentials.c.cti == cti).values(**values))
            data: dict[str, Any] = {"from": row["state"], "state": state, "bit": status.value}
            if reason is not None:
                data["reason"] = reason
            self._audit(conn, actor, action, cti, data)
            return state

    def suspend(self, cti: str, *, actor: str, reason: str | None = None) -> str:
        """Suspend at once (phone lost)."""
        allowed = ("issued", "needs_renewal")
        return self._set_credential(
            cti,
            actor=actor,
            action="suspend",
            state="suspended",
            status=Status.SUSPENDED,
            allowed=allowed,
            reason=reason,
        )

    def report_lost(self, cti: str, *, actor: str) -> str:
        """The holder reports the phone lost: suspended at once. Any actor may report (the caller
        authenticates the holder); the report is audited under ``actor``."""
        return self._set_credential(
            cti,
            actor=actor,
            action="report_lost",
            state="suspended",
            status=Status.SUSPENDED,
            allowed=("issued", "needs_renewal", "suspended"),
            role=None,
            reason="reported lost",
        )

    def reinstate(self, cti: str, *, actor: str, reason: str | None = None) -> str:
        """Back to valid (phone found)."""
        return self._set_credential(
            cti,
            actor=actor,
            action="reinstate",
            state="issued",
            status=Status.VALID,
            allowed=("suspended",),
            reason=reason,
        )

    def require_renewal(self, cti: str, *, actor: str, reason: str | None = None) -> str:
        """Mark NEEDS_RENEWAL (gates refuse it until it is renewed)."""
        return self._set_credential(
            cti,
            actor=actor,
            action="require_renewal",
            state="needs_renewal",
            status=Status.NEEDS_RENEWAL,
            allowed=("issued",),
            reason=reason,
        )

    def revoke(self, cti: str, *, actor: str, reason: str = "") -> str:
        """Revoke for good; ``reason`` is kept on the credential and in the audit log."""
        return self._set_credential(
            cti,
            actor=actor,
            action="revoke",
            state="revoked",
            status=Status.REVOKED,
            allowed=ACTIVE_STATES,
            reason=reason,
        )

    def expire(self, *, actor: str) -> int:
        """Mark credentials past their exp as expired; returns how many."""
        now = self._clock()
        with self._tx() as conn:
            self._require(conn, "operator", actor)
            c = t.credentials.c
            rows = conn.execute(
                select(c.cti, c.state, c.status_uri, c.status_idx).where(
                    c.expires_at <= now, c.state.in_(ACTIVE_STATES)
                )
            ).all()
            for cti, state, uri, idx in rows:
                bit = self._status(conn).status(StatusReference(int(idx), uri))
                conn.execute(update(t.credentials).where(c.cti == cti).values(state="expired"))
                self._audit(conn, actor, "expire", cti, {"from": state, "state": "expired", "bit": bit.value})
            return len(rows)
