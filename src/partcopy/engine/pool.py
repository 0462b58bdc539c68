"""The part pool: a fixed number of worker tasks pulling part numbers from one iterator.

Memory stays O(workers), not O(parts): no task or coroutine exists for a part before a
worker takes it. The first failure stops the pool (the task group is cancelled) and is
re-raised as it is, not wrapped in an exception group. The per-endpoint capacity limit is
applied around each request by the part operation, so backoff sleeps hold no slot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator

import anyio

__all__ = ["run_pool"]


async def run_pool(
    numbers: Iterable[int],
    work: Callable[[int], Awaitable[None]],
    workers: int,
) -> None:
    """Run ``work(n)`` for every ``n`` in ``numbers`` on at most ``workers`` tasks."""
    source: Iterator[int] = iter(numbers)
    failures: list[Exception] = []

    async def worker(scope: anyio.CancelScope) -> None:
        # Iterating one shared iterator from many tasks is safe: next() never awaits.
        for number in source:
            try:
                await work(number)
            except Exception as exc:
                failures.append(exc)
                scope.cancel()
                return

    async with anyio.create_task_group() as tg:
        for _ in range(max(1, workers)):
            tg.start_soon(worker, tg.cancel_scope)
    if failures:
        raise failures[0]
