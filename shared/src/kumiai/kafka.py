"""aiokafka plumbing: producers, topic creation and a broker reachability probe."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from kumiai.tasks import bounded

CLIENT_TIMEOUT_MS = 10_000


def new_producer(bootstrap_servers: str, *, client_id: str) -> AIOKafkaProducer:
    # acks=all: an event counts as published only once the broker has it.
    # The local broker has no idempotent producer, so de-duplication is the
    # consumer's job (inbox); the relay never depends on exactly-once sends.
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        linger_ms=2,
        max_batch_size=256 * 1024,
        request_timeout_ms=CLIENT_TIMEOUT_MS,
        enable_idempotence=False,
    )


async def ensure_topics(
    bootstrap_servers: str,
    topics: Iterable[str],
    *,
    partitions: int,
    replication_factor: int = 1,
    client_id: str = "kumiai-admin",
) -> None:
    """Create the topics that are missing; existing ones are left as they are."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        request_timeout_ms=CLIENT_TIMEOUT_MS,
    )
    await admin.start()
    try:
        wanted = list(topics)
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [NewTopic(t, partitions, replication_factor) for t in missing]
                )
    finally:
        await admin.close()


async def broker_reachable(bootstrap_servers: str, *, timeout_s: float = 3.0) -> bool:
    """True if a broker answers a metadata request within the timeout."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        client_id="kumiai-readiness",
        request_timeout_ms=int(timeout_s * 1000),
    )
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        await asyncio.wait_for(admin.list_topics(), timeout_s)
    except Exception:
        return False
    finally:
        # A failed close of a probe changes nothing, and must never hold the caller up.
        await bounded(admin.close(), timeout_s)
    return True
