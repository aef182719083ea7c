"""deploy/compose.yaml: valid for Docker Compose, and the replica topology it promises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import check_jsonschema
import pytest
import yaml
from click.testing import CliRunner, Result

from tests.deploy.manifests import DEPLOY, Manifest

COMPOSE = DEPLOY / "compose.yaml"


def check_compose_spec(path: Path) -> Result:
    """check-jsonschema's command, in this process: its vendored compose specification."""
    return CliRunner().invoke(
        check_jsonschema.main, ["--builtin-schema", "vendor.compose-spec", str(path)]
    )


@pytest.fixture(scope="module")
def compose() -> Manifest:
    loaded: Manifest = yaml.safe_load(COMPOSE.read_text())
    return loaded


def service(compose: Manifest, name: str) -> Any:
    return compose["services"][name]


def test_the_compose_file_follows_the_compose_specification(tmp_path: Path) -> None:
    checked = check_compose_spec(COMPOSE)
    assert checked.exit_code == 0, checked.output
    misspelt = tmp_path / "compose.yaml"
    misspelt.write_text(COMPOSE.read_text().replace("replicas: 2", "replica: 2"))
    assert check_compose_spec(misspelt).exit_code != 0


def test_two_crm_replicas_only_serve_once_postgres_is_healthy(compose: Manifest) -> None:
    crm = service(compose, "crm")
    assert crm["command"] == ["crm", "serve"]
    assert crm["deploy"]["replicas"] == 2
    assert crm["environment"]["CRM_PROJECTIONS"] == "off"
    assert crm["environment"]["CRM_LISTEN_ADDRESS"] == "0.0.0.0:50051"
    assert crm["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert "ports" not in crm  # Two replicas cannot share a host port; the gateway is the door.


def test_postgres_keeps_its_data_in_a_volume_and_says_when_it_is_ready(
    compose: Manifest,
) -> None:
    postgres = service(compose, "postgres")
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert "postgres-data:/var/lib/postgresql/data" in postgres["volumes"]
    assert "postgres-data" in compose["volumes"]


def test_one_projector_and_a_gateway_over_both_replicas(compose: Manifest) -> None:
    projector = service(compose, "projector")
    assert projector["command"] == ["crm", "project"]
    assert projector.get("deploy", {}).get("replicas", 1) == 1
    assert projector["depends_on"]["postgres"] == {"condition": "service_healthy"}
    gateway = service(compose, "gateway")
    assert gateway["command"] == ["crm-gateway"]
    assert gateway["environment"]["CRM_GATEWAY_CRM_ADDRESS"] == "dns:///crm:50051"
    assert (
        gateway["environment"]["CRM_GATEWAY_CRM_SECRET"]
        == service(compose, "crm")["environment"]["CRM_CALLER_SECRET"]
    )
    images = {service(compose, name)["image"] for name in ("crm", "projector", "gateway")}
    assert images == {"customer-history-crm:dev"}


def test_every_secret_is_a_development_placeholder_the_environment_replaces(
    compose: Manifest,
) -> None:
    secrets = {
        "CRM_CALLER_SECRET": service(compose, "crm")["environment"]["CRM_CALLER_SECRET"],
        "CRM_GATEWAY_JWT_SECRET": service(compose, "gateway")["environment"][
            "CRM_GATEWAY_JWT_SECRET"
        ],
        "CRM_POSTGRES_PASSWORD": service(compose, "postgres")["environment"]["POSTGRES_PASSWORD"],
    }
    for variable, value in secrets.items():
        assert value.startswith(f"${{{variable}:-dev-only-"), variable
    assert (
        "${CRM_POSTGRES_PASSWORD:-dev-only-"
        in service(compose, "crm")["environment"]["CRM_DATABASE_URL"]
    )
