"""Group commit (``kumiai.group_commit``): the items that arrive while a group is written
form the next group, each keeps its own result, and a failing item is found alone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import pytest

from kumiai.db import UnitOfWork
from kumiai.group_commit import GroupWriter
from kumiai.problems import ServiceUnavailable
from kumiai_tools.testing import eventually


def _no_database() -> UnitOfWork:
    raise AssertionError("this writer writes nowhere")


class Doubler(GroupWriter[int, int]):
    """Answers each item doubled; refuses the group of any negative item; writes after
    ``gate`` opens."""

    def __init__(self, *, max_group: int = 10, writers: int = 1) -> None:
        super().__init__(_no_database, max_group=max_group, writers=writers)
        self.gate = asyncio.Event()
        self.groups: list[list[int]] = []

    async def write_together(self, items: Sequence[int]) -> list[int]:
        await self.gate.wait()
        self.groups.append(list(items))
        if any(i < 0 for i in items):
            raise ValueError(f"negative in {list(items)}")
        return [2 * i for i in items]


async def _until(condition: Callable[[], bool]) -> None:
    async def holds() -> bool:
        return condition()

    await eventually(holds, timeout_s=5, interval_s=0.001, what="the writer's state")


async def test_items_arriving_while_a_group_is_written_form_the_next_group() -> None:
    writer = Doubler(writers=1, max_group=3)
    first = asyncio.create_task(writer.write(1))
    await _until(lambda: writer.writing == [1])
    rest = [asyncio.create_task(writer.write(i)) for i in range(2, 7)]
    await _until(lambda: writer.queued == 5)
    writer.gate.set()
    results = await asyncio.gather(first, *rest)
    assert results == [2, 4, 6, 8, 10, 12]
    assert writer.groups == [[1], [2, 3, 4], [5, 6]]
    assert writer.groups_written == 3
    assert writer.groups_failed == 0
    assert (writer.writing, writer.queued) == ([], 0)


async def test_a_failing_item_is_found_alone_and_the_others_are_written() -> None:
    writer = Doubler(writers=1)
    blocker = asyncio.create_task(writer.write(0))
    await _until(lambda: writer.writing == [1])
    tasks = [asyncio.create_task(writer.write(i)) for i in (1, -2, 3, 4)]
    await _until(lambda: writer.queued == 4)
    writer.gate.set()
    outcomes = await asyncio.gather(blocker, *tasks, return_exceptions=True)
    assert outcomes[0] == 0
    assert outcomes[1] == 2
    assert isinstance(outcomes[2], ValueError)
    assert str(outcomes[2]) == "negative in [-2]"
    assert outcomes[3:] == [6, 8]
    # Halves down to the item that fails; each group that committed is counted.
    assert writer.groups == [[0], [1, -2, 3, 4], [1, -2], [1], [-2], [3, 4]]
    assert writer.groups_written == 3
    # [1, -2, 3, 4], [1, -2] and [-2] failed.
    assert writer.groups_failed == 3
    # [1, -2, 3, 4], [1, -2] and [-2] failed.
    assert writer.groups_failed == 3


async def test_requests_waiting_when_the_process_stops_are_answered() -> None:
    writer = Doubler(writers=1)
    waiting = asyncio.create_task(writer.write(1))
    await _until(lambda: writer.writing == [1])
    (drain,) = writer._tasks
    drain.cancel()
    with pytest.raises(ServiceUnavailable):
        await waiting
    assert writer.writing == []


def test_a_writer_writes_one_item_at_least() -> None:
    with pytest.raises(ValueError, match="one item at least"):
        Doubler(max_group=0)
