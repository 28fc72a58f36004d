"""The registry's audit log: appending, chain verification, signed checkpoints, reconciliation.

* **Chain**: entry ``n`` stores ``hash = SHA-256(JSON [prev_hash, seq, at, actor, action, subject,
  data])``; entries are numbered 1, 2, ... without gaps; the single ``audit_head`` row holds the
  last seq and hash. A log is intact only when every link verifies, the head exists, and the
  head's seq equals the number of rows and its hash the last row's hash (so deleting every row,
  the head row, or the tail all show).
* **Checkpoints**: a signed statement "entry ``seq`` of ``iss``'s log has hash ``h``" (a tagged
  COSE_Sign1, see :func:`sign_checkpoint`). Kept outside the database, a checkpoint makes a
  truncated or rewritten log detectable even when the head row was moved back with it: that
  needs the signing key.
* **Reconciliation**: every credential entry records the credential's state and status bit (and
  at issuance a digest of the credential row and its status index), so :func:`reconcile` finds a
  ``credentials`` or ``status_entries`` row edited outside the registry.

Pure helpers plus functions on a SQLAlchemy ``Connection`` (the registry's transaction).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ..codec import cbor, cose
from ..codec.cbor import MAP_TYPES
from ..errors import CredentialInvalid, UsageError, VCError
from ..keys import ALG_EDDSA, Ed25519PrivateKey
from ..limits import DEFAULT_LIMITS
from ..trust.store import KeyState, TrustStore
from . import tables as t

GENESIS = "0" * 64
CHECKPOINT_TYP = "application/vcsdk-audit-checkpoint+cbor"
"""The protected ``typ`` (label 16) of an audit checkpoint."""
MAX_CHECKPOINT_BYTES = 1024


def entry_hash(prev_hash: str, seq: int, at: int, actor: str, action: str, subject: str, data: str) -> str:
    """SHA-256 over the previous hash and this entry's fields (canonical JSON)."""
    body = json.dumps([prev_hash, seq, at, actor, action, subject, data], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def first_broken(rows: Iterable[Mapping[str, Any]]) -> int | None:
    """The ``seq`` of the first entry whose chain does not verify, None if all do."""
    prev = GENESIS
    expected_seq = 1
    for row in rows:
        if row["seq"] != expected_seq or row["prev_hash"] != prev:
            return int(row["seq"])
        digest = entry_hash(prev, row["seq"], row["at"], row["actor"], row["action"], row["subject"], row["data"])
        if digest != row["hash"]:
            return int(row["seq"])
        prev = digest
        expected_seq += 1
    return None


def append(conn: Connection, at: int, actor: str, action: str, subject: str, data: Mapping[str, Any]) -> int:
    """Append one entry in the caller's transaction; returns its seq. Appenders serialise on the
    ``audit_head`` row (``FOR UPDATE`` on PostgreSQL, the write lock on SQLite)."""
    head_query = select(t.audit_head).where(t.audit_head.c.id == 1)
    if conn.dialect.name == "postgresql":
        head_query = head_query.with_for_update()
    head = conn.execute(head_query).mappings().first()
    if head is None:
        raise UsageError("the audit head is missing: the database is not a registry or was tampered with")
    seq = int(head["seq"]) + 1
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
    digest = entry_hash(head["hash"], seq, at, actor, action, subject, text)
    conn.execute(
        insert(t.audit_log).values(
            seq=seq, at=at, actor=actor, action=action, subject=subject, data=text, prev_hash=head["hash"], hash=digest
        )
    )
    conn.execute(update(t.audit_head).where(t.audit_head.c.id == 1).values(seq=seq, hash=digest))
    return seq


def rows(conn: Connection, *, subject: str | None = None, after: int = 0) -> Iterator[dict[str, Any]]:
    """Audit entries in order (optionally one subject's, or those after ``seq``)."""
    query = select(t.audit_log).where(t.audit_log.c.seq > after).order_by(t.audit_log.c.seq)
    if subject is not None:
        query = query.where(t.audit_log.c.subject == subject)
    for row in conn.execute(query).mappings():
        yield dict(row)


def public_entry(row: Mapping[str, Any]) -> dict[str, Any]:
    """An entry as a JSON line: its fields with ``data`` decoded."""
    return {
        "seq": row["seq"],
        "at": row["at"],
        "actor": row["actor"],
        "action": row["action"],
        "subject": row["subject"],
        "data": json.loads(row["data"]),
        "prev_hash": row["prev_hash"],
        "hash": row["hash"],
    }


def record_digest(row: Mapping[str, Any]) -> str:
    """SHA-256 over a credential row's fixed fields (everything but its state and reason)."""
    fields = [
        row["cti"],
        row["application_id"],
        row["person"],
        row["status_uri"],
        int(row["status_idx"]),
        row["kid"],
        int(row["issued_at"]),
        int(row["expires_at"]),
        row["claims"],
        row["device_jwk"],
    ]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


# ------------------------------------------------------------------------------ checkpoints


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A verified checkpoint: entry ``seq`` of ``issuer``'s log had ``head_hash`` at ``issued_at``."""

    issuer: str
    seq: int
    head_hash: str
    issued_at: int
    kid: bytes


def sign_checkpoint(issuer: str, seq: int, head_hash: str, key: Ed25519PrivateKey, *, issued_at: int) -> bytes:
    """A checkpoint: tagged COSE_Sign1, protected ``{1: -8, 4: kid, 16: CHECKPOINT_TYP}``, payload
    the CBOR map ``{"iss": issuer, "seq": seq, "head": 32-byte hash, "iat": issued_at}``."""
    protected = {cose.HEADER_ALG: ALG_EDDSA, cose.HEADER_KID: key.kid, cose.HEADER_TYP: CHECKPOINT_TYP}
    payload = cbor.dumps({"iss": issuer, "seq": seq, "head": bytes.fromhex(head_hash), "iat": issued_at})
    return cose.sign1(payload, protected, key.sign)


def open_checkpoint(data: bytes, trust: TrustStore) -> Checkpoint:
    """Verify a checkpoint's signature with a trusted key (never a compromised one)."""
    if not isinstance(data, bytes) or len(data) > MAX_CHECKPOINT_BYTES:
        raise CredentialInvalid(f"an audit checkpoint is at most {MAX_CHECKPOINT_BYTES} bytes")
    try:
        message = cose.decode_sign1(data, DEFAULT_LIMITS)
    except VCError as exc:
        raise CredentialInvalid(f"not an audit checkpoint ({exc.code}: {exc.message})") from None
    if message.protected.get(cose.HEADER_TYP) != CHECKPOINT_TYP or message.alg != ALG_EDDSA:
        raise CredentialInvalid(f"not an audit checkpoint (typ must be {CHECKPOINT_TYP!r}, alg EdDSA)")
    kid = message.protected.get(cose.HEADER_KID)
    candidates = [k for k in trust.candidates(kid) if k.state != KeyState.COMPROMISED] if isinstance(kid, bytes) else []
    for entry in candidates:
        try:
            entry.key.verify(message.to_be_signed(), message.signature)
        except VCError:
            continue
        payload = cbor.loads_strict(message.payload, DEFAULT_LIMITS)
        if (
            not isinstance(payload, MAP_TYPES)
            or set(payload) != {"iss", "seq", "head", "iat"}
            or not isinstance(payload["iss"], str)
            or type(payload["seq"]) is not int
            or not isinstance(payload["head"], bytes)
            or len(payload["head"]) != 32
            or type(payload["iat"]) is not int
        ):
            raise CredentialInvalid("audit checkpoint payload must be {iss, seq, head (32 bytes), iat}")
        return Checkpoint(payload["iss"], payload["seq"], payload["head"].hex(), payload["iat"], kid)  # type: ignore[arg-type]
    raise CredentialInvalid("the audit checkpoint is not signed by a trusted key")


# ------------------------------------------------------------------------------ verification


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What :func:`verify` found. ``ok`` only when the chain, the head, every checkpoint and
    every credential and status entry agree."""

    entries: int
    broken_at: int | None
    problems: tuple[str, ...]
    checkpoints: tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return self.broken_at is None and not self.problems

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON object."""
        return {
            "ok": self.ok,
            "entries": self.entries,
            "broken_at": self.broken_at,
            "problems": list(self.problems),
            "checkpoints": list(self.checkpoints),
        }


def verify(conn: Connection, issuer: str, checkpoints: Iterable[Checkpoint] = ()) -> AuditReport:
    """Check the chain, the head, the checkpoints, and reconcile credentials and status bits."""
    log = list(rows(conn))
    problems: list[str] = []
    broken = first_broken(log)
    heads = conn.execute(select(t.audit_head)).mappings().all()
    if len(heads) != 1:
        problems.append(f"HEAD: {len(heads)} audit head rows (must be exactly one)")
        broken = broken or (len(log) + 1 if not log else int(log[-1]["seq"]))
    else:
        head = heads[0]
        last_hash = log[-1]["hash"] if log else GENESIS
        if int(head["seq"]) != len(log) or head["hash"] != last_hash:
            problems.append(f"HEAD: head says {head['seq']} entries, the log holds {len(log)}")
            if broken is None:
                broken = min(int(head["seq"]), len(log)) or 1
    verified: list[int] = []
    for checkpoint in checkpoints:
        if checkpoint.issuer != issuer:
            problems.append(f"CHECKPOINT: signed for {checkpoint.issuer!r}, not {issuer!r}")
        elif checkpoint.seq > len(log):
            problems.append(f"CHECKPOINT: entry {checkpoint.seq} was signed, the log holds {len(log)} (truncated)")
            broken = broken or len(log) + 1
        elif checkpoint.seq > 0 and log[checkpoint.seq - 1]["hash"] != checkpoint.head_hash:
            problems.append(f"CHECKPOINT: entry {checkpoint.seq} differs from the signed one (rewritten)")
            broken = min(broken or checkpoint.seq, checkpoint.seq)
        else:
            verified.append(checkpoint.seq)
    problems.extend(reconcile(conn, log))
    return AuditReport(len(log), broken, tuple(problems), tuple(verified))


def reconcile(conn: Connection, log: Iterable[Mapping[str, Any]]) -> list[str]:
    """Replay the credential entries and compare with ``credentials`` and ``status_entries``."""
    expected: dict[str, dict[str, Any]] = {}
    for row in log:
        data = json.loads(row["data"])
        if not isinstance(data, dict) or "bit" not in data or "state" not in data:
            continue
        cti = row["subject"]
        record = expected.setdefault(cti, {})
        record["state"], record["bit"] = data["state"], data["bit"]
        if "status" in data:
            record["status"] = tuple(data["status"])
            record["digest"] = data.get("record")
    problems: list[str] = []
    credentials = {r["cti"]: dict(r) for r in conn.execute(select(t.credentials)).mappings()}
    for cti, row in credentials.items():
        want = expected.get(cti)
        if want is None or "status" not in want:
            problems.append(f"CREDENTIAL: {cti} is not in the audit log")
            continue
        if record_digest(row) != want["digest"] or (row["status_uri"], int(row["status_idx"])) != want["status"]:
            problems.append(f"CREDENTIAL: {cti} was edited after issuance")
        if row["state"] != want["state"]:
            problems.append(f"CREDENTIAL: {cti} is {row['state']}, the audit log says {want['state']}")
    by_status = {want["status"]: (cti, want) for cti, want in expected.items() if "status" in want}
    for cti, want in expected.items():
        if "status" in want and cti not in credentials:
            problems.append(f"CREDENTIAL: {cti} is in the audit log but its row is missing")
    entries = conn.execute(select(t.status_entries.c.uri, t.status_entries.c.idx, t.status_entries.c.status))
    for uri, idx, value in entries:
        found = by_status.get((uri, int(idx)))
        if found is None:
            problems.append(f"STATUS: {uri} #{idx} was allocated outside the registry")
        elif int(value) != int(found[1]["bit"]):
            problems.append(f"STATUS: {uri} #{idx} holds {value}, the audit log says {found[1]['bit']} ({found[0]})")
    return problems
