"""The first schema of the issuer database.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_meta", sa.Column("key", sa.String(64), primary_key=True), sa.Column("value", sa.Text, nullable=False)
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("applicant", sa.String(128), nullable=False),
        sa.Column("person", sa.String(64), nullable=False),
        sa.Column("claims", sa.Text, nullable=False),
        sa.Column("contact", sa.String(256), nullable=False),
        sa.Column("device_jwk", sa.Text),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("submitted_at", sa.BigInteger),
        sa.Column("reviewer", sa.String(128)),
        sa.Column("reason", sa.Text),
        sa.Column("decided_at", sa.BigInteger),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("application_id", sa.String(36), sa.ForeignKey("applications.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("meta", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("added_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "credentials",
        sa.Column("cti", sa.String(32), primary_key=True),
        sa.Column("application_id", sa.String(36), sa.ForeignKey("applications.id"), nullable=False, index=True),
        sa.Column("person", sa.String(64), nullable=False, index=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("status_uri", sa.String(256), nullable=False),
        sa.Column("status_idx", sa.BigInteger, nullable=False),
        sa.Column("kid", sa.String(16), nullable=False),
        sa.Column("issued_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("qr_text", sa.Text, nullable=False),
        sa.Column("claims", sa.Text, nullable=False),
        sa.Column("device_jwk", sa.Text),
        sa.UniqueConstraint("status_uri", "status_idx", name="credential_status_unique"),
    )
    op.create_table(
        "status_lists",
        sa.Column("uri", sa.String(256), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False, unique=True),
        sa.Column("bits", sa.Integer, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("allocated", sa.Integer, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "status_entries",
        sa.Column("uri", sa.String(256), sa.ForeignKey("status_lists.uri"), primary_key=True),
        sa.Column("idx", sa.BigInteger, primary_key=True),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("allocated_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "audit_log",
        "audit_head",
        "status_entries",
        "status_lists",
        "credentials",
        "documents",
        "applications",
        "registry_meta",
    ):
        op.drop_table(table)
