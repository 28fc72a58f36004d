"""The gate-speed verify path: same verdicts as :class:`Verifier`, less work per scan.

Two mechanisms, both tested to agree with the reference path on every valid and invalid case:

* **A fast lane for well-formed credentials.** The exact shape our issuers emit
  (``d2 84 | bstr protected | a0 | bstr payload | bstr signature``, protected header
  ``{1: -8, 4: kid}`` in canonical form) is recognised by slicing bytes instead of a general
  CBOR decode; keys are pre-parsed and found by kid in a dict; the payload is decoded strictly
  with one reused decoder. **Anything unusual or failing falls back to the reference
  verifier**, which then decides the verdict and its code, so the fast lane can only ever
  accept what the reference path accepts, by the same checks.
* **A repeat-scan cache** (bounded LRU, keyed by the QR text, which fixes the signed bytes): a
  hit skips decoding and the signature but re-checks time and status on every scan. The cache
  belongs to one verifier and its trust store: new trust means a new verifier (or
  :meth:`clear_cache`).

**Two lanes for the byte work** (the same verdicts by construction, since either only ever
accepts or hands over): the *compiled* lane (:mod:`vcsdk.verify.native`: prefix, Base45, zlib,
COSE_Sign1 split, Sig_structure and libsodium's Ed25519 verify in C) when the module is built
and ``VCSDK_PURE`` is unset, else the *pure-Python* lane. The compiled lane also reads the
claims of a payload in the issuers' canonical shape in C (``claims.c``: strict subset, same typed
result); any other payload, and every payload on the pure lane, goes through the Python checks.

Presentations (``GIDP1:``) use the same lanes for the credential inside them (cached by its
exact bytes), but the presentation itself is never cached: its device signature, freshness,
challenge and replay checks run on every scan, so a repeat scan can never turn a replay into
VALID.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from .. import _native
from .._slots import slot_constructor
from ..codec import base45, deflate
from ..codec.cbor import StrictDecoder, int_keyed
from ..codec.cose import sig_structure
from ..errors import CredentialInvalid, UsageError
from ..holder.binding import HolderBinding
from ..holder.presentation import (
    KEY_CREDENTIAL,
    KEY_GATE,
    KEY_NONCE,
    KEY_TIME,
    PRESENTATION_PREFIX,
    Presentation,
    decode_presentation,
)
from ..keys import ALG_EDDSA, Ed25519PublicKey
from . import batch
from .authenticate import authenticate_parts, in_window, signing_candidates
from .checks import PAYLOAD_TAGS, CWTClaims, credential_auth_policy
from .native import NativeLane, Parts, verify_candidates, verify_key
from .presentation import require_presentation
from .result import Verification, VerifiedCredential
from .verifier import Verifier

_PROTECTED_HEAD = b"\xa2\x01\x27\x04\x48"  # {1: -8, 4: h'<8 bytes>'} in canonical form
_SIG1_HEAD = b"\x84\x6aSignature1\x4d"  # ["Signature1", then the 13-byte protected bstr
DEFAULT_CACHE_SIZE = 4096
_PRESENTATION_PROTECTED = b"\xa1\x01\x27"  # {1: -8}
_PRESENTATION_PREFIX_BYTES = PRESENTATION_PREFIX.encode("ascii")
_PRESENTATION_KEYS = frozenset({KEY_CREDENTIAL, KEY_TIME, KEY_NONCE, KEY_GATE})
_presentation = slot_constructor(Presentation)
"""``Presentation(...)`` without the dataclass ``__init__`` (every field checked just before)."""
_valid = slot_constructor(Verification)
"""``Verification(...)`` with every field, without the dataclass ``__init__`` (every valid scan makes one)."""


def _bstr(data: bytes, pos: int) -> tuple[bytes, int] | None:
    """A definite byte string at ``pos`` (lengths up to 65535), or None."""
    if pos >= len(data):
        return None
    head = data[pos]
    if 0x40 <= head <= 0x57:
        start, length = pos + 1, head - 0x40
    elif head == 0x58 and pos + 1 < len(data):
        start, length = pos + 2, data[pos + 1]
    elif head == 0x59 and pos + 2 < len(data):
        start, length = pos + 3, (data[pos + 1] << 8) | data[pos + 2]
    else:
        return None
    end = start + length
    return (data[start:end], end) if end <= len(data) else None


def split_sign1(data: bytes) -> tuple[bytes, bytes, bytes] | None:
    """(protected, payload, signature) when ``data`` has exactly the issuer's canonical shape."""
    if data[:2] != b"\xd2\x84":
        return None
    part = _bstr(data, 2)
    if part is None:
        return None
    protected, pos = part
    if pos >= len(data) or data[pos] != 0xA0:
        return None
    part = _bstr(data, pos + 1)
    if part is None:
        return None
    payload, pos = part
    part = _bstr(data, pos)
    if part is None:
        return None
    signature, pos = part
    return (protected, payload, signature) if pos == len(data) else None


class _Fallback(Exception):
    """Leave the fast lane: the reference verifier decides."""


class FastVerifier:
    """Wraps a configured :class:`Verifier`: same results and codes, less work per scan.

    It reads the verifier only through its public properties and calls the same
    authentication step and checks (:mod:`vcsdk.verify.authenticate`, :mod:`vcsdk.verify.checks`).
    Not thread-safe (one reused decoder and cache): one instance per thread.

    ``compiled``: None (default) takes the compiled lane when it is built and ``VCSDK_PURE`` is
    unset, True requires it (``UsageError`` when absent), False takes the pure-Python lane.

    ``batch``: True (the default) lets :meth:`check_many` verify the Ed25519 signatures of a batch
    together on the compiled lane (:mod:`vcsdk.verify.batch`; same verdicts, about 1.8x faster
    than one by one); False verifies one signature at a time.

    >>> gate = FastVerifier(Verifier(trust, status=checker))  # doctest: +SKIP
    """

    def __init__(
        self,
        reference: Verifier,
        *,
        cache_size: int = DEFAULT_CACHE_SIZE,
        compiled: bool | None = None,
        batch: bool = True,
    ) -> None:
        if not isinstance(reference, Verifier):
            raise UsageError("FastVerifier wraps a configured Verifier")
        if type(cache_size) is not int or cache_size < 0:
            raise UsageError("cache_size must be a non-negative integer")
        if compiled is not None and type(compiled) is not bool:
            raise UsageError("compiled must be None, True or False")
        if type(batch) is not bool:
            raise UsageError("batch must be True or False")
        self._batch = batch
        self.reference = reference
        self._binding = reference.holder_binding  # fixed for a verifier's life
        profile = reference.profile
        self._prefix = profile.prefix
        self._limits = reference.limits
        self._clock = reference.clock
        self._trust = reference.trust
        self._fast_profile = ALG_EDDSA in profile.algorithms and not profile.kid_in_both_buckets
        self._auth = credential_auth_policy(profile.algorithms)
        self._decoder = StrictDecoder(self._limits, PAYLOAD_TAGS)
        self._outer_decoder = StrictDecoder(self._limits)
        self._cache: OrderedDict[str | bytes, tuple[VerifiedCredential, CWTClaims]] = OrderedDict()
        self._cache_size = cache_size
        self._native: NativeLane | None = None
        lane = _native.lane()
        if compiled is True and not _native.available():
            raise UsageError(f"the compiled fast lane is not available: {lane}")
        if compiled is True or (compiled is None and lane.compiled):
            try:
                self._native = NativeLane(self._limits, self._prefix)
            except UsageError:
                if compiled is True:
                    raise  # asked for explicitly; by default, limits beyond the C buffers take the pure lane

        # layers decoded by check_many's signature pass, each used once by the lanes
        self._pending_parts: dict[str, Parts] = {}  # compiled lane: a credential text's parts
        self._pending_inner: dict[bytes, tuple[Parts, CWTClaims | None]] = {}  # compiled lane: a presented
        # credential's parts and its claims as the C reader read them (None: left to the Python checks)
        self._pending_outer: dict[str, Presentation] = {}

    @property
    def batching(self) -> bool:
        """True when :meth:`check_many` verifies signatures in batches: ``batch=True`` (the
        default), the compiled lane, and the batch verifier built and enabled."""
        return self._batch and self._native is not None and batch.native_enabled()

    @property
    def compiled(self) -> bool:
        """True when this verifier runs the compiled lane."""
        return self._native is not None

    @property
    def cache_size(self) -> int:
        """How many credentials the repeat-scan cache holds at most."""
        return self._cache_size

    @property
    def cached(self) -> int:
        """How many credentials the repeat-scan cache holds now."""
        return len(self._cache)

    def clear_cache(self) -> None:
        """Forget every cached credential."""
        self._cache.clear()

    # ------------------------------------------------------------------ API

    def verify(self, text: str | bytes) -> VerifiedCredential:
        """Verify at the clock's time; raise the failure's :class:`CredentialInvalid`."""
        return self.verify_at(text, self._clock())

    def verify_at(self, text: str | bytes, now: int) -> VerifiedCredential:
        """Verify as of ``now``."""
        if type(text) is not str or type(now) is not int:
            return self.reference.verify_at(text, now)
        if text.startswith(PRESENTATION_PREFIX):
            return self._presentation(text, now)
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            credential = self._recheck(text, cached, now)
        else:
            try:
                credential, claims = self._fast(text, now)
            except _Fallback:
                return self.reference.verify_at(text, now)
            self._remember(text, credential, claims)
        if self._binding is not HolderBinding.OFF:
            require_presentation(credential, self._binding)
        return credential

    def check(self, text: str | bytes, now: int | None = None) -> Verification[VerifiedCredential]:
        """Like :meth:`verify` but returns a :class:`Verification`."""
        when = self._clock() if now is None else now
        try:
            credential = self.verify_at(text, when)
        except CredentialInvalid:
            return self.reference.check(text, when)  # the reference path names the failure
        return _valid(True, credential.code, "credential is valid", credential.kid, credential)

    def check_many(
        self, texts: Iterable[str | bytes], now: int | None = None
    ) -> list[Verification[VerifiedCredential]]:
        """:meth:`check` over many texts at one time (batch API): results and codes identical to
        :meth:`check` on each text. On the compiled lane (``batch=True``), the Ed25519 signatures of up to
        :data:`~vcsdk.verify.batch.BATCH_SCANS` scans (the credential's and, in a presentation,
        the device's) are first verified together (:mod:`vcsdk.verify.batch`); whatever the batch
        does not prove is verified singly by the usual pipeline."""
        when = self._clock() if now is None else now
        if not self.batching:  # pure lane, or batch=False: one by one
            return [self.check(text, when) for text in texts]
        results: list[Verification[VerifiedCredential]] = []
        chunk: list[str | bytes] = []
        for text in texts:
            chunk.append(text)
            if len(chunk) == batch.BATCH_SCANS:
                results.extend(self._check_chunk(chunk, when))
                chunk = []
        if chunk:
            results.extend(self._check_chunk(chunk, when))
        return results

    verify_many = check_many
    """Former name of :meth:`check_many`."""

    # ------------------------------------------------------------------ internals

    def _check_chunk(self, texts: list[str | bytes], when: int) -> list[Verification[VerifiedCredential]]:
        if len(texts) < 2 or not self.batching or type(when) is not int:
            return [self.check(text, when) for text in texts]
        try:
            native = self._native
            assert native is not None  # batching runs on the compiled lane only
            triples = [triple for text in texts for triple in self._signed_triples(native, text, when)]
            with batch.presumed(batch.proven(triples)):
                return [self._check_opened(native, text, when) for text in texts]
        finally:
            self._pending_parts.clear()
            self._pending_inner.clear()
            self._pending_outer.clear()

    def _check_opened(self, native: NativeLane, text: str | bytes, now: int) -> Verification[VerifiedCredential]:
        """:meth:`check` of a text of a batch: a credential text that the signature pass opened
        goes straight to the shared steps (:meth:`verify_at` would only repeat the pass's checks of
        type, length, prefix, trust expiry and cache); anything else through :meth:`check`."""
        parts = self._pending_parts.pop(text, None) if type(text) is str else None
        if parts is None:
            return self.check(text, now)
        try:
            credential, claims = self._authenticated(native, parts, now)
            self._remember(text, credential, claims)
            if self._binding is not HolderBinding.OFF:
                require_presentation(credential, self._binding)
        except (_Fallback, CredentialInvalid):
            return self.reference.check(text, now)  # the reference path names the failure
        return _valid(True, credential.code, "credential is valid", credential.kid, credential)

    def _signed_triples(self, native: NativeLane, text: str | bytes, now: int) -> list[batch.Triple]:
        """The Ed25519 (key, message, signature) triples the compiled lane will check for ``text``;
        the decoded layers are kept for it. Anything unusual: none (the lane decides as usual)."""
        if type(text) is not str or len(text) > self._limits.max_text_chars:
            return []
        expires_at = self._trust.expires_at
        if expires_at is not None and now >= expires_at:
            return []
        if text.startswith(PRESENTATION_PREFIX):
            presentation = self._native_outer(native, text)
            if presentation is None:
                return []
            self._pending_outer[text] = presentation
            data = presentation.credential
            cached = self._cache.get(data)
            if cached is None:
                found, device = self._credential_triple(native, data)
            else:
                holder = cached[1].cnf
                found, device = [], holder.raw if type(holder) is Ed25519PublicKey else None
            if device is not None:
                found.append((device, presentation.to_be_signed, presentation.signature))
            return found
        if not self._fast_profile or not text.startswith(self._prefix) or text in self._cache:
            return []
        parts = native.open_text(text)
        if parts is None:
            return []
        self._pending_parts[text] = parts
        return self._parts_triple(parts)

    def _credential_triple(self, native: NativeLane, data: bytes) -> tuple[list[batch.Triple], bytes | None]:
        """The issuer's signature over a credential's bytes, when it has the canonical shape, and
        the raw device key of its cnf (from the C claims reader when it reads the payload)."""
        parts = native.open_sign1(data) if self._fast_profile else None
        if parts is None:
            return [], self._device_key(data)
        claims = native.claims(parts.payload)
        self._pending_inner[data] = (parts, claims)
        if claims is None:
            device = self._device_key(data)
        else:
            holder = claims.cnf
            device = holder.raw if type(holder) is Ed25519PublicKey else None
        return self._parts_triple(parts), device

    def _parts_triple(self, parts: Parts) -> list[batch.Triple]:
        candidates = self._trust.candidates(parts.kid)
        if len(candidates) != 1 or type(candidates[0].key) is not Ed25519PublicKey:
            return []
        return [(candidates[0].key.raw, parts.to_be_signed, parts.signature)]

    def _device_key(self, data: bytes) -> bytes | None:
        """The raw Ed25519 device key in the credential's cnf, when it has the canonical shape."""
        parts = split_sign1(data)
        if parts is None:
            return None
        try:
            value = self._decoder.decode(parts[1])
        except CredentialInvalid:  # malformed: no key to batch; the check names the failure
            return None
        cnf = value.get(8) if type(value) is dict else None
        key = cnf.get(1) if type(cnf) is dict else None
        if type(key) is not dict or key.get(1) != 1 or key.get(-1) != 6:
            return None
        raw = key.get(-2)
        return raw if type(raw) is bytes and len(raw) == 32 else None

    def _recheck(self, key: str | bytes, cached: tuple[VerifiedCredential, CWTClaims], now: int) -> VerifiedCredential:
        try:
            return self.reference.recheck(cached[0], cached[1], now)
        except CredentialInvalid:
            self._cache.pop(key, None)
            raise

    def _remember(self, key: str | bytes, credential: VerifiedCredential, claims: CWTClaims) -> None:
        if self._cache_size:
            self._cache[key] = (credential, claims)
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _presentation(self, text: str, now: int) -> VerifiedCredential:
        reference = self.reference
        expires_at = self._trust.expires_at
        if len(text) > self._limits.max_text_chars or (expires_at is not None and now >= expires_at):
            return reference.verify_at(text, now)  # the reference path names it
        native = self._native
        presentation = self._pending_outer.pop(text, None)
        if presentation is None and native is not None:
            presentation = self._native_outer(native, text) or decode_presentation(text, self._limits)
        elif presentation is None:
            presentation = self._fast_outer(text) or decode_presentation(text, self._limits)
        data = presentation.credential
        cached = self._cache.get(data)
        if cached is not None:
            self._cache.move_to_end(data)
            inner = self._recheck(data, cached, now)
        else:
            try:
                inner, claims = self._fast_data(data, now)
            except _Fallback:
                inner = reference.verify_cose(data, now)
            else:
                self._remember(data, inner, claims)
        return reference.presented(presentation, inner, now, None if native is None else verify_key)

    def _native_outer(self, native: NativeLane, text: str) -> Presentation | None:
        """:meth:`_fast_outer` with the byte work in C."""
        parts = native.open_text(text, _PRESENTATION_PREFIX_BYTES, presentation=True)
        if parts is None:
            return None
        return self._outer_payload(parts.payload, parts.to_be_signed, parts.signature)

    def _fast_outer(self, text: str) -> Presentation | None:
        """The presentation's outer layers by slicing, when they have exactly the canonical shape;
        None sends the text to the reference decoder, which names any problem."""
        try:
            body = base45.b45decode(text[len(PRESENTATION_PREFIX) :])
            data = deflate.decompress(body, self._limits.max_inflated_bytes)
        except CredentialInvalid:
            return None
        parts = split_sign1(data)
        if parts is None or parts[0] != _PRESENTATION_PROTECTED:
            return None
        protected, payload, signature = parts
        return self._outer_payload(payload, sig_structure(protected, payload), signature)

    def _outer_payload(self, payload: bytes, to_be_signed: bytes, signature: bytes) -> Presentation | None:
        """The presentation payload map, when it has exactly the expected keys and types."""
        try:
            value = self._outer_decoder.decode(payload)
        except CredentialInvalid:
            return None
        if type(value) is not dict or not int_keyed(value) or not _PRESENTATION_KEYS.issuperset(value):
            return None
        inner, when = value.get(KEY_CREDENTIAL), value.get(KEY_TIME)
        nonce, gate = value.get(KEY_NONCE), value.get(KEY_GATE)
        if type(inner) is not bytes or not inner or type(when) is not int or when < 0:
            return None
        if KEY_NONCE not in value and KEY_GATE not in value:  # by key: a null nonce is not "no challenge"
            return _presentation(inner, when, None, None, to_be_signed, signature)
        if type(nonce) is not bytes or len(nonce) != 16 or type(gate) is not str or not 1 <= len(gate) <= 64:
            return None
        return _presentation(inner, when, nonce, gate, to_be_signed, signature)

    def _fast(self, text: str, now: int) -> tuple[VerifiedCredential, CWTClaims]:
        if not self._fast_profile or len(text) > self._limits.max_text_chars or not text.startswith(self._prefix):
            raise _Fallback
        expires_at = self._trust.expires_at
        if expires_at is not None and now >= expires_at:
            raise _Fallback  # the reference path names it (TRUST_LIST_EXPIRED)
        native = self._native
        if native is not None:
            opened = native.open_scan(text)
            if opened is None:
                raise _Fallback
            kid, payload = opened
            claims = native.claims(payload)
            if claims is None:
                return self._authenticated(native, native.scanned(), now)
            try:  # as _authenticated, with the signed bytes left in the lane's context
                candidates, windowed = signing_candidates(ALG_EDDSA, kid, self._trust, self._auth)
                if windowed:
                    candidates = in_window(candidates, claims.iat)
                return self.reference.finish_claims(native.verify_scan(candidates), kid, claims, now)
            except CredentialInvalid:
                raise _Fallback from None
        try:
            data = deflate.decompress(base45.b45decode(text[len(self._prefix) :]), self._limits.max_inflated_bytes)
        except CredentialInvalid:
            raise _Fallback from None
        return self._fast_data(data, now)

    def _authenticated(
        self, native: NativeLane, parts: Parts, now: int, read: tuple[CWTClaims | None] | None = None
    ) -> tuple[VerifiedCredential, CWTClaims]:
        """The compiled lane's parts through the shared authentication step and checks; claims
        that the C reader accepts skip the CBOR decoder and the Python claim checks. ``read``:
        what :meth:`NativeLane.claims` already gave for this payload."""
        kid = parts.kid
        claims = native.claims(parts.payload) if read is None else read[0]
        try:
            if claims is not None:
                candidates, windowed = signing_candidates(ALG_EDDSA, kid, self._trust, self._auth)
                if windowed:  # the issue time picks the key window, as authenticate_parts does
                    candidates = in_window(candidates, claims.iat)
                signer = verify_candidates(candidates, parts.to_be_signed, parts.signature)
                return self.reference.finish_claims(signer, kid, claims, now)
            auth = authenticate_parts(
                ALG_EDDSA,
                kid,
                parts.payload,
                parts.to_be_signed,
                parts.signature,
                self._trust,
                self._auth,
                self._decoder,
                verify_candidates,
            )
            return self.reference.finish(auth.signer, kid, auth.payload, now)
        except CredentialInvalid:
            raise _Fallback from None

    def _fast_data(self, data: bytes, now: int) -> tuple[VerifiedCredential, CWTClaims]:
        if not self._fast_profile:
            raise _Fallback
        native = self._native
        if native is not None:
            pending = self._pending_inner.pop(data, None)
            if pending is not None:  # opened and read by check_many's signature pass
                return self._authenticated(native, pending[0], now, (pending[1],))
            native_parts = native.open_sign1(data)
            if native_parts is None:
                raise _Fallback
            return self._authenticated(native, native_parts, now)
        parts = split_sign1(data)
        if parts is None:
            raise _Fallback
        protected, payload, signature = parts
        if len(protected) != 13 or protected[:5] != _PROTECTED_HEAD:
            raise _Fallback
        kid = protected[5:]
        try:
            auth = authenticate_parts(
                ALG_EDDSA,
                kid,
                payload,
                b"".join((_SIG1_HEAD, protected, b"\x40", _bstr_head(len(payload)), payload)),
                signature,
                self._trust,
                self._auth,
                self._decoder,
            )
            return self.reference.finish(auth.signer, kid, auth.payload, now)
        except CredentialInvalid:
            raise _Fallback from None


def _bstr_head(length: int) -> bytes:
    if length < 24:
        return bytes((0x40 | length,))
    if length < 0x100:
        return bytes((0x58, length))
    return b"\x59" + length.to_bytes(2, "big")


__all__ = ["FastVerifier", "split_sign1"]
