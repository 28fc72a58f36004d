"""Hardening: no stored QR texts, revocation reasons, change applications, key-proof nonces.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("qr_text")
        batch.add_column(sa.Column("reason", sa.Text))
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("replaces", sa.String(32)))
    op.create_table(
        "nonces",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("issued_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("used_at", sa.BigInteger),
    )


def downgrade() -> None:
    op.drop_table("nonces")
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("replaces")
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("reason")
        batch.add_column(sa.Column("qr_text", sa.Text, nullable=False, server_default=""))
