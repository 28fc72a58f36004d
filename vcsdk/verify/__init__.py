"""Verifying credentials offline: QR text -> VerifiedCredential or one error with a stable code."""

from .fast import FastVerifier
from .result import Verification, VerifiedCredential
from .status import Status, StatusCheck, StatusChecker, StatusPolicy
from .verifier import DEFAULT_LEEWAY_SECONDS, Verifier

__all__ = [
    "DEFAULT_LEEWAY_SECONDS",
    "FastVerifier",
    "Status",
    "StatusCheck",
    "StatusChecker",
    "StatusPolicy",
    "Verification",
    "VerifiedCredential",
    "Verifier",
]
