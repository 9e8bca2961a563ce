"""No Docker engine or cluster runs in CI, so these check what can be checked without one: every
command the deploy files run is a real `truckroll` subcommand with real flags."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
import yaml

from api.cli import build_parser

DEPLOY = Path(__file__).resolve().parents[2] / "infra" / "deploy"


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
    for path in [DEPLOY / "compose.yaml", *sorted((DEPLOY / "k8s").glob("*.yaml"))]:
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


def test_the_image_runs_as_a_non_root_user() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^USER (?!root|0\b)\S+", dockerfile, re.MULTILINE)
