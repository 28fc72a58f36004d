"""Accounts, roles, sessions and sign-in throttling (database side; no HTTP here).

* Passwords: Argon2id (argon2-cffi defaults); an unknown user name costs the same hash, so
  timing does not tell which names exist.
* Sessions: a random 32-byte token in an HttpOnly cookie; the database keeps only its SHA-256.
* Throttling: failures are counted per user name and per client address within a window; past
  the limit the name (or address) is locked out for a while, even for the right password.
* The audit actor of an account is ``account:<id>`` (never a name the client asserts); creating an
  account is itself an entry of the registry's audit chain (by the operator who made it, or by
  the new account when it registered itself).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..clock import Clock, system_clock
from ..errors import AccessDenied, AccountExists, AuthenticationRequired, LoginThrottled, UsageError
from ..registry import audit
from . import tables as t

ROLES = ("applicant", "reviewer", "operator")
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024
MAX_USERNAME_CHARS = 128
ADDRESS_FACTOR = 4
"""A client address may fail this many times more than one account before it is locked out."""


@dataclass(frozen=True, slots=True)
class Account:
    """A signed-in (or looked-up) account."""

    id: str
    username: str
    role: str

    @property
    def actor(self) -> str:
        """The identity written to the audit chain for this account's actions."""
        return f"account:{self.id}"

    @property
    def is_staff(self) -> bool:
        """Reviewer or operator."""
        return self.role in ("reviewer", "operator")


def token_digest(token: str) -> str:
    """The stored form of a bearer secret (session token, access token, offer code)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _normalise(username: str) -> str:
    name = username.strip().lower()
    if not name or len(name) > MAX_USERNAME_CHARS or any(ch.isspace() or not ch.isprintable() for ch in name):
        raise UsageError(f"user name must be 1 to {MAX_USERNAME_CHARS} printable characters without spaces")
    return name


def check_password_rules(password: str) -> None:
    """Refuse a password that is too short or absurdly long (the message never echoes it)."""
    if not isinstance(password, str) or not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise UsageError(f"a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")


class Accounts:
    """Accounts and sessions in the service tables."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock = system_clock,
        session_ttl: int = 8 * 3600,
        max_failures: int = 5,
        window: int = 900,
        lockout: int = 900,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._hasher = hasher or PasswordHasher()  # Argon2id, RFC 9106 parameters by default
        self._dummy_hash = self._hasher.hash("not a password of anyone")
        self._engine = engine
        self._clock = clock
        self._session_ttl = session_ttl
        self._max_failures = max_failures
        self._window = window
        self._lockout = lockout

    # ------------------------------------------------------------------ accounts

    def create(self, username: str, password: str, role: str, *, created_by: str) -> Account:
        """A new account; ``ACCOUNT_EXISTS`` if the name is taken."""
        if role not in ROLES:
            raise UsageError(f"role must be one of {', '.join(ROLES)}")
        name = _normalise(username)
        check_password_rules(password)
        account = Account(str(uuid.uuid4()), name, role)
        actor = account.actor if created_by == "self" else created_by
        with self._engine.begin() as conn:
            if conn.execute(select(t.accounts.c.id).where(t.accounts.c.username == name)).first() is not None:
                raise AccountExists("that user name is taken")
            conn.execute(
                insert(t.accounts).values(
                    id=account.id,
                    username=name,
                    password_hash=self._hasher.hash(password),
                    role=role,
                    created_at=self._clock(),
                    created_by=created_by,
                )
            )
            audit.append(conn, self._clock(), actor, "account_created", account.id, {"role": role})
        return account

    def get(self, account_id: str) -> Account | None:
        """The account with that id, if any."""
        with self._engine.connect() as conn:
            row = conn.execute(select(t.accounts).where(t.accounts.c.id == account_id)).mappings().first()
        return None if row is None else Account(row["id"], row["username"], row["role"])

    def list(self, role: str | None = None) -> list[Account]:
        """Accounts, optionally of one role, by user name."""
        query = select(t.accounts).order_by(t.accounts.c.username)
        if role:
            query = query.where(t.accounts.c.role == role)
        with self._engine.connect() as conn:
            return [Account(r["id"], r["username"], r["role"]) for r in conn.execute(query).mappings()]

    def has_operator(self) -> bool:
        """Whether any operator account exists."""
        with self._engine.connect() as conn:
            return conn.execute(select(t.accounts.c.id).where(t.accounts.c.role == "operator")).first() is not None

    # ------------------------------------------------------------------ sign-in

    def authenticate(self, username: str, password: str, *, client: str) -> Account:
        """Check a user name and password under throttling; ``LOGIN_THROTTLED`` while locked out,
        ``AUTHENTICATION_REQUIRED`` for a wrong name or password (the same answer for both)."""
        try:
            name = _normalise(username)
        except UsageError:
            name = ""
        keys = [(f"user:{name}", self._max_failures), (f"addr:{client}", self._max_failures * ADDRESS_FACTOR)]
        now = self._clock()
        with self._engine.connect() as conn:
            for key, _limit in keys:
                locked = conn.execute(
                    select(t.login_attempts.c.locked_until).where(t.login_attempts.c.key == key)
                ).scalar()
                if locked is not None and locked > now:
                    raise LoginThrottled(f"too many failed sign-ins: try again in {locked - now} seconds")
            row = conn.execute(select(t.accounts).where(t.accounts.c.username == name)).mappings().first()
        stored = row["password_hash"] if row is not None else self._dummy_hash
        try:
            ok = self._hasher.verify(stored, password if isinstance(password, str) else "") and row is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok or row is None:
            for key, limit in keys:
                self._fail(key, limit, now)
            raise AuthenticationRequired("wrong user name or password")
        with self._engine.begin() as conn:
            conn.execute(delete(t.login_attempts).where(t.login_attempts.c.key == keys[0][0]))
            if self._hasher.check_needs_rehash(stored):
                conn.execute(
                    update(t.accounts)
                    .where(t.accounts.c.id == row["id"])
                    .values(password_hash=self._hasher.hash(password))
                )
        return Account(row["id"], row["username"], row["role"])

    def _fail(self, key: str, limit: int, now: int) -> None:
        table = t.login_attempts
        with self._engine.begin() as conn:
            dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
            conn.execute(
                dialect.insert(table)
                .values(key=key, failures=0, window_start=now, locked_until=0)
                .on_conflict_do_nothing()
            )
            query = select(table).where(table.c.key == key)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            row = conn.execute(query).mappings().one()
            failures, start = int(row["failures"]), int(row["window_start"])
            if now - start > self._window:
                failures, start = 0, now
            failures += 1
            locked = now + self._lockout if failures >= limit else int(row["locked_until"])
            conn.execute(
                update(table)
                .where(table.c.key == key)
                .values(failures=failures, window_start=start, locked_until=locked)
            )

    # ------------------------------------------------------------------ sessions

    def open_session(self, account: Account) -> str:
        """A new session token for ``account`` (give it to the client once, as a cookie)."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._engine.begin() as conn:
            conn.execute(
                insert(t.sessions).values(
                    token_hash=token_digest(token),
                    account_id=account.id,
                    created_at=now,
                    expires_at=now + self._session_ttl,
                )
            )
        return token

    def session_account(self, token: str) -> Account | None:
        """The account of a live session token, None if unknown or expired."""
        if not token or len(token) > 128:
            return None
        query = (
            select(t.accounts.c.id, t.accounts.c.username, t.accounts.c.role, t.sessions.c.expires_at)
            .join(t.sessions, t.sessions.c.account_id == t.accounts.c.id)
            .where(t.sessions.c.token_hash == token_digest(token))
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None or row["expires_at"] <= self._clock():
            return None
        return Account(row["id"], row["username"], row["role"])

    def close_session(self, token: str) -> None:
        """End a session (sign out)."""
        with self._engine.begin() as conn:
            conn.execute(delete(t.sessions).where(t.sessions.c.token_hash == token_digest(token)))


def require_role(account: Account | None, *roles: str) -> Account:
    """``account`` if it has one of ``roles``; else ``AUTHENTICATION_REQUIRED`` / ``ACCESS_DENIED``."""
    if account is None:
        raise AuthenticationRequired("sign in first")
    if roles and account.role not in roles:
        raise AccessDenied(f"this needs the {' or '.join(roles)} role")
    return account
