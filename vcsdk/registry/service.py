"""The issuer registry: application -> review -> issuance -> lifecycle, in one database.

:class:`IssuerRegistry` is assembled from one module per concern: :mod:`.base` (opening,
transactions, actor roles), :mod:`.applications` (the application workflow), :mod:`.lifecycle`
(issuance and status changes), :mod:`.views` (reading, audit, publication), with the audit
chain in :mod:`.audit` and status allocation in :mod:`.status`.

Every public method that changes something is one database transaction: the state change, the
status-list entry and the audit entry commit together or not at all. Audit appenders are
serialised through the single ``audit_head`` row (``SELECT ... FOR UPDATE`` on PostgreSQL, the
immediate write lock on SQLite), so concurrent processes extend one unbroken chain.
"""

from __future__ import annotations

from .audit import AuditReport, Checkpoint
from .base import ACTIVE_STATES, IssuedRecord, SignerSource
from .views import CredentialRecord, ViewsMixin

__all__ = [
    "ACTIVE_STATES",
    "AuditReport",
    "Checkpoint",
    "CredentialRecord",
    "IssuedRecord",
    "IssuerRegistry",
    "SignerSource",
]


class IssuerRegistry(ViewsMixin):
    """An agency's ID office: applications, reviews, credentials and their status, audited.

    ``IssuerRegistry.create(target, StatusConfig(...), issuer_id=..., signer=..., reviewers=...,
    operators=...)`` makes a database; ``IssuerRegistry.open(target, signer=...)`` opens one.
    """
