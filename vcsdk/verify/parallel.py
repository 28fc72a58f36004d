"""Verify many QR texts on several cores: batches (not single texts) go to worker processes.

Each worker builds its own verifier once, from a picklable ``factory`` (a module-level function
and its arguments), keeps its repeat-scan cache across batches, and returns the DESIGN section 7
JSON result of each text, in input order.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ..errors import UsageError

Factory = Callable[[], Any]  # returns an object with .check(text) -> result with .to_json()

_worker_verifier: Any = None


def _init(factory: Factory) -> None:
    global _worker_verifier
    _worker_verifier = factory()


def _check_batch(texts: list[str]) -> list[dict[str, Any]]:
    return [_worker_verifier.check(text).to_json() for text in texts]


def _batches(texts: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for text in texts:
        batch.append(text)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class ParallelVerifier:
    """A pool of verifier processes; use as a context manager."""

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

    def check_many(self, texts: Iterable[str]) -> Iterator[dict[str, Any]]:
        """The JSON result of every text, in order (batches are shipped to the workers)."""
        for results in self._pool.map(_check_batch, _batches(texts, self._batch_size)):
            yield from results

    def close(self) -> None:
        """Stop the workers."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ParallelVerifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
