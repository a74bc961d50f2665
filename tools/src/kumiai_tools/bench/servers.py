"""A service's server processes for ``make bench``, as they are deployed: replicas of one
process each (``deploy/entrypoint.sh``), each on its own port, with the load generator
spreading its connections over them as a balancer in front of them would.

Not ``uvicorn --workers``: its processes share one socket that the parent binds before
they have started, so the connections a load opens in its first instant queue in that
socket's backlog, and the first process to finish starting accepts every one of them.
Keep-alive connections stay where they were accepted: one process served nearly the
whole load (~72 % of the servers' CPU) while the other idled.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from kumiai_tools.devstack import free_port, wait_for_port


@contextmanager
def replicas(app_factory: str, env: Mapping[str, str], count: int) -> Iterator[list[int]]:
    """Run ``count`` processes of ``app_factory``, each on a port of its own; their ports,
    once every one listens. Stopped on exit."""
    ports = [free_port() for _ in range(count)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                app_factory,
                "--factory",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=dict(env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for proc, port in zip(procs, ports, strict=True):
            wait_for_port("127.0.0.1", port, timeout_s=60, proc=proc)
        yield ports
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
