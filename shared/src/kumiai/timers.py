"""Work that falls due with time (deadlines, scheduled openings), driven from the database.

A timer's ``run`` finds what is due at ``now`` in the service's tables, acts
on a batch of it and returns how many it handled, all in one unit of work. It
must claim rows with ``FOR UPDATE SKIP LOCKED`` and change their state, so
that two instances of a service never handle the same row and a restart
misses nothing: what was due and not yet handled is still due.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from kumiai.db import UnitOfWork
from kumiai.tasks import raise_if_cancelling

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Timer:
    name: str
    run: Callable[[UnitOfWork, datetime], Awaitable[int]]
    interval_s: float = 1.0
    """Pause after a pass that found nothing due; a full pass runs again at once."""


async def run_timer(
    timer: Timer,
    unit_of_work: Callable[[], UnitOfWork],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Run ``timer`` until cancelled; a failing pass is logged and tried again later."""
    while True:
        try:
            async with unit_of_work() as uow:
                handled = await timer.run(uow, clock())
        except asyncio.CancelledError:
            raise
        except Exception:
            raise_if_cancelling()
            log.exception("timer pass failed", timer=timer.name)
            handled = 0
        if handled == 0:
            await asyncio.sleep(timer.interval_s)
