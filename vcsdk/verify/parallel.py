"""Verify many QR texts on several cores: batches (not single texts) go to worker processes.

Each worker builds its own verifier once, from a picklable ``factory`` (a module-level function
and its arguments), keeps its repeat-scan cache across batches, and returns the results of each
text in input order: :class:`Verification` objects (:meth:`ParallelVerifier.check_many`) or
their DESIGN section 7 JSON form (:meth:`ParallelVerifier.check_many_json`, for streaming).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Generic, TypeVar

from ..errors import CredentialInvalid, UsageError
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

    def __init__(self, factory: Factory, *, workers: int = 2, batch_size: int = 256) -> None:
        if workers < 1 or batch_size < 1:
            raise UsageError("workers and batch_size must be at least 1")
        self._batch_size = batch_size
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init,
            initargs=(factory,),
        )

    def check_many(self, texts: Iterable[str | bytes], now: int | None = None) -> list[Verification[C]]:
        """The result of every text, in order (batches are shipped to the workers)."""
        jobs = ((batch, now) for batch in _batches(texts, self._batch_size))
        return [result for results in self._pool.map(_check_batch, jobs) for result in results]

    def check_many_json(self, texts: Iterable[str]) -> Iterator[dict[str, Any]]:
        """The JSON result of every text, in order, streamed as batches complete (gate mode)."""
        for results in self._pool.map(_check_batch_json, _batches(texts, self._batch_size)):
            yield from results

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
