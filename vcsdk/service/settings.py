"""Service settings: one frozen object, read from a TOML file and ``VCSDK_*`` environment variables.

Environment variables win over the file. Keys are loaded here, once, so the app itself never
reads a key file. See ``docs/service.md`` for every setting.
"""

from __future__ import annotations

import json
import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..keys import Ed25519PrivateKey
from ..keys.files import atomic_write, load_private_key, read_bytes, save_private_key

DEFAULT_MAX_UPLOAD_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the issuer service needs; build with :func:`load_settings` or directly in tests."""

    database: str
    """SQLAlchemy URL or SQLite path of the registry database."""
    base_url: str
    """The public base URL, no trailing slash: the OpenID4VCI credential issuer identifier."""
    issuer_id: str
    """The ``iss`` of issued credentials (e.g. ``KR-MOIS``)."""
    issuer_key: Ed25519PrivateKey = field(repr=False)
    """Signs credentials and Status List Tokens."""
    anchor_key: Ed25519PrivateKey = field(repr=False)
    """Trust anchor: signs the trust list and gate bundles (kept apart from the issuer key)."""
    session_secret: bytes = field(repr=False)
    """Secret for CSRF tokens (HMAC); at least 32 bytes."""
    data_dir: Path
    """Documents (``documents/``) and published files (``public/``) live here."""
    status_uri_template: str = ""
    """Status list URI with ``{n}``; default ``<base_url>/status/{n}``."""
    status_ttl: int = 600
    """The ``ttl`` of Status List Tokens (seconds) and the max-age served with them."""
    status_validity: int = 86400
    """Status List Tokens, trust list and bundle expire this long after they are signed."""
    republish_interval: int = 60
    """How often the scheduler checks whether the published files need re-signing (seconds)."""
    secure_cookies: bool = False
    """Mark cookies ``Secure`` (set this when the service is behind TLS)."""
    offer_ttl: int = 900
    nonce_ttl: int = 300
    token_ttl: int = 300
    tx_code_attempts: int = 3
    session_ttl: int = 8 * 3600
    login_max_failures: int = 5
    """Failed sign-ins per account (or 4x this per client address) within ``login_window``."""
    login_window: int = 900
    login_lockout: int = 900
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    fees: Mapping[int, int] = field(default_factory=dict)
    """Fee in KRW per agency code (default 10,000)."""
    review_overdue_days: int = 5
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    """Argon2id cost of password hashes (defaults: argon2-cffi's, RFC 9106's second recommendation)."""
    development: bool = False
    """A local trial instance with generated keys (never for production)."""
    keyring_dir: Path | None = None
    """The issuer keyring (rotation from the operator's page); default ``<data_dir>/keyring``.
    Shared by every worker: on several machines, a shared folder."""
    key_passphrase: bytes | None = field(default=None, repr=False)
    """Encrypts keys the keyring makes on rotation (the passphrase of the configured keys)."""

    def __post_init__(self) -> None:
        if not self.base_url or self.base_url.endswith("/"):
            raise UsageError("base_url must be set and have no trailing slash")
        if len(self.session_secret) < 32:
            raise UsageError("session_secret must be at least 32 bytes")
        if self.issuer_key.kid == self.anchor_key.kid:
            raise UsageError("the trust anchor key must differ from the issuer key")
        if not self.status_uri_template:
            object.__setattr__(self, "status_uri_template", self.base_url + "/status/{n}")
        object.__setattr__(self, "data_dir", Path(self.data_dir))

    @property
    def documents_dir(self) -> Path:
        return self.data_dir / "documents"

    @property
    def public_dir(self) -> Path:
        return self.data_dir / "public"


ENV_PREFIX = "VCSDK_"
_INT_FIELDS = (
    "status_ttl",
    "status_validity",
    "republish_interval",
    "offer_ttl",
    "nonce_ttl",
    "token_ttl",
    "tx_code_attempts",
    "session_ttl",
    "login_max_failures",
    "login_window",
    "login_lockout",
    "max_upload_bytes",
    "review_overdue_days",
    "argon2_time_cost",
    "argon2_memory_kib",
)


def _key(path: str | None, passphrase: bytes | None, what: str) -> Ed25519PrivateKey:
    if not path:
        raise UsageError(f"no {what} key: set keys.{what} in the config or {ENV_PREFIX}{what.upper()}_KEY")
    return load_private_key(path, passphrase)


def load_settings(
    config: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the TOML ``config`` (optional), then ``VCSDK_*`` variables, then ``overrides``."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    if config is not None:
        try:
            raw = tomllib.loads(read_bytes(config).decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(f"config {config}: {exc}") from None
    service = dict(raw.get("service", {}))
    keys = dict(raw.get("keys", {}))
    for name in ("database", "base_url", "issuer_id", "data_dir", "status_uri_template", "session_secret"):
        if env.get(ENV_PREFIX + name.upper()):
            service[name] = env[ENV_PREFIX + name.upper()]
    for name in _INT_FIELDS:
        if env.get(ENV_PREFIX + name.upper()):
            service[name] = int(env[ENV_PREFIX + name.upper()])
    if env.get(ENV_PREFIX + "SECURE_COOKIES"):
        service["secure_cookies"] = env[ENV_PREFIX + "SECURE_COOKIES"].lower() in ("1", "true", "yes")
    for name in ("issuer_key", "anchor_key"):
        if env.get(ENV_PREFIX + name.upper()):
            keys[name] = env[ENV_PREFIX + name.upper()]
    service.update(overrides or {})
    passphrase_env = keys.get("passphrase_env", ENV_PREFIX + "KEY_PASSPHRASE")
    passphrase = env.get(passphrase_env)
    secret_bytes = passphrase.encode("utf-8") if passphrase else None
    secret = service.pop("session_secret", None)
    if not secret:
        raise UsageError(f"no session secret: set service.session_secret or {ENV_PREFIX}SESSION_SECRET")
    fees = {int(k): int(v) for k, v in dict(raw.get("fees", {})).items()}
    uploads = dict(raw.get("uploads", {}))
    if "max_bytes" in uploads and "max_upload_bytes" not in service:
        service["max_upload_bytes"] = int(uploads["max_bytes"])
    known = set(Settings.__dataclass_fields__) - {
        "issuer_key",
        "anchor_key",
        "session_secret",
        "fees",
        "key_passphrase",
    }
    unknown = set(service) - known
    if unknown:
        raise UsageError(f"unknown service setting(s): {', '.join(sorted(unknown))}")
    for name in ("database", "base_url", "issuer_id", "data_dir"):
        if not service.get(name):
            raise UsageError(f"service.{name} is required (or {ENV_PREFIX}{name.upper()})")
    return Settings(
        issuer_key=_key(keys.get("issuer_key"), secret_bytes, "issuer"),
        anchor_key=_key(keys.get("anchor_key"), secret_bytes, "anchor"),
        session_secret=str(secret).encode("utf-8"),
        fees=fees,
        key_passphrase=secret_bytes,
        **service,
    )


TRIAL_ISSUER_ID = "KR-TRIAL"


def trial_config(database: str, data_dir: str | os.PathLike[str], *, base_url: str) -> Path:
    """Write (once) a trial instance's config and development keys under ``data_dir/trial``;
    returns the config path. NOT for production: the keys are unencrypted files made here."""
    folder = Path(data_dir) / "trial"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("issuer", "anchor"):
        path = folder / f"{name}-key.pem"
        if not path.exists():
            save_private_key(path, Ed25519PrivateKey.generate(), None)
    secret_path = folder / "session-secret"
    if not secret_path.exists():
        atomic_write(secret_path, secrets.token_hex(32).encode("ascii"), mode=0o600)
    secret = secret_path.read_text(encoding="ascii").strip()
    config = folder / "service.toml"
    template = base_url + "/status/{n}"
    if config.exists():  # the lists' URIs are fixed when the database is made: keep them
        template = tomllib.loads(config.read_text(encoding="utf-8"))["service"].get("status_uri_template", template)
    text = (
        "# TRIAL INSTANCE -- development keys, NOT FOR PRODUCTION\n"
        "[service]\n"
        f"database = {json.dumps(database)}\n"
        f"base_url = {json.dumps(base_url)}\n"
        f"issuer_id = {json.dumps(TRIAL_ISSUER_ID)}\n"
        f"data_dir = {json.dumps(str(Path(data_dir).resolve()))}\n"
        f"session_secret = {json.dumps(secret)}\n"
        f"status_uri_template = {json.dumps(template)}\n"
        "development = true\n"
        "[keys]\n"
        f"issuer_key = {json.dumps(str((folder / 'issuer-key.pem').resolve()))}\n"
        f"anchor_key = {json.dumps(str((folder / 'anchor-key.pem').resolve()))}\n"
    )
    atomic_write(config, text.encode("utf-8"), mode=0o600)
    return config
