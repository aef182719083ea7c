"""The Kubernetes manifests render with kustomize and are valid for the API server."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import kubernetes_validate
import pytest

from tests.deploy.manifests import (
    DEPLOY,
    Manifest,
    find,
    kustomize,
    of_kind,
    only_container,
    secret_env,
)

# The oldest Kubernetes the README supports (the gateway's preStop `sleep` action is on
# by default from 1.30) and the newest kubernetes-validate ships.
KUBERNETES_VERSIONS = ["1.33", "1.37"]
RENDERED_KINDS = {
    "ServiceAccount": 1,
    "Deployment": 3,
    "Service": 2,
    "PodDisruptionBudget": 3,
    "HorizontalPodAutoscaler": 1,
    "Ingress": 1,
    "NetworkPolicy": 3,
}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_rendered_document_is_valid_kubernetes(base: list[Manifest], version: str) -> None:
    kinds = {kind: len(of_kind(base, kind)) for kind in RENDERED_KINDS}
    assert kinds == RENDERED_KINDS
    for document in base:
        # Strict: a field the API does not know (a typo) fails, as `kubectl apply` would.
        kubernetes_validate.validate(document, version, strict=True)


def test_a_misspelt_field_fails_validation(base: list[Manifest]) -> None:
    deployment = copy.deepcopy(find(base, "Deployment", "crm"))
    only_container(deployment)["readinessProbe"]["grpc"]["serviceName"] = "crm.v1"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


def test_the_example_overlay_generates_every_secret_key_the_pods_read(tmp_path: Path) -> None:
    tree = tmp_path / "kubernetes"
    shutil.copytree(DEPLOY / "kubernetes", tree)
    overlay = tree / "overlays" / "example"
    shutil.copy(overlay / "secrets.env.example", overlay / "secrets.env")

    rendered = kustomize(overlay)

    (secret,) = of_kind(rendered, "Secret")
    assert set(secret["data"]) == {
        "CRM_DATABASE_URL",
        "CRM_CALLER_SECRET",
        "CRM_GATEWAY_JWT_SECRET",
    }
    for deployment in of_kind(rendered, "Deployment"):
        for variable, reference in secret_env(only_container(deployment)).items():
            assert reference["name"] == secret["metadata"]["name"], variable
            assert reference["key"] in secret["data"] or reference.get("optional"), variable
    assert {d["metadata"].get("namespace") for d in rendered if d["kind"] != "Namespace"} == {"crm"}
    for document in rendered:
        kubernetes_validate.validate(document, KUBERNETES_VERSIONS[0], strict=True)
