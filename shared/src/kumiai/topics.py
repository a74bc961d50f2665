"""Topic names: one events topic per producing service, under a namespace.

The namespace (setting ``topic_namespace``, default ``kumiai``) lets several
environments share one Kafka cluster; consumer groups carry it too.
"""

from __future__ import annotations

DEFAULT_NAMESPACE = "kumiai"


def events_topic(service: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    """The topic a service publishes its events to, keyed by subject."""
    return f"{namespace}.{service}.events"


def dead_letter_topic(service: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    """Where a service's consumer sends messages it could not handle."""
    return f"{namespace}.{service}.dead-letter"


def relay_marker_topic(service: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    """Written only by the service's relay; its loss tells the relay the broker forgot."""
    return f"{namespace}.{service}.relay-marker"


def consumer_group(service: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    return f"{namespace}.{service}"
