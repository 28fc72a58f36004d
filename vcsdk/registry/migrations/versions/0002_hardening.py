"""Hardening: no stored QR texts, revocation reasons, change applications, key-proof nonces.

Credentials issued before this revision have audit entries without the state, status bit and
row digest that ``audit verify`` reconciles against; one ``adopt`` entry per credential records
them (actor ``migration``), so an upgraded registry verifies from then on.

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
    _adopt(op.get_bind())


def _adopt(conn: sa.Connection) -> None:
    from vcsdk.registry import audit
    from vcsdk.registry import tables as t

    if conn.execute(sa.select(t.audit_head.c.id)).first() is None:
        return  # a status-only database: no audit log
    entries = t.status_entries.c
    for row in conn.execute(sa.select(t.credentials).order_by(t.credentials.c.issued_at)).mappings().all():
        bit = conn.execute(
            sa.select(entries.status).where(entries.uri == row["status_uri"], entries.idx == row["status_idx"])
        ).scalar()
        data = {
            "state": row["state"],
            "bit": int(bit or 0),
            "status": [row["status_uri"], int(row["status_idx"])],
            "record": audit.record_digest(row),
        }
        at = conn.execute(sa.select(sa.func.max(t.audit_log.c.at))).scalar() or 0
        audit.append(conn, int(at), "migration", "adopt", row["cti"], data)


def downgrade() -> None:
    op.drop_table("nonces")
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("replaces")
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("reason")
        batch.add_column(sa.Column("qr_text", sa.Text, nullable=False, server_default=""))
