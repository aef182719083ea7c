"""The operator's virtualenv (scripts/build-venv.sh, as the image builds it), started as
the test run begins: pip spends most of a minute or two waiting on the package index,
and the other tests run meanwhile. test_installed_package.py waits for it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.e2e.logged_process import ROOT

USED_BY = "tests.e2e.test_installed_package"
_build: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}


def operator_env(**settings: str) -> dict[str, str]:
    """The environment with no PYTHONPATH, so nothing comes from the source tree."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    return {**env, **settings}


def start(modules: set[str]) -> None:
    """Starts the build when a test that needs it is in the run."""
    if USED_BY not in modules or _build:
        return
    outside = Path(tempfile.mkdtemp(prefix="crm-operator-"))
    log = (outside / "build-venv.log").open("wb")
    build = subprocess.Popen(
        [str(ROOT / "scripts" / "build-venv.sh"), str(outside / "venv")],
        cwd=outside,
        env=operator_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    _build["venv"] = (build, outside)


def built(timeout: float = 900) -> Path:
    """The folder outside the repository holding venv/, once build-venv.sh succeeded."""
    start({USED_BY})
    build, outside = _build["venv"]
    code = build.wait(timeout)
    log = (outside / "build-venv.log").read_text(errors="replace")
    assert code == 0, f"scripts/build-venv.sh failed ({code}):\n{log[-3000:]}"
    return outside


def remove() -> None:
    found = _build.pop("venv", None)
    if found is not None:
        build, outside = found
        if build.poll() is None:
            build.kill()
            build.wait()
        shutil.rmtree(outside, ignore_errors=True)
