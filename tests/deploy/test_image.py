"""deploy/Dockerfile: built only by the scripts the suite runs, slim, and non-root.

No image can be built where the suite runs (no container daemon), so the suite runs
the image's one build step itself (the packaging test) and checks the rest here."""

from __future__ import annotations

import json
import os

from tests.deploy.manifests import DEPLOY, ROOT, dockerfile_stages, env_assignments

BUILD_STEP = "scripts/build-venv.sh /opt/venv"


def test_the_image_is_built_only_by_the_script_the_packaging_test_runs() -> None:
    steps = [
        args
        for stage in dockerfile_stages(DEPLOY / "Dockerfile")
        for op, args in stage
        if op == "RUN"
    ]
    assert steps == [BUILD_STEP]
    script = ROOT / "scripts" / "build-venv.sh"
    assert os.access(script, os.X_OK)
    tests_running_it = [
        path
        for path in (ROOT / "tests").rglob("*.py")
        if "deploy" not in path.relative_to(ROOT).parts and "build-venv.sh" in path.read_text()
    ]
    assert tests_running_it, "no test runs scripts/build-venv.sh, the image's build step"


def test_the_runtime_stage_is_slim_non_root_and_serves_by_default() -> None:
    build, runtime = dockerfile_stages(DEPLOY / "Dockerfile")
    assert build[0] == ("FROM", "python:3.11-slim-bookworm AS build")
    # The same base: the venv's interpreter is the base image's python.
    assert runtime[0] == ("FROM", "python:3.11-slim-bookworm AS runtime")
    instructions = dict(runtime)
    assert "RUN" not in instructions  # Nothing installed: no compilers, no package cache.
    assert instructions["COPY"] == "--from=build /opt/venv /opt/venv"
    user, _, group = instructions["USER"].partition(":")
    assert user.isdigit()
    assert int(user) != 0
    assert group.isdigit()
    assert int(group) != 0
    env = env_assignments(instructions["ENV"])
    assert env["PATH"].startswith("/opt/venv/bin:")
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert "ENTRYPOINT" not in instructions
    assert json.loads(instructions["CMD"]) == ["crm", "serve"]


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for local in (".venv/", "gen/", "var/", ".git/", "deploy/**/secrets.env"):
        assert local in ignored
