"""The issuer database (SQLAlchemy Core): applications, documents, credentials, status lists,
key-proof nonces and the hash-chained audit log. Migrations (Alembic) live in ``migrations/``.

Full QR texts are never stored: a credential is re-derived by re-issuing it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

meta = Table(
    "registry_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

applications = Table(
    "applications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("state", String(32), nullable=False),
    Column("applicant", String(128), nullable=False),  # the account that applied
    Column("person", String(64), nullable=False),  # agency_code:employee_id, one active credential each
    Column("claims", Text, nullable=False),  # official-ID JSON form without photo_digest
    Column("contact", String(256), nullable=False),
    Column("device_jwk", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("submitted_at", BigInteger),
    Column("reviewer", String(128)),
    Column("reason", Text),
    Column("decided_at", BigInteger),
    Column("replaces", String(32)),  # a change application: the cti of the credential it replaces
)

documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("application_id", String(36), ForeignKey("applications.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("meta", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("added_at", BigInteger, nullable=False),
)

credentials = Table(
    "credentials",
    metadata,
    Column("cti", String(32), primary_key=True),
    Column("application_id", String(36), ForeignKey("applications.id"), nullable=False, index=True),
    Column("person", String(64), nullable=False, index=True),
    Column("state", String(32), nullable=False),
    Column("status_uri", String(256), nullable=False),
    Column("status_idx", BigInteger, nullable=False),
    Column("kid", String(16), nullable=False),
    Column("issued_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("claims", Text, nullable=False),
    Column("device_jwk", Text),
    Column("reason", Text),
    UniqueConstraint("status_uri", "status_idx", name="credential_status_unique"),
)

status_lists = Table(
    "status_lists",
    metadata,
    Column("uri", String(256), primary_key=True),
    Column("seq", Integer, nullable=False, unique=True),
    Column("bits", Integer, nullable=False),
    Column("size", Integer, nullable=False),
    Column("allocated", Integer, nullable=False, default=0),
    Column("created_at", BigInteger, nullable=False),
)

status_entries = Table(
    "status_entries",
    metadata,
    Column("uri", String(256), ForeignKey("status_lists.uri"), primary_key=True),
    Column("idx", BigInteger, primary_key=True),
    Column("status", Integer, nullable=False, default=0),
    Column("allocated_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("data", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

nonces = Table(
    "nonces",
    metadata,
    Column("nonce", String(64), primary_key=True),
    Column("issued_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger),
)
