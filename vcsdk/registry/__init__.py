"""The issuer registry: applications, documents, review, issuance and the credential lifecycle,
in a SQL database (SQLite file by default, PostgreSQL by URL) with a hash-chained audit log."""

from .db import migrate, open_engine
from .service import IssuedRecord, IssuerRegistry

__all__ = ["IssuedRecord", "IssuerRegistry", "migrate", "open_engine"]
