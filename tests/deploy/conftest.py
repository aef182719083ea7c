"""The Kubernetes base, rendered once for every test that reads it."""

from __future__ import annotations

import pytest

from tests.deploy.manifests import DEPLOY, Manifest, kustomize


@pytest.fixture(scope="session")
def base() -> list[Manifest]:
    return kustomize(DEPLOY / "kubernetes" / "base")
