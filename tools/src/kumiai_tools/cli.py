"""``kumiai``: run the platform locally, migrate, mint development tokens, dump OpenAPI."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from kumiai.auth import Role, mint_token
from kumiai.migrations import upgrade
from kumiai.settings import DEVELOPMENT_JWT_SECRET
from kumiai_tools.catalog import SERVICES, ServiceInfo
from kumiai_tools.devstack import (
    Child,
    Console,
    EmbeddedPostgres,
    PipedProcess,
    Supervisor,
    TansuBroker,
    create_database,
    database_url,
    port_open,
)
from kumiai_tools.openapi import merge_openapi

app = typer.Typer(help="Kumiai platform tools.", no_args_is_help=True)

READY_TIMEOUT_S = 120
INFRASTRUCTURE, SERVICES_LAYER = 0, 1


def home() -> Path:
    return Path(os.environ.get("KUMIAI_HOME", ".kumiai")).resolve()


def jwt_secret() -> str:
    return os.environ.get("KUMIAI_JWT_SECRET", DEVELOPMENT_JWT_SECRET)


class Infrastructure:
    """PostgreSQL and the broker: given by the environment, or started here."""

    def __init__(self, echo: Callable[[str], None] = typer.echo) -> None:
        self.postgres: EmbeddedPostgres | None = None
        self.broker: TansuBroker | None = None
        self.server_url = os.environ.get("DATABASE_URL", "")
        self.bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
        self.echo = echo

    def start(self, *, broker: bool = True) -> None:
        data = home()
        data.mkdir(parents=True, exist_ok=True)
        if not self.server_url:
            port = int(os.environ.get("KUMIAI_POSTGRES_PORT", "54329"))
            if port_open("127.0.0.1", port):
                raise typer.BadParameter(f"port {port} is taken; set KUMIAI_POSTGRES_PORT")
            self.postgres = EmbeddedPostgres(data_dir=data / "postgres", port=port)
            self.echo(
                f"starting embedded PostgreSQL on 127.0.0.1:{port} (data in {data / 'postgres'})"
            )
            self.postgres.start()
            self.server_url = self.postgres.url
        if broker and not self.bootstrap:
            port = int(os.environ.get("KUMIAI_BROKER_PORT", "19092"))
            if port_open("127.0.0.1", port):
                raise typer.BadParameter(f"port {port} is taken; set KUMIAI_BROKER_PORT")
            self.broker = TansuBroker(port=port, log_path=data / "broker.log")
            self.echo(f"starting local Kafka-compatible broker (Tansu) on 127.0.0.1:{port}")
            self.broker.start()
            self.bootstrap = self.broker.bootstrap_servers

    def supervise(self, supervisor: Supervisor) -> None:
        """Hand what was started here to ``supervisor``, which restarts it if it dies."""
        if self.postgres:
            supervisor.adopt(Child("postgres", self.postgres, layer=INFRASTRUCTURE))
        if self.broker:
            supervisor.adopt(Child("broker", self.broker, layer=INFRASTRUCTURE))

    def stop(self) -> None:
        if self.broker:
            self.broker.stop()
        if self.postgres:
            self.postgres.stop()

    def migrate(self, services: list[ServiceInfo]) -> None:
        for info in services:
            asyncio.run(create_database(self.server_url, info.database))
            upgrade(info.root(), database_url(self.server_url, info.database))
            self.echo(f"migrated {info.name} ({info.database})")

    def service_env(self, info: ServiceInfo) -> dict[str, str]:
        p = info.env_prefix
        return {
            f"{p}DATABASE_URL": database_url(self.server_url, info.database),
            f"{p}KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            f"{p}JWT_SECRET": jwt_secret(),
            f"{p}DOCUMENTS_DIR": str(home() / "documents" / info.name),
        }


def service_process(
    info: ServiceInfo, infra: Infrastructure, console: Console, *, host: str, port: int
) -> PipedProcess:
    """A service under uvicorn, its output read into ``logs/<name>.log`` and the console."""
    logs = home() / "logs"
    logs.mkdir(exist_ok=True)
    return PipedProcess(
        info.name,
        [
            sys.executable,
            "-m",
            "uvicorn",
            info.app_factory,
            "--factory",
            "--host",
            host,
            "--port",
            str(port),
            "--no-access-log",
        ],
        # Unbuffered, so that what a service prints reaches its log as it happens.
        env={**os.environ, **infra.service_env(info), "PYTHONUNBUFFERED": "1"},
        log_path=logs / f"{info.name}.log",
        console=console,
    )


@app.command()
def up(
    host: Annotated[str, typer.Option(help="Address the services listen on")] = "127.0.0.1",
    port_offset: Annotated[
        int, typer.Option(envvar="KUMIAI_PORT_OFFSET", help="Added to every service's port")
    ] = 0,
) -> None:
    """Start PostgreSQL, the broker and all five services; Ctrl-C stops everything."""
    console = Console()
    supervisor = Supervisor(console)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    infra = Infrastructure(echo=console.say)
    try:
        infra.start()
        infra.supervise(supervisor)
        if supervisor.stopping:
            return
        infra.migrate(list(SERVICES))
        for info in SERVICES:
            process = service_process(info, infra, console, host=host, port=info.port + port_offset)
            supervisor.start(Child(info.name, process, layer=SERVICES_LAYER))
        if not _wait_ready(supervisor, host, port_offset):
            return
        console.say(_banner(infra, host, port_offset))
        supervisor.run()
    finally:
        console.say("stopping...")
        supervisor.stop()
        # What the supervisor was not given yet, if start-up failed half-way.
        infra.stop()
        console.say("stopped")
        console.close()


def _banner(infra: Infrastructure, host: str, port_offset: int) -> str:
    token = mint_token(secret=jwt_secret(), role=Role.STAFF, tenant="platform")
    lines = ["", "Kumiai is up:"]
    for info in SERVICES:
        url = f"http://{host}:{info.port + port_offset}"
        lines.append(f"  {info.name:<13} {url}   docs: {url}/docs")
    lines += [
        f"  database      {infra.server_url}",
        f"  broker        {infra.bootstrap}",
        f"  logs          {home() / 'logs'}",
        "",
        f"A staff token: {token}",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


def _wait_ready(
    supervisor: Supervisor, host: str, port_offset: int, timeout_s: float = READY_TIMEOUT_S
) -> bool:
    """Wait until every service answers /readyz; False if a stop was requested meanwhile."""
    deadline = time.monotonic() + timeout_s
    pending = {info.name: info for info in SERVICES}
    while pending:
        if supervisor.stopping:
            return False
        if time.monotonic() >= deadline:
            raise RuntimeError(
                f"not ready after {timeout_s}s: {', '.join(pending)}; see {home() / 'logs'}"
            )
        # A service that fails while starting is restarted like any other.
        supervisor.check()
        for name, info in list(pending.items()):
            try:
                url = f"http://{host}:{info.port + port_offset}/readyz"
                if httpx.get(url, timeout=2).status_code == 200:
                    del pending[name]
            except httpx.HTTPError:
                pass
        time.sleep(0.3)
    return True


@app.command()
def migrate(
    service: Annotated[list[str] | None, typer.Option(help="Only these services")] = None,
) -> None:
    """Create each service's database if missing and apply its migrations."""
    infra = Infrastructure()
    try:
        infra.start(broker=False)
        chosen = [s for s in SERVICES if not service or s.name in service]
        infra.migrate(chosen)
    finally:
        infra.stop()


@app.command()
def token(
    role: Annotated[
        Role, typer.Argument(help="staff, msme, investor, bank, municipality, service")
    ],
    tenant: Annotated[str, typer.Argument(help="Id of the MSME, investor, bank... it acts for")],
    hours: Annotated[float, typer.Option(help="Validity")] = 12,
) -> None:
    """Print a development JWT (HS256, the development secret or KUMIAI_JWT_SECRET)."""
    from datetime import timedelta

    typer.echo(
        mint_token(secret=jwt_secret(), role=role, tenant=tenant, ttl=timedelta(hours=hours))
    )


@app.command()
def openapi(
    output: Annotated[Path | None, typer.Option(help="File to write; stdout if absent")] = None,
) -> None:
    """Write the merged OpenAPI document of all services."""
    document = merged_openapi()
    text = json.dumps(document, indent=2, sort_keys=False)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n")
        typer.echo(f"wrote {output}")


@app.command()
def asyncapi(
    output: Annotated[Path | None, typer.Option(help="File to write; stdout if absent")] = None,
) -> None:
    """Write the AsyncAPI document of every event contract."""
    from kumiai_tools.asyncapi import asyncapi_document

    text = json.dumps(asyncapi_document(), indent=2)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n")
        typer.echo(f"wrote {output}")


def merged_openapi() -> dict[str, Any]:
    docs = []
    for info in SERVICES:
        settings = info.settings_class()(run_workers=False)
        docs.append((info.name, info.create_app(settings).openapi()))
    return merge_openapi(docs)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
