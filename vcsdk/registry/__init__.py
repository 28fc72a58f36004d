"""The issuer registry: applications, documents, review, issuance and the credential lifecycle,
in a SQL database (SQLite file by default, PostgreSQL by URL) with a hash-chained, checkpointed
audit log; and the issuer side of status lists (:mod:`vcsdk.registry.status`)."""

from .db import migrate, open_engine
from .service import AuditReport, CredentialRecord, IssuedRecord, IssuerRegistry
from .status import StatusAllocator, StatusConfig, StatusStore
from .stores import MemoryStatusStore, SQLStatusStore

__all__ = [
    "AuditReport",
    "CredentialRecord",
    "IssuedRecord",
    "IssuerRegistry",
    "MemoryStatusStore",
    "SQLStatusStore",
    "StatusAllocator",
    "StatusConfig",
    "StatusStore",
    "migrate",
    "open_engine",
]
