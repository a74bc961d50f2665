"""``kumiai``: run the platform locally, migrate, mint development tokens, dump OpenAPI."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from kumiai.auth import Role, mint_token
from kumiai.catalog import SERVICES, ServiceInfo
from kumiai.devstack import EmbeddedPostgres, TansuBroker, create_database, database_url, port_open
from kumiai.migrations import upgrade
from kumiai.openapi import merge_openapi
from kumiai.settings import DEVELOPMENT_JWT_SECRET

app = typer.Typer(help="Kumiai platform tools.", no_args_is_help=True)


def home() -> Path:
    return Path(os.environ.get("KUMIAI_HOME", ".kumiai")).resolve()


def jwt_secret() -> str:
    return os.environ.get("KUMIAI_JWT_SECRET", DEVELOPMENT_JWT_SECRET)


class Infrastructure:
    """PostgreSQL and the broker: given by the environment, or started here."""

    def __init__(self) -> None:
        self.postgres: EmbeddedPostgres | None = None
        self.broker: TansuBroker | None = None
        self.server_url = os.environ.get("DATABASE_URL", "")
        self.bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")

    def start(self, *, broker: bool = True) -> None:
        data = home()
        data.mkdir(parents=True, exist_ok=True)
        if not self.server_url:
            port = int(os.environ.get("KUMIAI_POSTGRES_PORT", "54329"))
            if port_open("127.0.0.1", port):
                raise typer.BadParameter(f"port {port} is taken; set KUMIAI_POSTGRES_PORT")
            self.postgres = EmbeddedPostgres(data_dir=data / "postgres", port=port)
            typer.echo(
                f"starting embedded PostgreSQL on 127.0.0.1:{port} (data in {data / 'postgres'})"
            )
            self.postgres.start()
            self.server_url = self.postgres.url
        if broker and not self.bootstrap:
            port = int(os.environ.get("KUMIAI_BROKER_PORT", "19092"))
            if port_open("127.0.0.1", port):
                raise typer.BadParameter(f"port {port} is taken; set KUMIAI_BROKER_PORT")
            self.broker = TansuBroker(port=port, log_path=data / "broker.log")
            typer.echo(f"starting local Kafka-compatible broker (Tansu) on 127.0.0.1:{port}")
            self.broker.start()
            self.bootstrap = self.broker.bootstrap_servers

    def stop(self) -> None:
        if self.broker:
            self.broker.stop()
        if self.postgres:
            self.postgres.stop()

    def migrate(self, services: list[ServiceInfo]) -> None:
        for info in services:
            asyncio.run(create_database(self.server_url, info.database))
            upgrade(info.root(), database_url(self.server_url, info.database))
            typer.echo(f"migrated {info.name} ({info.database})")

    def service_env(self, info: ServiceInfo) -> dict[str, str]:
        p = info.env_prefix
        return {
            f"{p}DATABASE_URL": database_url(self.server_url, info.database),
            f"{p}KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            f"{p}JWT_SECRET": jwt_secret(),
            f"{p}DOCUMENTS_DIR": str(home() / "documents" / info.name),
        }


@app.command()
def up(
    host: Annotated[str, typer.Option(help="Address the services listen on")] = "127.0.0.1",
    port_offset: Annotated[
        int, typer.Option(envvar="KUMIAI_PORT_OFFSET", help="Added to every service's port")
    ] = 0,
) -> None:
    """Start PostgreSQL, the broker and all five services; Ctrl-C stops everything."""
    infra = Infrastructure()
    children: list[tuple[ServiceInfo, subprocess.Popen[bytes]]] = []
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        infra.start()
        infra.migrate(list(SERVICES))
        logs = home() / "logs"
        logs.mkdir(exist_ok=True)
        for info in SERVICES:
            env = {**os.environ, **infra.service_env(info)}
            out = open(logs / f"{info.name}.log", "ab")  # noqa: SIM115 - owned by the child
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    info.app_factory,
                    "--factory",
                    "--host",
                    host,
                    "--port",
                    str(info.port + port_offset),
                    "--no-access-log",
                ],
                env=env,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
            children.append((info, proc))
        _wait_ready(children, host, port_offset, lambda: stopping)
        token = mint_token(secret=jwt_secret(), role=Role.STAFF, tenant="platform")
        typer.echo("\nKumiai is up:")
        for info, _ in children:
            typer.echo(
                f"  {info.name:<13} http://{host}:{info.port + port_offset}"
                f"   docs: http://{host}:{info.port + port_offset}/docs"
            )
        typer.echo(f"  database      {infra.server_url}")
        typer.echo(f"  broker        {infra.bootstrap}")
        typer.echo(f"  logs          {logs}")
        typer.echo(f"\nA staff token: {token}\nCtrl-C stops everything.")
        while not stopping:
            for info, proc in children:
                if proc.poll() is not None:
                    typer.echo(f"{info.name} exited with {proc.returncode}; stopping", err=True)
                    stopping = True
            time.sleep(0.5)
    finally:
        typer.echo("stopping...")
        for _, proc in children:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _, proc in children:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        infra.stop()
        typer.echo("stopped")


def _wait_ready(
    children: list[tuple[ServiceInfo, subprocess.Popen[bytes]]],
    host: str,
    port_offset: int,
    stopping: object,
    timeout_s: float = 120,
) -> None:
    deadline = time.monotonic() + timeout_s
    pending = {info.name: info for info, _ in children}
    while pending and time.monotonic() < deadline:
        if callable(stopping) and stopping():
            raise typer.Exit(1)
        for info, proc in children:
            if proc.poll() is not None:
                raise RuntimeError(f"{info.name} exited with {proc.returncode}; see its log")
        for name, info in list(pending.items()):
            try:
                url = f"http://{host}:{info.port + port_offset}/readyz"
                if httpx.get(url, timeout=2).status_code == 200:
                    del pending[name]
            except httpx.HTTPError:
                pass
        time.sleep(0.3)
    if pending:
        raise RuntimeError(f"not ready after {timeout_s}s: {', '.join(pending)}")


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
    from kumiai.asyncapi import asyncapi_document

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
