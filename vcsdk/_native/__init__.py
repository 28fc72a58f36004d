"""The compiled fast lane: C (cffi, API mode) for the byte-level work of a first scan.

``_fastlane`` is built from ``fastlane.c`` against the system libsodium and zlib by the package's
own build (``setup.py``). It does the prefix check, Base45, zlib inflate (same absolute cap),
the COSE_Sign1 split of the canonical shape, the Sig_structure and the Ed25519 verification
(``crypto_sign_ed25519_verify_detached``); ``claims.c`` reads and checks the claims of a payload in
the issuers' canonical shape. It never names a failure: any input it does not accept goes to the
Python checks and the pure-Python reference path, which decide.

Which lane runs: the compiled one when the module imports and ``VCSDK_PURE`` is unset (or
``0``); the pure-Python one otherwise (:func:`lane` says which and why).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Any

ENV_PURE = "VCSDK_PURE"
"""Set to ``1`` to force the pure-Python lane (read each time a verifier is made)."""


@dataclass(frozen=True, slots=True)
class Lane:
    """Which fast lane a new verifier would use, and why."""

    compiled: bool
    detail: str
    """``libsodium X, zlib Y`` when compiled; the reason otherwise."""

    def __str__(self) -> str:
        return f"compiled ({self.detail})" if self.compiled else f"pure Python ({self.detail})"


def _import() -> tuple[Any, Any, str]:
    try:
        from . import _fastlane  # type: ignore[attr-defined,unused-ignore]
    except ImportError as exc:
        if importlib.util.find_spec(f"{__name__}._fastlane") is None:  # no module file at all
            return None, None, "compiled module not built: install with a C compiler and the libsodium and zlib headers"
        return None, None, f"compiled module not loaded: {exc}"  # e.g. libsodium.so missing
    return _loaded(_fastlane.ffi, _fastlane.lib)


CLAIM_SLOTS = 30
"""``VL_CLAIM_SLOTS`` of the C sources this Python code was written for (``fastlane.h``)."""


def _loaded(ffi: Any, lib: Any) -> tuple[Any, Any, str]:
    """The module's ffi and lib, or why they cannot serve: a module built from older sources
    (without the claims reader) loads, but no verifier could use it; :func:`lane` says so."""
    if getattr(lib, "VL_CLAIM_SLOTS", None) != CLAIM_SLOTS:
        return None, None, "compiled module out of date: reinstall vcsdk to rebuild it"
    if lib.vl_init() != 0:  # pragma: no cover - sodium_init fails only without entropy
        return None, None, "libsodium failed to initialise"
    return ffi, lib, ""


FFI, LIB, _IMPORT_ERROR = _import()


def available() -> bool:
    """True when the compiled module is built and loads (whatever ``VCSDK_PURE`` says)."""
    return LIB is not None


def versions() -> str:
    """``libsodium X, zlib Y`` of the compiled module."""
    if LIB is None:
        return "not built"
    sodium = FFI.string(LIB.vl_sodium_version()).decode()
    zlib = FFI.string(LIB.vl_zlib_version()).decode()
    return f"libsodium {sodium}, zlib {zlib}"


def lane() -> Lane:
    """The lane a verifier made now would use."""
    if os.environ.get(ENV_PURE, "") not in ("", "0"):
        return Lane(False, f"{ENV_PURE}={os.environ[ENV_PURE]}")
    if LIB is None:
        return Lane(False, _IMPORT_ERROR)
    return Lane(True, versions())


__all__ = ["ENV_PURE", "FFI", "LIB", "Lane", "available", "lane", "versions"]
