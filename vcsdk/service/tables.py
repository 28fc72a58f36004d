"""The service's own tables (accounts, sessions, sign-in throttling, wallet issuance state), kept
apart from the registry's schema in the same database and created on start-up if absent.

Session and access tokens are stored as SHA-256 digests, passwords as Argon2id hashes, transaction
codes as HMAC-SHA256 under the session secret. A pre-authorized code is kept only while its offer
is open (the by-reference offer URL must return it) and erased when redeemed or burned.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Engine, Integer, MetaData, String, Table

metadata = MetaData()

accounts = Table(
    "svc_accounts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("username", String(128), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(64), nullable=False),
)

sessions = Table(
    "svc_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", String(36), nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

login_attempts = Table(
    "svc_login_attempts",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", BigInteger, nullable=False),
    Column("locked_until", BigInteger, nullable=False),
)

offers = Table(
    "svc_offers",
    metadata,
    Column("id", String(64), primary_key=True),  # public: the by-reference URL's last segment
    Column("code", String(64), unique=True),  # the pre-authorized code while open; NULL once used
    Column("tx_code_hash", String(256), nullable=False),
    Column("account_id", String(36), nullable=False),
    Column("application_id", String(36), nullable=False),
    Column("kind", String(16), nullable=False),  # issue | reissue
    Column("cti", String(32)),  # the credential a reissue replaces
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("state", String(16), nullable=False),  # open | redeemed | burned
)

access_tokens = Table(
    "svc_access_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("offer_id", String(64), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used", Integer, nullable=False, default=0),
)

nonces = Table(
    "svc_nonces",
    metadata,
    Column("nonce", String(64), primary_key=True),
    Column("expires_at", BigInteger, nullable=False, index=True),
    Column("used", Integer, nullable=False, default=0),
)

suspensions = Table(
    "svc_suspensions",
    metadata,
    Column("cti", String(32), primary_key=True),
    Column("by_role", String(16), nullable=False),  # holder (phone lost) | operator
    Column("at", BigInteger, nullable=False),
)


def create_tables(engine: Engine) -> None:
    """Create the service tables that do not exist yet (idempotent)."""
    metadata.create_all(engine, checkfirst=True)
