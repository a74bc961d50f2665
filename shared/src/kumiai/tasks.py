"""Long-running worker tasks (relay, consumer, timers) that stop when asked."""

from __future__ import annotations

import asyncio


def raise_if_cancelling() -> None:
    """Re-raise a cancellation that a library turned into another exception.

    Some client libraries catch ``CancelledError`` while connecting or
    stopping and raise an error of their own; a worker loop that retries on
    errors would then never stop. A loop calls this before retrying.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
