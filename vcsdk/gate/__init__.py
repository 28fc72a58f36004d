"""The gate: an offline verifier fed by anchor-signed bundles."""

from .core import Gate, document_type

__all__ = ["Gate", "document_type"]
