"""One error hierarchy with stable, machine-readable codes.

Every failure the SDK reports is a :class:`VCError` carrying a :class:`Code`. Codes are API:
they are never renamed, only added (``schemas/error-codes.json`` publishes them).

Two families, as in h11:

* :class:`CredentialInvalid` -- the input (a QR text, a token, a trust list) is not valid.
  Verifiers map these to "reject".
* :class:`UsageError` -- the caller or its configuration is wrong (bad claims at issuance,
  an unreadable key file, a malformed trust source). Also a :class:`ValueError`.

Each code has exactly one exception class, so callers may catch by class or compare ``.code``.
The module is long on purpose: one class per stable code, and the catalogue is one file so it
is read and reviewed whole.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class Code(StrEnum):
    """Stable result codes (DESIGN section 4 plus issuer-side usage codes)."""

    VALID = "VALID"
    # verification pipeline, in order
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    INVALID_SCHEME_PREFIX = "INVALID_SCHEME_PREFIX"
    BASE45_DECODING_FAILED = "BASE45_DECODING_FAILED"
    DECOMPRESSION_FAILED = "DECOMPRESSION_FAILED"
    CBOR_MALFORMED = "CBOR_MALFORMED"
    COSE_MALFORMED = "COSE_MALFORMED"
    UNSUPPORTED_ALGORITHM = "UNSUPPORTED_ALGORITHM"
    KEY_NOT_IN_TRUST_LIST = "KEY_NOT_IN_TRUST_LIST"
    PUBLIC_KEY_EXPIRED = "PUBLIC_KEY_EXPIRED"
    PUBLIC_KEY_NOT_YET_VALID = "PUBLIC_KEY_NOT_YET_VALID"
    PUBLIC_KEY_COMPROMISED = "PUBLIC_KEY_COMPROMISED"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    CLAIMS_INVALID = "CLAIMS_INVALID"
    CWT_NOT_YET_VALID = "CWT_NOT_YET_VALID"
    CWT_EXPIRED = "CWT_EXPIRED"
    TRUST_LIST_SIGNATURE_INVALID = "TRUST_LIST_SIGNATURE_INVALID"
    TRUST_LIST_EXPIRED = "TRUST_LIST_EXPIRED"
    TRUST_LIST_ROLLBACK = "TRUST_LIST_ROLLBACK"
    STATUS_REVOKED = "STATUS_REVOKED"
    STATUS_SUSPENDED = "STATUS_SUSPENDED"
    STATUS_NEEDS_RENEWAL = "STATUS_NEEDS_RENEWAL"
    STATUS_UNKNOWN = "STATUS_UNKNOWN"
    IMAGE_INVALID = "IMAGE_INVALID"
    QR_NOT_FOUND = "QR_NOT_FOUND"
    STATUS_CLAIM_MISSING = "STATUS_CLAIM_MISSING"
    # holder binding: presentations (after the inner credential passed every step above)
    PRESENTATION_REQUIRED = "PRESENTATION_REQUIRED"
    HOLDER_KEY_MISSING = "HOLDER_KEY_MISSING"
    DEVICE_SIGNATURE_INVALID = "DEVICE_SIGNATURE_INVALID"
    PRESENTATION_EXPIRED = "PRESENTATION_EXPIRED"
    PRESENTATION_NOT_YET_VALID = "PRESENTATION_NOT_YET_VALID"
    CHALLENGE_MISMATCH = "CHALLENGE_MISMATCH"
    PRESENTATION_REPLAYED = "PRESENTATION_REPLAYED"
    KEY_PROOF_INVALID = "KEY_PROOF_INVALID"
    GATE_STALE = "GATE_STALE"
    # caller / configuration errors
    USAGE_ERROR = "USAGE_ERROR"
    KEY_INVALID = "KEY_INVALID"
    KEY_PASSPHRASE_REQUIRED = "KEY_PASSPHRASE_REQUIRED"  # noqa: S105 (a code, not a secret)
    KEY_DECRYPTION_FAILED = "KEY_DECRYPTION_FAILED"
    TRUST_SOURCE_INVALID = "TRUST_SOURCE_INVALID"
    QR_SIZE_BUDGET_EXCEEDED = "QR_SIZE_BUDGET_EXCEEDED"
    FILE_ERROR = "FILE_ERROR"
    STATUS_TRANSITION_REFUSED = "STATUS_TRANSITION_REFUSED"
    STATUS_ENTRY_NOT_FOUND = "STATUS_ENTRY_NOT_FOUND"
    REGISTRY_TRANSITION_REFUSED = "REGISTRY_TRANSITION_REFUSED"
    APPLICATION_INCOMPLETE = "APPLICATION_INCOMPLETE"
    REVIEWER_CONFLICT = "REVIEWER_CONFLICT"
    RECORD_NOT_FOUND = "RECORD_NOT_FOUND"
    ACTIVE_CREDENTIAL_EXISTS = "ACTIVE_CREDENTIAL_EXISTS"
    ACTOR_NOT_AUTHORIZED = "ACTOR_NOT_AUTHORIZED"
    # issuer service (HTTP API)
    AUTHENTICATION_REQUIRED = "AUTHENTICATION_REQUIRED"
    ACCESS_DENIED = "ACCESS_DENIED"
    CSRF_TOKEN_INVALID = "CSRF_TOKEN_INVALID"  # noqa: S105 (a code, not a secret)
    LOGIN_THROTTLED = "LOGIN_THROTTLED"
    ACCOUNT_EXISTS = "ACCOUNT_EXISTS"
    UPLOAD_REFUSED = "UPLOAD_REFUSED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    # the reference wallet (holder side)
    WALLET_LOCKED = "WALLET_LOCKED"
    WALLET_PIN_INVALID = "WALLET_PIN_INVALID"
    WALLET_KEY_DESTROYED = "WALLET_KEY_DESTROYED"
    WALLET_INVALID = "WALLET_INVALID"
    ISSUANCE_REQUEST_FAILED = "ISSUANCE_REQUEST_FAILED"
    KEYRING_CHANGED = "KEYRING_CHANGED"


class VCError(Exception):
    """Root of every error the SDK raises on purpose.

    ``code`` is the stable machine-readable code; ``message`` is for humans and may change.
    ``details`` holds structured extras (e.g. the list of claim violations).
    """

    code: ClassVar[Code] = Code.USAGE_ERROR

    def __init__(self, message: str, *, details: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


# --------------------------------------------------------------------------- credential


class CredentialInvalid(VCError):
    """The presented data (credential, token, list) is not valid: reject it."""


class LimitExceeded(CredentialInvalid):
    """An input size, inflated size, depth or count limit was exceeded."""

    code = Code.LIMIT_EXCEEDED


class InvalidSchemePrefix(CredentialInvalid):
    """The QR text does not start with the profile's context prefix (e.g. ``GID1:``)."""

    code = Code.INVALID_SCHEME_PREFIX


class Base45DecodingFailed(CredentialInvalid):
    """The text after the prefix is not valid Base45 (RFC 9285 section 6)."""

    code = Code.BASE45_DECODING_FAILED


class DecompressionFailed(CredentialInvalid):
    """The data is not one complete zlib stream with nothing after it."""

    code = Code.DECOMPRESSION_FAILED


class CBORMalformed(CredentialInvalid):
    """The bytes are not strict, well-formed CBOR for this profile."""

    code = Code.CBOR_MALFORMED


class COSEMalformed(CredentialInvalid):
    """The CBOR is not a COSE_Sign1 message this profile accepts."""

    code = Code.COSE_MALFORMED


class UnsupportedAlgorithm(CredentialInvalid):
    """``alg`` is missing from the protected header, unknown, or not the key's algorithm."""

    code = Code.UNSUPPORTED_ALGORITHM


class KeyNotInTrustList(CredentialInvalid):
    """No trusted key has the message's kid."""

    code = Code.KEY_NOT_IN_TRUST_LIST


class PublicKeyExpired(CredentialInvalid):
    """The signing key's validity window ended before the credential's iat."""

    code = Code.PUBLIC_KEY_EXPIRED


class PublicKeyNotYetValid(CredentialInvalid):
    """The signing key's validity window starts after the credential's iat."""

    code = Code.PUBLIC_KEY_NOT_YET_VALID


class PublicKeyCompromised(CredentialInvalid):
    """The signing key is marked compromised: nothing it signed is trusted."""

    code = Code.PUBLIC_KEY_COMPROMISED


class SignatureInvalid(CredentialInvalid):
    """No trusted key with the message's kid verifies the signature."""

    code = Code.SIGNATURE_INVALID


class ClaimsInvalid(CredentialInvalid):
    """Required claims missing, of the wrong type, or outside the profile."""

    code = Code.CLAIMS_INVALID


class CWTNotYetValid(CredentialInvalid):
    """``nbf`` or ``iat`` lies in the future beyond the leeway."""

    code = Code.CWT_NOT_YET_VALID


class CWTExpired(CredentialInvalid):
    """``exp`` has passed (beyond the leeway)."""

    code = Code.CWT_EXPIRED


class TrustListSignatureInvalid(CredentialInvalid):
    """A signed trust list is not signed by a pinned anchor, or was altered."""

    code = Code.TRUST_LIST_SIGNATURE_INVALID


class TrustListExpired(CredentialInvalid):
    """A signed trust list is past its expiry."""

    code = Code.TRUST_LIST_EXPIRED


class TrustListRollback(CredentialInvalid):
    """A trust list or gate bundle older (lower version) than the one already held."""

    code = Code.TRUST_LIST_ROLLBACK


class StatusRevoked(CredentialInvalid):
    """The status list says REVOKED (final)."""

    code = Code.STATUS_REVOKED


class StatusSuspended(CredentialInvalid):
    """The status list says SUSPENDED (e.g. phone reported lost)."""

    code = Code.STATUS_SUSPENDED


class StatusNeedsRenewal(CredentialInvalid):
    """The status list says NEEDS_RENEWAL (e.g. promotion or transfer)."""

    code = Code.STATUS_NEEDS_RENEWAL


class StatusUnknown(CredentialInvalid):
    """No usable status list for the credential (missing, invalid, stale, out of range)."""

    code = Code.STATUS_UNKNOWN


class ImageInvalid(CredentialInvalid):
    """The image cannot be read (corrupt, unsupported, or over the pixel limit)."""

    code = Code.IMAGE_INVALID


class QRNotFound(CredentialInvalid):
    """No QR code could be found or decoded in the image."""

    code = Code.QR_NOT_FOUND


class StatusClaimMissing(CredentialInvalid):
    """The credential carries no status claim, and the policy requires one (it could never be revoked)."""

    code = Code.STATUS_CLAIM_MISSING


class PresentationRequired(CredentialInvalid):
    """A device-bound credential (or, under ``holder_binding=required``, any) was shown bare."""

    code = Code.PRESENTATION_REQUIRED


class HolderKeyMissing(CredentialInvalid):
    """A presentation wraps a credential that has no ``cnf`` device key."""

    code = Code.HOLDER_KEY_MISSING


class DeviceSignatureInvalid(CredentialInvalid):
    """The presentation is not signed by the credential's ``cnf`` device key."""

    code = Code.DEVICE_SIGNATURE_INVALID


class PresentationExpired(CredentialInvalid):
    """The presentation time lies before the freshness window (an old or replayed screen)."""

    code = Code.PRESENTATION_EXPIRED


class PresentationNotYetValid(CredentialInvalid):
    """The presentation time lies after the freshness window (a clock ahead, or prepared early)."""

    code = Code.PRESENTATION_NOT_YET_VALID


class ChallengeMismatch(CredentialInvalid):
    """The presentation answers no nonce this gate issued, or names another gate."""

    code = Code.CHALLENGE_MISMATCH


class PresentationReplayed(CredentialInvalid):
    """This exact presentation (or answer to a nonce) was already accepted within the window."""

    code = Code.PRESENTATION_REPLAYED


class KeyProofInvalid(CredentialInvalid):
    """A proof of possession of a device key is malformed, stale, for another audience or not signed by it."""

    code = Code.KEY_PROOF_INVALID


# --------------------------------------------------------------------------- usage


class UsageError(VCError, ValueError):
    """The caller or its configuration is wrong (not the presented credential)."""

    code = Code.USAGE_ERROR


class KeyInvalid(UsageError):
    """A key could not be parsed, or is of the wrong type or size."""

    code = Code.KEY_INVALID


class KeyPassphraseRequired(UsageError):
    """The private key file is encrypted and no passphrase was given."""

    code = Code.KEY_PASSPHRASE_REQUIRED


class KeyDecryptionFailed(UsageError):
    """The passphrase does not decrypt the private key file."""

    code = Code.KEY_DECRYPTION_FAILED


class TrustSourceInvalid(UsageError):
    """A trust source (JWKS, key set) given to a verifier is malformed."""

    code = Code.TRUST_SOURCE_INVALID


class IssuanceClaimsInvalid(UsageError):
    """Claims handed to the issuer violate the profile; ``details`` lists every violation."""

    code = Code.CLAIMS_INVALID


class QRSizeBudgetExceeded(UsageError):
    """The issued QR text would exceed the profile's size budget."""

    code = Code.QR_SIZE_BUDGET_EXCEEDED


class FileError(UsageError):
    """A file could not be read or written."""

    code = Code.FILE_ERROR


class StatusTransitionRefused(UsageError):
    """The status change is not allowed (REVOKED is final)."""

    code = Code.STATUS_TRANSITION_REFUSED


class StatusEntryNotFound(UsageError):
    """No status list entry was allocated at that URI and index."""

    code = Code.STATUS_ENTRY_NOT_FOUND


class RegistryTransitionRefused(UsageError):
    """The issuer workflow does not allow this step from the current state."""

    code = Code.REGISTRY_TRANSITION_REFUSED


class ApplicationIncomplete(UsageError):
    """Documents are missing or invalid; ``details`` lists every problem with its code."""

    code = Code.APPLICATION_INCOMPLETE


class ReviewerConflict(UsageError):
    """A reviewer may not decide their own application."""

    code = Code.REVIEWER_CONFLICT


class RecordNotFound(UsageError):
    """No application or credential with that id."""

    code = Code.RECORD_NOT_FOUND


class ActiveCredentialExists(UsageError):
    """The person already holds an active credential: re-issue instead (one device per person)."""

    code = Code.ACTIVE_CREDENTIAL_EXISTS


class ActorNotAuthorized(UsageError):
    """The actor is not on the registry's configured list of reviewers or operators."""

    code = Code.ACTOR_NOT_AUTHORIZED


class AuthenticationRequired(UsageError):
    """The request needs a signed-in account (or the credentials given are wrong)."""

    code = Code.AUTHENTICATION_REQUIRED


class AccessDenied(UsageError):
    """The signed-in account may not do this (role, ownership, or conflict of interest)."""

    code = Code.ACCESS_DENIED


class CSRFTokenInvalid(UsageError):
    """A state-changing request lacks the session's CSRF token, or carries another one."""

    code = Code.CSRF_TOKEN_INVALID


class LoginThrottled(UsageError):
    """Too many failed sign-ins for this account or address: wait before trying again."""

    code = Code.LOGIN_THROTTLED


class AccountExists(UsageError):
    """An account with that user name already exists."""

    code = Code.ACCOUNT_EXISTS


class UploadRefused(UsageError):
    """An uploaded file is too large, of a type not accepted, not what it claims, or unsafe; nothing was stored."""

    code = Code.UPLOAD_REFUSED


class InternalError(UsageError):
    """An unexpected failure inside vcsdk (a defect or an outage): the service logs it without the input,
    the CLI prints it as one line with this code (exit 2), never a traceback."""

    code = Code.INTERNAL_ERROR


class GateStale(CredentialInvalid):
    """The gate holds no usable bundle (none yet, or its policy says stale): it refuses every scan."""

    code = Code.GATE_STALE


class WalletLocked(UsageError):
    """The wallet is locked: unlock it (PIN or the platform's unlocker) first."""

    code = Code.WALLET_LOCKED


class WalletPinInvalid(UsageError):
    """The PIN (or unlocker secret) does not open the wallet; each wrong attempt counts towards the lock-out."""

    code = Code.WALLET_PIN_INVALID


class WalletKeyDestroyed(UsageError):
    """The wallet's device key was destroyed (5 wrong PINs): the credential must be re-issued to a new wallet."""

    code = Code.WALLET_KEY_DESTROYED


class WalletInvalid(UsageError):
    """The wallet file is missing, malformed, or holds no credential for this request."""

    code = Code.WALLET_INVALID


class IssuanceRequestFailed(UsageError):
    """The credential issuer refused or botched an OpenID4VCI request (offer, token, nonce, credential or refresh)."""

    code = Code.ISSUANCE_REQUEST_FAILED


class KeyringChanged(UsageError):
    """The keyring changed since the caller looked (e.g. a rotation sent twice): nothing was done."""

    code = Code.KEYRING_CHANGED


CREDENTIAL_ERRORS: dict[Code, type[CredentialInvalid]] = {
    cls.code: cls
    for cls in (
        LimitExceeded,
        InvalidSchemePrefix,
        Base45DecodingFailed,
        DecompressionFailed,
        CBORMalformed,
        COSEMalformed,
        UnsupportedAlgorithm,
        KeyNotInTrustList,
        PublicKeyExpired,
        PublicKeyNotYetValid,
        PublicKeyCompromised,
        SignatureInvalid,
        ClaimsInvalid,
        CWTNotYetValid,
        CWTExpired,
        TrustListSignatureInvalid,
        TrustListExpired,
        TrustListRollback,
        StatusRevoked,
        StatusSuspended,
        StatusNeedsRenewal,
        StatusUnknown,
        ImageInvalid,
        QRNotFound,
        StatusClaimMissing,
        PresentationRequired,
        HolderKeyMissing,
        DeviceSignatureInvalid,
        PresentationExpired,
        PresentationNotYetValid,
        ChallengeMismatch,
        PresentationReplayed,
        KeyProofInvalid,
        GateStale,
    )
}
"""The exception class for each code a credential can fail with."""
