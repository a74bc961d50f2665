"""The container image, docker-compose.yml and deploy/k8s agree with the service catalog."""

from __future__ import annotations

import re
import shlex
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from kumiai_tools.catalog import SERVICES, ServiceInfo

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"
K8S = DEPLOY / "k8s"
INFRASTRUCTURE = {"postgres", "kafka", "migrate"}
NAMES = [info.name for info in SERVICES]

per_service = pytest.mark.parametrize("info", SERVICES, ids=NAMES)


# --- docker-compose.yml ------------------------------------------------------


@cache
def compose() -> dict[str, Any]:
    assert COMPOSE.is_file(), f"{COMPOSE} is missing"
    document = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(document, dict), "docker-compose.yml is not a mapping"
    assert isinstance(document.get("services"), dict), "docker-compose.yml has no services"
    return document


def compose_service(name: str) -> dict[str, Any]:
    services: dict[str, Any] = compose()["services"]
    assert name in services, f"docker-compose.yml has no service {name!r}"
    definition: dict[str, Any] = services[name]
    return definition


def environment(definition: dict[str, Any]) -> dict[str, str]:
    """``environment`` as a mapping, whether written as a mapping or a list."""
    raw = definition.get("environment") or {}
    if isinstance(raw, list):
        return dict(item.split("=", 1) for item in raw)
    return {str(key): "" if value is None else str(value) for key, value in raw.items()}


def published_ports(definition: dict[str, Any]) -> set[tuple[int, int]]:
    """(host port, container port) pairs, from the short or the long syntax."""
    pairs: set[tuple[int, int]] = set()
    for entry in definition.get("ports") or []:
        if isinstance(entry, dict):
            pairs.add((int(entry["published"]), int(entry["target"])))
            continue
        parts = str(entry).split("/")[0].split(":")
        if len(parts) >= 2:
            pairs.add((int(parts[-2]), int(parts[-1])))
    return pairs


def healthcheck_command(definition: dict[str, Any]) -> str:
    check = definition.get("healthcheck") or {}
    if check.get("disable"):
        return ""
    test = check.get("test") or ""
    if isinstance(test, list):
        return " ".join(str(part) for part in test)
    return str(test)


def dependencies(definition: dict[str, Any]) -> dict[str, str]:
    """Each dependency and its condition (the list form means service_started)."""
    raw = definition.get("depends_on") or {}
    if isinstance(raw, list):
        return dict.fromkeys(raw, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in raw.items()}


def interpolation_default(value: str) -> str:
    """The default of a ``${VAR:-default}`` value, or the value itself."""
    match = re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-(.*)\}", value)
    return match.group(1) if match else value


def command_words(definition: dict[str, Any]) -> list[str]:
    command = definition.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def test_compose_runs_exactly_the_catalog_services() -> None:
    declared = set(compose()["services"]) - INFRASTRUCTURE
    missing = sorted(set(NAMES) - declared)
    unknown = sorted(declared - set(NAMES))
    assert not missing, f"services missing from docker-compose.yml: {missing}"
    assert not unknown, f"docker-compose.yml runs services not in the catalog: {unknown}"
    absent = sorted(INFRASTRUCTURE - set(compose()["services"]))
    assert not absent, f"docker-compose.yml lacks infrastructure services: {absent}"


@per_service
def test_compose_service_is_built_from_the_shared_image(info: ServiceInfo) -> None:
    definition = compose_service(info.name)
    build = definition.get("build")
    assert isinstance(build, dict), f"{info.name}: no build section"
    assert build.get("context") == ".", f"{info.name}: build context is not the repository root"
    assert build.get("dockerfile") == "deploy/Dockerfile", f"{info.name}: not deploy/Dockerfile"
    env = environment(definition)
    assert env.get("SERVICE") == info.name, f"{info.name}: SERVICE is {env.get('SERVICE')!r}"
    words = command_words(definition)
    assert not words or info.app_factory in words, f"{info.name}: command does not run its app"


@per_service
def test_compose_service_publishes_its_catalog_port(info: ServiceInfo) -> None:
    definition = compose_service(info.name)
    ports = published_ports(definition)
    assert (info.port, info.port) in ports, f"{info.name}: port {info.port} not published"
    listen = environment(definition).get("PORT", str(info.port))
    assert listen == str(info.port), f"{info.name}: listens on {listen}, catalog says {info.port}"


@per_service
def test_compose_service_environment_uses_its_prefix(info: ServiceInfo) -> None:
    env = environment(compose_service(info.name))
    prefix = info.env_prefix

    database_url = env.get(f"{prefix}DATABASE_URL")
    assert database_url, f"{info.name}: {prefix}DATABASE_URL is not set"
    assert database_url.startswith("postgresql+asyncpg://"), f"{prefix}DATABASE_URL driver"
    assert "@postgres:" in database_url, f"{prefix}DATABASE_URL does not point at postgres"
    assert database_url.endswith(f"/{info.database}"), f"{prefix}DATABASE_URL not {info.database}"

    bootstrap = env.get(f"{prefix}KAFKA_BOOTSTRAP_SERVERS")
    assert bootstrap == "kafka:9092", f"{info.name}: {prefix}KAFKA_BOOTSTRAP_SERVERS={bootstrap!r}"

    secret = env.get(f"{prefix}JWT_SECRET")
    assert secret, f"{info.name}: {prefix}JWT_SECRET is not set"
    assert len(interpolation_default(secret)) >= 32, f"{prefix}JWT_SECRET default is too short"

    others = [s.env_prefix for s in SERVICES if s is not info]
    strays = sorted(key for key in env if key.startswith(tuple(others)))
    assert not strays, f"{info.name}: settings of other services: {strays}"


@per_service
def test_compose_service_is_ready_only_with_its_dependencies(info: ServiceInfo) -> None:
    definition = compose_service(info.name)
    assert "/readyz" in healthcheck_command(definition), f"{info.name}: healthcheck not /readyz"
    wanted = {
        "postgres": "service_healthy",
        "kafka": "service_healthy",
        "migrate": "service_completed_successfully",
    }
    actual = dependencies(definition)
    wrong = {name: actual.get(name) for name, cond in wanted.items() if actual.get(name) != cond}
    assert not wrong, f"{info.name}: depends_on conditions should be {wanted}, got {wrong}"


def test_postgres_is_official_and_health_checked() -> None:
    postgres = compose_service("postgres")
    image = str(postgres.get("image", ""))
    assert re.fullmatch(r"postgres:\d+[\w.-]*", image), f"postgres image is {image!r}"
    assert "pg_isready" in healthcheck_command(postgres), "postgres healthcheck lacks pg_isready"
    assert postgres.get("volumes"), "postgres keeps its data in no volume"


def test_kafka_is_official_health_checked_and_in_kraft_mode() -> None:
    kafka = compose_service("kafka")
    image = str(kafka.get("image", ""))
    assert image.startswith("apache/kafka:"), f"kafka image is {image!r}, not apache/kafka"
    assert "/opt/kafka/bin/" in healthcheck_command(kafka), "kafka has no broker healthcheck"
    env = environment(kafka)
    roles = {role.strip() for role in env.get("KAFKA_PROCESS_ROLES", "").split(",")}
    assert {"broker", "controller"} <= roles, f"KAFKA_PROCESS_ROLES is {roles}, not KRaft"
    assert env.get("KAFKA_CONTROLLER_QUORUM_VOTERS"), "KAFKA_CONTROLLER_QUORUM_VOTERS is not set"
    assert "kafka:9092" in env.get("KAFKA_ADVERTISED_LISTENERS", ""), "kafka:9092 not advertised"
    zookeeper = sorted(key for key in env if "ZOOKEEPER" in key)
    assert not zookeeper, f"kafka still configures ZooKeeper: {zookeeper}"


def test_migrate_runs_the_cli_once_against_the_server() -> None:
    migrate = compose_service("migrate")
    words = command_words(migrate)
    assert words[-1:] == ["kumiai-migrate"], f"migrate runs {words}, not `kumiai-migrate`"
    build = migrate.get("build") or {}
    assert build.get("dockerfile") == "deploy/Dockerfile", "migrate is not built from the image"
    url = environment(migrate).get("DATABASE_URL", "")
    assert re.fullmatch(r"postgresql\+asyncpg://[^@]+@postgres:5432/postgres", url), (
        f"migrate DATABASE_URL {url!r} is not the server URL"
    )
    condition = dependencies(migrate).get("postgres")
    assert condition == "service_healthy", f"migrate waits for postgres with {condition!r}"
    assert migrate.get("restart", "no") == "no", "a one-shot migrate must not restart"


def test_compose_named_volumes_are_declared() -> None:
    declared = set(compose().get("volumes") or {})
    used = set()
    for definition in compose()["services"].values():
        for volume in definition.get("volumes") or []:
            source = volume.get("source") if isinstance(volume, dict) else volume.split(":")[0]
            if source and not source.startswith((".", "/", "~", "$")):
                used.add(source)
    assert used <= declared, f"volumes used but not declared: {sorted(used - declared)}"


# --- deploy/Dockerfile ---------------------------------------------------------


def dockerfile() -> str:
    assert DOCKERFILE.is_file(), f"{DOCKERFILE} is missing"
    return DOCKERFILE.read_text()


def test_dockerfile_installs_from_the_lock_file() -> None:
    text = dockerfile()
    copied = re.search(r"^COPY\b[^\n]*\buv\.lock\b", text, re.M)
    assert copied, "deploy/Dockerfile does not COPY uv.lock"
    assert "uv sync --frozen" in text, "deploy/Dockerfile does not install with uv sync --frozen"
    assert "--no-dev" in text, "deploy/Dockerfile installs development dependencies"
    pinned = re.search(r"^UV_VERSION\s*:=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M)
    assert pinned, "Makefile has no UV_VERSION"
    assert f"UV_VERSION={pinned.group(1)}" in text, f"deploy/Dockerfile is not on uv {pinned[1]}"


@per_service
def test_dockerfile_copies_each_service_manifest(info: ServiceInfo) -> None:
    manifest = f"services/{info.name}/pyproject.toml"
    assert manifest in dockerfile(), f"deploy/Dockerfile does not copy {manifest}"


def test_dockerfile_runs_unprivileged_with_a_healthcheck() -> None:
    text = dockerfile()
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users, "deploy/Dockerfile never switches USER"
    assert users[-1].split(":")[0] not in {"root", "0"}, f"the image runs as {users[-1]}"
    healthcheck = re.search(r"^HEALTHCHECK\b.*?/healthz", text, re.M | re.S)
    assert healthcheck, "deploy/Dockerfile has no HEALTHCHECK on /healthz"
    for script in ("entrypoint.sh", "healthcheck.py"):
        assert (DEPLOY / script).is_file(), f"deploy/{script} is missing"
        assert f"deploy/{script}" in text, f"deploy/Dockerfile does not copy deploy/{script}"


def test_build_context_is_an_allow_list() -> None:
    assert DOCKERIGNORE.is_file(), f"{DOCKERIGNORE} is missing"
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert patterns, f"{DOCKERIGNORE} has no patterns"
    assert patterns[0] in {"*", "**"}, "the build context does not exclude everything by default"
    needed = {
        "!uv.lock",
        "!pyproject.toml",
        "!shared/src",
        "!services/*/src",
        "!services/*/migrations",
        "!deploy/entrypoint.sh",
        "!deploy/healthcheck.py",
    }
    missing = sorted(needed - set(patterns))
    assert not missing, f"the build context leaves out {missing}"


# --- deploy/k8s ------------------------------------------------------------------


@cache
def manifests() -> tuple[dict[str, Any], ...]:
    documents: list[dict[str, Any]] = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        documents.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    assert documents, f"no manifests in {K8S}"
    return tuple(documents)


def manifest(kind: str, name: str) -> dict[str, Any]:
    for document in manifests():
        if document.get("kind") == kind and document["metadata"]["name"] == name:
            return document
    raise AssertionError(f"deploy/k8s has no {kind} named {name!r}")


def env_names(container: dict[str, Any]) -> set[str]:
    """Variable names a container gets, following envFrom into the manifests."""
    names = {entry["name"] for entry in container.get("env") or []}
    for source in container.get("envFrom") or []:
        if "configMapRef" in source:
            keys = set(manifest("ConfigMap", source["configMapRef"]["name"]).get("data") or {})
        else:
            secret = manifest("Secret", source["secretRef"]["name"])
            keys = set(secret.get("data") or {}) | set(secret.get("stringData") or {})
        names |= {source.get("prefix", "") + key for key in keys}
    return names


def main_container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    assert containers, f"{deployment['metadata']['name']}: no containers"
    return containers[0]


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization.get("resources") or [])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert not present - listed, f"manifests not in kustomization: {sorted(present - listed)}"
    assert not listed - present, f"kustomization lists missing files: {sorted(listed - present)}"


@per_service
def test_k8s_deployment_runs_the_service(info: ServiceInfo) -> None:
    deployment = manifest("Deployment", info.name)
    assert deployment["spec"].get("replicas", 1) >= 2, f"{info.name}: fewer than 2 replicas"
    container = main_container(deployment)
    ports = {p["containerPort"] for p in container.get("ports") or []}
    assert info.port in ports, f"{info.name}: container port {info.port} not declared"
    readiness = (container.get("readinessProbe") or {}).get("httpGet") or {}
    liveness = (container.get("livenessProbe") or {}).get("httpGet") or {}
    assert readiness.get("path") == "/readyz", f"{info.name}: readiness probe is not /readyz"
    assert liveness.get("path") == "/healthz", f"{info.name}: liveness probe is not /healthz"
    resources = container.get("resources") or {}
    for bound in ("requests", "limits"):
        missing = {"cpu", "memory"} - set(resources.get(bound) or {})
        assert not missing, f"{info.name}: resources.{bound} lacks {sorted(missing)}"
    env = {e["name"]: e.get("value") for e in container.get("env") or []}
    assert env.get("SERVICE") == info.name, f"{info.name}: SERVICE is {env.get('SERVICE')!r}"
    names = env_names(container)
    for setting in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "JWT_SECRET"):
        assert f"{info.env_prefix}{setting}" in names, f"{info.name}: no {info.env_prefix}{setting}"


@per_service
def test_k8s_service_and_autoscaler_target_the_deployment(info: ServiceInfo) -> None:
    deployment = manifest("Deployment", info.name)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = manifest("Service", info.name)
    selector = service["spec"]["selector"]
    assert selector.items() <= pod_labels.items(), f"Service {info.name} selects no pods"
    container_ports = main_container(deployment).get("ports") or []
    targets = {p["containerPort"] for p in container_ports}
    targets |= {p["name"] for p in container_ports if "name" in p}
    service_targets = {p.get("targetPort", p["port"]) for p in service["spec"]["ports"]}
    assert service_targets & targets, f"Service {info.name} targets no container port"
    hpa = manifest("HorizontalPodAutoscaler", info.name)
    ref = hpa["spec"]["scaleTargetRef"]
    assert (ref["kind"], ref["name"]) == ("Deployment", info.name), f"HPA {info.name} target"
    assert hpa["spec"].get("minReplicas", 1) >= 2, f"HPA {info.name} scales below 2 replicas"


@per_service
def test_k8s_ingress_routes_a_prefix_to_the_service(info: ServiceInfo) -> None:
    ingresses = [d for d in manifests() if d.get("kind") == "Ingress"]
    assert ingresses, "deploy/k8s has no Ingress"
    service_ports = manifest("Service", info.name)["spec"]["ports"]
    accepted = {p["port"] for p in service_ports} | {p.get("name") for p in service_ports}
    for ingress in ingresses:
        annotations = ingress["metadata"].get("annotations") or {}
        for rule in ingress["spec"].get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                backend = path["backend"]["service"]
                if not re.match(rf"/{info.name}(?![\w-])", path["path"]):
                    continue
                assert backend["name"] == info.name, f"/{info.name} routes to {backend['name']}"
                port = backend["port"].get("number", backend["port"].get("name"))
                assert port in accepted, f"/{info.name} routes to unknown port {port}"
                rewrite = annotations.get("nginx.ingress.kubernetes.io/rewrite-target")
                assert rewrite, f"/{info.name} is routed without stripping its prefix"
                return
    raise AssertionError(f"no Ingress path routes /{info.name}/ to the {info.name} Service")


def test_k8s_migration_job_runs_the_cli() -> None:
    job = manifest("Job", "kumiai-migrate")
    container = job["spec"]["template"]["spec"]["containers"][0]
    words = [*container.get("command", []), *container.get("args", [])]
    assert words[-1:] == ["kumiai-migrate"], f"the migration Job runs {words}"
    assert "DATABASE_URL" in env_names(container), "the migration Job has no DATABASE_URL"
