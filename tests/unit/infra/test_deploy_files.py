"""No Docker engine or cluster runs in CI, so these check what can be checked without one: every
command the deploy files run is a real `truckroll` subcommand with real flags."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
import yaml

from api.cli import build_parser

DEPLOY = Path(__file__).resolve().parents[3] / "infra" / "deploy"


def _commands_in(document: object) -> list[list[str]]:
    found: list[list[str]] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "command" and isinstance(value, list) and value and value[0] == "truckroll":
                found.append([str(v) for v in value])
            else:
                found.extend(_commands_in(value))
    elif isinstance(document, list):
        for item in document:
            found.extend(_commands_in(item))
    return found


def _all_deploy_commands() -> list[list[str]]:
    commands: list[list[str]] = []
    for path in [*sorted(DEPLOY.glob("compose*.yaml")), *sorted((DEPLOY / "k8s").glob("*.yaml"))]:
        for document in yaml.safe_load_all(path.read_text()):
            commands.extend(_commands_in(document))
    cmd = re.search(r"^CMD (\[.*\])$", (DEPLOY / "Dockerfile").read_text(), re.MULTILINE)
    assert cmd is not None
    commands.append(yaml.safe_load(cmd.group(1)))
    return commands


def test_the_deploy_files_run_truckroll_commands() -> None:
    subcommands = {c[1] for c in _all_deploy_commands()}
    assert {"serve", "migrate"} <= subcommands


@pytest.mark.parametrize("command", _all_deploy_commands(), ids=" ".join)
def test_every_deploy_command_parses_with_the_cli(command: list[str]) -> None:
    parser = build_parser()
    parser.exit_on_error = False
    try:
        parser.parse_args(command[1:])
    except (argparse.ArgumentError, SystemExit) as exc:  # pragma: no cover - the failure message
        pytest.fail(f"{' '.join(command)} is not a valid truckroll command: {exc}")


def test_replicas_do_not_migrate_but_a_job_does() -> None:
    api = yaml.safe_load_all((DEPLOY / "k8s" / "api.yaml").read_text())
    serve = [c for d in api for c in _commands_in(d)]
    assert all("--skip-migrations" in c for c in serve)
    job = next(yaml.safe_load_all((DEPLOY / "k8s" / "migrate-job.yaml").read_text()))
    assert job["kind"] == "Job"
    assert _commands_in(job) == [["truckroll", "migrate"]]


def test_the_api_deployment_has_probes_and_resource_requests() -> None:
    deployment = next(
        d for d in yaml.safe_load_all((DEPLOY / "k8s" / "api.yaml").read_text()) if d["kind"] == "Deployment"
    )
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["resources"]["requests"]


def _k8s_containers() -> list[tuple[str, dict[str, object], dict[str, object]]]:
    """(file, pod spec, container) for every container of every workload."""
    found: list[tuple[str, dict[str, object], dict[str, object]]] = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document["kind"] in ("Deployment", "Job"):
                pod = document["spec"]["template"]["spec"]
                found.extend((path.name, pod, container) for container in pod["containers"])
    return found


def test_every_container_requests_resources_and_only_the_job_migrates() -> None:
    containers = _k8s_containers()
    assert {name for name, _, _ in containers} >= {"api.yaml", "worker.yaml", "migrate-job.yaml"}
    for name, _, container in containers:
        resources = container["resources"]
        assert isinstance(resources, dict)
        assert resources["requests"], name
        assert resources["limits"], name
        command = container["command"]
        assert isinstance(command, list)
        if command[1] in ("serve", "worker"):
            assert "--skip-migrations" in command, f"{name}: replicas must not migrate"


def test_long_running_workloads_outlast_their_graceful_shutdown() -> None:
    # uvicorn lets requests finish for 10 s; the grace period must be longer, or they are cut.
    for name, pod, container in _k8s_containers():
        command = container["command"]
        assert isinstance(command, list)
        if command[1] in ("serve", "worker"):
            grace = pod.get("terminationGracePeriodSeconds", 30)
            assert isinstance(grace, int)
            assert grace > 10, name


def test_compose_migrates_once_then_runs_the_api_and_a_worker() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert services["migrate"]["command"] == ["truckroll", "migrate"]
    for name in ("api", "worker"):
        service = services[name]
        assert "--skip-migrations" in service["command"]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["deploy"]["resources"]["reservations"], name
    assert "/ready" in " ".join(services["api"]["healthcheck"]["test"])
    # Liveness for a plain `docker run`: the image's own health check.
    assert re.search(r"^HEALTHCHECK .*/health", (DEPLOY / "Dockerfile").read_text(), re.MULTILINE)


def test_the_image_runs_as_a_non_root_user() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^USER (?!root|0\b)\S+", dockerfile, re.MULTILINE)


def _router_port(command: list[str]) -> str:
    assert command[0] == "osrm-routed"
    assert "--max-table-size" in command  # OSRM's default (100 places) refuses a busy day's plan
    return command[command.index("--port") + 1]


def test_compose_routing_builds_road_data_once_then_serves_it_to_the_api() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.routing.yaml").read_text())
    services = compose["services"]
    build, router, api = services["osrm-build"], services["osrm"], services["api"]
    # One OSRM builds the data and serves it (its file format changes between versions).
    assert build["image"] == router["image"]
    assert router["depends_on"]["osrm-build"]["condition"] == "service_completed_successfully"
    data = router["command"][-1]
    script = build["command"][0]
    assert f"osrm-customize {data}" in script
    assert "-nt /extract/area.osm.pbf" in script  # rebuilt only when the extract is newer
    assert {v.split(":")[0] for v in build["volumes"]} >= {"osrm"}
    assert router["volumes"] == ["osrm:/data:ro"]
    assert api["environment"]["TRUCKROLL_ROUTING_URL"] == f"http://osrm:{_router_port(router['command'])}"
    assert router["deploy"]["resources"]["limits"]["memory"]
    # The base file alone stays the zero-setup deployment: no router, the straight-line model.
    base = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert "osrm" not in base["services"]
    assert "TRUCKROLL_ROUTING_URL" not in base["services"]["api"]["environment"]


def test_the_k8s_router_builds_its_data_before_serving_and_the_api_is_pointed_at_it() -> None:
    documents = list(yaml.safe_load_all((DEPLOY / "k8s" / "router.yaml").read_text()))
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    service = next(d for d in documents if d["kind"] == "Service")
    pod = deployment["spec"]["template"]["spec"]
    [router] = pod["containers"]
    fetch, build = pod["initContainers"]
    assert build["image"] == router["image"]
    assert "osrm-customize /data/area.osrm" in build["args"][0]
    assert router["command"][-1] == "/data/area.osrm"
    port = _router_port(router["command"])
    assert router["ports"][0]["containerPort"] == int(port)
    assert router["readinessProbe"]
    assert deployment["spec"]["strategy"]["type"] == "Recreate"  # one pod owns the volume
    for container in (fetch, build, router):
        assert container["resources"]["requests"], container["name"]
        assert container["resources"]["limits"], container["name"]
    assert service["spec"]["ports"][0]["port"] == int(port)
    secret = next(yaml.safe_load_all((DEPLOY / "k8s" / "secret.example.yaml").read_text()))
    assert secret["stringData"]["TRUCKROLL_ROUTING_URL"] == f"http://{service['metadata']['name']}:{port}"
