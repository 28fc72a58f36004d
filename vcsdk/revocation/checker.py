"""The gate's status checker: verified Status List Tokens cached in memory, checked by bit
arithmetic on the verify path (no I/O, no allocation beyond a dict lookup)."""

from __future__ import annotations

from dataclasses import dataclass

from ..codec.cwt import StatusReference
from ..errors import StatusUnknown, UsageError
from ..limits import DEFAULT_LIMITS, Limits
from ..trust.store import TrustedKey, TrustStore, issuer_owner
from ..verify.status import StatusCheck
from .token import DRAFT_20, ClaimKeys, StatusListToken, verify_token

DEFAULT_MAX_AGE_SECONDS = 3 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Freshness:
    """When a cached status list stops being usable (then: ``STATUS_UNKNOWN``, fail-closed).

    A list is usable from its ``iat`` (minus ``leeway``) until the earliest of: its ``exp``,
    ``iat + max_age`` and, with ``honour_ttl``, ``iat + ttl + ttl_grace``. Offline gates that
    refresh daily keep ``honour_ttl`` off and bound staleness with ``max_age``.
    """

    max_age: int | None = DEFAULT_MAX_AGE_SECONDS
    honour_ttl: bool = False
    ttl_grace: int = 0
    leeway: int = 60

    def usable_until(self, token: StatusListToken) -> float:
        """The first second at which the list is stale."""
        limits: list[float] = [float("inf")]
        if token.expires_at is not None:
            limits.append(token.expires_at + self.leeway)
        if self.max_age is not None:
            limits.append(token.issued_at + self.max_age)
        if self.honour_ttl and token.ttl is not None:
            limits.append(token.issued_at + token.ttl + self.ttl_grace)
        return min(limits)


class _Entry:
    __slots__ = ("bits", "data", "mask", "not_before", "results", "size", "token", "usable_until")

    def __init__(self, token: StatusListToken, freshness: Freshness) -> None:
        self.token = token
        self.bits = token.status_list.bits
        self.data = token.status_list.data
        self.mask = (1 << self.bits) - 1
        self.size = token.status_list.size
        self.not_before = token.issued_at - freshness.leeway
        self.usable_until = freshness.usable_until(token)
        # One shared result object per possible value: a check allocates nothing.
        self.results = tuple(StatusCheck(value, token.uri, token.issued_at) for value in range(self.mask + 1))


class StatusListChecker:
    """Holds verified Status List Tokens per (issuer, URI) and answers :class:`StatusChecker` lookups.

    ``trust`` holds the keys allowed to sign status lists (usually the issuers' keys). A token
    counts only for credentials of the issuer its signing key belongs to: a list signed by agency
    B's key never answers for agency A's credentials, whatever its URI (then ``STATUS_UNKNOWN``).
    A key that no trust source binds to an issuer answers only for credentials it signed itself.
    """

    def __init__(
        self,
        trust: TrustStore,
        *,
        freshness: Freshness = Freshness(),
        limits: Limits = DEFAULT_LIMITS,
        claim_keys: ClaimKeys = DRAFT_20,
    ) -> None:
        self._trust = trust
        self._freshness = freshness
        self._limits = limits
        self._claim_keys = claim_keys
        # owner (TrustedKey.status_owner: "iss:<issuer>" or "key:<identity>") -> uri -> entry;
        # two lookups of strings whose hashes are cached: no tuple built on the verify path
        self._entries: dict[str, dict[str, _Entry]] = {}

    def load(self, data: bytes, now: int) -> StatusListToken:
        """Verify a token and cache its list (replacing an older one of the same issuer and URI).

        Raises the token's failure code (see :func:`verify_token`): the signing key must be
        trusted, not compromised and inside its window at the token's ``iat``. A token older than
        the one already held is refused (:class:`UsageError`), so a list never rolls back.
        """
        token = verify_token(
            data, self._trust, now=now, leeway=self._freshness.leeway, limits=self._limits, claim_keys=self._claim_keys
        )
        assert token.signer is not None  # verify_token always names its signer
        lists = self._entries.setdefault(token.signer.status_owner, {})
        current = lists.get(token.uri)
        if current is not None and token.issued_at < current.token.issued_at:
            raise UsageError(
                f"status list {token.uri}: token issued at {token.issued_at} is older than the one held "
                f"({current.token.issued_at})"
            )
        lists[token.uri] = _Entry(token, self._freshness)
        return token

    def tokens(self) -> list[StatusListToken]:
        """The tokens held, one per (issuer, URI)."""
        return [entry.token for lists in self._entries.values() for entry in lists.values()]

    def check(self, reference: StatusReference, now: int, *, issuer: str, signer: TrustedKey) -> StatusCheck:
        """The status at ``reference`` from a list of the credential's own issuer (``issuer``,
        signed by ``signer``); :class:`StatusUnknown` when no usable list of that issuer covers it."""
        lists = self._entries.get(signer.status_owner)
        entry = None if lists is None else lists.get(reference.uri)
        if signer.issuer is None:
            if entry is None:  # a list of the credential's iss, signed by an issuer-bound key
                lists = self._entries.get(issuer_owner(issuer))
                entry = None if lists is None else lists.get(reference.uri)
        elif signer.issuer != issuer:
            entry = None  # the signer belongs to another issuer: none of its lists answer here
        if entry is None:
            raise StatusUnknown(f"no status list of issuer {issuer!r} is loaded for {reference.uri}")
        if not entry.not_before <= now < entry.usable_until:
            raise StatusUnknown(
                f"the status list for {reference.uri} is stale or not yet valid (iat {entry.token.issued_at})"
            )
        idx = reference.idx
        if idx >= entry.size:
            raise StatusUnknown(f"index {idx} is outside the status list of {entry.size} entries")
        position = idx * entry.bits
        return entry.results[(entry.data[position >> 3] >> (position & 7)) & entry.mask]
