"""Verify many QR texts on several cores: batches (not single texts) go to worker processes.

Each worker builds its own verifier once, from a picklable ``factory`` (a module-level function
and its arguments), keeps its repeat-scan cache across batches, and returns the results of each
text in input order: :class:`Verification` objects (:meth:`ParallelVerifier.check_many`) or
their DESIGN section 7 JSON form (:meth:`ParallelVerifier.check_many_json`, for streaming).

Any worker may verify any text, so replays are settled in the main process: a ``GIDP1:``
presentation that a worker accepted is recorded in one replay book, and the same presentation
accepted again (by any worker, in any batch) becomes ``PRESENTATION_REPLAYED``.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Generic, TypeVar

from ..clock import Clock, system_clock
from ..errors import CredentialInvalid, UsageError, VCError
from ..holder.presentation import PRESENTATION_PREFIX, decode_presentation
from .checks import MAX_LEEWAY_SECONDS
from .presentation import DEFAULT_PRESENTATION_WINDOW, PresentationGuard
from .result import Credential, Verification

C = TypeVar("C", bound=Credential)

Factory = Callable[[], Any]
"""Returns a verifier (anything with ``check(text, now)`` returning a :class:`Verification`)."""

_worker_verifier: Any = None


def _init(factory: Factory) -> None:
    global _worker_verifier
    _worker_verifier = factory()


def _check_batch(job: tuple[list[str | bytes], int | None]) -> list[Verification[Any]]:
    texts, now = job
    return [_worker_verifier.check(text, now) for text in texts]


def _check_batch_json(texts: list[str]) -> list[dict[str, Any]]:
    return [_worker_verifier.check(text).to_json() for text in texts]


def _sent(batches: Iterator[list[Any]], sent: deque[list[Any]]) -> Iterator[list[Any]]:
    """Pass batches through, remembering each (results come back in the same order)."""
    for batch in batches:
        sent.append(batch)
        yield batch


def _batches(texts: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for text in texts:
        batch.append(text)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class ParallelVerifier(Generic[C]):
    """A pool of verifier processes; use as a context manager.

    Implements the verifier protocol (:class:`vcsdk.verify.protocol.CredentialVerifier`):
    ``verify``, ``verify_at``, ``check`` and ``check_many``. Single texts make a round trip to a
    worker, so use it for batches.
    """

    def __init__(
        self,
        factory: Factory,
        *,
        workers: int = 2,
        batch_size: int = 256,
        replay_lifetime: int = 2 * (DEFAULT_PRESENTATION_WINDOW + MAX_LEEWAY_SECONDS),
        clock: Clock = system_clock,
    ) -> None:
        """``replay_lifetime``: seconds an accepted presentation stays in the shared replay book
        after its time (default: twice the longest window plus leeway any worker can allow);
        ``clock``: the time of that book when a call gives none (the workers' clock)."""
        if workers < 1 or batch_size < 1 or replay_lifetime < 1:
            raise UsageError("workers, batch_size and replay_lifetime must be at least 1")
        self._batch_size = batch_size
        self._replays = PresentationGuard()
        self._replay_lifetime = replay_lifetime
        self._clock = clock
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init,
            initargs=(factory,),
        )

    def check_many(self, texts: Iterable[str | bytes], now: int | None = None) -> list[Verification[C]]:
        """The result of every text, in order (batches are shipped to the workers)."""
        sent: deque[list[str | bytes]] = deque()
        jobs = ((batch, now) for batch in _sent(_batches(texts, self._batch_size), sent))
        out: list[Verification[C]] = []
        for results in self._pool.map(_check_batch, jobs):
            for text, result in zip(sent.popleft(), results, strict=True):
                problem = self._replayed(text, result.valid, now)
                out.append(
                    result if problem is None else Verification(False, problem.code, problem.message, result.kid)
                )
        return out

    def check_many_json(self, texts: Iterable[str]) -> Iterator[dict[str, Any]]:
        """The JSON result of every text, in order, streamed as batches complete (gate mode)."""
        sent: deque[list[str]] = deque()
        for results in self._pool.map(_check_batch_json, _sent(_batches(texts, self._batch_size), sent)):
            for text, result in zip(sent.popleft(), results, strict=True):
                problem = self._replayed(text, result.get("valid") is True, None)
                if problem is not None:
                    no_credential = {"claims": None, "status_checked": False, "exp": None}
                    result = {**result, **no_credential, "valid": False, "code": str(problem.code)}
                    result["message"] = problem.message
                yield result

    def _replayed(self, text: str | bytes, valid: bool, now: int | None) -> VCError | None:
        """Record a presentation a worker accepted; the error when it was accepted before."""
        if not valid or type(text) is not str or not text.lstrip().startswith(PRESENTATION_PREFIX):
            return None
        try:
            presentation = decode_presentation(text.strip())
            if presentation.nonce is None:  # challenge answers are single-use at their own gate
                when = self._clock() if now is None else now
                self._replays.check_and_record(presentation, when, self._replay_lifetime)
        except VCError as exc:
            return exc
        return None

    def check(self, text: str | bytes, now: int | None = None) -> Verification[C]:
        """One text on a worker."""
        return self.check_many([text], now)[0]

    def verify_at(self, text: str | bytes, now: int) -> C:
        """Verify as of ``now``; raise the failure's :class:`CredentialInvalid`."""
        return self._raise(self.check(text, now))

    def verify(self, text: str | bytes) -> C:
        """Verify at the workers' clock."""
        return self._raise(self.check(text))

    @staticmethod
    def _raise(result: Verification[C]) -> C:
        if result.credential is None:
            from ..errors import CREDENTIAL_ERRORS

            raise CREDENTIAL_ERRORS.get(result.code, CredentialInvalid)(result.message)
        return result.credential

    def close(self) -> None:
        """Stop the workers."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ParallelVerifier[C]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
