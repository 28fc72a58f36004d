"""``vcsdk --version``: the package, Python, crypto backends and whether a compiled fast path exists."""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

BACKENDS = ("pynacl", "cryptography", "cbor2", "zlib-ng", "base45")


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def fast_path() -> str:
    """``compiled (FILES)`` when the package ships extension modules, else ``pure Python``."""
    import vcsdk

    root = Path(vcsdk.__file__).parent
    compiled = sorted(str(p.relative_to(root)) for pattern in ("*.so", "*.pyd") for p in root.rglob(pattern))
    return f"compiled ({', '.join(compiled)})" if compiled else "pure Python"


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
    lines.append(f"fast path: {fast_path()}")
    return "\n".join(lines)
