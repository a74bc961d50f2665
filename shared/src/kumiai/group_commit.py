"""Group commit: what concurrent requests of one process write is written together.

A request hands its item to the process's writer and waits for its own result.
The items that arrive while the writer's groups are being written form the next
group; nothing waits for a group to fill, so an item that finds a writer idle is
written at once, alone. A subclass writes a group (``write_together``) in one
transaction and answers one result per item, in the group's order.

Each item keeps what it would have alone: a group that fails is split in halves,
each written in its own transaction, down to the item that fails, whose request
gets the exception it would have got alone. A database that is unavailable fails
the whole group at once (each request is answered 503 and retried by its caller).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from kumiai.db import DatabaseFailure, UnitOfWork, database_failure
from kumiai.problems import ServiceUnavailable

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass(frozen=True)
class _Waiting(Generic[Item, Result]):
    item: Item
    done: asyncio.Future[Result]


class GroupWriter(ABC, Generic[Item, Result]):
    """Writes the items of concurrent requests in groups; one per process and kind."""

    stopping = "the service is stopping"
    """The refusal of the requests still waiting when the process stops."""
    max_group = 100
    """Items written in one transaction at most."""
    writers = 2
    """Groups a process writes at once: while one waits on the database, the next one's
    items are gathered and its first statements sent."""

    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        *,
        max_group: int | None = None,
        writers: int | None = None,
    ) -> None:
        self.unit_of_work = unit_of_work
        self._max_group = self.max_group if max_group is None else max_group
        self._writers = self.writers if writers is None else writers
        if self._max_group < 1 or self._writers < 1:
            raise ValueError("a group holds one item at least, and one group is written at once")
        self._queue: deque[_Waiting[Item, Result]] = deque()
        self._running = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.groups_written = 0
        """Transactions that committed (for tests and metrics)."""
        self.writing: list[int] = []
        """The sizes of the groups being written (for tests and metrics)."""
        self.groups_failed = 0
        """Groups whose transaction failed: written again in halves, or, alone, answered
        with the failure (for tests and metrics)."""

    @property
    def queued(self) -> int:
        """Items waiting for a group (for tests and metrics)."""
        return len(self._queue)

    @abstractmethod
    async def write_together(self, items: Sequence[Item]) -> list[Result]:
        """Write ``items`` in one transaction; one result per item, in their order."""

    async def write(self, item: Item) -> Result:
        """Write ``item`` (with whatever items arrive meanwhile) and answer its result.
        Raises what writing it alone would raise."""
        loop = asyncio.get_running_loop()
        waiting: _Waiting[Item, Result] = _Waiting(item, loop.create_future())
        self._queue.append(waiting)
        if self._running < self._writers:
            self._running += 1
            task = loop.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await waiting.done

    async def _drain(self) -> None:
        try:
            while self._queue:
                group: list[_Waiting[Item, Result]] = []
                while self._queue and len(group) < self._max_group:
                    waiting = self._queue.popleft()
                    if not waiting.done.done():  # its request is gone: nothing to write
                        group.append(waiting)
                if not group:
                    continue
                self.writing.append(len(group))
                try:
                    await self._write_group(group)
                except BaseException:
                    # Cancelled (the process stops): no request waits for an answer forever.
                    for waiting in group:
                        _settle(waiting, exception=ServiceUnavailable(self.stopping))
                    raise
                finally:
                    self.writing.remove(len(group))
        finally:
            self._running -= 1

    async def _write_group(self, group: list[_Waiting[Item, Result]]) -> None:
        try:
            results = await self.write_together([w.item for w in group])
        except Exception as exc:
            self.groups_failed += 1
            if len(group) == 1 or database_failure(exc) is DatabaseFailure.UNAVAILABLE:
                for waiting in group:
                    _settle(waiting, exception=exc)
                return
            half = len(group) // 2
            await self._write_group(group[:half])
            await self._write_group(group[half:])
            return
        self.groups_written += 1
        for waiting, result in zip(group, results, strict=True):
            _settle(waiting, result=result)


def _settle(
    waiting: _Waiting[Item, Result],
    *,
    result: Result | None = None,
    exception: BaseException | None = None,
) -> None:
    if waiting.done.done():
        return
    if exception is not None:
        waiting.done.set_exception(exception)
    else:
        waiting.done.set_result(result)  # type: ignore[arg-type]
