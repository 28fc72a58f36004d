"""``vcsdk --version``: the package, Python, crypto backends and the fast lane in use (compiled or pure)."""

from __future__ import annotations

import platform
from importlib import metadata

BACKENDS = ("pynacl", "cryptography", "cbor2", "zlib-ng", "base45")


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def fast_path() -> str:
    """The fast lane a verifier made now would use: ``compiled (libsodium X, zlib Y)``, or
    ``pure Python (why)`` -- the compiled module not built (and the import error), or
    ``VCSDK_PURE=1``."""
    from vcsdk import _native

    return str(_native.lane())


def batch_verifier() -> str:
    """Whether ``check_many`` batches Ed25519 signatures on the compiled lane (the default,
    ``FastVerifier(batch=False)`` opts out): ``compiled, on``, or ``off`` and why (the module not
    built, or ``VCSDK_PURE=1``)."""
    import os

    from vcsdk import _native
    from vcsdk.verify import batch

    if not batch.native_available():
        return "off (vcsdk._native._batch25519 not built)"
    if not batch.native_enabled():
        return f"off ({_native.ENV_PURE}={os.environ.get(_native.ENV_PURE, '')})"
    scans = batch.BATCH_SCANS
    return f"compiled, on (check_many: Ed25519, up to {scans} scans at once; FastVerifier(batch=False) opts out)"


def result_objects() -> str:
    """How a scan's typed results are made: ``compiled (...)`` when ``vcsdk._native._objects`` is
    built, else ``Python (...)``; the same objects either way."""
    from vcsdk import _slots

    if _slots.COMPILED:
        return "compiled (vcsdk._native._objects: claims' text fields and frozen results in C)"
    return "Python (vcsdk._native._objects not built)"


def version_text() -> str:
    """Several lines: ``vcsdk X`` first, then one ``name version`` line per component."""
    lines = [f"vcsdk {_version('vcsdk')}", f"python {platform.python_version()} ({platform.machine()})"]
    for name in BACKENDS:
        lines.append(f"{name} {_version(name)}")
    try:
        from cryptography.hazmat.backends.openssl import backend

        lines.append(f"openssl {backend.openssl_version_text()} (via cryptography)")
    except ImportError:  # pragma: no cover - cryptography is a dependency
        pass
    lines.append("libsodium bundled with pynacl (Ed25519 signatures)")
    lines.append(f"result objects: {result_objects()}")
    lines.append(f"batch verifier: {batch_verifier()}")
    lines.append(f"fast lane: {fast_path()}")
    return "\n".join(lines)
