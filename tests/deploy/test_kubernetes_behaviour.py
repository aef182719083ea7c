"""What an operator relies on in the Kubernetes base, with the values deploy/README.md
states written out."""

from __future__ import annotations

import pytest

from services.crm.config import Settings
from services.gateway.config import GatewaySettings
from tests.deploy.manifests import (
    Manifest,
    find,
    of_kind,
    only_container,
    plain_env,
    pod_spec,
    port_number,
    secret_env,
)
from tests.deploy.network_policy import Pod, admits

COMMANDS = {
    "crm": ["crm", "serve"],
    "crm-projector": ["crm", "project"],
    "crm-gateway": ["crm-gateway"],
}
METRICS_PORTS = {"crm": 9464, "crm-projector": 9464, "crm-gateway": 9465}
NAMESPACE = {"kubernetes.io/metadata.name": "crm"}
MONITORING = {"kubernetes.io/metadata.name": "monitoring"}
CRM_POD = Pod({"app.kubernetes.io/name": "crm"}, NAMESPACE)


def test_each_deployment_runs_its_command_from_one_image(base: list[Manifest]) -> None:
    deployments = {d["metadata"]["name"]: only_container(d) for d in of_kind(base, "Deployment")}
    assert {name: c["command"] for name, c in deployments.items()} == COMMANDS
    assert {c["image"] for c in deployments.values()} == {"customer-history-crm:0.1.0"}


def test_crm_is_ready_when_its_service_serves_and_alive_while_its_server_runs(
    base: list[Manifest],
) -> None:
    crm = only_container(find(base, "Deployment", "crm"))
    assert crm["readinessProbe"]["grpc"] == {
        "port": 50051,
        "service": "crm.v1.CustomerHistoryService",
    }
    assert crm["livenessProbe"]["grpc"].get("service", "") == ""
    assert crm["livenessProbe"]["grpc"]["port"] == 50051
    assert crm["startupProbe"]["grpc"]["port"] == 50051


def test_crm_replicas_only_serve_on_every_interface(base: list[Manifest]) -> None:
    crm = only_container(find(base, "Deployment", "crm"))
    env = plain_env(crm)
    assert env["CRM_PROJECTIONS"] == "off"
    assert env["CRM_LISTEN_ADDRESS"] == "0.0.0.0:50051"
    assert env["CRM_METRICS_ADDRESS"] == "0.0.0.0:9464"
    secrets = {name: "placeholder" for name in secret_env(crm)}
    settings = Settings.from_environ({**env, **secrets})
    assert (settings.projections, settings.listen_address) == ("off", "0.0.0.0:50051")
    assert set(secrets) == {"CRM_DATABASE_URL", "CRM_CALLER_SECRET"}


def test_the_gateway_calls_every_crm_replica_with_the_crm_caller_secret(
    base: list[Manifest],
) -> None:
    service = find(base, "Service", "crm")
    assert service["spec"]["clusterIP"] == "None"
    assert [p["port"] for p in service["spec"]["ports"] if p["name"] == "grpc"] == [50051]
    gateway = only_container(find(base, "Deployment", "crm-gateway"))
    env = plain_env(gateway)
    assert env["CRM_GATEWAY_CRM_ADDRESS"] == "dns:///crm:50051"
    references = secret_env(gateway)
    assert references["CRM_GATEWAY_CRM_SECRET"]["key"] == "CRM_CALLER_SECRET"
    assert references["CRM_GATEWAY_JWT_SECRET"]["key"] == "CRM_GATEWAY_JWT_SECRET"
    settings = GatewaySettings.from_environ(env)
    assert (settings.listen_host, settings.listen_port) == ("0.0.0.0", 8080)


def test_the_gateway_is_alive_by_healthz_and_ready_by_readyz(base: list[Manifest]) -> None:
    gateway = only_container(find(base, "Deployment", "crm-gateway"))
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        assert gateway[probe]["httpGet"]["path"] == path
        assert port_number(gateway, gateway[probe]["httpGet"]["port"]) == 8080


def test_the_gateway_is_reached_through_its_service_and_ingress(base: list[Manifest]) -> None:
    service = find(base, "Service", "crm-gateway")
    gateway_pods = find(base, "Deployment", "crm-gateway")["spec"]["template"]["metadata"]
    assert service["spec"]["selector"].items() <= gateway_pods["labels"].items()
    ingress = find(base, "Ingress", "crm-gateway")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "crm-gateway", "port": {"name": "http"}}


def test_two_projectors_run_one_active_one_standby_probed_on_metrics(
    base: list[Manifest],
) -> None:
    deployment = find(base, "Deployment", "crm-projector")
    assert deployment["spec"]["replicas"] == 2
    projector = only_container(deployment)
    for probe in ("livenessProbe", "readinessProbe"):
        assert port_number(projector, projector[probe]["httpGet"]["port"]) == 9464


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_containers_run_as_non_root_on_a_read_only_root(base: list[Manifest], name: str) -> None:
    deployment = find(base, "Deployment", name)
    pod = pod_spec(deployment)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    container = only_container(deployment)
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    (tmp,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == tmp["name"]]
    assert "emptyDir" in volume
    assert container["resources"]["requests"].keys() == {"cpu", "memory"}
    assert container["resources"]["limits"].keys() == {"cpu", "memory"}


def test_pods_have_time_to_drain_before_they_are_killed(base: list[Manifest]) -> None:
    crm = find(base, "Deployment", "crm")
    shutdown_grace = float(plain_env(only_container(crm))["CRM_SHUTDOWN_GRACE_SECONDS"])
    assert shutdown_grace == 10
    # The drain, plus ending watch streams and closing pools.
    assert pod_spec(crm)["terminationGracePeriodSeconds"] >= 10 + 5
    gateway = find(base, "Deployment", "crm-gateway")
    sleep = only_container(gateway)["lifecycle"]["preStop"]["sleep"]["seconds"]
    # The preStop sleep, plus uvicorn's 5 s graceful shutdown.
    assert pod_spec(gateway)["terminationGracePeriodSeconds"] >= sleep + 5 + 5
    # Two read models, each waited for up to 10 s to end its batch.
    projector = find(base, "Deployment", "crm-projector")
    assert pod_spec(projector)["terminationGracePeriodSeconds"] >= 2 * 10


def test_only_the_gateway_reaches_the_crm_grpc_port(base: list[Manifest]) -> None:
    policies = of_kind(base, "NetworkPolicy")
    gateway_labels = find(base, "Deployment", "crm-gateway")["spec"]["template"]["metadata"]
    gateway = Pod(gateway_labels["labels"], NAMESPACE)
    assert admits(policies, gateway, CRM_POD, 50051)
    projector = Pod({"app.kubernetes.io/name": "crm-projector"}, NAMESPACE)
    outsiders = [
        projector,
        Pod({}, NAMESPACE),
        Pod({"app.kubernetes.io/name": "crm-gateway"}, {"kubernetes.io/metadata.name": "other"}),
        Pod({}, MONITORING),
    ]
    for outsider in outsiders:
        assert not admits(policies, outsider, CRM_POD, 50051), outsider
    assert not admits(policies, gateway, CRM_POD, 9464)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_prometheus_scrapes_each_metrics_port_from_monitoring_only(
    base: list[Manifest], name: str
) -> None:
    deployment = find(base, "Deployment", name)
    metadata = deployment["spec"]["template"]["metadata"]
    port = METRICS_PORTS[name]
    assert metadata["annotations"]["prometheus.io/scrape"] == "true"
    assert metadata["annotations"]["prometheus.io/port"] == str(port)
    assert port_number(only_container(deployment), "metrics") == port
    assert (
        plain_env(only_container(deployment)).get(
            "CRM_GATEWAY_METRICS_ADDRESS" if name == "crm-gateway" else "CRM_METRICS_ADDRESS"
        )
        == f"0.0.0.0:{port}"
    )
    pod = Pod(metadata["labels"], NAMESPACE)
    policies = of_kind(base, "NetworkPolicy")
    assert admits(policies, Pod({}, MONITORING), pod, port)
    assert not admits(policies, Pod({}, {"kubernetes.io/metadata.name": "other"}), pod, port)


def test_the_crm_scales_on_cpu_from_two_and_keeps_one_through_disruptions(
    base: list[Manifest],
) -> None:
    deployment = find(base, "Deployment", "crm")
    assert "replicas" not in deployment["spec"]  # The autoscaler owns the count.
    autoscaler = find(base, "HorizontalPodAutoscaler", "crm")
    assert autoscaler["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "crm",
    }
    assert autoscaler["spec"]["minReplicas"] == 2
    assert [m["resource"]["name"] for m in autoscaler["spec"]["metrics"]] == ["cpu"]
    budget = find(base, "PodDisruptionBudget", "crm")
    assert budget["spec"]["minAvailable"] == 1
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def test_every_object_says_what_it_is_part_of(base: list[Manifest]) -> None:
    for document in base:
        labels = document["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "customer-history-crm", document["kind"]
        if document["kind"] != "ServiceAccount":
            assert "app.kubernetes.io/name" in labels, document["kind"]
    service_account = find(base, "ServiceAccount", "crm")
    assert service_account["automountServiceAccountToken"] is False
