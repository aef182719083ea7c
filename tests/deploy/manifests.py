"""The deploy/ files as an operator's tools read them: kustomize output, YAML, a Dockerfile."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
Manifest = dict[str, Any]


def kustomize(directory: Path) -> list[Manifest]:
    """`kubectl kustomize DIRECTORY`, one dict per rendered document."""
    kubectl = shutil.which(os.environ.get("CRM_TEST_KUBECTL", "kubectl"))
    if kubectl is None:
        # Never a skip: CI must render the manifests it ships.
        pytest.fail("no kubectl: run scripts/ensure-kubectl.sh, or set CRM_TEST_KUBECTL")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=60
    )
    assert rendered.returncode == 0, rendered.stderr
    return [document for document in yaml.safe_load_all(rendered.stdout) if document]


def find(documents: list[Manifest], kind: str, name: str) -> Manifest:
    matches = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def of_kind(documents: list[Manifest], kind: str) -> list[Manifest]:
    return [document for document in documents if document["kind"] == kind]


def pod_spec(deployment: Manifest) -> Manifest:
    spec: Manifest = deployment["spec"]["template"]["spec"]
    return spec


def only_container(deployment: Manifest) -> Manifest:
    containers: list[Manifest] = pod_spec(deployment)["containers"]
    assert len(containers) == 1
    return containers[0]


def plain_env(container: Manifest) -> dict[str, str]:
    """The variables given as values, not taken from a Secret."""
    return {item["name"]: item["value"] for item in container["env"] if "value" in item}


def secret_env(container: Manifest) -> dict[str, Manifest]:
    """Variable -> its secretKeyRef."""
    return {
        item["name"]: item["valueFrom"]["secretKeyRef"]
        for item in container["env"]
        if "secretKeyRef" in item.get("valueFrom", {})
    }


def port_number(container: Manifest, port: int | str) -> int:
    """A probe's port, by number or by the container port's name."""
    if isinstance(port, int):
        return port
    numbers = [p["containerPort"] for p in container["ports"] if p.get("name") == port]
    assert len(numbers) == 1, f"no container port named {port}"
    return int(numbers[0])


def dockerfile_stages(path: Path) -> list[list[tuple[str, str]]]:
    """Each build stage's (INSTRUCTION, arguments), continuation lines joined, with the
    global ARG defaults substituted into FROM as Docker does."""
    lines: list[str] = []
    pending = ""
    for line in path.read_text().splitlines():
        if line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    build_args: dict[str, str] = {}
    stages: list[list[tuple[str, str]]] = []
    for line in filter(None, (raw.strip() for raw in lines)):
        instruction, _, arguments = line.partition(" ")
        instruction, arguments = instruction.upper(), " ".join(arguments.split())
        if instruction == "ARG" and not stages:
            name, _, default = arguments.partition("=")
            build_args[name] = default
            continue
        if instruction == "FROM":
            for name, default in build_args.items():
                arguments = arguments.replace(f"${{{name}}}", default)
            stages.append([])
        stages[-1].append((instruction, arguments))
    return stages


def env_assignments(arguments: str) -> dict[str, str]:
    """ENV A=1 B=2 -> {"A": "1", "B": "2"}."""
    return dict(word.split("=", 1) for word in shlex.split(arguments))
