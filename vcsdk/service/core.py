"""The service object: the registry, accounts, document storage, publication and wallet issuance
of one issuer, built from :class:`~vcsdk.service.settings.Settings`. No HTTP here."""

from __future__ import annotations

from argon2 import PasswordHasher
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from ..clock import Clock, system_clock
from ..registry import IssuerRegistry, open_engine
from ..revocation import RegistryConfig
from .accounts import Accounts
from .agencies import Agencies
from .issuance import WalletIssuance
from .publication import Publisher
from .settings import Settings
from .signing import ServiceKeys
from .storage import DocumentStorage, FileStorage
from .tables import create_tables


def prepare_database(settings: Settings) -> None:
    """Create or migrate the registry schema and the service tables (idempotent).

    Run once before starting several workers, so they never race on a migration."""
    IssuerRegistry.create(settings.database, RegistryConfig(settings.status_uri_template), issuer_id=settings.issuer_id)
    engine = open_engine(settings.database)
    try:
        create_tables(engine)
    finally:
        engine.dispose()


class Service:
    """Everything the HTTP layer calls; one per app."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = system_clock,
        storage: DocumentStorage | None = None,
        prepare: bool = True,
    ) -> None:
        if prepare:
            prepare_database(settings)
        self.settings = settings
        self.clock = clock
        self.engine: Engine = open_engine(settings.database)
        self.keys = ServiceKeys(settings, self.engine, clock)
        self.agencies = Agencies(settings.data_dir, settings.fees, self.engine, clock)
        self.registry = IssuerRegistry(
            self.engine,
            issuer_id=settings.issuer_id,
            signer=self.keys.signing_key,
            clock=clock,
            fees=self.agencies.fees,
        )
        self.accounts = Accounts(
            self.engine,
            clock=clock,
            session_ttl=settings.session_ttl,
            max_failures=settings.login_max_failures,
            window=settings.login_window,
            lockout=settings.login_lockout,
            hasher=PasswordHasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib),
        )
        self.storage: DocumentStorage = storage or FileStorage(settings.documents_dir)
        self.publisher = Publisher(settings, self.registry, clock, self.keys)
        self.wallet = WalletIssuance(self)

    def ready(self) -> bool:
        """Whether the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()
