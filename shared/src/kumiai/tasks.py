"""Long-running worker tasks (relay, consumer, timers) that stop when asked."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable


def raise_if_cancelling() -> None:
    """Re-raise a cancellation that a library turned into another exception.

    Some client libraries catch ``CancelledError`` while connecting or
    stopping and raise an error of their own; a worker loop that retries on
    errors would then never stop. A loop calls this before retrying.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def bounded(awaitable: Awaitable[object], timeout_s: float) -> bool:
    """Await ``awaitable`` for at most ``timeout_s``; ``False`` if it did not finish.

    Unlike ``asyncio.wait_for``, which waits for the cancelled work to finish,
    this returns on time even when the work ignores its cancellation (a Kafka
    client's ``stop()`` with requests in flight to a dead broker can hang for
    ever); the straggler is cancelled and left behind.
    """
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=timeout_s)
    if not done:
        task.cancel()
        return False
    return task.cancelled() or task.exception() is None
